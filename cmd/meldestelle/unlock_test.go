package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// `meldestelle unlock -user NAME` lifts the login lock a stranger put on
// the only admin, who then logs in from a browser the server does not
// know, and the audit log says so; an unknown name or a missing flag is
// refused with a reason and a non-zero exit.
func TestUnlockCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"setup", "-data", dir, "-admin", "anna", "-password-stdin"}, strings.NewReader("ein langes geheimes Passwort\n"), &out, &errOut); code != 0 {
		t.Fatalf("setup: exit %d: %s", code, errOut.String())
	}
	d := accountsOpen(t, dir)
	db, office := d.db, d.Office
	for range reporting.FreeLoginAttempts {
		if _, _, err := office.Login(t.Context(), "anna", "rate mal", ""); err == nil {
			t.Fatal("a wrong password logged in")
		}
	}
	if _, _, err := office.Login(t.Context(), "anna", "ein langes geheimes Passwort", ""); err == nil {
		t.Fatal("not locked after five wrong passwords")
	}
	db.Close()

	unlock := func(args ...string) (int, string, string) {
		var out, errOut lockedBuffer
		code := run(t.Context(), append([]string{"unlock", "-data", dir}, args...), strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, _, msg := unlock(); code != 1 || !strings.Contains(msg, "-user") {
		t.Errorf("without -user: exit %d, %q", code, msg)
	}
	if code, _, msg := unlock("-user", "niemand"); code != 1 || !strings.Contains(msg, "no office user") {
		t.Errorf("unknown user: exit %d, %q", code, msg)
	}
	if code, stdout, msg := unlock("-user", "anna"); code != 0 || !strings.Contains(stdout, "unlocked") {
		t.Fatalf("unlock: exit %d, %q, %q", code, stdout, msg)
	}

	d = accountsOpen(t, dir)
	db, office = d.db, d.Office
	if _, _, err := office.Login(t.Context(), "anna", "ein langes geheimes Passwort", ""); err != nil {
		t.Errorf("login after unlock: %v", err)
	}
	entries, _, err := db.AuditEntries(t.Context(), "", reporting.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	unlocks := 0
	for _, e := range entries {
		if e.Action == reporting.AuditLoginUnlock {
			unlocks++
			if e.UserName != "system" || !strings.HasSuffix(e.Detail, "command_line") {
				t.Errorf("unlock entry %+v", e)
			}
		}
	}
	if unlocks != 1 {
		t.Errorf("%d unlock entries in the audit log, want 1", unlocks)
	}
}
