package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// fastParams keeps argon2id cheap in tests; only TestKDFDefaultParams and
// BenchmarkKDFDefault pay for DefaultParams.
var fastParams = Params{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}

var (
	adReport  = AD{Purpose: "report-content", Row: "42"}
	adOtherRw = AD{Purpose: "report-content", Row: "43"}
	adOtherPu = AD{Purpose: "report-message", Row: "42"}
)

// movedADs are ADs that a ciphertext sealed under adReport must not open
// under: another row, another purpose, the two swapped, the empty AD, and
// shifts of the boundary between purpose and row.
var movedADs = []struct {
	name string
	ad   AD
}{
	{"other row", adOtherRw},
	{"other purpose", adOtherPu},
	{"purpose and row swapped", AD{Purpose: "42", Row: "report-content"}},
	{"empty AD", AD{}},
	{"row prefix", AD{Purpose: "report-content", Row: "4"}},
	{"row extended", AD{Purpose: "report-content", Row: "420"}},
	{"boundary shifted left", AD{Purpose: "report-conten", Row: "t42"}},
	{"boundary shifted right", AD{Purpose: "report-content4", Row: "2"}},
}

// ---- helpers ----

// flipped returns a copy of ct with byte i XORed with mask.
func flipped(ct []byte, i int, mask byte) []byte {
	c := bytes.Clone(ct)
	c[i] ^= mask
	return c
}

// opener abstracts Key.Open and KeyPair.Open so that the tamper, moved-AD
// and truncation checks are written once.
type opener func(ct []byte, ad AD) ([]byte, error)

// mustOpen opens ct and fails the test unless it yields want.
func mustOpen(t *testing.T, open opener, ct []byte, ad AD, want []byte) {
	t.Helper()
	got, err := open(ct, ad)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Open returned %q, want %q", got, want)
	}
}

// mustNotOpen fails the test unless open rejects ct with ErrOpen and
// returns no plaintext.
func mustNotOpen(t *testing.T, open opener, ct []byte, ad AD) {
	t.Helper()
	got, err := open(ct, ad)
	if !errors.Is(err, ErrOpen) {
		t.Fatalf("Open: err = %v, want ErrOpen", err)
	}
	if got != nil {
		t.Fatalf("Open returned plaintext %q together with an error", got)
	}
}

// checkTamper flips single bits and whole bytes at each position and
// expects every result to be rejected.
func checkTamper(t *testing.T, open opener, ct []byte, ad AD, positions map[string]int) {
	t.Helper()
	for name, i := range positions {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			t.Run(fmt.Sprintf("%s[%d]^%#02x", name, i, mask), func(t *testing.T) {
				mustNotOpen(t, open, flipped(ct, i, mask), ad)
			})
		}
	}
}

// checkTruncated expects every prefix of ct shorter than ct, and ct with an
// extra byte, to be rejected.
func checkTruncated(t *testing.T, open opener, ct []byte, ad AD) {
	t.Helper()
	mustNotOpen(t, open, nil, ad)
	for n := 0; n < len(ct); n++ {
		if _, err := open(ct[:n], ad); !errors.Is(err, ErrOpen) {
			t.Fatalf("Open of the first %d of %d bytes: err = %v, want ErrOpen", n, len(ct), err)
		}
	}
	mustNotOpen(t, open, append(bytes.Clone(ct), 0), ad)
}

// sealKey returns a ciphertext of plain under a fresh key and that key.
func sealKey(plain []byte, ad AD) (Key, []byte) {
	k := NewKey()
	return k, k.Seal(plain, ad)
}

// sameKey reports whether a and b are the same key, by sealing with one
// and opening with the other (Key has no exported bytes).
func sameKey(t *testing.T, a, b Key) bool {
	t.Helper()
	_, err := b.Open(a.Seal([]byte("probe"), adReport), adReport)
	return err == nil
}

// password and receiptAccess run one derivation on an otherwise idle KDF
// and also check that it gave its semaphore slot back (a leaked slot would
// lock out every later login once the KDF is full).
func password(t *testing.T, k *KDF, pw string, salt []byte, p Params) Credentials {
	t.Helper()
	c, err := k.Password(context.Background(), pw, salt, p)
	if err != nil {
		t.Fatalf("Password: %v", err)
	}
	checkSlotsFree(t, k)
	return c
}

func receiptAccess(t *testing.T, k *KDF, r Receipt, salt []byte, p Params) ReporterAccess {
	t.Helper()
	a, err := k.Receipt(context.Background(), r, salt, p)
	if err != nil {
		t.Fatalf("Receipt: %v", err)
	}
	checkSlotsFree(t, k)
	return a
}

