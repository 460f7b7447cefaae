package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/planb-ruhr/meldestelle/storage"
)

// `meldestelle audit verify` passes on the log the service wrote and exits
// non-zero once a row was altered or removed behind its back.
func TestAuditVerifyCommand(t *testing.T) {
	for _, tamper := range []string{
		`UPDATE audit SET user_name = 'niemand' WHERE id = 1`,
		`DELETE FROM audit WHERE id = 1`,
	} {
		dir := filepath.Join(t.TempDir(), "data")
		var out, errOut lockedBuffer
		if code := run(t.Context(), []string{"setup", "-data", dir, "-admin", "anna", "-password-stdin"}, strings.NewReader("ein langes geheimes Passwort\n"), &out, &errOut); code != 0 {
			t.Fatalf("setup: %s", errOut.String())
		}
		verify := func() (int, string, string) {
			var out, errOut lockedBuffer
			code := run(t.Context(), []string{"audit", "verify", "-data", dir}, strings.NewReader(""), &out, &errOut)
			return code, out.String(), errOut.String()
		}
		if code, stdout, stderr := verify(); code != 0 || !strings.Contains(stdout, "intact: 1 entries") || !strings.Contains(stdout, "head: entry 1") {
			t.Fatalf("untouched log: exit %d, %q %q", code, stdout, stderr)
		}
		db, err := sql.Open("sqlite3", filepath.Join(dir, storage.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(tamper); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if code, stdout, stderr := verify(); code == 0 || !strings.Contains(stderr, "audit chain broken") {
			t.Errorf("after %q: exit %d, %q %q", tamper, code, stdout, stderr)
		}
	}
}
