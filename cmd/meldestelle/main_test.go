package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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

// `meldestelle` with no command serves: on an empty database it prints
// the one-time setup link, the link opens the setup page, /healthz
// answers, and a cancelled context (SIGTERM) stops it cleanly.
func TestServePrintsSetupLink(t *testing.T) {
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
		done <- run(ctx, []string{"-addr", addr, "-data", t.TempDir()}, strings.NewReader(""), &lockedBuffer{}, &stderr)
	}()

	link := regexp.MustCompile(`open (http://` + regexp.QuoteMeta(addr) + `/office/setup\?token=[0-9a-f]{64}) `)
	var setupURL string
	for deadline := time.Now().Add(30 * time.Second); setupURL == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := link.FindStringSubmatch(stderr.String()); m != nil {
			setupURL = m[1]
		}
	}
	if setupURL == "" {
		cancel()
		t.Fatalf("no setup link printed:\n%s", stderr.String())
	}
	for _, u := range []string{setupURL, "http://" + addr + "/healthz"} {
		var resp *http.Response
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if resp, err = http.Get(u); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", u, resp.StatusCode)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited with %d after shutdown:\n%s", code, stderr.String())
	}
}
