package storage_test

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/storage"
)

// heldReader opens a second connection to the file, as another process
// (a backup, a sqlite3 shell) would, and starts a read transaction whose
// snapshot still needs the report's pages; end finishes it.
func heldReader(t *testing.T, dir, reportID string) (end func()) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, storage.FileName)+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	tx, err := conn.BeginTx(t.Context(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var content []byte
	if err := tx.QueryRow(`SELECT content FROM reports WHERE id = ?`, reportID).Scan(&content); err != nil {
		t.Fatalf("reader: %v", err)
	}
	return func() { tx.Rollback() }
}

// filesHold reports which of the database's files hold b.
func filesHold(t *testing.T, dir string, b []byte) []string {
	t.Helper()
	var found []string
	for _, name := range []string{storage.FileName, storage.FileName + "-wal"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, b) {
			found = append(found, name)
		}
	}
	return found
}

// A read open during a withdrawal keeps SQLite from emptying the -wal,
// which then still holds the report's ciphertext. The checkpoint's result
// is checked and retried: once the read ends, a retry empties the -wal and
// not one byte of the ciphertext is left in either file.
func TestWithdrawCheckpointOutlastsReader(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	team, _ := setUp(t, db)
	r := newReport(team.ID, "2026-11-24")
	ctx := t.Context()
	if err := db.CreateReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	secret := r.Content[:32]
	if len(filesHold(t, dir, secret)) == 0 {
		t.Fatal("setup: the ciphertext is in neither file")
	}

	end := heldReader(t, dir, r.ID)
	busy := 0
	db.OnCheckpoint(func(b, logFrames, moved int) {
		if b != 0 || logFrames != moved {
			busy++
			// What the reader saw is gone from the -wal only once it
			// ends: here, after the first attempt it blocked.
			if held := filesHold(t, dir, secret); len(held) == 0 {
				t.Error("the blocked checkpoint already removed the ciphertext; the reader did not block it")
			}
			end()
		}
	})
	if err := db.WithdrawReport(ctx, r.ID); err != nil {
		t.Fatalf("WithdrawReport: %v", err)
	}
	if busy == 0 {
		t.Fatal("no checkpoint attempt was blocked: the test's reader did not hold the -wal")
	}
	if held := filesHold(t, dir, secret); len(held) != 0 {
		t.Errorf("after the withdrawal the ciphertext is still in %v", held)
	}
	if fi, err := os.Stat(filepath.Join(dir, storage.FileName+"-wal")); err == nil && fi.Size() != 0 {
		t.Errorf("-wal is %d bytes after the retried checkpoint, want 0", fi.Size())
	}
}

// A reader that never lets go makes Checkpoint give up after its
// patience with ErrWALNotTruncated, instead of waiting for ever or saying
// nothing; the withdrawal itself still stands.
func TestCheckpointGivesUpOnStuckReader(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	team, _ := setUp(t, db)
	r := newReport(team.ID, "2026-11-24")
	ctx := t.Context()
	if err := db.CreateReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	end := heldReader(t, dir, r.ID)
	defer end()
	db.SetCheckpointPatience(2 * time.Second) // generous: one attempt can take 300 ms on a loaded machine
	attempts := 0
	db.OnCheckpoint(func(int, int, int) { attempts++ })
	if err := db.WithdrawReport(ctx, r.ID); err != nil {
		t.Fatalf("WithdrawReport with a stuck reader: %v; the report is deleted, the reporter must hear so", err)
	}
	attempts = 0
	err := db.Checkpoint(ctx)
	if !errors.Is(err, storage.ErrWALNotTruncated) {
		t.Fatalf("Checkpoint with a stuck reader = %v, want ErrWALNotTruncated", err)
	}
	if attempts < 2 {
		t.Errorf("Checkpoint tried %d times, want retries", attempts)
	}
	if _, err := db.Report(ctx, r.ID); err == nil {
		t.Error("the withdrawn report is back")
	}
}
