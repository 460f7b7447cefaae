package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// ceilUnix rounds t up to whole unix seconds, so a stored lock never ends
// earlier than asked.
func ceilUnix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// CreateUser stores a user, their team keys and their invitation in one
// transaction.
func (db *DB) CreateUser(ctx context.Context, u reporting.User, keys []reporting.WrappedTeamKey, inv *reporting.Invitation) (int64, error) {
	var id int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = insertUser(ctx, tx, u)
		if isUnique(err) {
			return reporting.Errorf(reporting.EConflict, "error.accounts.name_taken")
		}
		if err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_team_keys (user_id, team_id, wrapped) VALUES (?, ?, ?)`, id, k.TeamID, k.Wrapped); err != nil {
				return err
			}
		}
		if inv == nil {
			return nil
		}
		var by any
		if inv.CreatedBy != 0 {
			by = inv.CreatedBy
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO invitations (user_id, token_hash, private_key_wrapped, expires, created_by) VALUES (?, ?, ?, ?, ?)`,
			id, inv.TokenHash, inv.WrappedKey, inv.Expires.Unix(), by)
		return err
	})
	return id, wrap("create user", err)
}

// Invitation finds an unexpired invitation by its token's hash.
func (db *DB) Invitation(ctx context.Context, tokenHash []byte, now time.Time) (reporting.Invitation, error) {
	var inv reporting.Invitation
	var expires int64
	var by sql.NullInt64
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT user_id, token_hash, private_key_wrapped, expires, created_by
		FROM invitations WHERE token_hash = ? AND expires > ?`, tokenHash, now.Unix()).
		Scan(&inv.UserID, &inv.TokenHash, &inv.WrappedKey, &expires, &by)
	inv.Expires, inv.CreatedBy = time.Unix(expires, 0), by.Int64
	return inv, wrap("invitation", notFound(err, "error.not_found"))
}

// AcceptInvitation sets the invited user's credentials and new key pair,
// replaces their team key copies and deletes the invitation. The
// invitation is looked up again inside the transaction, so two tabs
// submitting the same link cannot both succeed. Each copy is replaced
// only while its team still has the key it holds, and every copy must be
// replaced: a provisional copy left behind would stay open to the link.
func (db *DB) AcceptInvitation(ctx context.Context, a reporting.Acceptance) error {
	return db.change(ctx, "accept invitation", func(tx *sql.Tx) error {
		var userID int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM invitations WHERE token_hash = ? AND expires > ?`, a.TokenHash, a.Now.Unix()).Scan(&userID)
		if err != nil {
			return notFound(err, "error.not_found")
		}
		res, err := tx.ExecContext(ctx, `UPDATE users SET kdf_params = ?, verifier_hash = ?, private_key_wrapped = ?, public_key = ?, mac = ?
			WHERE id = ? AND length(verifier_hash) = 0`, a.Params.String(), a.Verifier, a.WrappedKey, a.PublicKey[:], a.MAC, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return reporting.Errorf(reporting.ENotFound, "error.not_found")
		}
		changed := reporting.Errorf(reporting.EConflict, "error.team.changed")
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM user_team_keys WHERE user_id = ?`, userID).Scan(&held); err != nil {
			return err
		}
		if held != len(a.Keys) {
			return changed
		}
		for _, k := range a.Keys {
			res, err := tx.ExecContext(ctx, `UPDATE user_team_keys SET wrapped = ? WHERE user_id = ? AND team_id = ?
				AND team_id IN (SELECT id FROM teams WHERE public_key = ?)`, k.Wrapped, userID, k.TeamID, k.PublicKey[:])
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return changed
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM invitations WHERE user_id = ?`, userID)
		return err
	})
}

