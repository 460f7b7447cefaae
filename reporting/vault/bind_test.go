package vault

import (
	"bytes"
	"testing"
)

// A message's AD as the reporting package builds it: the row, then the
// author and the day bound in version 2.
var (
	adMsgV1 = AD{Purpose: "message", Row: "r1/m1"}
	adMsgV2 = adMsgV1.Bind("counsellor", "2026-05-20")
)

// boundVariants are ADs that a ciphertext sealed under adMsgV2 must not
// open under: each bound field changed, fields added, dropped or
// reordered, the boundaries between row and fields shifted, and the
// version 1 AD of the same row.
var boundVariants = []struct {
	name string
	ad   AD
}{
	{"version 1 of the same row", adMsgV1},
	{"author flipped", adMsgV1.Bind("reporter", "2026-05-20")},
	{"day changed", adMsgV1.Bind("counsellor", "2026-05-21")},
	{"fields swapped", adMsgV1.Bind("2026-05-20", "counsellor")},
	{"field dropped", adMsgV1.Bind("counsellor")},
	{"no fields", adMsgV1.Bind()},
	{"empty field added", adMsgV1.Bind("counsellor", "2026-05-20", "")},
	{"fields joined", adMsgV1.Bind("counsellor2026-05-20")},
	{"boundary between fields shifted", adMsgV1.Bind("counsellor2", "026-05-20")},
	{"row took the first field", AD{Purpose: "message", Row: "r1/m1counsellor"}.Bind("2026-05-20")},
	{"other row", AD{Purpose: "message", Row: "r1/m2"}.Bind("counsellor", "2026-05-20")},
	{"other purpose", AD{Purpose: "note", Row: "r1/m1"}.Bind("counsellor", "2026-05-20")},
}

// A version 2 ciphertext opens only under exactly its AD, and a version 1
// ciphertext (written before fields were bound) only under its version 1
// AD: with a symmetric key and sealed to a public key alike.
func TestBoundADSealsOnlyItsMeaning(t *testing.T) {
	k := NewKey()
	team := NewKeyPair()
	plain := []byte("Wir melden uns am Montag bei Ihnen.")
	for _, tc := range []struct {
		name string
		seal func([]byte, AD) []byte
		open opener
	}{
		{"key", k.Seal, k.Open},
		{"public key", team.Public().Seal, team.Open},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v2 := tc.seal(plain, adMsgV2)
			mustOpen(t, tc.open, v2, adMsgV2, plain)
			for _, v := range boundVariants {
				t.Run("v2 under "+v.name, func(t *testing.T) { mustNotOpen(t, tc.open, v2, v.ad) })
			}
			v1 := tc.seal(plain, adMsgV1)
			mustOpen(t, tc.open, v1, adMsgV1, plain)
			for _, ad := range []AD{adMsgV2, adMsgV1.Bind(), adMsgV1.Bind("")} {
				mustNotOpen(t, tc.open, v1, ad)
			}
		})
	}
}

// Bind is the same whether the fields come at once or one by one, and the
// version 1 encoding is unchanged by the new fields of AD (old rows keep
// opening after the upgrade).
func TestBindEncoding(t *testing.T) {
	if got, want := adMsgV1.Bind("a").Bind("b"), adMsgV1.Bind("a", "b"); got != want || !bytes.Equal(got.bytes(), want.bytes()) {
		t.Errorf("Bind(a).Bind(b) = %q, Bind(a, b) = %q", got.bytes(), want.bytes())
	}
	if got, want := adMsgV1.bytes(), []byte("meldestelle\x01\x07message\x05r1/m1"); !bytes.Equal(got, want) {
		t.Errorf("v1 bytes = %q, want %q", got, want)
	}
	if got, want := adMsgV2.bytes(), []byte("meldestelle\x02\x07message\x05r1/m1\x0acounsellor\x0a2026-05-20"); !bytes.Equal(got, want) {
		t.Errorf("v2 bytes = %q, want %q", got, want)
	}
	all := []AD{adMsgV2}
	for _, v := range boundVariants {
		all = append(all, v.ad)
	}
	for i := range all {
		for j := range all {
			if i != j && bytes.Equal(all[i].bytes(), all[j].bytes()) {
				t.Errorf("ADs %d and %d encode alike: %q", i, j, all[i].bytes())
			}
		}
	}
}

// What reading a row written before version 2 costs: the version 2 AD is
// tried first and fails, then the version 1 AD opens. For a note sealed
// to the team key that is a second X25519 operation; for a message under
// the data key a second XChaCha20-Poly1305 pass.
func BenchmarkOpenBound(b *testing.B) {
	team := NewKeyPair()
	k := NewKey()
	plain := bytes.Repeat([]byte("x"), 2000)
	for _, bc := range []struct {
		name string
		ct   []byte
		open opener
	}{
		{"note v2", team.Public().Seal(plain, adMsgV2), team.Open},
		{"note v1 fallback", team.Public().Seal(plain, adMsgV1), team.Open},
		{"message v2", k.Seal(plain, adMsgV2), k.Open},
		{"message v1 fallback", k.Seal(plain, adMsgV1), k.Open},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.open(bc.ct, adMsgV2); err != nil {
					if _, err := bc.open(bc.ct, adMsgV1); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