func checkSlotsFree(t *testing.T, k *KDF) {
	t.Helper()
	if n := held(k); n != 0 {
		t.Fatalf("a finished derivation still holds %d KDF slots", n)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParseReceipt(t *testing.T, s string) Receipt {
	t.Helper()
	r, err := ParseReceipt(s)
	if err != nil {
		t.Fatalf("ParseReceipt(%q): %v", s, err)
	}
	return r
}

// ---- symmetric keys ----

// Content sealed under a key comes back unchanged with the same key and AD,
// whatever its size, and the ciphertext has the documented layout
// version || nonce || body+tag.
func TestKeySealOpenRoundTrip(t *testing.T) {
	k := NewKey()
	for _, tc := range []struct {
		name  string
		plain []byte
		ad    AD
	}{
		{"empty", []byte{}, adReport},
		{"one byte", []byte{0}, adReport},
		{"text", []byte("Meldung: Vorfall in der Schule"), adReport},
		{"4 KiB", bytes.Repeat([]byte{0xa5}, 4096), adReport},
		{"empty AD", []byte("x"), AD{}},
		{"unicode AD", []byte("x"), AD{Purpose: "notiz", Row: "Herne/Bochum ü"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := k.Seal(tc.plain, tc.ad)
			if want := 1 + 24 + len(tc.plain) + 16; len(ct) != want {
				t.Errorf("len(ct) = %d, want %d", len(ct), want)
			}
			if ct[0] != version1 {
				t.Errorf("version byte = %d, want %d", ct[0], version1)
			}
			if len(tc.plain) >= 8 && bytes.Contains(ct, tc.plain) {
				t.Errorf("ciphertext contains the plaintext")
			}
			mustOpen(t, k.Open, ct, tc.ad, tc.plain)
		})
	}
}

// Any modified byte of a stored ciphertext (version, nonce, body or tag)
// is detected instead of yielding altered content.
func TestKeyOpenRejectsTamperedByte(t *testing.T) {
	k, ct := sealKey([]byte("the reporter's account of events"), adReport)
	n := len(ct)
	checkTamper(t, k.Open, ct, adReport, map[string]int{
		"version":     0,
		"nonce first": 1,
		"nonce mid":   12,
		"nonce last":  24,
		"body first":  25,
		"body mid":    25 + (n-25-16)/2,
		"body last":   n - 17,
		"tag first":   n - 16,
		"tag last":    n - 1,
	})
}

// A ciphertext only opens with the key that sealed it.
func TestKeyOpenRejectsWrongKey(t *testing.T) {
	_, ct := sealKey([]byte("secret"), adReport)
	mustNotOpen(t, NewKey().Open, ct, adReport)
	mustNotOpen(t, Key{}.Open, ct, adReport)
}

// A ciphertext copied to another row or column does not open there.
func TestKeyOpenRejectsMovedCiphertext(t *testing.T) {
	k, ct := sealKey([]byte("secret"), adReport)
	mustOpen(t, k.Open, ct, adReport, []byte("secret"))
	for _, tc := range movedADs {
		t.Run(tc.name, func(t *testing.T) { mustNotOpen(t, k.Open, ct, tc.ad) })
	}
}

// Truncated (or extended) ciphertexts are rejected, never panic.
func TestKeyOpenRejectsTruncated(t *testing.T) {
	k, ct := sealKey([]byte("secret"), adReport)
	checkTruncated(t, k.Open, ct, adReport)
	// An empty plaintext gives the shortest valid ciphertext; one byte less
	// is rejected by the length check.
	ct = k.Seal(nil, adReport)
	mustOpen(t, k.Open, ct, adReport, nil)
	checkTruncated(t, k.Open, ct, adReport)
}

// Sealing the same content twice gives unrelated ciphertexts (random
// nonces), so equal reports cannot be recognised in the database.
func TestKeySealIsRandomized(t *testing.T) {
	k := NewKey()
	a, b := k.Seal([]byte("same"), adReport), k.Seal([]byte("same"), adReport)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are equal")
	}
	if bytes.Equal(a[1:25], b[1:25]) {
		t.Fatal("two seals reuse a nonce")
	}
}

// NewKey returns distinct, non-zero keys.
func TestNewKeyRandom(t *testing.T) {
	a, b := NewKey(), NewKey()
	if a == b || a == (Key{}) {
		t.Fatal("NewKey returned equal or zero keys")
	}
}

// A key wrapped under another comes back as the same key, and only with the
// wrapping key and AD.
func TestWrapUnwrapKey(t *testing.T) {
	kek, dk := NewKey(), NewKey()
	ad := AD{Purpose: "report-dk", Row: "7"}
	ct := kek.Wrap(dk, ad)

	got, err := kek.Unwrap(ct, ad)
	if err != nil {
		t.Fatalf("Unwrap: %v", err)
	}
	if got != dk || !sameKey(t, dk, got) {
		t.Fatal("unwrapped key differs from the wrapped one")
	}
	for _, tc := range []struct {
		name string
		kek  Key
		ct   []byte
		ad   AD
	}{
		{"wrong key", NewKey(), ct, ad},
		{"moved", kek, ct, AD{Purpose: "report-dk", Row: "8"}},
		{"tampered", kek, flipped(ct, len(ct)/2, 1), ad},
		{"truncated", kek, ct[:len(ct)-1], ad},
		// A valid ciphertext whose plaintext is not 32 bytes is not a key.
		{"not a key", kek, kek.Seal(make([]byte, 31), ad), ad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := tc.kek.Unwrap(tc.ct, tc.ad)
			if !errors.Is(err, ErrOpen) || k != (Key{}) {
				t.Fatalf("Unwrap = %v, %v; want zero key, ErrOpen", k, err)
			}
		})
	}
}

// ---- team keys ----

// A team private key wrapped for a user comes back as a working key pair,
// and only for the matching public key, wrapping key and holder.
func TestWrapUnwrapTeamKey(t *testing.T) {
	team, other := NewKeyPair(), NewKeyPair()
	kek := NewKey()
	ad := TeamKeyAD("user-salt-1", team.Public())
	ct := kek.WrapKeyPair(team, ad)

	got, err := kek.UnwrapKeyPair(ct, team.Public(), ad)
	if err != nil {
		t.Fatalf("UnwrapKeyPair: %v", err)
	}
	if got.Public() != team.Public() {
		t.Fatal("unwrapped team key has another public key")
	}
	// The unwrapped pair opens what was sealed to the team.
	sealed := team.Public().Seal([]byte("report"), adReport)
	mustOpen(t, got.Open, sealed, adReport, []byte("report"))

	for _, tc := range []struct {
		name string
		kek  Key
		ct   []byte
		pub  PublicKey
		ad   AD
	}{
		// The private key opens, but does not belong to the given public key.
		{"mismatching public key", kek, ct, other.Public(), ad},
		{"wrong kek", NewKey(), ct, team.Public(), ad},
		{"other holder", kek, ct, team.Public(), TeamKeyAD("user-salt-2", team.Public())},
		{"recovery AD", kek, ct, team.Public(), RecoveryAD(team.Public())},
		{"tampered", kek, flipped(ct, 30, 1), team.Public(), ad},
		{"truncated", kek, ct[:40], team.Public(), ad},
		{"not 32 bytes", kek, kek.Seal(make([]byte, 33), ad), team.Public(), ad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk, err := tc.kek.UnwrapKeyPair(tc.ct, tc.pub, tc.ad)
			if !errors.Is(err, ErrOpen) || tk != nil {
				t.Fatalf("UnwrapKeyPair = %v, %v; want nil, ErrOpen", tk, err)
			}
		})
	}
	// The mismatch check also holds when the AD is built for the wrong
	// public key, i.e. when the AD alone would not catch it.
	adOther := TeamKeyAD("user-salt-1", other.Public())
	ct2 := kek.WrapKeyPair(team, adOther)
	if tk, err := kek.UnwrapKeyPair(ct2, other.Public(), adOther); !errors.Is(err, ErrOpen) || tk != nil {
		t.Fatalf("UnwrapKeyPair with a private key of another team = %v, %v; want nil, ErrOpen", tk, err)
	}
}

