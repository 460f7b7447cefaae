package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// The statements of a login counter, by bucket: the account's shared
// counter lives in users, a known device's in login_devices. Both sets are
// constants, so every statement stays a prepared one with parameters. The
// shared statements take the device too ("? = 0") so that both sets take
// the same arguments, (user, device).
var (
	sharedCounter = counterSQL{
		lock:  `SELECT locked_until FROM users WHERE id = ? AND ? = 0`,
		count: `UPDATE users SET failed_count = failed_count + 1 WHERE id = ? AND ? = 0 RETURNING failed_count`,
		set:   `UPDATE users SET locked_until = max(locked_until, ?) WHERE id = ? AND ? = 0`,
		state: `SELECT failed_count, locked_until FROM users WHERE id = ? AND ? = 0`,
		clear: `UPDATE users SET failed_count = 0, locked_until = 0 WHERE id = ? AND ? = 0`,
	}
	deviceCounter = counterSQL{
		lock:  `SELECT locked_until FROM login_devices WHERE user_id = ? AND id = ?`,
		count: `UPDATE login_devices SET failed_count = failed_count + 1 WHERE user_id = ? AND id = ? RETURNING failed_count`,
		set:   `UPDATE login_devices SET locked_until = max(locked_until, ?) WHERE user_id = ? AND id = ?`,
		state: `SELECT failed_count, locked_until FROM login_devices WHERE user_id = ? AND id = ?`,
		clear: `UPDATE login_devices SET failed_count = 0, locked_until = 0, last_used = ? WHERE user_id = ? AND id = ?`,
	}
)

type counterSQL struct{ lock, count, set, state, clear string }

func counterOf(b reporting.LoginBucket) counterSQL {
	if b.Device == 0 {
		return sharedCounter
	}
	return deviceCounter
}

// LoginState returns the failed logins and lock of one counter.
func (db *DB) LoginState(ctx context.Context, b reporting.LoginBucket) (reporting.LoginState, error) {
	var st reporting.LoginState
	var until int64
	err := db.reader(ctx).QueryRowContext(ctx, counterOf(b).state, b.UserID, b.Device).Scan(&st.Failures, &until)
	if until > 0 {
		st.LockedUntil = time.Unix(until, 0)
	}
	if err != nil {
		return st, wrap("login state", notFound(err, "error.not_found"))
	}
	return st, nil
}

// ReserveLoginAttempt checks the counter's lock and, if it has passed,
// counts the attempt as a failure in advance and sets the lock for the
// new count, all in one write transaction. The single writer connection
// serialises the transactions, so however many attempts arrive at once,
// each sees the count of the ones before it: no more than the free ones
// pass before the lock is set.
func (db *DB) ReserveLoginAttempt(ctx context.Context, b reporting.LoginBucket, now time.Time, lock func(failures int) time.Time) (bool, error) {
	q := counterOf(b)
	allowed := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var until int64
		if err := tx.QueryRowContext(ctx, q.lock, b.UserID, b.Device).Scan(&until); err != nil {
			return notFound(err, "error.not_found")
		}
		if now.Before(time.Unix(until, 0)) {
			return nil
		}
		var n int
		if err := tx.QueryRowContext(ctx, q.count, b.UserID, b.Device).Scan(&n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, q.set, ceilUnix(lock(n)), b.UserID, b.Device); err != nil {
			return err
		}
		allowed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("storage: reserve login attempt: %w", err)
	}
	return allowed, nil
}

// ClearLoginFailures resets one counter after a successful login; a
// device's counter also records now as its last use.
func (db *DB) ClearLoginFailures(ctx context.Context, b reporting.LoginBucket, now time.Time) error {
	var err error
	if b.Device == 0 {
		_, err = db.writer(ctx).ExecContext(ctx, sharedCounter.clear, b.UserID, b.Device)
	} else {
		_, err = db.writer(ctx).ExecContext(ctx, deviceCounter.clear, now.Unix(), b.UserID, b.Device)
	}
	return wrap("clear login failures", err)
}

// LoginDevice finds a known device by its token's hash.
func (db *DB) LoginDevice(ctx context.Context, tokenHash []byte) (reporting.LoginDevice, error) {
	var d reporting.LoginDevice
	var created, used int64
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT id, user_id, token_hash, created, last_used FROM login_devices WHERE token_hash = ?`, tokenHash).
		Scan(&d.ID, &d.UserID, &d.TokenHash, &created, &used)
	if err != nil {
		return d, wrap("login device", notFound(err, "error.not_found"))
	}
	d.Created, d.LastUsed = time.Unix(created, 0), time.Unix(used, 0)
	return d, nil
}

// AddLoginDevice stores a new known device and, in the same transaction,
// forgets every device unused since expireBefore and the user's devices
// beyond the keep most recently used, so the table cannot grow without
// bound however often someone logs in from fresh browsers.
func (db *DB) AddLoginDevice(ctx context.Context, d reporting.LoginDevice, keep int, expireBefore time.Time) (int64, error) {
	var id int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO login_devices (user_id, token_hash, created, last_used) VALUES (?, ?, ?, ?)`,
			d.UserID, d.TokenHash, d.Created.Unix(), d.LastUsed.Unix())
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_devices WHERE last_used < ?`, expireBefore.Unix()); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM login_devices WHERE user_id = ? AND id NOT IN
			(SELECT id FROM login_devices WHERE user_id = ? ORDER BY last_used DESC, id DESC LIMIT ?)`, d.UserID, d.UserID, keep)
		return err
	})
	return id, wrap("add login device", err)
}

// UnlockLogin clears the shared counter and every device counter of a
// user and appends the audit entry, in one transaction: an unlock is never
// without its entry. ENotFound if there is no such user.
func (db *DB) UnlockLogin(ctx context.Context, userID int64, e *reporting.AuditEntry) error {
	return db.change(ctx, "unlock login", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET failed_count = 0, locked_until = 0 WHERE id = ?`, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return reporting.Errorf(reporting.ENotFound, "error.not_found")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE login_devices SET failed_count = 0, locked_until = 0 WHERE user_id = ?`, userID); err != nil {
			return err
		}
		return db.appendAuditTx(ctx, tx, e)
	})
}
