// Package storage keeps Meldestelle's data in one SQLite file (through
// mattn/go-sqlite3) and implements the store interfaces of package
// reporting.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "meldestelle.db"

// DB is an open Meldestelle database.
type DB struct {
	// write has exactly one connection. SQLite allows one writer at a time;
	// with one connection Go's pool queues writers in the process instead
	// of letting them collide in SQLite, so "database is locked" never
	// reaches a user however many reports arrive at once.
	write *sql.DB
	// read is a pool for queries; WAL lets them run beside the writer.
	read *sql.DB
	path string
	// logger hears what cannot be returned to the caller: a withdrawal
	// whose deleted bytes stay in the -wal for now (checkpoint.go).
	logger *slog.Logger
	// checkpointPatience bounds Checkpoint's retries (checkpoint.go).
	checkpointPatience time.Duration
	// checkpointed, if set, sees each checkpoint attempt's result (tests).
	checkpointed func(busy, logFrames, moved int)
	// auditKey keys the audit chain's HMACs (SetAuditKey); nil: the
	// unkeyed chain of a deployment that has not adopted a secret yet.
	auditKey *vault.MACKey
}

// Open opens (creating if needed) the database in dir and applies any
// migrations not applied yet. dir is created with mode 0700 and the file
// with 0600: the content is encrypted, but who reported when is still
// nobody else's business.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: create data directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil { // also a directory made earlier by hand
		return nil, fmt.Errorf("storage: restrict data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// Create the file ourselves so SQLite never creates it with the umask's
	// mode; SQLite gives the -wal and -shm files the main file's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("storage: create database file: %w", err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("storage: restrict database file: %w", err)
	}

	db := &DB{path: path, logger: slog.New(slog.DiscardHandler), checkpointPatience: CheckpointPatience}
	if db.write, err = sql.Open("sqlite3", dsn(path, false)); err != nil {
		return nil, fmt.Errorf("storage: open: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	if db.read, err = sql.Open("sqlite3", dsn(path, true)); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("storage: open: %w", err)
	}
	db.read.SetMaxOpenConns(max(4, runtime.NumCPU()))
	if err := db.refuseNewer(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	// ensureIncremental and migrate name their step ("storage: migration
	// 0009_….sql: …") already.
	if err := db.ensureIncremental(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// dsn builds the connection string. WAL lets readers run beside the one
// writer; synchronous=FULL makes a commit survive power loss, so a receipt
// is only shown for a report that is on disk; the writer's immediate
// transactions take the write lock at BEGIN, so a transaction never fails
// half-way on a lock; secure_delete overwrites deleted content instead of leaving it in
// free pages.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_busy_timeout", strconv.Itoa(busyTimeoutMS))
	q.Set("_foreign_keys", "on")
	q.Set("_secure_delete", "on")
	if readOnly {
		// Readers begin deferred transactions: they never take the write lock.
		q.Set("_query_only", "on")
	} else {
		q.Set("_txlock", "immediate")
		// Freed pages can be given back to the file system (vacuum.go).
		// Set on the writer, which creates the tables of a new file.
		q.Set("_auto_vacuum", "incremental")
	}
	// SQLite reads the DSN as a URI: a '#', '?' or '%' in the directory name
	// would otherwise silently open another file, outside the 0700 dir.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?" + q.Encode()
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes the database.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// migrate applies the embedded migrations that are not yet recorded, each
// in its own transaction together with its record, in file-name order.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY) STRICT`); err != nil {
		return fmt.Errorf("storage: migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("storage: migrations: %w", err)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := db.apply(ctx, name); err != nil {
			return fmt.Errorf("storage: migration %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) apply(ctx context.Context, name string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil || n > 0 {
			return err
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (name) VALUES (?)`, name)
		return err
	})
}

// change runs fn in a write transaction like inTx, and names op in the
// error it returns: the exported methods that change data say which change
// failed, so a log line is more than a bare driver error.
func (db *DB) change(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	return wrap(op, db.inTx(ctx, fn))
}

// wrap names the operation in an error that leaves the package, and keeps
// nil as nil, so it can wrap a result that is usually no error at all
// (rows.Err(), a transaction's outcome). A coded error (reporting.Errorf)
// is wrapped with %w, so reporting.ErrorCode and MessageID still find its
// code and message ID.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("storage: %s: %w", op, err)
}

// inTx runs fn in a write transaction, committing if it returns nil.
// Inside a unit of work (Atomically) fn runs in the unit's transaction,
// which commits or rolls back as a whole (joined).
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if tx := db.unit(ctx); tx != nil {
		return joined(ctx, tx, fn)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}

// notFound turns sql.ErrNoRows, and only that, into a coded not-found
// error; any other error (a driver or disk error) stays an internal error,
// so a broken database is never shown to a user as "no such thing".
func notFound(err error, messageID string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return reporting.Errorf(reporting.ENotFound, messageID)
	}
	return err
}

func joinCodes(codes []string) string { return strings.Join(codes, ",") }

func splitCodes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
