package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
