package main

import (
	"context"

	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/storage"
)

// waitFor polls cond for at most 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("gave up waiting for %s", what)
}

// The running schedule makes its first backup soon after the start when
// the newest one is older than the interval: a complete 0600 copy with
// the live database's reports, under a UTC-stamped name in a 0700
// directory. Only our own old backups are pruned, down to -backup-keep;
// a temporary file from a crashed backup goes, other files stay.
func TestScheduledBackup(t *testing.T) {
	data := statsData(t, 2)
	db, err := storage.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := filepath.Join(t.TempDir(), "backups")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"meldestelle-20261130T070000Z.db", "meldestelle-20261201T070000Z.db", "notes.txt", "meldestelle-latest.db", ".meldestelle-20261101T000000Z.db.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 1, 11, 30, 0, 0, time.FixedZone("CET", 3600)) // 10:30 UTC
	var logs lockedBuffer
	s := &backupSchedule{db: db, dir: dir, every: time.Hour, keep: 2, now: func() time.Time { return now },
		logger: slog.New(slog.NewTextHandler(&logs, nil)), firstDelay: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	want := filepath.Join(dir, "meldestelle-20261201T103000Z.db")
	waitFor(t, "the pruned backup directory", func() bool {
		_, err := os.Stat(filepath.Join(dir, "meldestelle-20261130T070000Z.db"))
		return os.IsNotExist(err)
	})
	cancel()
	<-done

	in, err := storage.Inspect(t.Context(), want)
	if err != nil || len(in.Problems) != 0 || in.Reports != 2 || in.Teams != 1 {
		t.Fatalf("the scheduled backup: %+v, %v; want a sound copy with 2 reports", in, err)
	}
	if fi, err := os.Stat(want); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("backup directory mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if wantNames := []string{"meldestelle-20261201T070000Z.db", "meldestelle-20261201T103000Z.db", "meldestelle-latest.db", "notes.txt"}; !slices.Equal(names, wantNames) {
		t.Errorf("backup directory holds %q, want %q", names, wantNames)
	}
	if !strings.Contains(logs.String(), "scheduled backup written") {
		t.Errorf("no log line for the backup:\n%s", logs.String())
	}
}

// A fresh backup is not repeated at a restart: the next one waits for the
// rest of its interval. Without any backup, the first comes soon.
func TestScheduledBackupWaitsForItsInterval(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	s := &backupSchedule{dir: dir, every: 24 * time.Hour, now: func() time.Time { return now }, firstDelay: time.Minute}
	if got := s.untilNext(); got != time.Minute {
		t.Errorf("no backup yet: first after %v, want 1m", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "meldestelle-20261201T083000Z.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := s.untilNext(); got != 22*time.Hour {
		t.Errorf("a backup of two hours ago: next after %v, want 22h", got)
	}
	now = now.Add(23 * time.Hour)
	if got := s.untilNext(); got != time.Minute {
		t.Errorf("a backup of 25 hours ago: next after %v, want 1m", got)
	}
}

// A backup that cannot be written is logged and does not stop the
// service: the schedule keeps running until it is stopped.
func TestScheduledBackupFailureIsLogged(t *testing.T) {
	db, err := storage.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	s := &backupSchedule{db: db, dir: notADir, every: time.Hour, keep: 2, now: time.Now,
		logger: slog.New(slog.NewTextHandler(&logs, nil)), firstDelay: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	waitFor(t, "the failure's log line", func() bool { return strings.Contains(logs.String(), "scheduled backup failed") })
	select {
	case <-done:
		t.Error("the schedule ended after a failure")
	default:
	}
	cancel()
	<-done
}