// The AD for a wrapped team key names both holder and public key, so a
// user's copy is not mistaken for another user's or the recovery copy.
func TestTeamKeyADDistinct(t *testing.T) {
	a, b := NewKeyPair().Public(), NewKeyPair().Public()
	ads := []AD{
		TeamKeyAD("u1", a), TeamKeyAD("u2", a), TeamKeyAD("u1", b),
		RecoveryAD(a), RecoveryAD(b),
	}
	for i := range ads {
		for j := range ads {
			if i != j && ads[i] == ads[j] {
				t.Errorf("AD %d and %d are equal: %+v", i, j, ads[i])
			}
		}
	}
	if RecoveryAD(a) != TeamKeyAD("recovery", a) {
		t.Errorf("RecoveryAD(a) = %+v", RecoveryAD(a))
	}
}

// Content and keys sealed to a team's public key come back with the team's
// private key.
func TestTeamSealOpenRoundTrip(t *testing.T) {
	team := NewKeyPair()
	for _, plain := range [][]byte{{}, []byte("interne Notiz"), bytes.Repeat([]byte{7}, 4096)} {
		ct := team.Public().Seal(plain, adReport)
		if ct[0] != version1 {
			t.Errorf("version byte = %d", ct[0])
		}
		mustOpen(t, team.Open, ct, adReport, plain)
	}
	dk := NewKey()
	ct := team.Public().SealKey(dk, adReport)
	got, err := team.OpenKey(ct, adReport)
	if err != nil || got != dk {
		t.Fatalf("OpenKey = %v, %v; want the sealed key", got, err)
	}
	// OpenKey refuses a valid ciphertext that does not hold a 32-byte key.
	if k, err := team.OpenKey(team.Public().Seal(make([]byte, 16), adReport), adReport); !errors.Is(err, ErrOpen) || k != (Key{}) {
		t.Fatalf("OpenKey of 16 bytes = %v, %v; want ErrOpen", k, err)
	}
}

// Another team cannot open what was sealed to this team (reports are
// routed to one team only).
func TestTeamOpenRejectsOtherTeam(t *testing.T) {
	herne, bochum := NewKeyPair(), NewKeyPair()
	ct := herne.Public().Seal([]byte("for Herne"), adReport)
	mustNotOpen(t, bochum.Open, ct, adReport)
	if _, err := bochum.OpenKey(herne.Public().SealKey(NewKey(), adReport), adReport); !errors.Is(err, ErrOpen) {
		t.Fatalf("OpenKey by another team: err = %v, want ErrOpen", err)
	}
	// A key pair with the right public half but another private half
	// cannot open either.
	forged := &KeyPair{pub: herne.pub, priv: bochum.priv}
	mustNotOpen(t, forged.Open, ct, adReport)
}

// A ciphertext sealed to a team and copied to another row or purpose does
// not open there, although box.SealAnonymous has no AD of its own.
func TestTeamOpenRejectsMovedCiphertext(t *testing.T) {
	team := NewKeyPair()
	ct := team.Public().Seal([]byte("note"), adReport)
	mustOpen(t, team.Open, ct, adReport, []byte("note"))
	for _, tc := range movedADs {
		t.Run(tc.name, func(t *testing.T) { mustNotOpen(t, team.Open, ct, tc.ad) })
	}
	kct := team.Public().SealKey(NewKey(), adReport)
	if _, err := team.OpenKey(kct, adOtherRw); !errors.Is(err, ErrOpen) {
		t.Fatalf("OpenKey with another row: err = %v, want ErrOpen", err)
	}
}

// Any modified byte of a team ciphertext (version, ephemeral public key,
// box tag, AD hash or content) is detected.
func TestTeamOpenRejectsTamperedByte(t *testing.T) {
	team := NewKeyPair()
	ct := team.Public().Seal([]byte("content of an internal note"), adReport)
	n := len(ct)
	// Layout: version(1) || ephemeral pub(32) || poly1305 tag(16) || box(AD hash(32) || plain)
	checkTamper(t, team.Open, ct, adReport, map[string]int{
		"version":       0,
		"epk first":     1,
		"epk last":      32,
		"tag first":     33,
		"tag last":      48,
		"ad hash first": 49,
		"ad hash last":  80,
		"content first": 81,
		"content last":  n - 1,
	})
}

// Truncated or extended team ciphertexts are rejected, never panic.
func TestTeamOpenRejectsTruncated(t *testing.T) {
	team := NewKeyPair()
	checkTruncated(t, team.Open, team.Public().Seal([]byte("x"), adReport), adReport)
	checkTruncated(t, team.Open, team.Public().Seal(nil, adReport), adReport)
}

// Two seals to the same team differ (fresh ephemeral key each time).
func TestTeamSealIsRandomized(t *testing.T) {
	pub := NewKeyPair().Public()
	if bytes.Equal(pub.Seal([]byte("same"), adReport), pub.Seal([]byte("same"), adReport)) {
		t.Fatal("two team seals of the same plaintext are equal")
	}
	if a, b := NewKeyPair(), NewKeyPair(); a.Public() == b.Public() {
		t.Fatal("NewKeyPair returned the same key pair twice")
	}
}

// ---- recovery key ----

// The printed recovery key reads back as the same key however the person
// types it, and consists of groups of four unambiguous characters.
func TestRecoveryKeyFormatParse(t *testing.T) {
	k := NewKey()
	s := FormatRecoveryKey(k)
	groups := strings.Split(s, "-")
	if len(groups) != 13 {
		t.Fatalf("%q has %d groups, want 13", s, len(groups))
	}
	for _, g := range groups {
		if len(g) != 4 {
			t.Errorf("group %q in %q is not 4 characters", g, s)
		}
		if strings.Trim(g, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
			t.Errorf("group %q has characters outside A-Z2-7", g)
		}
	}
	for _, tc := range []struct{ name, in string }{
		{"as printed", s},
		{"lower case", strings.ToLower(s)},
		{"spaces", strings.ReplaceAll(s, "-", " ")},
		{"no separators", strings.ReplaceAll(s, "-", "")},
		{"mixed case and lines", strings.ToLower(s[:20]) + "\n" + s[20:40] + " " + s[40:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRecoveryKey(tc.in)
			if err != nil {
				t.Fatalf("ParseRecoveryKey(%q): %v", tc.in, err)
			}
			if got != k {
				t.Fatalf("ParseRecoveryKey(%q) is another key", tc.in)
			}
		})
	}
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"one group missing", strings.Join(groups[1:], "-")},
		{"one group extra", s + "-AAAA"},
		{"digit 0", "0" + s[1:]},
		{"digit 1", "1" + s[1:]},
		{"digit 8", "8" + s[1:]},
		{"punctuation", "!" + s[1:]},
	} {
		t.Run("reject "+tc.name, func(t *testing.T) {
			if got, err := ParseRecoveryKey(tc.in); err == nil {
				t.Fatalf("ParseRecoveryKey(%q) = %v, want an error", tc.in, got)
			}
		})
	}
}

