package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// TOTP returns a user's second factor: the sealed secret (nil when off),
// the last accepted time step and how many recovery codes are left.
func (db *DB) TOTP(ctx context.Context, userID int64) (reporting.TOTPState, error) {
	var st reporting.TOTPState
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT totp_secret_sealed, totp_last_step,
		(SELECT count(*) FROM totp_recovery_codes WHERE user_id = users.id)
		FROM users WHERE id = ?`, userID).Scan(&st.Sealed, &st.LastStep, &st.RecoveryCodes)
	return st, wrap("totp", notFound(err, "error.not_found"))
}

// EnableTOTP stores a sealed secret, marks the confirming code's step as
// used and replaces the recovery codes, in one transaction.
func (db *DB) EnableTOTP(ctx context.Context, userID int64, sealed []byte, step int64, recoveryHashes [][]byte) error {
	return db.change(ctx, "enable totp", func(tx *sql.Tx) error {
		// The IS NULL condition makes two enrolments racing in two
		// sessions end with one secret, not with the second silently
		// replacing the first one's.
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret_sealed = ?, totp_last_step = max(totp_last_step, ?)
			WHERE id = ? AND totp_secret_sealed IS NULL`, sealed, step, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.EConflict, "error.totp.already_on")
		}
		return replaceRecoveryCodes(ctx, tx, userID, recoveryHashes)
	})
}

// DisableTOTP removes a user's secret and recovery codes. The last used
// step stays: it does no harm and a later secret starts above it.
func (db *DB) DisableTOTP(ctx context.Context, userID int64) error {
	return db.change(ctx, "disable totp", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret_sealed = NULL WHERE id = ?`, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM totp_recovery_codes WHERE user_id = ?`, userID)
		return err
	})
}

// UseTOTPStep moves the user's last used step forward to step, if step is
// later. Check and update are one statement, so of two logins racing with
// the same code only one succeeds.
func (db *DB) UseTOTPStep(ctx context.Context, userID int64, step int64) error {
	return db.change(ctx, "use totp step", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET totp_last_step = ?
			WHERE id = ? AND totp_last_step < ? AND totp_secret_sealed IS NOT NULL`, step, userID, step)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.EConflict, "error.totp.used")
		}
		return nil
	})
}

// UseRecoveryCode deletes one of the user's recovery codes by its hash.
func (db *DB) UseRecoveryCode(ctx context.Context, userID int64, hash []byte) error {
	return db.change(ctx, "use recovery code", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM totp_recovery_codes WHERE user_id = ? AND hash = ?`, userID, hash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.ENotFound, "error.totp.wrong")
		}
		return nil
	})
}

// RecoveryCodes returns the stored hashes of a user's unused recovery
// codes.
func (db *DB) RecoveryCodes(ctx context.Context, userID int64) ([][]byte, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT hash FROM totp_recovery_codes WHERE user_id = ?`, userID)
	if err != nil {
		return nil, fmt.Errorf("storage: recovery codes: %w", err)
	}
	defer rows.Close()
	var hashes [][]byte
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("storage: recovery codes: %w", err)
		}
		hashes = append(hashes, h)
	}
	return hashes, wrap("recovery codes", rows.Err())
}

// RekeyRecoveryCodes replaces each stored hash old[i] of a user's
// recovery codes by new[i], in one transaction. Row by row, not the whole
// set: a code used meanwhile (its row deleted) must not come back.
func (db *DB) RekeyRecoveryCodes(ctx context.Context, userID int64, old, new [][]byte) error {
	if len(old) != len(new) {
		return fmt.Errorf("storage: rekey recovery codes: %d old and %d new hashes", len(old), len(new))
	}
	return db.change(ctx, "rekey recovery codes", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE totp_recovery_codes SET hash = ? WHERE user_id = ? AND hash = ?`)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		defer stmt.Close()
		for i := range old {
			if _, err := stmt.ExecContext(ctx, new[i], userID, old[i]); err != nil {
				return fmt.Errorf("update: %w", err)
			}
		}
		return nil
	})
}

// ReplaceRecoveryCodes replaces a user's recovery codes.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte) error {
	return db.change(ctx, "replace recovery codes", func(tx *sql.Tx) error {
		var on bool
		err := tx.QueryRowContext(ctx, `SELECT totp_secret_sealed IS NOT NULL FROM users WHERE id = ?`, userID).Scan(&on)
		if err != nil {
			return notFound(err, "error.not_found")
		}
		if !on {
			return reporting.Errorf(reporting.EConflict, "error.totp.not_on")
		}
		return replaceRecoveryCodes(ctx, tx, userID, hashes)
	})
}

func replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, userID int64, hashes [][]byte) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM totp_recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO totp_recovery_codes (user_id, hash) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, h := range hashes {
		if _, err := stmt.ExecContext(ctx, userID, h); err != nil {
			return err
		}
	}
	return nil
}
