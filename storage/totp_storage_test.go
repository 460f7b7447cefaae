package storage_test

import (
	"bytes"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// What EnableTOTP writes comes back from TOTP; a second enrolment does
// not replace the first; steps only move forward; a recovery code is
// deleted when used; turning two-factor off removes the secret and the
// codes.
func TestTOTPStore(t *testing.T) {
	db := openDB(t)
	_, u := setUp(t, db)
	ctx := t.Context()

	st, err := db.TOTP(ctx, u.ID)
	if err != nil || st.Enabled() || st.LastStep != 0 || st.RecoveryCodes != 0 {
		t.Fatalf("TOTP of a new user = %+v, %v; want off", st, err)
	}
	if _, err := db.TOTP(ctx, u.ID+100); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("TOTP of an unknown user: %v, want ENotFound", err)
	}
	if err := db.UseTOTPStep(ctx, u.ID, 5); reporting.ErrorCode(err) != reporting.EConflict {
		t.Errorf("UseTOTPStep with two-factor off: %v, want EConflict", err)
	}
	if err := db.ReplaceRecoveryCodes(ctx, u.ID, [][]byte{randomBytes(32)}); reporting.ErrorCode(err) != reporting.EConflict {
		t.Errorf("ReplaceRecoveryCodes with two-factor off: %v, want EConflict", err)
	}

	sealed := randomBytes(60)
	codes := [][]byte{randomBytes(32), randomBytes(32), randomBytes(32)}
	if err := db.EnableTOTP(ctx, u.ID, sealed, 1000, codes); err != nil {
		t.Fatalf("EnableTOTP: %v", err)
	}
	st, err = db.TOTP(ctx, u.ID)
	if err != nil || !bytes.Equal(st.Sealed, sealed) || st.LastStep != 1000 || st.RecoveryCodes != 3 {
		t.Fatalf("TOTP after enabling = %+v, %v", st, err)
	}
	if err := db.EnableTOTP(ctx, u.ID, randomBytes(60), 2000, nil); reporting.ErrorCode(err) != reporting.EConflict {
		t.Errorf("second EnableTOTP: %v, want EConflict", err)
	}
	if st, _ := db.TOTP(ctx, u.ID); !bytes.Equal(st.Sealed, sealed) || st.RecoveryCodes != 3 {
		t.Error("a second enrolment replaced the first")
	}

	for _, tt := range []struct {
		step int64
		ok   bool
	}{{999, false}, {1000, false}, {1001, true}, {1001, false}, {1003, true}, {1002, false}} {
		err := db.UseTOTPStep(ctx, u.ID, tt.step)
		if tt.ok && err != nil {
			t.Errorf("UseTOTPStep(%d): %v", tt.step, err)
		}
		if !tt.ok && reporting.ErrorCode(err) != reporting.EConflict {
			t.Errorf("UseTOTPStep(%d): %v, want EConflict", tt.step, err)
		}
	}
	if st, _ := db.TOTP(ctx, u.ID); st.LastStep != 1003 {
		t.Errorf("last step = %d, want 1003", st.LastStep)
	}

	if err := db.UseRecoveryCode(ctx, u.ID, codes[1]); err != nil {
		t.Errorf("UseRecoveryCode: %v", err)
	}
	if err := db.UseRecoveryCode(ctx, u.ID, codes[1]); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("UseRecoveryCode twice: %v, want ENotFound", err)
	}
	if err := db.UseRecoveryCode(ctx, u.ID+1, codes[0]); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("another user used this user's recovery code: %v", err)
	}
	if st, _ := db.TOTP(ctx, u.ID); st.RecoveryCodes != 2 {
		t.Errorf("%d codes left, want 2", st.RecoveryCodes)
	}

	fresh := [][]byte{randomBytes(32)}
	if err := db.ReplaceRecoveryCodes(ctx, u.ID, fresh); err != nil {
		t.Fatalf("ReplaceRecoveryCodes: %v", err)
	}
	if err := db.UseRecoveryCode(ctx, u.ID, codes[0]); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("a replaced recovery code still works: %v", err)
	}

	if err := db.DisableTOTP(ctx, u.ID); err != nil {
		t.Fatalf("DisableTOTP: %v", err)
	}
	st, err = db.TOTP(ctx, u.ID)
	if err != nil || st.Enabled() || st.RecoveryCodes != 0 {
		t.Errorf("TOTP after disabling = %+v, %v; want off without codes", st, err)
	}
	if err := db.UseRecoveryCode(ctx, u.ID, fresh[0]); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("a recovery code works after disabling: %v", err)
	}
	// A later enrolment starts above the steps already used.
	if err := db.EnableTOTP(ctx, u.ID, randomBytes(60), 10, nil); err != nil {
		t.Fatalf("EnableTOTP again: %v", err)
	}
	if st, _ := db.TOTP(ctx, u.ID); st.LastStep != 1003 {
		t.Errorf("last step after re-enrolment = %d, want 1003 kept", st.LastStep)
	}
}