// A team key wrapped under the recovery key at setup can be recovered
// with the printed key, and not with any other.
func TestRecoveryKeyUnwrapsTeamKey(t *testing.T) {
	team := NewKeyPair()
	rk := NewKey()
	wrapped := rk.WrapKeyPair(team, RecoveryAD(team.Public()))
	printed := FormatRecoveryKey(rk)

	parsed, err := ParseRecoveryKey(strings.ToLower(strings.ReplaceAll(printed, "-", " ")))
	if err != nil {
		t.Fatalf("ParseRecoveryKey: %v", err)
	}
	got, err := parsed.UnwrapKeyPair(wrapped, team.Public(), RecoveryAD(team.Public()))
	if err != nil {
		t.Fatalf("UnwrapKeyPair with the recovery key: %v", err)
	}
	mustOpen(t, got.Open, team.Public().Seal([]byte("r"), adReport), adReport, []byte("r"))

	wrong, err := ParseRecoveryKey(FormatRecoveryKey(NewKey()))
	if err != nil {
		t.Fatal(err)
	}
	if tk, err := wrong.UnwrapKeyPair(wrapped, team.Public(), RecoveryAD(team.Public())); !errors.Is(err, ErrOpen) || tk != nil {
		t.Fatalf("UnwrapKeyPair with a wrong recovery key = %v, %v; want nil, ErrOpen", tk, err)
	}
	// The recovery copy is not accepted as some user's copy.
	if _, err := parsed.UnwrapKeyPair(wrapped, team.Public(), TeamKeyAD("user", team.Public())); !errors.Is(err, ErrOpen) {
		t.Fatalf("recovery copy opened under a user AD: err = %v", err)
	}
}

// ---- argon2id parameters ----

// Stored parameters read back exactly, so derivations can be repeated.
func TestParamsStringParse(t *testing.T) {
	if got, want := DefaultParams.String(), "argon2id$v=19$m=65536,t=3,p=4"; got != want {
		t.Errorf("DefaultParams.String() = %q, want %q", got, want)
	}
	for _, p := range []Params{
		DefaultParams,
		fastParams,
		{Time: 1, MemoryKiB: 8, Threads: 1},
		{Time: 4, MemoryKiB: 256 * 1024, Threads: 8},
		{Time: 10, MemoryKiB: 2040, Threads: 255},
		{Time: 1<<32 - 1, MemoryKiB: 1<<32 - 1, Threads: 1},
	} {
		t.Run(p.String(), func(t *testing.T) {
			got, err := ParseParams(p.String())
			if err != nil {
				t.Fatalf("ParseParams(%q): %v", p.String(), err)
			}
			if got != p {
				t.Fatalf("ParseParams(%q) = %+v, want %+v", p.String(), got, p)
			}
		})
	}
}

// Corrupt or foreign parameter strings are refused rather than silently
// turned into weak or unusable parameters.
func TestParseParamsRejectsGarbage(t *testing.T) {
	for _, s := range []string{
		"",
		"garbage",
		"argon2id",
		"argon2i$v=19$m=65536,t=3,p=4",
		"argon2d$v=19$m=65536,t=3,p=4",
		"bcrypt$v=19$m=65536,t=3,p=4",
		"argon2id$v=16$m=65536,t=3,p=4",
		"argon2id$v=19$m=65536,t=3",
		"argon2id$v=19$m=65536,t=3,p=",
		"argon2id$v=19$t=3,m=65536,p=4",
		"argon2id$v=19$m=65536,t=0,p=4",
		"argon2id$v=19$m=65536,t=3,p=0",
		"argon2id$v=19$m=31,t=3,p=4", // less than 8 KiB per lane
		"argon2id$v=19$m=-1,t=3,p=4",
		"argon2id$v=19$m=65536,t=-3,p=4",
		"argon2id$v=19$m=65536,t=3,p=256",        // threads overflow uint8
		"argon2id$v=19$m=4294967296,t=3,p=4",     // memory overflows uint32
		"argon2id$v=19$m=65536,t=4294967296,p=4", // time overflows uint32
		"argon2id$v=19$m=abc,t=3,p=4",
	} {
		t.Run(s, func(t *testing.T) {
			if p, err := ParseParams(s); err == nil {
				t.Fatalf("ParseParams(%q) = %+v, want an error", s, p)
			}
		})
	}
}

// ---- KDF ----

// The same password, salt and parameters always give the same login
// verifier and key-encryption key; any other input gives different ones.
func TestKDFPasswordDeterministic(t *testing.T) {
	k := NewKDF(2)
	salt := NewSalt()
	base := password(t, k, "correct horse", salt, fastParams)
	again := password(t, k, "correct horse", bytes.Clone(salt), fastParams)

	if len(base.Verifier) != 32 {
		t.Fatalf("verifier has %d bytes, want 32", len(base.Verifier))
	}
	if !bytes.Equal(base.Verifier, again.Verifier) || base.KEK != again.KEK {
		t.Fatal("same password, salt and params gave different credentials")
	}
	// A team key wrapped at one login unwraps at the next.
	team := NewKeyPair()
	ad := TeamKeyAD(hex.EncodeToString(salt), team.Public())
	if _, err := again.KEK.UnwrapKeyPair(base.KEK.WrapKeyPair(team, ad), team.Public(), ad); err != nil {
		t.Fatalf("KEK of the second derivation cannot unwrap: %v", err)
	}

	for _, tc := range []struct {
		name string
		pw   string
		salt []byte
		p    Params
	}{
		{"other salt", "correct horse", NewSalt(), fastParams},
		{"other password", "correct horsE", salt, fastParams},
		{"empty password", "", salt, fastParams},
		{"other time", "correct horse", salt, Params{Time: 2, MemoryKiB: fastParams.MemoryKiB, Threads: 1}},
		{"other threads", "correct horse", salt, Params{Time: 1, MemoryKiB: fastParams.MemoryKiB, Threads: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := password(t, k, tc.pw, tc.salt, tc.p)
			if bytes.Equal(c.Verifier, base.Verifier) {
				t.Error("verifier equals the base one")
			}
			if c.KEK == base.KEK || sameKey(t, c.KEK, base.KEK) {
				t.Error("KEK equals the base one")
			}
		})
	}
	// The stored verifier is not the KEK (it must not open the team keys).
	if bytes.Equal(base.Verifier, base.KEK.b[:]) {
		t.Fatal("verifier equals the key-encryption key")
	}
}

