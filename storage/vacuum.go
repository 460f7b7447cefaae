package storage

import (
	"context"
	"fmt"
)

// Space given back. SQLite keeps the pages of deleted rows in the file
// for reuse; the file never shrinks by itself. An upload refused after it
// was stored, a withdrawn report or a retention sweep would leave the
// file at its largest, and a flood of uploads would fill the disk for
// good. With auto_vacuum=INCREMENTAL (set in the writer's DSN; an
// existing database is converted once at Open) every deletion of
// attachments is followed by an incremental vacuum, which moves the free
// pages to the end of the file and cuts them off. Right after the
// deletion, not on a timer: the request that freed the space pays for
// giving it back, and no flood can run ahead of a sweep.

// autoVacuumIncremental is PRAGMA auto_vacuum's value for INCREMENTAL.
const autoVacuumIncremental = 2

// ensureIncremental switches a database made without auto_vacuum to
// INCREMENTAL. The mode of a database that has tables changes only with
// a VACUUM, which rewrites the whole file (it needs free disk space of
// the file's size for a moment) and cannot run inside a transaction, so
// not in a migration: it runs once here, before the migrations, on the
// one writer connection while nothing else uses the database.
func (db *DB) ensureIncremental(ctx context.Context) error {
	var mode int
	if err := db.write.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return fmt.Errorf("storage: auto_vacuum: %w", err)
	}
	if mode == autoVacuumIncremental {
		return nil
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		return fmt.Errorf("storage: auto_vacuum: %w", err)
	}
	if _, err := db.write.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("storage: vacuum to incremental: %w", err)
	}
	return nil
}

// giveBack returns the database's free pages to the file system. It is
// called after a deletion has committed; a failure leaves the pages on
// the free list, where later writes reuse them and the next call returns
// them, so it is not the deletion's failure and is not reported as one.
func (db *DB) giveBack(ctx context.Context) {
	// The pragma yields one row per page it frees and frees the next one
	// only when asked for the next row: Exec would free a single page.
	rows, err := db.write.QueryContext(context.WithoutCancel(ctx), `PRAGMA incremental_vacuum`)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
	}
}
