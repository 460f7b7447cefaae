package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer collects a command's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var recoveryKey = regexp.MustCompile(`(?m)^  [A-Z2-7]{4}(-[A-Z2-7]{1,4}){12}$`)

// `meldestelle setup -admin NAME -password-stdin` creates the first admin
// once and prints the recovery key; a short password or a second run are
// refused with a reason and a non-zero exit.
func TestSetupCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	setup := func(password string) (int, string, string) {
		var out, errOut lockedBuffer
		code := run(t.Context(), []string{"setup", "-data", dir, "-admin", "anna", "-password-stdin"}, strings.NewReader(password+"\n"), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, _, stderr := setup("kurz"); code == 0 || !strings.Contains(stderr, "password") {
		t.Errorf("short password: exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr := setup("ein langes geheimes Passwort")
	if code != 0 || !recoveryKey.MatchString(stdout) {
		t.Fatalf("setup: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := setup("ein anderes langes Passwort"); code == 0 || !strings.Contains(stderr, "already set up") {
		t.Errorf("second setup: exit %d, stderr %q", code, stderr)
	}
	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v, mode %v, want 0700", err, info.Mode().Perm())
	}
}

// setupLinkIn returns the path of the setup link a server printed on
// stderr, "" if none.
func setupLinkIn(base, stderr string) string {
	link := regexp.MustCompile(`open ` + regexp.QuoteMeta(base) + `(/office/setup\?token=[0-9a-f]{64}) `)
	if m := link.FindStringSubmatch(stderr); m != nil {
		return m[1]
	}
	return ""
}

// status returns the status of GET url.
func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// `meldestelle` with no command serves: on an empty database it prints
// the one-time setup link, the link opens the setup page, and a cancelled
// context (SIGTERM) stops it cleanly (startServe). A restart before setup
// prints the same link (an operator must not hunt for a new one); after
// setup no link is printed and the old one is dead.
func TestServePrintsSetupLink(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	base, stop := startServe(t, dir)
	// The link is printed before the server listens, so it is there now.
	stderr := stop()
	link := setupLinkIn(base, stderr)
	if link == "" {
		t.Fatalf("no setup link printed:\n%s", stderr)
	}

	base, stop = startServe(t, dir)
	if code := status(t, base+link); code != http.StatusOK {
		t.Errorf("GET %s after a restart: status %d", link, code)
	}
	if again := setupLinkIn(base, stop()); again != link {
		t.Errorf("after a restart the setup link is %q, want the same %q", again, link)
	}

	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"setup", "-data", dir, "-admin", "anna", "-password-stdin"}, strings.NewReader("ein langes geheimes Passwort\n"), &out, &errOut); code != 0 {
		t.Fatalf("setup: exit %d, stderr %q", code, errOut.String())
	}
	base, stop = startServe(t, dir)
	if code := status(t, base+link); code == http.StatusOK {
		t.Errorf("GET %s after setup: status %d, want the link dead", link, code)
	}
	if again := setupLinkIn(base, stop()); again != "" {
		t.Errorf("after setup a start printed a setup link: %q", again)
	}
}
