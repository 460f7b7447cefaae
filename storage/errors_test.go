package storage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// TestClosedDatabaseIsNotNotFound: a database that cannot be reached is an
// internal error that names the failed operation, never "not found" — the
// web layer would show a counsellor "no such case" for a broken disk, and
// the log would hold a driver error without a hint of what was tried.
func TestClosedDatabaseIsNotNotFound(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := []struct {
		op   string
		call func() error
	}{
		{"user by name", func() error { _, err := db.UserByName(ctx, "admin"); return err }},
		{"user", func() error { _, err := db.User(ctx, 1); return err }},
		{"setting", func() error { _, err := db.Setting(ctx, "setup_token"); return err }},
		{"case row", func() error { _, err := db.CaseRow(ctx, "no-such-case"); return err }},
		{"report", func() error { _, err := db.Report(ctx, "no-such-report"); return err }},
		{"teams", func() error { _, err := db.Teams(ctx); return err }},
		{"create first admin", func() error { return db.CreateFirstAdmin(ctx, firstAdmin("token")) }},
		{"create session", func() error {
			return db.CreateSession(ctx, reporting.Session{TokenHash: randomBytes(32), UserID: 1, Created: time.Now(), LastSeen: time.Now()})
		}},
		{"add note", func() error { return db.AddNote(ctx, reporting.StoredNote{ID: "n", ReportID: "r"}, 1) }},
	}
	for _, c := range calls {
		t.Run(c.op, func(t *testing.T) {
			err := c.call()
			if err == nil {
				t.Fatal("no error from a closed database")
			}
			if code := reporting.ErrorCode(err); code != "" {
				t.Errorf("error %q has code %q, want an internal error (no code)", err, code)
			}
			if want := "storage: " + c.op + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

// TestSetupTokenReadErrorIsNotWrongToken: CreateFirstAdmin used to answer
// every failure to read the setup token with "wrong setup link"; only a
// token that is not there may say so, a database error stays internal.
func TestSetupTokenReadErrorIsNotWrongToken(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	token := putSetupToken(t, db)

	// A wrong token is still "not found", and its code survives the wrap.
	err := db.CreateFirstAdmin(ctx, firstAdmin("wrong"+token))
	wantCode(t, err, reporting.ENotFound)
	if id := reporting.MessageID(err); id != "error.setup.token" {
		t.Errorf("wrong token: message ID %q, want error.setup.token", id)
	}

	// The table the token is read from is gone: a driver error.
	if _, err := db.WriteConn().ExecContext(ctx, `ALTER TABLE settings RENAME TO settings_gone`); err != nil {
		t.Fatalf("rename settings: %v", err)
	}
	err = db.CreateFirstAdmin(ctx, firstAdmin(token))
	if err == nil {
		t.Fatal("CreateFirstAdmin without a settings table succeeded")
	}
	if code := reporting.ErrorCode(err); code != "" {
		t.Errorf("error %q has code %q, want an internal error", err, code)
	}
	if !strings.Contains(err.Error(), "storage: create first admin: ") || !strings.Contains(err.Error(), "no such table") {
		t.Errorf("error %q does not name the operation and the driver's cause", err)
	}
}

// TestAuditReadErrorIsNotABrokenChain: a database error while verifying
// the audit chain is an internal error, not a report that the chain was
// tampered with (which would send an admin hunting for an attacker).
func TestAuditReadErrorIsNotABrokenChain(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	if _, err := db.WriteConn().ExecContext(ctx, `ALTER TABLE settings RENAME TO settings_gone`); err != nil {
		t.Fatalf("rename settings: %v", err)
	}
	_, err := db.VerifyAudit(ctx)
	if err == nil {
		t.Fatal("VerifyAudit without a settings table succeeded")
	}
	if code := reporting.ErrorCode(err); code != "" {
		t.Errorf("error %q has code %q, want an internal error", err, code)
	}
	if !strings.HasPrefix(err.Error(), "storage: verify audit: ") {
		t.Errorf("error %q does not name the operation", err)
	}
}