// Login accepts exactly the stored verifier.
func TestCredentialsMatches(t *testing.T) {
	k := NewKDF(1)
	salt := NewSalt()
	c := password(t, k, "pw", salt, fastParams)
	stored := bytes.Clone(c.Verifier)
	if !password(t, k, "pw", salt, fastParams).Matches(stored) {
		t.Fatal("correct password does not match the stored verifier")
	}
	for _, tc := range []struct {
		name   string
		stored []byte
	}{
		{"other password", password(t, k, "pW", salt, fastParams).Verifier},
		{"nil", nil},
		{"empty", []byte{}},
		{"prefix", stored[:31]},
		{"extended", append(bytes.Clone(stored), 0)},
		{"one bit off", flipped(stored, 31, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c.Matches(tc.stored) {
				t.Fatal("Matches returned true")
			}
		})
	}
}

// A receipt finds the same report and opens the same data key every time,
// however it is typed; another receipt finds another index.
func TestKDFReceiptDeterministic(t *testing.T) {
	k := NewKDF(2)
	salt := NewSalt()
	r := NewReceipt()
	base := receiptAccess(t, k, r, salt, fastParams)
	if len(base.Lookup) != 32 {
		t.Fatalf("lookup has %d bytes, want 32", len(base.Lookup))
	}
	typed := mustParseReceipt(t, strings.ReplaceAll(r.String(), " ", "-"))
	again := receiptAccess(t, k, typed, salt, fastParams)
	if !bytes.Equal(base.Lookup, again.Lookup) || base.Key != again.Key {
		t.Fatal("the same receipt gave different access")
	}
	// The data key wrapped at submission unwraps when the reporter returns.
	dk := NewKey()
	ad := AD{Purpose: "report-dk-reporter", Row: "1"}
	if got, err := again.Key.Unwrap(base.Key.Wrap(dk, ad), ad); err != nil || got != dk {
		t.Fatalf("reporter key of the second derivation: %v, %v", got, err)
	}

	other := NewReceipt()
	for other == r {
		other = NewReceipt()
	}
	// Receipts that differ only in the last digit.
	last := r.digits[:15] + string('0'+(r.digits[15]-'0'+1)%10)
	for _, tc := range []struct {
		name string
		r    Receipt
		salt []byte
	}{
		{"other receipt", other, salt},
		{"last digit changed", mustParseReceipt(t, last), salt},
		{"other deployment salt", r, NewSalt()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := receiptAccess(t, k, tc.r, tc.salt, fastParams)
			if bytes.Equal(a.Lookup, base.Lookup) {
				t.Error("lookup equals the base one")
			}
			if a.Key == base.Key {
				t.Error("reporter key equals the base one")
			}
		})
	}
}

// When all slots are busy, a caller that gives up gets its context's error
// instead of waiting (or deriving) forever; a waiting caller proceeds once
// a slot is free. This is what bounds memory under a login flood.
func TestKDFSemaphore(t *testing.T) {
	k := NewKDF(1)
	if err := k.pool.acquire(context.Background(), LaneOffice); err != nil { // hold the only slot
		t.Fatal(err)
	}
	salt := NewSalt()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"Password, cancelled", func() error {
			_, err := k.Password(cancelled, "pw", salt, fastParams)
			return err
		}, context.Canceled},
		{"Receipt, cancelled", func() error {
			_, err := k.Receipt(cancelled, NewReceipt(), salt, fastParams)
			return err
		}, context.Canceled},
		{"Password, deadline", func() error {
			_, err := k.Password(short, "pw", salt, fastParams)
			return err
		}, context.DeadlineExceeded},
	} {
		if err := within(t, 10*time.Second, tc.call); !errors.Is(err, tc.want) {
			t.Fatalf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if held(k) != 1 {
		t.Fatalf("failed calls changed the number of held slots to %d", held(k))
	}

	// A patient caller waits while the slot is held...
	done := make(chan error, 1)
	go func() {
		_, err := k.Password(context.Background(), "pw", salt, fastParams)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Password ran although no slot was free (err = %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	// ...and runs once it is released, giving the slot back afterwards.
	k.pool.release()
	if err := within(t, 30*time.Second, func() error { return <-done }); err != nil {
		t.Fatalf("Password after the slot was freed: %v", err)
	}
	checkSlotsFree(t, k)
}

// within runs call and returns its error, failing the test if it has not
// returned after d (so a KDF that ignores its context fails instead of
// hanging the test binary).
func within(t *testing.T, d time.Duration, call func() error) error {
	t.Helper()
	res := make(chan error, 1)
	go func() { res <- call() }()
	select {
	case err := <-res:
		return err
	case <-time.After(d):
		t.Fatalf("call still blocked after %v", d)
		return nil
	}
}

// NewKDF bounds concurrency to n, or to the number of CPUs for n < 1.
func TestNewKDFCapacity(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{1, 1}, {3, 3}, {0, runtime.NumCPU()}, {-1, runtime.NumCPU()},
	} {
		if got := NewKDF(tc.n).Concurrency(); got != tc.want {
			t.Errorf("NewKDF(%d).Concurrency() = %d, want %d", tc.n, got, tc.want)
		}
	}
}

// The production parameters work (and are actually used: they give a
// result different from the test parameters).
func TestKDFDefaultParams(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB argon2id in -short mode")
	}
	k := NewKDF(1)
	salt := NewSalt()
	def := password(t, k, "pw", salt, DefaultParams)
	fast := password(t, k, "pw", salt, fastParams)
	if len(def.Verifier) != 32 || bytes.Equal(def.Verifier, fast.Verifier) {
		t.Fatal("DefaultParams derivation is missing or equals the fastParams one")
	}
}

// Salts are 16 random bytes.
func TestNewSalt(t *testing.T) {
	a, b := NewSalt(), NewSalt()
	if len(a) != 16 || bytes.Equal(a, b) {
		t.Fatalf("NewSalt: %x, %x", a, b)
	}
}

// Derivations are pinned to known answers and to the layout in DESIGN.md
// (argon2id → 64 bytes; SHA-256 of the first half is stored, the second
// half is the key). If either changed, every existing user and receipt
// would be locked out.
func TestKDFKnownAnswers(t *testing.T) {
	salt := []byte("0123456789abcdef")
	for _, tc := range []struct {
		name, secret   string
		derive         func(t *testing.T, k *KDF) (hash, key []byte)
		wantH, wantKey string
	}{
		{
			name: "password", secret: "correct horse",
			derive: func(t *testing.T, k *KDF) ([]byte, []byte) {
				c := password(t, k, "correct horse", salt, fastParams)
				return c.Verifier, c.KEK.b[:]
			},
			wantH:   "3ecef01c6254298d4a12a1e2b2977b3e73120f7865ec574150a5c0a4fa43e52b",
			wantKey: "471b150c925cce74b7321032e8f4d4082f4c2a69185cebe17be61e47f5c435f2",
		},
		{
			name: "receipt", secret: "1234567890123456",
			derive: func(t *testing.T, k *KDF) ([]byte, []byte) {
				a := receiptAccess(t, k, mustParseReceipt(t, "1234 5678 9012 3456"), salt, fastParams)
				return a.Lookup, a.Key.b[:]
			},
			wantH:   "e3e4951249d7a0e67a7d21e0bd644a7ffbcd43707445953d2e47e2a2bd935727",
			wantKey: "ec7da139085ea69458409451e72822f6ee709ce37fc1c4d98dcbb6b181e8b21c",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash, key := tc.derive(t, NewKDF(1))
			if got := hex.EncodeToString(hash); got != tc.wantH {
				t.Errorf("stored hash = %s, want %s", got, tc.wantH)
			}
			if got := hex.EncodeToString(key); got != tc.wantKey {
				t.Errorf("key = %s, want %s", got, tc.wantKey)
			}
			// Independently from argon2 itself.
			out := argon2.IDKey([]byte(tc.secret), salt, fastParams.Time, fastParams.MemoryKiB, fastParams.Threads, 64)
			if h := sha256.Sum256(out[:32]); !bytes.Equal(hash, h[:]) {
				t.Error("stored hash is not SHA-256 of the first half")
			}
			if !bytes.Equal(key, out[32:]) {
				t.Error("key is not the second half")
			}
		})
	}
}

