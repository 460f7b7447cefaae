package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// The memory limit: auto follows the KDF concurrency, sizes in GOMEMLIMIT's
// notation and off are taken, GOMEMLIMIT wins, and anything else is an
// error that names the flag and the variable.
func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		value, gomemlimit string
		n                 int
		want              int64
		how               string
	}{
		{"auto", "", 2, 2*64<<20 + vault.MemoryHeadroom, "160MiB (auto: 2 argon2id slots of 64MiB + 32MiB headroom)"},
		{"", "", 4, 4*64<<20 + vault.MemoryHeadroom, "auto: 4 argon2id slots"},
		{"auto", "", 0, vault.MemoryLimit(runtime.NumCPU(), vault.DefaultParams), "auto"},
		{"256MiB", "", 2, 256 << 20, "256MiB"},
		{"1GiB", "", 2, 1 << 30, "1024MiB"},
		{"536870912", "", 2, 512 << 20, "512MiB"},
		{"OFF", "", 2, 0, "off"},
		{"256MiB", "300MiB", 2, 0, "GOMEMLIMIT=300MiB"},
		{"auto", "300MiB", 2, 0, "GOMEMLIMIT=300MiB"},
	} {
		got, how, err := memoryLimit(tc.value, tc.gomemlimit, tc.n)
		if err != nil || got != tc.want || !strings.Contains(how, tc.how) {
			t.Errorf("memoryLimit(%q, GOMEMLIMIT=%q, n=%d) = %d, %q, %v; want %d, %q", tc.value, tc.gomemlimit, tc.n, got, how, err, tc.want, tc.how)
		}
	}
	for _, bad := range []string{"lots", "256MB", "256 MiB", "-1GiB", "1.5GiB", "9999999999TiB", "1MiB", "0"} {
		if _, _, err := memoryLimit(bad, "", 2); err == nil || !strings.Contains(err.Error(), "-memory-limit / MELDESTELLE_MEMORY_LIMIT") {
			t.Errorf("memoryLimit(%q): err = %v, want one naming the flag and variable", bad, err)
		}
	}
}

// A bad -memory-limit, MELDESTELLE_MEMORY_LIMIT, -kdf-concurrency or
// MELDESTELLE_KDF_CONCURRENCY stops the start with a message naming it,
// before anything is opened; before, a bad KDF variable silently meant
// "one per CPU".
func TestBadLimitsStopTheStart(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		args      []string
		wantInErr string
	}{
		{"flag memory", nil, []string{"-memory-limit", "viel"}, "-memory-limit"},
		{"env memory", map[string]string{"MELDESTELLE_MEMORY_LIMIT": "12 parsecs"}, nil, "MELDESTELLE_MEMORY_LIMIT"},
		{"env kdf", map[string]string{"MELDESTELLE_KDF_CONCURRENCY": "two"}, nil, "MELDESTELLE_KDF_CONCURRENCY"},
		{"env kdf negative", map[string]string{"MELDESTELLE_KDF_CONCURRENCY": "-3"}, nil, "MELDESTELLE_KDF_CONCURRENCY"},
		{"flag kdf negative", nil, []string{"-kdf-concurrency", "-1"}, "-kdf-concurrency"},
		{"setup, env kdf", map[string]string{"MELDESTELLE_KDF_CONCURRENCY": "2x"}, []string{"setup", "-admin", "anna", "-password-stdin"}, "MELDESTELLE_KDF_CONCURRENCY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			data := filepath.Join(t.TempDir(), "data")
			args := append(tc.args, "-data", data)
			if len(tc.args) == 0 || tc.args[0] != "setup" {
				args = append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)
			}
			// A safety net only: a start that is not stopped would serve
			// until the context ends.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			var stderr lockedBuffer
			code := run(ctx, args, strings.NewReader("ein langes geheimes Passwort\n"), &lockedBuffer{}, &stderr)
			if code == 0 || !strings.Contains(stderr.String(), tc.wantInErr) {
				t.Errorf("exit %d, stderr %q; want a failure naming %s", code, stderr.String(), tc.wantInErr)
			}
			if _, err := os.Stat(data); err == nil {
				t.Error("the data directory was created although the configuration was refused")
			}
		})
	}
}

// serve logs the memory limit it chose, and the public requests' lines it
// held back reach the log when it stops, stamped with the hour only.
func TestServeFlushesHourStampedLinesOnStop(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("MELDESTELLE_KDF_CONCURRENCY", "1")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", addr, "-data", t.TempDir()}, strings.NewReader(""), &lockedBuffer{}, &stderr)
	}()
	var resp *http.Response
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err = http.Get("http://" + addr + "/de/"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if strings.Contains(stderr.String(), "route=/:lang/") {
		t.Errorf("the public request was logged while the hour lasts:\n%s", stderr.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited with %d:\n%s", code, stderr.String())
	}
	logs := stderr.String()
	if want := fmt.Sprintf(`msg="memory limit" limit="%dMiB (auto: 1 argon2id slots`, (64<<20+vault.MemoryHeadroom)>>20); !strings.Contains(logs, want) {
		t.Errorf("no memory limit line for one KDF slot:\n%s", logs)
	}
	line := regexp.MustCompile(`(?m)^time=(\S+) .*route=/:lang/ status=200.*$`).FindStringSubmatch(logs)
	if line == nil {
		t.Fatalf("the public request's line is missing after the stop:\n%s", logs)
	}
	if ts, err := time.Parse(time.RFC3339Nano, line[1]); err != nil || !ts.Equal(ts.Truncate(time.Hour)) {
		t.Errorf("public line stamped finer than the hour: %q", line[0])
	}
}
