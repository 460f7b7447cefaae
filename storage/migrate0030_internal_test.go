package storage

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
)

// Migration 0030 on a database from before it: the report's language goes
// at once (the sealed content has it), the exact deadline becomes the
// Monday of its week, and the plain incident day stays only until a
// counsellor opens the case (the server holds no data key to seal it).
func TestMigration0030MovesOldRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	db := &DB{path: path}
	var err error
	if db.write, err = sql.Open("sqlite3", dsn(path, false)); err != nil {
		t.Fatal(err)
	}
	db.write.SetMaxOpenConns(1)
	defer db.write.Close()
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE schema_migrations (name TEXT PRIMARY KEY) STRICT`); err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	slices.Sort(names)
	const m30 = "migrations/0030_less_metadata.sql"
	for _, name := range names {
		if name >= m30 {
			break
		}
		if err := db.apply(ctx, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, q := range []string{
		`INSERT INTO teams (id, name, public_key, municipalities) VALUES (1, 'PLANB', x'00', '')`,
		`INSERT INTO reports (id, case_no, team_id, received_on, lookup_hash, kdf_params, sealed_key, reporter_key, content, status, language, incident_day, deadline)
		 VALUES ('a', '2026-0001', 1, '2026-11-20', x'01', '', x'00', x'00', x'00', 'triage', 'ar', 17, '2026-12-17')`,
		`INSERT INTO reports (id, case_no, team_id, received_on, lookup_hash, kdf_params, sealed_key, reporter_key, content, status, language)
		 VALUES ('b', '2026-0002', 1, '2026-11-21', x'02', '', x'00', x'00', x'00', 'new', 'tr')`,
	} {
		if _, err := db.write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.apply(ctx, m30); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]struct {
		day  sql.NullInt64
		week sql.NullString
	}{
		"a": {sql.NullInt64{Int64: 17, Valid: true}, sql.NullString{String: "2026-12-14", Valid: true}},
		"b": {},
	} {
		var language string
		var day sql.NullInt64
		var exact, week sql.NullString
		if err := db.write.QueryRowContext(ctx, `SELECT language, incident_day, deadline, deadline_week FROM reports WHERE id = ?`, id).
			Scan(&language, &day, &exact, &week); err != nil {
			t.Fatal(err)
		}
		if language != "" || exact.Valid || day != want.day || week != want.week {
			t.Errorf("report %s after 0030: language %q, deadline %v, incident_day %v, week %v; want '', NULL, %v, %v",
				id, language, exact, day, week, want.day, want.week)
		}
	}
}