// Ciphertexts written by this version keep opening after an upgrade: the
// version byte, layout and AD encoding are pinned by stored examples.
func TestStoredCiphertextsStillOpen(t *testing.T) {
	var k Key
	for i := range k.b {
		k.b[i] = byte(i)
	}
	ct := mustHex(t, "01e747763551522a4af4e9ff6836841d4340ee953889f2f8b091e542269d01d5c49412a771ccb50673370a9578d99421")
	mustOpen(t, k.Open, ct, AD{Purpose: "report-content", Row: "42"}, []byte("Meldung"))

	var priv [32]byte
	for i := range priv {
		priv[i] = byte(100 + i)
	}
	pub, err := publicOf(&priv)
	if err != nil || hex.EncodeToString(pub[:]) != "7d9c24316539825c1896e57f28197746793ce60cbee3ad47da9d07b85fa55e2a" {
		t.Fatalf("public key of the fixed private key: %x, %v", pub, err)
	}
	team := &KeyPair{pub: pub, priv: priv}
	ct = mustHex(t, "01d2fc856501a5477cd4e7fd3ff977a87ade0e065343713c4b055efb00edb2114d8c08574823f679370c51ec4315cf3e602672cb840f68212f68231246e79fc18efd9942f54ce77785105f86188959525c2da8e356bd")
	mustOpen(t, team.Open, ct, AD{Purpose: "internal-note", Row: "42"}, []byte("Notiz"))
}

// ---- receipts ----

// A new receipt is 16 digits and is shown in four groups of four.
func TestNewReceiptShape(t *testing.T) {
	for range 100 {
		r := NewReceipt()
		if len(r.digits) != 16 || strings.Trim(r.digits, "0123456789") != "" {
			t.Fatalf("receipt digits %q", r.digits)
		}
		s := r.String()
		if len(s) != 19 || s[4] != ' ' || s[9] != ' ' || s[14] != ' ' ||
			strings.ReplaceAll(s, " ", "") != r.digits {
			t.Fatalf("String() = %q for digits %q", s, r.digits)
		}
		if back := mustParseReceipt(t, s); back != r {
			t.Fatalf("ParseReceipt(String()) = %q, want %q", back.digits, r.digits)
		}
	}
	if got := mustParseReceipt(t, "1234567890123456").String(); got != "1234 5678 9012 3456" {
		t.Fatalf("String() = %q", got)
	}
	if got := mustParseReceipt(t, "0000000000000001").String(); got != "0000 0000 0000 0001" {
		t.Fatalf("String() keeps no leading zeros: %q", got)
	}
	if got := (Receipt{}).String(); got != "" {
		t.Fatalf("zero Receipt String() = %q, want empty", got)
	}
}

// A receipt is accepted however the reporter types the separators, and
// anything that is not exactly 16 digits is refused.
func TestParseReceipt(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1234567890123456", "1234567890123456"},
		{"1234 5678 9012 3456", "1234567890123456"},
		{"1234-5678-9012-3456", "1234567890123456"},
		{"1234\u00a05678\u00a09012\u00a03456", "1234567890123456"},
		{"  1234 5678-9012\u00a03456  ", "1234567890123456"},
		{"1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6", "1234567890123456"},
		{"0000 0000 0000 0000", "0000000000000000"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ParseReceipt(tc.in)
			if err != nil || r.digits != tc.want {
				t.Fatalf("ParseReceipt(%q) = %q, %v; want %q", tc.in, r.digits, err, tc.want)
			}
		})
	}
	for _, in := range []string{
		"",
		"123456789012345",
		"12345678901234567",
		"1234 5678 9012 345",
		"1234 5678 9012 3456 7",
		"1234 5678 9012 345a",
		"O234 5678 9012 3456", // letter O for zero
		"l234 5678 9012 3456", // letter l for one
		"1234_5678_9012_3456",
		"1234.5678.9012.3456",
		"1234\t5678\t9012\t3456",
		"١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦", // Arabic-Indic digits
		"１２３４５６７８９０１２３４５６", // full-width digits
		"+234567890123456",
	} {
		t.Run("reject "+in, func(t *testing.T) {
			if r, err := ParseReceipt(in); !errors.Is(err, ErrReceipt) || r != (Receipt{}) {
				t.Fatalf("ParseReceipt(%q) = %q, %v; want ErrReceipt", in, r.digits, err)
			}
		})
	}
}

