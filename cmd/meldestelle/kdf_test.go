package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

func rawOpen(t *testing.T, dir string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", filepath.Join(dir, storage.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// submitReport submits a report through an intake started on dir, as
// the server's next start would, and returns its stored kdf_params.
func submitReport(t *testing.T, dir string) (string, error) {
	t.Helper()
	d := accountsOpen(t, dir)
	db, office := d.db, d.Office
	in, err := reporting.NewIntake(t.Context(), db, vault.NewKDF(1), vault.DefaultParams, office.Anchor(), nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := in.Submit(t.Context(), reporting.Report{Role: "affected", Municipality: "herne", Grounds: []string{"religion"},
		Area: "work", Description: "x", Wish: "document_only", Language: "de"})
	if err != nil {
		return "", err
	}
	var params string
	err = rawOpen(t, dir).QueryRow(`SELECT kdf_params FROM reports WHERE case_no = ?`, rc.CaseNo).Scan(&params)
	return params, err
}

// `meldestelle kdf raise` raises the receipt parameters of new reports
// once, audited; the same or weaker parameters, or a run without the
// secret file, are refused and change nothing.
func TestKDFRaiseCommand(t *testing.T) {
	dir := setupDir(t)
	raise := func(args ...string) (int, string, string) {
		var out, errOut lockedBuffer
		code := run(t.Context(), append([]string{"kdf", "raise", "-data", dir}, args...), strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, _, stderr := raise("-memory-kib", "65536", "-time", "3"); code == 0 || !strings.Contains(stderr, "current parameters already") {
		t.Errorf("raise to the defaults: exit %d, %q", code, stderr)
	}
	code, stdout, stderr := raise("-memory-kib", "65536", "-time", "4")
	if code != 0 || !strings.Contains(stdout, "Parameter sets in use: 2") {
		t.Fatalf("raise: exit %d, %q %q", code, stdout, stderr)
	}
	stronger := vault.Params{MemoryKiB: 65536, Time: 4, Threads: vault.DefaultParams.Threads}
	if code, _, stderr := raise("-memory-kib", "65536", "-time", "3"); code == 0 || !strings.Contains(stderr, "can only be raised") {
		t.Errorf("lowering: exit %d, %q", code, stderr)
	}
	if err := os.Rename(filepath.Join(dir, "secret.key"), filepath.Join(dir, "elsewhere")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := raise("-memory-kib", "131072", "-time", "4"); code == 0 || !strings.Contains(stderr, "server secret") {
		t.Errorf("raise without the secret: exit %d, %q", code, stderr)
	}
	if err := os.Rename(filepath.Join(dir, "elsewhere"), filepath.Join(dir, "secret.key")); err != nil {
		t.Fatal(err)
	}
	if params, err := submitReport(t, dir); err != nil || params != "pepper1$"+stronger.String() {
		t.Errorf("report after the raise derived with %q (%v), want %s", params, err, stronger)
	}
}

// `secret init` on a deployment from before the secret, where the
// security settings were never stored (the defaults applied), writes them
// with their MACs: afterwards they read as set, and reports and receipts
// work, rather than every start refusing them as deleted.
func TestSecretInitWritesSecuritySettings(t *testing.T) {
	dir := setupDir(t)
	if err := os.Remove(filepath.Join(dir, "secret.key")); err != nil {
		t.Fatal(err)
	}
	raw := rawOpen(t, dir)
	for _, q := range []string{`UPDATE teams SET mac = NULL`, `UPDATE users SET mac = NULL`, `UPDATE settings SET mac = NULL`,
		`DELETE FROM audit`, `DELETE FROM settings WHERE key IN ('audit_head', 'audit_keyed_from', 'totp_required_roles', 'retention', 'receipt_kdf_sets', 'receipt_pepper')`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"secret", "init", "-data", dir, "-yes"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("secret init: exit %d, %q", code, errOut.String())
	}
	if !strings.Contains(out.String(), "totp_required_roles") || !strings.Contains(out.String(), "the default") {
		t.Errorf("init did not list the defaults it writes: %q", out.String())
	}
	if params, err := submitReport(t, dir); err != nil || params != "pepper1$"+vault.DefaultParams.String() {
		t.Fatalf("report after init: %q, %v", params, err)
	}
	d := accountsOpen(t, dir)
	if roles, err := d.TwoFactor.TOTPRequiredRoles(t.Context()); err != nil || len(roles) != 0 {
		t.Errorf("two-factor roles after init: %v, %v", roles, err)
	}
	if set, err := d.Retention.RetentionSettings(t.Context()); err != nil || set.ClosedMonths != reporting.DefaultRetentionClosedMonths {
		t.Errorf("retention after init: %+v, %v", set, err)
	}
}
