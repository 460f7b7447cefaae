package storage_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/storage"
)

// Inspect reads a backup without changing a byte of it: the counts are
// the live database's at the time of the copy, the schema is current and
// the integrity check finds nothing.
func TestInspectBackup(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	team, _ := setUp(t, db)
	createReports(t, db, team.ID, "2026-05-04", 3)
	// The live database reads too, beside its open connections (what
	// `meldestelle check` does while the service runs).
	if live, err := storage.Inspect(t.Context(), db.Path()); err != nil || live.Reports != 3 || len(live.Problems) != 0 {
		t.Errorf("inspecting the live database: %+v, %v", live, err)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := db.Backup(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	in, err := storage.Inspect(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Problems) != 0 || in.Reports != 3 || in.Users != 1 || in.Teams != 1 {
		t.Errorf("inspection %+v, want no problems, 3 reports, 1 user, 1 team", in)
	}
	if len(in.Schema.Pending) != 0 || len(in.Schema.Unknown) != 0 || in.Schema.Applied != len(storage.Migrations()) {
		t.Errorf("schema %+v, want current", in.Schema)
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Error("inspecting the backup changed it")
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Error("inspecting the backup left a -wal file")
	}
}

// A damaged file is found: garbage in its pages is an integrity problem
// or an unreadable file, never a clean bill.
func TestInspectDamaged(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	team, _ := setUp(t, db)
	createReports(t, db, team.ID, "2026-05-04", 20)
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := db.Backup(t.Context(), path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Overwrite everything after the first two pages: the schema page
	// survives, the tables' pages do not.
	for i := 8192; i < len(b); i++ {
		b[i] = 0x5a
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := storage.Inspect(t.Context(), path)
	if err == nil && len(in.Problems) == 0 {
		t.Errorf("damaged file passed: %+v", in)
	}
	if err := os.WriteFile(path, []byte(strings.Repeat("kein SQLite ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if in, err := storage.Inspect(t.Context(), path); err == nil && len(in.Problems) == 0 {
		t.Errorf("a text file passed as a database: %+v", in)
	}
}

// A database that a newer version migrated is refused by Open before
// it is migrated, with a message that says what to do; Inspect
// still reads it and names the unknown migration.
func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := mustOpen(t, dir)
	if _, err := db.WriteConn().ExecContext(t.Context(), `INSERT INTO schema_migrations (name) VALUES ('migrations/9999_from_the_future.sql')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	path := filepath.Join(dir, storage.FileName)
	_, err := storage.Open(dir)
	if !errors.Is(err, storage.ErrNewerSchema) || !strings.Contains(err.Error(), "9999_from_the_future") || !strings.Contains(err.Error(), "Upgrading") {
		t.Fatalf("Open of a newer database: %v, want ErrNewerSchema naming the migration", err)
	}
	in, err := storage.Inspect(t.Context(), path)
	if err != nil || len(in.Schema.Unknown) != 1 || in.Schema.Unknown[0] != "migrations/9999_from_the_future.sql" {
		t.Errorf("inspection %+v, %v; want the unknown migration", in.Schema, err)
	}
}

// The write probe succeeds on an open database and fails on a closed one.
func TestReadyProbe(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	if err := db.Ready(t.Context()); err != nil {
		t.Fatalf("probe on an open database: %v", err)
	}
	db.Close()
	if err := db.Ready(t.Context()); err == nil {
		t.Error("probe on a closed database succeeded")
	}
}
