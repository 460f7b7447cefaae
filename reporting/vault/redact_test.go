package vault

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// Every key type prints as a redaction with every fmt verb, alone or
// inside another struct: no byte of a key, a verifier, a lookup hash or a
// receipt appears in hex, upper-case hex, raw, decimal or Go syntax.
func TestKeyTypesRedactWhenPrinted(t *testing.T) {
	ctx := t.Context()
	p := Params{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
	kdf := NewKDF(1)
	creds, err := kdf.Password(ctx, "korrekt-pferd-batterie", NewSalt(), p)
	if err != nil {
		t.Fatal(err)
	}
	rc := NewReceipt()
	access, err := kdf.Receipt(ctx, rc, NewSalt(), p)
	if err != nil {
		t.Fatal(err)
	}
	key := NewKey()
	pair := NewKeyPair()
	ring := NewKeyring()
	ring.Add(1, pair)

	cases := []struct {
		name    string
		v       any
		secrets [][]byte
	}{
		{"Key", key, [][]byte{key.b[:]}},
		{"*Key", &key, [][]byte{key.b[:]}},
		{"KeyPair", *pair, [][]byte{pair.priv[:]}},
		{"*KeyPair", pair, [][]byte{pair.priv[:]}},
		{"Credentials", creds, [][]byte{creds.KEK.b[:], creds.Verifier}},
		{"*Credentials", &creds, [][]byte{creds.KEK.b[:], creds.Verifier}},
		{"ReporterAccess", access, [][]byte{access.Key.b[:], access.Lookup}},
		{"*ReporterAccess", &access, [][]byte{access.Key.b[:], access.Lookup}},
		{"*Keyring", ring, [][]byte{pair.priv[:]}},
		{"Receipt", rc, [][]byte{[]byte(rc.digits), []byte(rc.String())}},
		{"*Receipt", &rc, [][]byte{[]byte(rc.digits)}},
		{"struct with a Key", struct{ K Key }{key}, [][]byte{key.b[:]}},
		{"slice of KeyPairs", []*KeyPair{pair}, [][]byte{pair.priv[:]}},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"}
	for _, c := range cases {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, c.v)
			if !strings.Contains(out, "REDACTED") {
				t.Errorf("%s with %s = %q: not redacted", c.name, verb, out)
			}
			for _, sec := range c.secrets {
				for _, form := range printedForms(sec) {
					if strings.Contains(out, form) {
						t.Errorf("%s with %s = %q: contains the secret as %q", c.name, verb, out, form)
					}
				}
			}
		}
	}
	// The reporter still sees their receipt on the page that shows it.
	if got := rc.String(); len(strings.ReplaceAll(got, " ", "")) != 16 {
		t.Errorf("Receipt.String() = %q, want the 16 digits in groups", got)
	}
}

// printedForms are the ways fmt writes bytes: hex both cases, raw, and
// the element lists of %v/%d and %#v.
func printedForms(b []byte) []string {
	dec := strings.Trim(fmt.Sprint(b), "[]")
	gos := fmt.Sprintf("%#v", b)
	gos = gos[strings.Index(gos, "{")+1 : len(gos)-1]
	return []string{hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)), string(b), dec, gos}
}

// Wiping credentials, a reporter's access, a key and a key pair leaves
// zeros where the key was.
func TestWipeZeroes(t *testing.T) {
	ctx := t.Context()
	p := Params{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
	kdf := NewKDF(1)
	creds, err := kdf.Password(ctx, "korrekt-pferd-batterie", NewSalt(), p)
	if err != nil {
		t.Fatal(err)
	}
	access, err := kdf.Receipt(ctx, NewReceipt(), NewSalt(), p)
	if err != nil {
		t.Fatal(err)
	}
	key, pair := NewKey(), NewKeyPair()
	if creds.KEK.IsZero() || access.Key.IsZero() || key.IsZero() || pair.IsZero() {
		t.Fatal("fresh keys are zero")
	}
	creds.Wipe()
	access.Wipe()
	key.Wipe()
	pair.Wipe()
	if !creds.KEK.IsZero() || !access.Key.IsZero() || !key.IsZero() || !pair.IsZero() {
		t.Error("a wiped key is not all zeros")
	}
	if _, err := pair.Open(pair.Public().Seal([]byte("x"), AD{Purpose: "t"}), AD{Purpose: "t"}); err == nil {
		t.Error("a wiped key pair still opens what is sealed to it")
	}
}
