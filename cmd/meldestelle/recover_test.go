package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// accountsOpen builds the domain services on the data directory's
// database, as the server would, and closes them when the test ends.
func accountsOpen(t *testing.T, dir string) *domain {
	t.Helper()
	c := config{data: dir}
	d, err := c.services(t.Context(), reporting.NotifierConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// `meldestelle recover -recovery-key-stdin -admin NAME` with the printed
// recovery key creates an admin who logs in and reads the existing case;
// a wrong key, a short password or missing flags are refused with a
// reason and a non-zero exit, and change nothing.
func TestRecoverCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"setup", "-data", dir, "-admin", "anna", "-password-stdin"}, strings.NewReader("ein langes geheimes Passwort\n"), &out, &errOut); code != 0 {
		t.Fatalf("setup: exit %d: %s", code, errOut.String())
	}
	key := strings.TrimSpace(recoveryKey.FindString(out.String()))
	if key == "" {
		t.Fatalf("no recovery key in %q", out.String())
	}

	// A report arrives before the recovery.
	first := accountsOpen(t, dir)
	db, intake := first.db, first.Intake
	report := reporting.Report{Role: "affected", Municipality: "herne", Grounds: []string{"religion"}, Area: "work",
		Description: "Kopftuch: Stelle nicht bekommen.", Wish: "document_only", Language: "de"}
	if _, err := intake.Submit(t.Context(), report); err != nil {
		t.Fatal(err)
	}
	db.Close()

	recoverCmd := func(args []string, stdin string) (int, string, string) {
		var out, errOut lockedBuffer
		code := run(context.Background(), append([]string{"recover", "-data", dir}, args...), strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	state := func() (int, int) {
		db, err := storage.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		users, _ := db.CountUsers(t.Context())
		_, entries, _ := db.AuditEntries(t.Context(), "", reporting.Page{})
		return users, entries
	}
	usersBefore, auditBefore := state()

	refused := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"wrong key", []string{"-recovery-key-stdin", "-admin", "notfall"}, vault.FormatRecoveryKey(vault.NewKey()) + "\nein langes Notfallpasswort\n", "recovery key is wrong"},
		{"garbage key", []string{"-recovery-key-stdin", "-admin", "notfall"}, "hallo\nein langes Notfallpasswort\n", "recovery key is wrong"},
		{"short password", []string{"-recovery-key-stdin", "-admin", "notfall"}, key + "\nkurz\n", "password"},
		{"no password", []string{"-recovery-key-stdin", "-admin", "notfall"}, key + "\n", "password"},
		{"name taken", []string{"-recovery-key-stdin", "-admin", "anna"}, key + "\nein langes Notfallpasswort\n", "taken"},
		{"no -admin", []string{"-recovery-key-stdin"}, key + "\nein langes Notfallpasswort\n", "-admin NAME"},
		{"no -recovery-key-stdin", []string{"-admin", "notfall"}, key + "\nein langes Notfallpasswort\n", "-recovery-key-stdin"},
	}
	for _, tt := range refused {
		code, stdout, stderr := recoverCmd(tt.args, tt.stdin)
		if code == 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want a failure mentioning %q", tt.name, code, stderr, tt.want)
		}
		if strings.Contains(stdout, "created") {
			t.Errorf("%s: stdout claims success: %q", tt.name, stdout)
		}
	}
	if code, _, stderr := recoverCmd(refused[0].args, refused[0].stdin); !strings.Contains(stderr, "Nothing was changed") {
		t.Errorf("wrong key: exit %d, stderr %q does not say nothing changed", code, stderr)
	}
	if users, entries := state(); users != usersBefore || entries != auditBefore {
		t.Fatalf("refused recoveries changed the database: %d→%d users, %d→%d audit entries", usersBefore, users, auditBefore, entries)
	}

	// As typed back from paper, in lower case with spaces.
	typed := strings.ToLower(strings.ReplaceAll(key, "-", " "))
	code, stdout, stderr := recoverCmd([]string{"-recovery-key-stdin", "-admin", "notfall"}, typed+"\r\nein langes Notfallpasswort\r\n")
	if code != 0 || !strings.Contains(stdout, `Admin "notfall" created`) || !strings.Contains(stdout, "1 team(s): PLANB") {
		t.Fatalf("recover: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	d := accountsOpen(t, dir)
	db, office := d.db, d.Office
	_, s, err := office.Login(t.Context(), "notfall", "ein langes Notfallpasswort", "")
	if err != nil {
		t.Fatalf("the recovered admin cannot log in: %v", err)
	}
	cases, _, err := d.Cases.Cases(t.Context(), s, reporting.Page{Limit: 10})
	if err != nil || len(cases) != 1 || cases[0].Report.Description != report.Description {
		t.Fatalf("the recovered admin's cases: %v, %v", cases, err)
	}
	entries, _, err := db.AuditEntries(t.Context(), "", reporting.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		found = found || (e.Action == reporting.AuditRecover && e.UserName == "notfall")
	}
	if !found {
		t.Error("no recover entry in the audit log")
	}
}
