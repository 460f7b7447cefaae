package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Backup writes a consistent copy of the database to path while the
// server keeps running. VACUUM INTO reads inside one transaction, so the
// copy is a snapshot of one moment even while reports arrive (WAL lets the
// writer go on). An existing file is never overwritten.
//
// The copy holds exactly what the live database holds: report content,
// notes and private keys only as ciphertexts, so it is as unreadable
// without a password or the recovery key as the original. It is still
// created with mode 0600: who reported when is nobody else's business.
func (db *DB) Backup(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	if _, err := os.Lstat(abs); err == nil {
		return fmt.Errorf("storage: backup %s: file exists, not overwritten", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return wrap("backup", err)
	}
	// Create the file ourselves (O_EXCL: a file appearing meanwhile is not
	// overwritten either) so that it never gets the umask's mode; VACUUM
	// INTO accepts an existing empty file.
	f, err := os.OpenFile(abs, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	f.Close()
	// A connection of its own: the read pool is query_only, which forbids
	// VACUUM INTO, and the one writer connection would hold up every
	// submission for the length of the copy. This one only reads the
	// live database (a WAL read transaction, beside the writer).
	bk, err := sql.Open("sqlite3", strings.Replace(dsn(db.path, true), "_query_only=on", "_query_only=off", 1))
	if err != nil {
		os.Remove(abs)
		return fmt.Errorf("storage: backup: %w", err)
	}
	defer bk.Close()
	if _, err := bk.ExecContext(ctx, `VACUUM INTO ?`, abs); err != nil {
		os.Remove(abs)
		return fmt.Errorf("storage: backup: %w", err)
	}
	return wrap("backup", os.Chmod(abs, 0o600))
}

// ErrNewerSchema is returned by Open for a database that a newer
// meldestelle has migrated: this binary does not know its tables, and
// writing to them could corrupt what the newer version keeps there.
var ErrNewerSchema = errors.New("storage: the database is newer than this meldestelle")

// Migrations returns the names of the migrations this binary knows, in
// the order they are applied.
func Migrations() []string {
	names, _ := fs.Glob(migrations, "migrations/*.sql") // the pattern is valid
	slices.Sort(names)
	return names
}

// SchemaState compares a database's applied migrations with the ones this
// binary knows.
type SchemaState struct {
	// Applied is how many migrations the database records.
	Applied int
	// Pending are known migrations not applied yet: the next Open applies
	// them (a database or backup from an older version).
	Pending []string
	// Unknown are applied migrations this binary does not know: the
	// database comes from a newer version (ErrNewerSchema).
	Unknown []string
}

// String says the state in a few words, for the commands' output.
func (s SchemaState) String() string {
	switch {
	case len(s.Unknown) > 0:
		return fmt.Sprintf("newer than this binary (unknown migrations: %s)", strings.Join(s.Unknown, ", "))
	case len(s.Pending) > 0:
		return fmt.Sprintf("%d migrations applied, %d pending (applied at the next start)", s.Applied, len(s.Pending))
	}
	return fmt.Sprintf("current (%d migrations)", s.Applied)
}

// queryer is what schemaState reads with: a *sql.DB or a *sql.Conn.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// schemaState reads schema_migrations; a database without the table has
// every migration pending.
func schemaState(ctx context.Context, q queryer) (SchemaState, error) {
	known := Migrations()
	var st SchemaState
	tables, err := q.QueryContext(ctx, `SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`)
	if err != nil {
		return st, fmt.Errorf("storage: schema version: %w", err)
	}
	exists := tables.Next()
	tables.Close()
	if !exists {
		st.Pending = known
		return st, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return st, fmt.Errorf("storage: schema version: %w", err)
	}
	defer rows.Close()
	applied := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return st, fmt.Errorf("storage: schema version: %w", err)
		}
		applied[name] = true
		if !slices.Contains(known, name) {
			st.Unknown = append(st.Unknown, name)
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("storage: schema version: %w", err)
	}
	st.Applied = len(applied)
	for _, name := range known {
		if !applied[name] {
			st.Pending = append(st.Pending, name)
		}
	}
	return st, nil
}

// refuseNewer stops Open before it changes anything in a database from a
// newer version: ensureIncremental and migrate would both write to it.
func (db *DB) refuseNewer(ctx context.Context) error {
	st, err := schemaState(ctx, db.write)
	if err != nil {
		return err
	}
	if len(st.Unknown) > 0 {
		return fmt.Errorf("%w: it records migrations this binary does not know (%s); run the version that wrote it or a newer one, or restore a backup made before that upgrade (README, section \"Upgrading\")",
			ErrNewerSchema, strings.Join(st.Unknown, ", "))
	}
	return nil
}

// Inspection is what Inspect found in a database file.
type Inspection struct {
	// Problems are the integrity check's findings and the tables that
	// could not be counted; none for a sound file.
	Problems []string
	Schema   SchemaState
	// The rows of the tables that make a deployment: a restore that
	// shows other numbers than the office expects is the wrong file.
	Reports, Users, Teams, AuditEntries int
	// NewestAudit is the time of the newest audit entry (zero: none).
	NewestAudit time.Time
}

// Inspect checks the database file at path without changing it: it is
// opened read-only and never migrated, so a backup stays byte for byte
// the file that was verified, and a database of a newer version is read,
// not refused. An error means the file could not be read at all (not a
// database, missing); findings inside a readable file are Problems.
func Inspect(ctx context.Context, path string) (Inspection, error) {
	var in Inspection
	if _, err := os.Stat(path); err != nil {
		return in, fmt.Errorf("storage: inspect: %w", err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_query_only", "on")
	q.Set("_busy_timeout", strconv.Itoa(busyTimeoutMS))
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	db, err := sql.Open("sqlite3", "file:"+escaped+"?"+q.Encode())
	if err != nil {
		return in, fmt.Errorf("storage: inspect: %w", err)
	}
	defer db.Close()
	// One connection: every query below sees the same file state.
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return in, fmt.Errorf("storage: inspect %s: %w", path, err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return in, fmt.Errorf("storage: inspect %s: %w", path, err)
		}
		if line != "ok" {
			in.Problems = append(in.Problems, "integrity: "+line)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return in, fmt.Errorf("storage: inspect %s: %w", path, err)
	}
	if in.Schema, err = schemaState(ctx, db); err != nil {
		return in, err
	}
	for _, c := range []struct {
		table string
		n     *int
	}{{"reports", &in.Reports}, {"users", &in.Users}, {"teams", &in.Teams}, {"audit", &in.AuditEntries}} {
		// The table names are the constants above, not input.
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+c.table).Scan(c.n); err != nil {
			in.Problems = append(in.Problems, fmt.Sprintf("table %s: %v", c.table, err))
		}
	}
	var at sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT max(at) FROM audit`).Scan(&at); err == nil && at.Valid {
		if t, err := time.Parse(time.RFC3339Nano, at.String); err == nil {
			in.NewestAudit = t
		}
	}
	return in, nil
}

// Ready proves that the database can be written now: it rewrites the
// header's user_version with its own value and commits, which reaches the
// disk like any commit (synchronous=FULL). A read-only file system, a full
// disk or a closed database fail it; no table and no data is touched.
func (db *DB) Ready(ctx context.Context) error {
	return wrap("write probe", db.inTx(ctx, func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
			return err
		}
		// PRAGMA takes no parameters; v is an integer SQLite gave us.
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v))
		return err
	}))
}