// DeleteExpiredInvitations deletes the invitations that expired before
// now, and the team key copies of every invited user who has no live
// invitation left. Those copies are sealed to the invitation's
// provisional key pair, which the link and an older copy of the database
// open: left in place, they would keep that pair a member, and every later
// rotation of the team's key would be sealed to it too.
func (db *DB) DeleteExpiredInvitations(ctx context.Context, now time.Time) error {
	return db.change(ctx, "delete expired invitations", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_team_keys WHERE user_id IN (SELECT id FROM users
			WHERE length(verifier_hash) = 0 AND id NOT IN (SELECT user_id FROM invitations WHERE expires > ?))`, now.Unix()); err != nil {
			return fmt.Errorf("team keys: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM invitations WHERE expires <= ?`, now.Unix()); err != nil {
			return fmt.Errorf("invitations: %w", err)
		}
		return nil
	})
}

// WithdrawInvitation deletes a user who has no password yet; the cascade
// takes their team keys, sessions and invitation with them.
func (db *DB) WithdrawInvitation(ctx context.Context, userID int64) error {
	return db.change(ctx, "withdraw invitation", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ? AND length(verifier_hash) = 0`, userID)
		var se sqlite3.Error
		if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint {
			// Something else refers to the user (a case assigned to them).
			return reporting.Errorf(reporting.EConflict, "error.accounts.withdraw_in_use")
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.ENotFound, "error.not_found")
		}
		return nil
	})
}

// UserRows lists every user with their teams, by name, from one snapshot.
func (db *DB) UserRows(ctx context.Context) ([]reporting.UserRow, error) {
	tx, end, err := db.snapshot(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("storage: user rows: %w", err)
	}
	defer end()
	rows, err := tx.QueryContext(ctx, `SELECT u.id, u.name, u.role, u.disabled, length(u.verifier_hash) = 0, coalesce(u.last_login, ''), i.expires,
			u.failed_count, u.locked_until, (SELECT coalesce(sum(d.failed_count), 0) FROM login_devices d WHERE d.user_id = u.id)
		FROM users u LEFT JOIN invitations i ON i.user_id = u.id ORDER BY u.name COLLATE NOCASE, u.id`)
	if err != nil {
		return nil, fmt.Errorf("storage: user rows: %w", err)
	}
	defer rows.Close()
	var list []reporting.UserRow
	index := map[int64]int{}
	for rows.Next() {
		var r reporting.UserRow
		var expires sql.NullInt64
		var locked int64
		if err := rows.Scan(&r.ID, &r.Name, &r.Role, &r.Disabled, &r.Pending, &r.LastLogin, &expires,
			&r.LoginFailures, &locked, &r.DeviceFailures); err != nil {
			return nil, fmt.Errorf("storage: user rows: %w", err)
		}
		if locked > 0 {
			r.LockedUntil = time.Unix(locked, 0)
		}
		if expires.Valid {
			r.Expires = time.Unix(expires.Int64, 0)
		}
		index[r.ID] = len(list)
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: user rows: %w", err)
	}
	teams, err := tx.QueryContext(ctx, `SELECT k.user_id, t.name FROM user_team_keys k JOIN teams t ON t.id = k.team_id ORDER BY t.name COLLATE NOCASE`)
	if err != nil {
		return nil, fmt.Errorf("storage: user rows: %w", err)
	}
	defer teams.Close()
	for teams.Next() {
		var id int64
		var name string
		if err := teams.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("storage: user rows: %w", err)
		}
		if i, ok := index[id]; ok {
			list[i].Teams = append(list[i].Teams, name)
		}
	}
	return list, wrap("user rows", teams.Err())
}

// keepAnAdmin refuses a change that would take away the last active admin
// (enabled, with a password). It runs inside the changing transaction:
// with a check before it, two admins disabling each other at the same
// moment could both pass and leave nobody to manage the office.
func keepAnAdmin(ctx context.Context, tx *sql.Tx, userID int64) error {
	var others int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users
		WHERE role = 'admin' AND disabled = 0 AND length(verifier_hash) > 0 AND id != ?`, userID).Scan(&others)
	if err != nil {
		return err
	}
	if others == 0 {
		return reporting.Errorf(reporting.EConflict, "error.accounts.last_admin")
	}
	return nil
}

