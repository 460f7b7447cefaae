package main

import (
	"context"
	"database/sql"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// startServe runs `meldestelle serve` on data on a free loopback port
// until the returned stop is called, and waits until it answers.
func startServe(t *testing.T, data string, args ...string) (base string, stop func() string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(t.Context())
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", addr, "-data", data, "-kdf-concurrency", "1"}, args...), strings.NewReader(""), &lockedBuffer{}, &stderr)
	}()
	base = "http://" + addr
	waitFor(t, "the server", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return base, func() string {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited with %d:\n%s", code, stderr.String())
		}
		return stderr.String()
	}
}

// A backup of a live service's database restores: verify passes and
// counts the report, restore puts it into a fresh data directory (and
// refuses a second time), and a server started on it with the secret put
// back lets the admin log in and read the case's decrypted text.
func TestBackupRestoresAndCaseReads(t *testing.T) {
	const password = "ein langes geheimes Passwort"
	const text = "Der Vermieter hat uns wegen unseres Namens abgewiesen."
	dirA := filepath.Join(t.TempDir(), "data")
	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"setup", "-data", dirA, "-admin", "anna", "-password-stdin", "-kdf-concurrency", "1"}, strings.NewReader(password+"\n"), &out, &errOut); code != 0 {
		t.Fatalf("setup: %d\n%s", code, errOut.String())
	}
	_, stopA := startServe(t, dirA)
	// The report arrives through the intake beside the running server,
	// as a second writer on the live database.
	c := config{data: dirA, kdfConcurrency: 1, statsK: reporting.StatsK}
	d, err := c.services(t.Context(), reporting.NotifierConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Intake.Submit(t.Context(), webtest.StatsReport(text)); err != nil {
		t.Fatal(err)
	}
	d.Close()
	backupFile := filepath.Join(t.TempDir(), "meldestelle-backup.db")
	out, errOut = lockedBuffer{}, lockedBuffer{}
	if code := run(t.Context(), []string{"backup", "-data", dirA, backupFile}, nil, &out, &errOut); code != 0 {
		t.Fatalf("backup of the live database: %d\n%s", code, errOut.String())
	}
	stopA()

	out, errOut = lockedBuffer{}, lockedBuffer{}
	if code := run(t.Context(), []string{"backup", "verify", backupFile}, nil, &out, &errOut); code != 0 {
		t.Fatalf("verify: %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"integrity: ok", "schema: current", "reports: 1\n", "users: 1\n", "teams: 1\n", "\nok\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verify output lacks %q:\n%s", want, out.String())
		}
	}

	dirB := filepath.Join(t.TempDir(), "restored")
	out, errOut = lockedBuffer{}, lockedBuffer{}
	if code := run(t.Context(), []string{"restore", "-data", dirB, backupFile}, nil, &out, &errOut); code != 0 {
		t.Fatalf("restore: %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), filepath.Join(dirB, "secret.key")) || !strings.Contains(out.String(), "recovery key") {
		t.Errorf("restore does not say that the secret and the recovery key are not in the backup:\n%s", out.String())
	}
	if fi, err := os.Stat(filepath.Join(dirB, "meldestelle.db")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("restored file: %v, %v; want mode 0600", fi, err)
	}
	if fi, err := os.Stat(dirB); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("restored data directory: %v, %v; want mode 0700", fi, err)
	}
	out, errOut = lockedBuffer{}, lockedBuffer{}
	if code := run(t.Context(), []string{"restore", "-data", dirB, backupFile}, nil, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "holds a database already") {
		t.Errorf("restore over a database: exit %d, %q; want a refusal saying why", code, errOut.String())
	}

	// The secret comes back from where it is kept, as the output says.
	secret, err := os.ReadFile(filepath.Join(dirA, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirB, "secret.key"), secret, 0o600); err != nil {
		t.Fatal(err)
	}
	base, stopB := startServe(t, dirB)
	defer stopB()
	resp, err := webtest.Client.PostForm(base+"/office/login", url.Values{"username": {"anna"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, "meldestelle_session") && ck.Value != "" {
			session = ck
		}
	}
	if session == nil {
		t.Fatalf("login on the restored service: status %d, no session", resp.StatusCode)
	}
	_, list := webtest.GetAs(t, session, base+"/office/cases")
	ids := webtest.CaseIDs(list)
	if len(ids) != 1 {
		t.Fatalf("restored case list shows %d cases, want 1:\n%s", len(ids), list)
	}
	_, page := webtest.GetAs(t, session, base+"/office/cases/"+ids[0])
	if !strings.Contains(page, text) {
		t.Errorf("the restored case page does not show the report's text")
	}
}

// verify names each problem on a line of its own and exits non-zero: a
// damaged file, a file that is no database, a database from a newer
// version; restore refuses such a file and leaves the directory empty.
func TestBackupVerifyProblems(t *testing.T) {
	dir := statsData(t, 5)
	good := filepath.Join(t.TempDir(), "good.db")
	if code := run(t.Context(), []string{"backup", "-data", dir, good}, nil, &lockedBuffer{}, &lockedBuffer{}); code != 0 {
		t.Fatal("backup failed")
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(t.TempDir(), "damaged.db")
	bad := append([]byte{}, b...)
	for i := 8192; i < len(bad); i++ {
		bad[i] = 0x5a
	}
	if err := os.WriteFile(damaged, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(t.TempDir(), "notes.db")
	if err := os.WriteFile(text, []byte(strings.Repeat("Notizen ", 2000)), 0o600); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(t.TempDir(), "newer.db")
	if err := os.WriteFile(newer, b, 0o600); err != nil {
		t.Fatal(err)
	}
	raw := openRaw(t, newer)
	if _, err := raw.Exec(`INSERT INTO schema_migrations (name) VALUES ('migrations/9999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	for _, tc := range []struct{ file, want string }{
		{damaged, "problem: "},
		{text, "cannot be read as a Meldestelle database"},
		{newer, "newer than this binary (unknown migrations: migrations/9999_future.sql)"},
	} {
		var out, errOut lockedBuffer
		if code := run(t.Context(), []string{"backup", "verify", tc.file}, nil, &out, &errOut); code == 0 || !strings.Contains(out.String(), tc.want) || strings.Contains(out.String(), "\nok\n") {
			t.Errorf("verify %s: exit %d, output %q; want %q and a non-zero exit", filepath.Base(tc.file), code, out.String(), tc.want)
		}
		target := filepath.Join(t.TempDir(), "data")
		if code := run(t.Context(), []string{"restore", "-data", target, tc.file}, nil, &lockedBuffer{}, &lockedBuffer{}); code == 0 {
			t.Errorf("restore of %s succeeded", filepath.Base(tc.file))
		}
		if _, err := os.Stat(filepath.Join(target, "meldestelle.db")); err == nil {
			t.Errorf("restore of %s left a database", filepath.Base(tc.file))
		}
	}
}

// Every command that opens the database refuses one from a newer
// version, with the reason, and leaves it as it is.
func TestCommandsRefuseNewerDatabase(t *testing.T) {
	dir := statsData(t, 1)
	raw := openRaw(t, filepath.Join(dir, "meldestelle.db"))
	if _, err := raw.Exec(`INSERT INTO schema_migrations (name) VALUES ('migrations/9999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	for _, args := range [][]string{{"serve", "-data", dir, "-addr", "127.0.0.1:0"}, {"stats", "-data", dir}, {"backup", "-data", dir, filepath.Join(t.TempDir(), "b.db")},
		{"audit", "verify", "-data", dir}, {"retention", "-data", dir, "-dry-run"}} {
		var out, errOut lockedBuffer
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		code := run(ctx, args, strings.NewReader(""), &out, &errOut)
		cancel()
		if code == 0 || !strings.Contains(errOut.String(), "newer than this meldestelle") {
			t.Errorf("%v on a newer database: exit %d, %q", args, code, errOut.String())
		}
	}
}

// openRaw opens a database file past the storage package, to damage it.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
