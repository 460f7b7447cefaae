package reporting_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// plainRecoveryHash is how versions before issue 9 stored a recovery code:
// SHA-256 over a fixed label, the user ID and the code. Anyone with a copy
// of the database can compute it for a guess.
func plainRecoveryHash(userID int64, code string) []byte {
	h := sha256.New()
	h.Write([]byte("meldestelle totp recovery code\x00"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(userID)))
	h.Write([]byte(strings.ReplaceAll(code, "-", "")))
	return h.Sum(nil)
}

// A database copy alone cannot check a guess at a recovery code: what is
// stored is neither the plain SHA-256 of the code nor the labelled hash
// earlier versions stored, even for the right code. The codes still work
// at login, also after a password change.
func TestRecoveryCodesKeyedAtRest(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, codes := e.enrol(t)
	ctx := t.Context()
	u, err := e.db.UserByName(ctx, adminName)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.db.RecoveryCodes(ctx, u.ID)
	if err != nil || len(stored) != reporting.RecoveryCodeCount {
		t.Fatalf("RecoveryCodes = %d hashes, %v; want %d", len(stored), err, reporting.RecoveryCodeCount)
	}
	for _, c := range codes {
		raw := strings.ReplaceAll(c, "-", "")
		plain := sha256.Sum256([]byte(raw))
		for _, guess := range [][]byte{plain[:], plainRecoveryHash(u.ID, c)} {
			for _, h := range stored {
				if bytes.Equal(h, guess) {
					t.Errorf("recovery code %s can be checked with the database alone: stored %x", c, h)
				}
			}
		}
	}

	const newPassword = "ein ganz neues langes Passwort"
	_, s := e.loginWithCode(t, codes[0])
	if err := e.accounts.ChangePassword(ctx, s, reporting.PasswordForm{Old: adminPassword, New: newPassword, Confirm: newPassword}); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if err := e.loginWith(t, newPassword, codes[1]); err != nil {
		t.Errorf("a recovery code after the password change: %v", err)
	}
	wantLoginRefused(t, "used recovery code", e.loginWith(t, newPassword, codes[0]), "error.totp.wrong")
}

// Recovery codes stored as plain hashes by an earlier version keep
// working, and the first login that opens the secret turns every one of
// them into a keyed hash.
func TestPlainRecoveryCodesConvertedAtLogin(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	secret, _ := e.enrol(t)
	ctx := t.Context()
	u, err := e.db.UserByName(ctx, adminName)
	if err != nil {
		t.Fatal(err)
	}
	// The state an older version left: two codes stored as plain hashes.
	const first, second = "ABCD-EFGH-JKMN", "PQRS-TVWX-YZ01"
	if err := e.db.ReplaceRecoveryCodes(ctx, u.ID, [][]byte{plainRecoveryHash(u.ID, first), plainRecoveryHash(u.ID, second)}); err != nil {
		t.Fatal(err)
	}

	// A login with an authenticator code converts them.
	if err := e.loginWith(t, adminPassword, totpCode(t, secret, e.clock.Now())); err != nil {
		t.Fatalf("login with a TOTP code: %v", err)
	}
	stored, err := e.db.RecoveryCodes(ctx, u.ID)
	if err != nil || len(stored) != 2 {
		t.Fatalf("RecoveryCodes after the login = %d, %v; want 2", len(stored), err)
	}
	for _, h := range stored {
		if bytes.Equal(h, plainRecoveryHash(u.ID, first)) || bytes.Equal(h, plainRecoveryHash(u.ID, second)) {
			t.Errorf("a plain recovery hash is still stored after the login: %x", h)
		}
	}
	// And the converted codes still work, once each.
	e.clock.Advance(30 * time.Second)
	for _, c := range []string{first, second} {
		if err := e.loginWith(t, adminPassword, c); err != nil {
			t.Errorf("converted recovery code %s: %v", c, err)
		}
		wantLoginRefused(t, "converted code again", e.loginWith(t, adminPassword, c), "error.totp.wrong")
	}
}