// isActiveAdmin reports whether a user is an enabled admin with a
// password; ENotFound if there is no such user.
func isActiveAdmin(ctx context.Context, tx *sql.Tx, userID int64) (bool, error) {
	var active bool
	err := tx.QueryRowContext(ctx, `SELECT role = 'admin' AND disabled = 0 AND length(verifier_hash) > 0 FROM users WHERE id = ?`, userID).Scan(&active)
	return active, notFound(err, "error.not_found")
}

// SetUserDisabled disables (deleting the user's sessions) or enables a user.
func (db *DB) SetUserDisabled(ctx context.Context, userID int64, disabled bool) error {
	return db.change(ctx, "set user disabled", func(tx *sql.Tx) error {
		activeAdmin, err := isActiveAdmin(ctx, tx, userID)
		if err != nil {
			return err
		}
		if disabled && activeAdmin {
			if err := keepAnAdmin(ctx, tx, userID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE id = ?`, disabled, userID); err != nil {
			return err
		}
		if !disabled {
			return nil
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		return err
	})
}

// SetUserRole changes a user's role and deletes their sessions; a
// statistician loses every team key.
func (db *DB) SetUserRole(ctx context.Context, userID int64, role string) error {
	return db.change(ctx, "set user role", func(tx *sql.Tx) error { return setUserRoleTx(ctx, tx, userID, role) })
}

func setUserRoleTx(ctx context.Context, tx *sql.Tx, userID int64, role string) error {
	activeAdmin, err := isActiveAdmin(ctx, tx, userID)
	if err != nil {
		return err
	}
	if role != reporting.RoleAdmin && activeAdmin {
		if err := keepAnAdmin(ctx, tx, userID); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, role, userID); err != nil {
		return err
	}
	if role == reporting.RoleStatistician {
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_team_keys WHERE user_id = ?`, userID); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	return err
}

// ChangePassword replaces a user's credentials, unless they changed since
// oldVerifier was read, and deletes their other sessions.
func (db *DB) ChangePassword(ctx context.Context, userID int64, oldVerifier []byte, params vault.Params, verifier, wrapped, oldTOTP, newTOTP, keepSession []byte) error {
	return db.change(ctx, "change password", func(tx *sql.Tx) error {
		// The TOTP secret is sealed under the password's key: it changes
		// with the password, and only if it is still the one re-sealed
		// (two-factor was not switched on or off in between).
		res, err := tx.ExecContext(ctx, `UPDATE users SET kdf_params = ?, verifier_hash = ?, private_key_wrapped = ?, totp_secret_sealed = ?
			WHERE id = ? AND verifier_hash = ? AND totp_secret_sealed IS ?`, params.String(), verifier, wrapped, newTOTP, userID, oldVerifier, oldTOTP)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return reporting.Errorf(reporting.EConflict, "error.accounts.password_changed")
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash != ?`, userID, keepSession)
		return err
	})
}

// DeleteUserSessions deletes every session of a user.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	_, err := db.writer(ctx).ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	return wrap("delete user sessions", err)
}

// CreateUserSession stores a session if the user is still enabled, with
// the role and verifier that the login checked.
func (db *DB) CreateUserSession(ctx context.Context, s reporting.Session, role string, verifier []byte) error {
	res, err := db.writer(ctx).ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created, last_seen)
		SELECT ?, id, ?, ? FROM users WHERE id = ? AND disabled = 0 AND role = ? AND verifier_hash = ? AND length(verifier_hash) > 0`,
		s.TokenHash, s.Created.Unix(), s.LastSeen.Unix(), s.UserID, role, verifier)
	if err != nil {
		return fmt.Errorf("storage: create user session: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return reporting.Errorf(reporting.EUnauthorized, "error.login.failed")
	}
	return nil
}

// RecordLogin records the day of a user's successful login. Clearing the
// failure counter is ClearLoginFailures's job: a login from a known device
// must not clear the counter that strangers spend.
func (db *DB) RecordLogin(ctx context.Context, userID int64, day string) error {
	_, err := db.writer(ctx).ExecContext(ctx, `UPDATE users SET last_login = ? WHERE id = ?`, day, userID)
	return wrap("record login", err)
}
