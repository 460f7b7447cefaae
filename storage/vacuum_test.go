package storage_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/storage"
)

// dbSize is the size of the database file and its -wal after a
// checkpoint that empties the -wal.
func dbSize(t *testing.T, db *storage.DB) int64 {
	t.Helper()
	if err := db.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, p := range []string{db.Path(), db.Path() + "-wal"} {
		fi, err := os.Stat(p)
		if err == nil {
			n += fi.Size()
		} else if !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	return n
}

// autoVacuum reads the database's auto_vacuum mode (2 is INCREMENTAL).
func autoVacuum(t *testing.T, conn *sql.DB) int {
	t.Helper()
	var mode int
	if err := conn.QueryRowContext(t.Context(), `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	return mode
}

// putFile stores a complete attachment of about n bytes in 64 KiB chunks.
func putFile(t *testing.T, db *storage.DB, id, reportID string, n int) {
	t.Helper()
	ctx := t.Context()
	if err := db.CreateAttachment(ctx, reporting.StoredAttachment{ID: id, ReportID: reportID, WrappedKey: randomBytes(73)}); err != nil {
		t.Fatal(err)
	}
	var chunks [][]byte
	for range n / (64 << 10) {
		chunks = append(chunks, randomBytes(64<<10))
	}
	for i := 0; i < len(chunks); i += 16 {
		if err := db.PutAttachmentChunks(ctx, id, uint64(i), chunks[i:min(i+16, len(chunks))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.FinishAttachment(ctx, id, randomBytes(60)); err != nil {
		t.Fatal(err)
	}
}

// The space of discarded files, of a withdrawn report and of a retention
// sweep goes back to the file system: the database (with its -wal
// checkpointed) shrinks back to about its size before the files.
func TestDeletedFilesGiveSpaceBack(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	if got := autoVacuum(t, db.WriteConn()); got != 2 {
		t.Fatalf("new database: auto_vacuum = %d, want 2 (incremental)", got)
	}
	team, _ := setUp(t, db)
	keep := newReport(team.ID, "2026-05-20")
	if err := db.CreateReport(ctx, keep); err != nil {
		t.Fatal(err)
	}
	putFile(t, db, "kept", keep.ID, 256<<10) // a file that stays, after the ones deleted
	const big = 8 << 20
	// A little slack for the pages the rows of reports and audit entries
	// take; the files themselves are 8 MiB each.
	const slack = 256 << 10

	steps := []struct {
		name   string
		delete func(t *testing.T, reportID string)
	}{
		{"discard", func(t *testing.T, _ string) {
			if err := db.DeleteAttachments(ctx, []string{"big-discard"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"withdraw", func(t *testing.T, reportID string) {
			if err := db.WithdrawReport(ctx, reportID); err != nil {
				t.Fatal(err)
			}
		}},
		{"retention", func(t *testing.T, reportID string) {
			if err := db.DeleteReportContents(ctx, []string{reportID}, "2026-06-01", nil); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := newReport(team.ID, "2026-05-21")
			if err := db.CreateReport(ctx, r); err != nil {
				t.Fatal(err)
			}
			before := dbSize(t, db)
			putFile(t, db, "big-"+st.name, r.ID, big)
			putFile(t, db, "after-"+st.name, keep.ID, 64<<10) // pages behind the big file
			grown := dbSize(t, db)
			if grown < before+big {
				t.Fatalf("the file did not grow the database: %d → %d", before, grown)
			}
			st.delete(t, r.ID)
			after := dbSize(t, db)
			if after > before+slack {
				t.Errorf("after %s the database is %d bytes, was %d before the %d-byte file (%d at its largest)", st.name, after, before, big, grown)
			}
		})
	}
	if list, err := db.Attachments(ctx, keep.ID); err != nil || len(list) != 4 {
		t.Errorf("the kept report lists %d files (%v), want 4", len(list), err)
	}
}

// A database made before auto_vacuum was set (every page kept forever)
// is switched to incremental at Open, with its rows intact.
func TestOpenSwitchesOldDatabaseToIncremental(t *testing.T) {
	dir := t.TempDir()
	old, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, storage.FileName)+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE kept_from_before (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
		INSERT INTO kept_from_before VALUES ('left', 'from before')`); err != nil {
		t.Fatal(err)
	}
	if got := autoVacuum(t, old); got != 0 {
		t.Fatalf("the old database has auto_vacuum = %d, want 0", got)
	}
	old.Close()
	db := mustOpen(t, dir)
	if got := autoVacuum(t, db.WriteConn()); got != 2 {
		t.Errorf("after Open: auto_vacuum = %d, want 2", got)
	}
	var v string
	if err := db.ReadConn().QueryRow(`SELECT value FROM kept_from_before WHERE key = 'left'`).Scan(&v); err != nil || v != "from before" {
		t.Errorf("the old row: %q, %v", v, err)
	}
}