// A weak sanity check that receipts are drawn from the whole space: every
// position takes every digit about equally often, and there are no
// repeats. (The real guarantee is crypto/rand + rand.Int; this catches
// e.g. a fixed or unpadded digit, or a small range.)
func TestNewReceiptDistribution(t *testing.T) {
	const n = 20000
	var counts [16][10]int
	seen := make(map[Receipt]bool, n)
	for range n {
		r := NewReceipt()
		if seen[r] {
			t.Fatalf("duplicate receipt %s", r)
		}
		seen[r] = true
		for i, c := range []byte(r.digits) {
			counts[i][c-'0']++
		}
	}
	// Expected n/10 = 2000 each, standard deviation about 42: ±300 is over
	// seven deviations, so this fails only for a real bias.
	for i := range counts {
		for d, c := range counts[i] {
			if c == 0 {
				t.Errorf("position %d never has digit %d", i, d)
			} else if c < n/10-300 || c > n/10+300 {
				t.Errorf("position %d has digit %d %d times, expected about %d", i, d, c, n/10)
			}
		}
	}
}

// ---- keyring ----

// The session keyring hands out the keys it holds, and after Wipe (logout,
// timeout) neither the ring nor a key it handed out earlier can decrypt.
func TestKeyring(t *testing.T) {
	r := NewKeyring()
	if _, ok := r.Team(1); ok || len(r.Teams()) != 0 {
		t.Fatal("new keyring is not empty")
	}
	bochum, herne := NewKeyPair(), NewKeyPair()
	r.Add(1, bochum)
	r.Add(2, herne)
	if got, ok := r.Team(1); !ok || got != bochum {
		t.Fatal("Team(1) does not return the added key")
	}
	if got, ok := r.Team(2); !ok || got != herne {
		t.Fatal("Team(2) does not return the added key")
	}
	if _, ok := r.Team(3); ok {
		t.Fatal("Team(3) found a key that was never added")
	}
	ids := r.Teams()
	slices.Sort(ids)
	if !slices.Equal(ids, []int64{1, 2}) {
		t.Fatalf("Teams() = %v, want [1 2]", ids)
	}
	// Adding again replaces the team's key.
	herne2 := NewKeyPair()
	r.Add(2, herne2)
	if got, _ := r.Team(2); got != herne2 || len(r.Teams()) != 2 {
		t.Fatal("Add did not replace the key of team 2")
	}

	held, _ := r.Team(1)
	ct := bochum.Public().Seal([]byte("report"), adReport)
	kct := bochum.Public().SealKey(NewKey(), adReport)
	mustOpen(t, held.Open, ct, adReport, []byte("report"))

	r.Wipe()
	for _, id := range []int64{1, 2} {
		if _, ok := r.Team(id); ok {
			t.Errorf("Team(%d) still found after Wipe", id)
		}
	}
	if len(r.Teams()) != 0 {
		t.Fatalf("Teams() = %v after Wipe", r.Teams())
	}
	mustNotOpen(t, held.Open, ct, adReport)
	if _, err := held.OpenKey(kct, adReport); !errors.Is(err, ErrOpen) {
		t.Fatalf("OpenKey after Wipe: err = %v, want ErrOpen", err)
	}
	if held.priv != [32]byte{} {
		t.Fatal("Wipe did not overwrite the private key")
	}
	// A wiped ring belongs to an ended session (each login makes a new
	// ring): a key added late, by a request still running, is wiped at
	// once instead of staying on a ring nobody wipes again.
	r.Add(5, herne)
	if _, ok := r.Team(5); ok {
		t.Fatal("a wiped ring took a new key")
	}
	if herne.priv != [32]byte{} {
		t.Fatal("a key added after Wipe was not overwritten")
	}
	r.Wipe()
	r.Wipe() // idempotent
}

// The keyring is used by several requests of one session at once (a case
// page and a download in two tabs). While the session lives, each request
// finds the keys it added; when the session ends in the middle of them, no
// key outlives it: those on the ring are overwritten, and those a request
// still adds afterwards are overwritten on arrival. Run under -race in CI;
// the checks below fail without it too.
func TestKeyringConcurrent(t *testing.T) {
	const workers, perWorker = 8, 100
	r := NewKeyring()
	var wg sync.WaitGroup
	before := make([][]*KeyPair, workers)
	for g := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := int64(g*1000 + i)
				kp := NewKeyPair()
				before[g] = append(before[g], kp)
				r.Add(id, kp)
				if got, ok := r.Team(id); !ok || got != kp {
					t.Errorf("team %d: the key just added is not on the ring", id)
					return
				}
				if !slices.Contains(r.Teams(), id) {
					t.Errorf("team %d: Teams() does not list the key just added", id)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := len(r.Teams()); got != workers*perWorker {
		t.Fatalf("ring holds %d keys after parallel adds, want %d", got, workers*perWorker)
	}

	// Logout or timeout while requests of the session are still adding keys.
	after := make([][]*KeyPair, workers)
	start := make(chan struct{})
	for g := range workers {
		wg.Go(func() {
			<-start
			for i := range perWorker {
				id := int64(g*1000 + perWorker + i)
				kp := NewKeyPair()
				after[g] = append(after[g], kp)
				r.Add(id, kp)
				r.Team(id)
				r.Teams()
			}
		})
	}
	wg.Go(func() {
		<-start
		r.Wipe()
	})
	close(start)
	wg.Wait()

	if ids := r.Teams(); len(ids) != 0 {
		t.Errorf("ring still lists %d teams after Wipe", len(ids))
	}
	for _, kps := range append(before, after...) {
		for _, kp := range kps {
			if kp.priv != [32]byte{} {
				t.Fatal("a team key outlived the end of its session: not overwritten")
			}
		}
	}
}

// ---- tokens ----

// Session and link tokens are 256-bit random hex strings; only their hash
// is stored, and it is stable so a presented token finds its row.
func TestTokens(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := NewToken()
		if len(tok) != 64 {
			t.Fatalf("token %q has %d characters, want 64", tok, len(tok))
		}
		if b, err := hex.DecodeString(tok); err != nil || len(b) != 32 || tok != strings.ToLower(tok) {
			t.Fatalf("token %q is not 32 bytes of lower-case hex", tok)
		}
		if seen[tok] {
			t.Fatalf("duplicate token %q", tok)
		}
		seen[tok] = true
	}
	tok := NewToken()
	h := HashToken(tok)
	if len(h) != 32 {
		t.Fatalf("HashToken has %d bytes, want 32", len(h))
	}
	if !bytes.Equal(h, HashToken(strings.Clone(tok))) {
		t.Fatal("HashToken is not stable")
	}
	if bytes.Equal(h, HashToken(NewToken())) || bytes.Equal(h, HashToken(tok[:63])) {
		t.Fatal("different tokens have the same hash")
	}
	if hex.EncodeToString(h) == tok {
		t.Fatal("HashToken returns the token itself")
	}
	// Known answer: SHA-256 of the empty string.
	if got := hex.EncodeToString(HashToken("")); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("HashToken(\"\") = %s", got)
	}
}

