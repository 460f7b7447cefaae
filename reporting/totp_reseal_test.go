package reporting

import (
	"context"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// resealStore is a Store whose only working method is TOTP: resealTOTP
// needs nothing else. (An internal test cannot import storage, which
// imports this package.)
type resealStore struct {
	Store
	st TOTPState
}

func (s resealStore) TOTP(context.Context, int64) (TOTPState, error) { return s.st, nil }

// A password change re-seals the TOTP secret: the result opens under the
// new KEK and salt only, and holds the same secret. A user without
// two-factor gets nil, which leaves the column empty.
func TestResealTOTP(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	oldKEK, newKEK := vault.NewKey(), vault.NewKey()
	u := User{ID: 7, Salt: vault.NewSalt()}
	newSalt := vault.NewSalt()
	o := &Office{store: resealStore{st: TOTPState{Sealed: oldKEK.Seal([]byte(secret), totpAD(u.Salt))}}}

	sealed, err := o.resealTOTP(t.Context(), u, oldKEK, newSalt, newKEK)
	if err != nil {
		t.Fatalf("resealTOTP: %v", err)
	}
	if plain, err := newKEK.Open(sealed, totpAD(newSalt)); err != nil || string(plain) != secret {
		t.Errorf("new KEK opens %q, %v; want the secret", plain, err)
	}
	if _, err := oldKEK.Open(sealed, totpAD(u.Salt)); err == nil {
		t.Error("the old password's KEK still opens the re-sealed secret")
	}
	if _, err := newKEK.Open(sealed, totpAD(u.Salt)); err == nil {
		t.Error("the re-sealed secret is bound to the old salt")
	}

	if _, err := o.resealTOTP(t.Context(), u, vault.NewKey(), newSalt, newKEK); err == nil {
		t.Error("resealTOTP with a wrong old KEK succeeded")
	}

	off := &Office{store: resealStore{}}
	if sealed, err := off.resealTOTP(t.Context(), u, oldKEK, newSalt, newKEK); err != nil || sealed != nil {
		t.Errorf("user without two-factor: %x, %v; want nil, nil", sealed, err)
	}
}
