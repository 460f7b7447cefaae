package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// busyTimeoutMS is how long a statement waits for a lock held by another
// connection before it fails (the DSN's _busy_timeout).
const busyTimeoutMS = 5000

// CheckpointPatience bounds how long Checkpoint keeps trying to empty the
// -wal file while readers hold it.
const CheckpointPatience = 5 * time.Second

// checkpointBusyMS is the busy wait of one checkpoint attempt. Short: with
// the connection's 5 s each attempt would hold the one writer connection,
// and every report waiting to be stored, for as long as a reader lingers;
// between short attempts the other writes go ahead.
const checkpointBusyMS = 100

// ErrWALNotTruncated is returned by Checkpoint when readers kept the -wal
// file from being emptied for CheckpointPatience: deleted bytes may still
// be in it until the next checkpoint.
var ErrWALNotTruncated = errors.New("storage: the -wal file could not be emptied")

// SetLogger sets where the database reports what it cannot return to a
// caller (a withdrawal whose -wal could not be emptied). Without it such
// lines are dropped.
func (db *DB) SetLogger(l *slog.Logger) {
	if l != nil {
		db.logger = l
	}
}

// Checkpoint copies the WAL into the database file and truncates it, so
// that deleted bytes leave the -wal file too. A reader whose snapshot
// still needs the old frames makes SQLite report the checkpoint busy and
// leave the -wal as it is (the ciphertext of a just-withdrawn report
// included), so the result is checked and the checkpoint retried with a
// growing pause, for at most CheckpointPatience; then ErrWALNotTruncated.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.unit(ctx) != nil {
		// A checkpoint needs the one write connection, which the unit of
		// work holds until it ends: it would wait forever.
		return errors.New("storage: checkpoint: cannot run inside a unit of work")
	}
	deadline := time.Now().Add(db.checkpointPatience)
	pause := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		busy, logFrames, moved, err := db.checkpointOnce(ctx)
		if err != nil {
			return fmt.Errorf("storage: checkpoint: %w", err)
		}
		if db.checkpointed != nil {
			db.checkpointed(busy, logFrames, moved)
		}
		// TRUNCATE succeeded: nothing blocked it and every frame is back in
		// the database file (the -wal is then empty: 0 and 0).
		if busy == 0 && logFrames == moved {
			return nil
		}
		if time.Now().Add(pause).After(deadline) {
			return fmt.Errorf("storage: checkpoint: %d attempts, %d of %d frames moved: %w", attempt, moved, logFrames, ErrWALNotTruncated)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("storage: checkpoint: %w", ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// checkpointOnce runs one TRUNCATE checkpoint on the writer connection with
// a short busy wait and returns SQLite's three result columns.
func (db *DB) checkpointOnce(ctx context.Context) (busy, logFrames, moved int, err error) {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", checkpointBusyMS)); err != nil {
		return 0, 0, 0, err
	}
	err = conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &moved)
	// Back to the normal wait even if ctx has ended: the connection goes
	// back to the pool and serves the next writer.
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeoutMS)); rerr != nil {
		return 0, 0, 0, errors.Join(err, rerr)
	}
	return busy, logFrames, moved, err
}