// ---- benchmarks ----

// One password login's worth of argon2id at production cost.
func BenchmarkKDFDefault(b *testing.B) {
	k := NewKDF(1)
	salt := NewSalt()
	for b.Loop() {
		if _, err := k.Password(context.Background(), "correct horse battery staple", salt, DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealOpen4KiB(b *testing.B) {
	k := NewKey()
	plain := make([]byte, 4096)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := k.Open(k.Seal(plain, adReport), adReport); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTeamSealOpen(b *testing.B) {
	team := NewKeyPair()
	pub := team.Public()
	dk := NewKey()
	for b.Loop() {
		if _, err := team.OpenKey(pub.SealKey(dk, adReport), adReport); err != nil {
			b.Fatal(err)
		}
	}
}

// ---- key pairs for users and recovery; AD encoding ----

// A team key sealed to a member's public key opens with the member's key
// pair only, and only for that holder and team: this is how an admin gives
// a colleague a team's key without knowing the colleague's password.
func TestSealKeyPairToMember(t *testing.T) {
	team, member, other := NewKeyPair(), NewKeyPair(), NewKeyPair()
	ad := TeamKeyAD("user:abc", team.Public())
	ct := member.Public().SealKeyPair(team, ad)
	got, err := member.OpenKeyPair(ct, team.Public(), ad)
	if err != nil || got.Public() != team.Public() {
		t.Fatalf("member cannot open the team key: %v", err)
	}
	if _, err := other.OpenKeyPair(ct, team.Public(), ad); err == nil {
		t.Error("another user's key pair opened the team key")
	}
	if _, err := member.OpenKeyPair(ct, team.Public(), TeamKeyAD("user:xyz", team.Public())); err == nil {
		t.Error("the sealed team key opened for another holder")
	}
	if _, err := member.OpenKeyPair(ct, NewKeyPair().Public(), ad); err == nil {
		t.Error("the sealed team key was accepted for another team's public key")
	}
	// A user's own private key, wrapped under the password's KEK.
	kek := NewKey()
	wrapped := kek.WrapKeyPair(member, UserKeyAD("user:abc"))
	back, err := kek.UnwrapKeyPair(wrapped, member.Public(), UserKeyAD("user:abc"))
	if err != nil || back.Public() != member.Public() {
		t.Fatalf("user key does not unwrap: %v", err)
	}
	if _, err := kek.UnwrapKeyPair(wrapped, member.Public(), UserKeyAD("user:other")); err == nil {
		t.Error("a user key unwrapped for another user")
	}
}

// The printed recovery key always yields the same key pair, so team keys
// sealed to its public half (stored at setup) open with the key typed in
// years later; another recovery key yields another pair.
func TestRecoveryKeyPair(t *testing.T) {
	secret := NewKey()
	a := RecoveryKeyPair(secret)
	typed, err := ParseRecoveryKey(strings.ToLower(FormatRecoveryKey(secret)))
	if err != nil {
		t.Fatal(err)
	}
	b := RecoveryKeyPair(typed)
	if a.Public() != b.Public() {
		t.Fatal("the same recovery key gives two key pairs")
	}
	team := NewKeyPair()
	ct := a.Public().SealKeyPair(team, RecoveryAD(team.Public()))
	if got, err := b.OpenKeyPair(ct, team.Public(), RecoveryAD(team.Public())); err != nil || got.Public() != team.Public() {
		t.Errorf("the retyped recovery key does not open the team key: %v", err)
	}
	if _, err := RecoveryKeyPair(NewKey()).OpenKeyPair(ct, team.Public(), RecoveryAD(team.Public())); err == nil {
		t.Error("another recovery key opened the team key")
	}
}

// No two different (Purpose, Row) pairs share an encoding, even with NUL
// bytes inside: otherwise a ciphertext could be moved to a row whose name
// shifts the boundary.
func TestADEncodingUnambiguous(t *testing.T) {
	k := NewKey()
	pairs := []AD{
		{Purpose: "a\x00b", Row: "c"},
		{Purpose: "a", Row: "b\x00c"},
		{Purpose: "a\x00", Row: "bc"},
		{Purpose: "", Row: "a\x00bc"},
	}
	for i, sealed := range pairs {
		ct := k.Seal([]byte("x"), sealed)
		for j, other := range pairs {
			if _, err := k.Open(ct, other); (err == nil) != (i == j) {
				t.Errorf("sealed under %q, opening under %q: err %v", sealed, other, err)
			}
		}
	}
}

// Stored parameters are read exactly: a damaged value is refused instead
// of silently read as something else.
func TestParseParamsStrict(t *testing.T) {
	for _, s := range []string{
		DefaultParams.String() + "garbage",
		DefaultParams.String() + "$c2FsdA$aGFzaA",
		DefaultParams.String() + " ",
		"argon2id$v=19$m= 65536,t=3,p=4",
	} {
		if _, err := ParseParams(s); err == nil {
			t.Errorf("ParseParams(%q) accepted", s)
		}
	}
}
