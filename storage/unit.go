package storage

import (
	"context"
	"database/sql"
	"errors"
)

// conn is what a query needs, offered by *sql.DB and *sql.Tx alike.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// unitKey marks a context that runs inside a unit of work of one DB.
type unitKey struct{ db *DB }

// Atomically runs fn as one unit of work: every store call fn makes with
// the context it is given joins one write transaction, which commits when
// fn returns nil and rolls back otherwise. A service writes a change and
// its audit entry this way, so neither ever stands without the other. A
// unit of work inside another joins the outer one.
//
// fn holds the database's only write connection while it runs: it must do
// store calls and cheap checks only, never argon2id or other slow work,
// and never Checkpoint or Vacuum (they need that connection themselves).
func (db *DB) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	if db.unit(ctx) != nil {
		return fn(ctx)
	}
	var inner error
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		inner = fn(context.WithValue(ctx, unitKey{db}, tx))
		return inner
	})
	if err != nil && err == inner {
		// fn's own error (often a coded one for the user) leaves as it is.
		return err
	}
	return wrap("unit of work", err)
}

// joined runs a store method's transaction body inside the unit of work's
// transaction tx, under a savepoint: a method that fails leaves none of its
// own writes behind, even when the service goes on and commits the unit.
func joined(ctx context.Context, tx *sql.Tx, fn func(*sql.Tx) error) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT store_call`); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if _, rbErr := tx.ExecContext(context.WithoutCancel(ctx), `ROLLBACK TO store_call`); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		tx.ExecContext(context.WithoutCancel(ctx), `RELEASE store_call`)
		return err
	}
	_, err := tx.ExecContext(ctx, `RELEASE store_call`)
	return err
}

// unit returns the transaction of the unit of work ctx runs in, or nil.
func (db *DB) unit(ctx context.Context) *sql.Tx {
	tx, _ := ctx.Value(unitKey{db}).(*sql.Tx)
	return tx
}

// reader is where a query goes: the unit of work's transaction, so that it
// sees the unit's own changes, or else the read pool.
func (db *DB) reader(ctx context.Context) conn {
	if tx := db.unit(ctx); tx != nil {
		return tx
	}
	return db.read
}

// writer is where a single-statement change goes: the unit of work's
// transaction, or else the write connection (autocommit).
func (db *DB) writer(ctx context.Context) conn {
	if tx := db.unit(ctx); tx != nil {
		return tx
	}
	return db.write
}

// snapshot returns a consistent view for several queries: the unit of
// work's transaction, or a new read transaction. Call end when done.
func (db *DB) snapshot(ctx context.Context, opts *sql.TxOptions) (q conn, end func(), err error) {
	if tx := db.unit(ctx); tx != nil {
		return tx, func() {}, nil
	}
	tx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	return tx, func() { tx.Rollback() }, nil
}
