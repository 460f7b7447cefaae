package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/planb-ruhr/meldestelle/storage"
)

// setupDir runs `meldestelle setup` in a fresh data directory.
func setupDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"setup", "-data", dir, "-admin", "anna", "-password-stdin"}, strings.NewReader("ein langes geheimes Passwort\n"), &out, &errOut); code != 0 {
		t.Fatalf("setup: %s", errOut.String())
	}
	return dir
}

// Setup writes the secret file with mode 0600 next to the database; a
// server on a database with users but without the file refuses to start
// and says what to do; a file others can read is refused too.
func TestSecretFileAtSetupAndServe(t *testing.T) {
	dir := setupDir(t)
	path := filepath.Join(dir, "secret.key")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("setup wrote no secret file: %v", err)
	}
	if info.Mode().Perm() != 0o600 || info.Size() != 32 {
		t.Errorf("secret file: mode %o, %d bytes; want 600, 32", info.Mode().Perm(), info.Size())
	}
	serve := func() (int, string) {
		var out, errOut lockedBuffer
		code := run(t.Context(), []string{"serve", "-data", dir, "-addr", "127.0.0.1:0", "-memory-limit", "off"}, strings.NewReader(""), &out, &errOut)
		return code, errOut.String()
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stderr := serve(); code == 0 || !strings.Contains(stderr, "chmod 600") {
		t.Errorf("serve with a world-readable secret: exit %d, %q", code, stderr)
	}
	moved := path + ".elsewhere"
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	if code, stderr := serve(); code == 0 || !strings.Contains(stderr, "no server secret") || !strings.Contains(stderr, "README") {
		t.Errorf("serve without the secret: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("serve created a new secret for a database that has users")
	}
	// Nor can the audit log be verified without it.
	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"audit", "verify", "-data", dir}, strings.NewReader(""), &out, &errOut); code == 0 {
		t.Errorf("audit verify without the secret: exit 0, %q", out.String())
	}
}

// A deployment from before the secret (no file, no MACs, unkeyed audit
// log) adopts one with `meldestelle secret init`: it lists what it will
// trust, does nothing unless told yes, and afterwards the admin logs in
// and the audit log verifies with the new file.
func TestSecretInitAdoptsExistingDeployment(t *testing.T) {
	dir := setupDir(t)
	// Turn the fresh deployment into an old one.
	if err := os.Remove(filepath.Join(dir, "secret.key")); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite3", filepath.Join(dir, storage.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE teams SET mac = NULL`, `UPDATE users SET mac = NULL`, `UPDATE settings SET mac = NULL`,
		`DELETE FROM audit`, `DELETE FROM settings WHERE key IN ('audit_head', 'audit_keyed_from')`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	secretInit := func(stdin string, args ...string) (int, string, string) {
		var out, errOut lockedBuffer
		code := run(t.Context(), append([]string{"secret", "init", "-data", dir}, args...), strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, stdout, _ := secretInit("no\n")
	if code == 0 || !strings.Contains(stdout, `user 1 "anna"`) || !strings.Contains(stdout, "recovery public key") {
		t.Fatalf("declined init: exit %d, %q", code, stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "secret.key")); err == nil {
		t.Fatal("a declined init left a secret file")
	}
	if code, stdout, stderr := secretInit("yes\n"); code != 0 || !strings.Contains(stdout, "keyed from entry 1") {
		t.Fatalf("init: exit %d, %q %q", code, stdout, stderr)
	}
	if code, _, stderr := secretInit("yes\n"); code == 0 || !strings.Contains(stderr, "exists already") {
		t.Errorf("second init: exit %d, %q", code, stderr)
	}
	d := accountsOpen(t, dir)
	office := d.Office
	if _, _, err := office.Login(t.Context(), "anna", "ein langes geheimes Passwort", ""); err != nil {
		t.Fatalf("login after secret init: %v", err)
	}
	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"audit", "verify", "-data", dir}, strings.NewReader(""), &out, &errOut); code != 0 || !strings.Contains(out.String(), "head: entry") {
		t.Errorf("audit verify after init: exit %d, %q %q", code, out.String(), errOut.String())
	}
}

// A lost secret file is not silently replaced: `secret init` refuses and
// points to the copy; only with -lost does it adopt a new secret, after
// which the admin logs in and the audit log verifies again.
func TestSecretInitLostSecret(t *testing.T) {
	dir := setupDir(t)
	if err := os.Remove(filepath.Join(dir, "secret.key")); err != nil {
		t.Fatal(err)
	}
	secretInit := func(args ...string) (int, string, string) {
		var out, errOut lockedBuffer
		code := run(t.Context(), append([]string{"secret", "init", "-data", dir, "-yes"}, args...), strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, _, stderr := secretInit(); code == 0 || !strings.Contains(stderr, "-lost") {
		t.Fatalf("init over a lost secret without -lost: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "secret.key")); err == nil {
		t.Fatal("a refused init left a secret file")
	}
	if code, stdout, stderr := secretInit("-lost"); code != 0 {
		t.Fatalf("init -lost: exit %d, %q %q", code, stdout, stderr)
	}
	d := accountsOpen(t, dir)
	office := d.Office
	if _, _, err := office.Login(t.Context(), "anna", "ein langes geheimes Passwort", ""); err != nil {
		t.Fatalf("login after init -lost: %v", err)
	}
	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"audit", "verify", "-data", dir}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Errorf("audit verify after init -lost: exit %d, %q %q", code, out.String(), errOut.String())
	}
}
