package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Setting returns a deployment setting.
func (db *DB) Setting(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	return v, wrap("setting", notFound(err, "error.not_found"))
}

// PutSettingOnce stores value under key unless a value is there already,
// and returns the stored value.
func (db *DB) PutSettingOnce(ctx context.Context, key string, value []byte) ([]byte, error) {
	var stored []byte
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&stored)
	})
	return stored, wrap("put setting once", err)
}

// PutSetting stores or replaces a setting.
func (db *DB) PutSetting(ctx context.Context, key string, value []byte) error {
	_, err := db.writer(ctx).ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return wrap("put setting", err)
}

// SettingMAC returns a setting with its MAC (nil when none is stored).
func (db *DB) SettingMAC(ctx context.Context, key string) ([]byte, []byte, error) {
	var v, mac []byte
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT value, mac FROM settings WHERE key = ?`, key).Scan(&v, &mac)
	return v, mac, wrap("setting mac", notFound(err, "error.not_found"))
}

// PutSettingMAC stores or replaces a setting together with its MAC.
func (db *DB) PutSettingMAC(ctx context.Context, key string, value, mac []byte) error {
	_, err := db.writer(ctx).ExecContext(ctx, `INSERT INTO settings (key, value, mac) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, mac = excluded.mac`, key, value, mac)
	return wrap("put setting mac", err)
}

// CountUsers returns the number of office users.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, wrap("count users", err)
}

// CreateFirstAdmin creates the first team, its recovery envelope and the
// first admin in one transaction, and consumes the setup token.
func (db *DB) CreateFirstAdmin(ctx context.Context, a reporting.FirstAdmin) error {
	return db.change(ctx, "create first admin", func(tx *sql.Tx) error {
		var token []byte
		if err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'setup_token'`).Scan(&token); err != nil {
			// Only a missing token means "no setup to do"; a database
			// that cannot be read stays an internal error, not a wrong token.
			return notFound(err, "error.setup.token")
		}
		if !vault.Equal(token, a.SetupTokenHash) {
			return reporting.Errorf(reporting.ENotFound, "error.setup.token")
		}
		var users int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&users); err != nil {
			return err
		}
		if users > 0 {
			return reporting.Errorf(reporting.EConflict, "error.setup.done")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO teams (name, public_key, municipalities, mac) VALUES (?, ?, ?, ?)`,
			a.Team.Name, a.Team.PublicKey[:], joinCodes(a.Team.Municipalities), a.Team.MAC)
		if err != nil {
			return err
		}
		teamID, _ := res.LastInsertId()
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_envelopes (team_id, wrapped) VALUES (?, ?)`, teamID, a.RecoveryKey); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, mac) VALUES ('recovery_public_key', ?, ?)`, a.RecoveryPublicKey[:], a.RecoveryPublicKeyMAC); err != nil {
			return err
		}
		userID, err := insertUser(ctx, tx, a.User)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_team_keys (user_id, team_id, wrapped) VALUES (?, ?, ?)`, userID, teamID, a.UserTeamKey); err != nil {
			return err
		}
		for _, st := range a.Settings {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, mac) VALUES (?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, mac = excluded.mac`, st.Key, st.Value, st.MAC); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM settings WHERE key = 'setup_token'`)
		return err
	})
}

func insertUser(ctx context.Context, tx *sql.Tx, u reporting.User) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, salt, kdf_params, verifier_hash, public_key, private_key_wrapped, mac)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, u.Name, u.Role, u.Salt, u.Params.String(), u.Verifier, u.PublicKey[:], u.WrappedKey, u.MAC)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// Teams lists all teams in the order they were created.
func (db *DB) Teams(ctx context.Context) ([]reporting.Team, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT id, name, public_key, municipalities, mac, rotate_pending FROM teams ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("storage: teams: %w", err)
	}
	defer rows.Close()
	var teams []reporting.Team
	for rows.Next() {
		var t reporting.Team
		var pub []byte
		var m string
		if err := rows.Scan(&t.ID, &t.Name, &pub, &m, &t.MAC, &t.RotatePending); err != nil {
			return nil, fmt.Errorf("storage: teams: %w", err)
		}
		t.PublicKey, t.Municipalities = publicKey(pub), splitCodes(m)
		teams = append(teams, t)
	}
	return teams, wrap("teams", rows.Err())
}

const userColumns = `id, name, role, salt, kdf_params, verifier_hash, public_key, private_key_wrapped, disabled, mac`

func scanUser(row *sql.Row) (reporting.User, error) {
	var u reporting.User
	var params string
	var pub []byte
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &u.Salt, &params, &u.Verifier, &pub, &u.WrappedKey, &u.Disabled, &u.MAC); err != nil {
		return u, notFound(err, "error.not_found")
	}
	u.PublicKey = publicKey(pub)
	var err error
	u.Params, err = vault.ParseParams(params)
	return u, err
}

// SetUserMAC stores a user row's MAC.
func (db *DB) SetUserMAC(ctx context.Context, userID int64, mac []byte) error {
	res, err := db.writer(ctx).ExecContext(ctx, `UPDATE users SET mac = ? WHERE id = ?`, mac, userID)
	if err != nil {
		return fmt.Errorf("storage: set user mac: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return reporting.Errorf(reporting.ENotFound, "error.not_found")
	}
	return nil
}

// UserByName finds a user by name.
func (db *DB) UserByName(ctx context.Context, name string) (reporting.User, error) {
	u, err := scanUser(db.reader(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	return u, wrap("user by name", err)
}

// User finds a user by ID.
func (db *DB) User(ctx context.Context, id int64) (reporting.User, error) {
	u, err := scanUser(db.reader(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return u, wrap("user", err)
}

// UserTeamKeys lists the team keys sealed to a user.
func (db *DB) UserTeamKeys(ctx context.Context, userID int64) ([]reporting.WrappedTeamKey, error) {
	keys, err := db.wrappedKeys(ctx, `SELECT k.team_id, t.public_key, k.wrapped FROM user_team_keys k JOIN teams t ON t.id = k.team_id WHERE k.user_id = ? ORDER BY k.team_id`, userID)
	return keys, wrap("user team keys", err)
}

// RecoveryKeys lists the team keys sealed to the recovery key pair.
func (db *DB) RecoveryKeys(ctx context.Context) ([]reporting.WrappedTeamKey, error) {
	keys, err := db.wrappedKeys(ctx, `SELECT r.team_id, t.public_key, r.wrapped FROM recovery_envelopes r JOIN teams t ON t.id = r.team_id ORDER BY r.team_id`)
	return keys, wrap("recovery keys", err)
}

func (db *DB) wrappedKeys(ctx context.Context, query string, args ...any) ([]reporting.WrappedTeamKey, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []reporting.WrappedTeamKey
	for rows.Next() {
		var k reporting.WrappedTeamKey
		var pub []byte
		if err := rows.Scan(&k.TeamID, &pub, &k.Wrapped); err != nil {
			return nil, err
		}
		k.PublicKey = publicKey(pub)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// CreateSession stores a session by its token's hash.
func (db *DB) CreateSession(ctx context.Context, s reporting.Session) error {
	_, err := db.writer(ctx).ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created, last_seen) VALUES (?, ?, ?, ?)`,
		s.TokenHash, s.UserID, s.Created.Unix(), s.LastSeen.Unix())
	return wrap("create session", err)
}

// TouchSession records activity on a session.
func (db *DB) TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error {
	res, err := db.writer(ctx).ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE token_hash = ?`, at.Unix(), tokenHash)
	if err != nil {
		return fmt.Errorf("storage: touch session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return reporting.Errorf(reporting.EUnauthorized, "error.login.required")
	}
	return nil
}

// DeleteSession removes a session.
func (db *DB) DeleteSession(ctx context.Context, tokenHash []byte) error {
	_, err := db.writer(ctx).ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	return wrap("delete session", err)
}

// DeleteSessionsBefore removes sessions last seen before t.
func (db *DB) DeleteSessionsBefore(ctx context.Context, t time.Time) error {
	_, err := db.writer(ctx).ExecContext(ctx, `DELETE FROM sessions WHERE last_seen < ?`, t.Unix())
	return wrap("delete sessions before", err)
}

// publicKey reads a stored public key. A value of the wrong length (only a
// database writer makes one) becomes the all-zero key, which the domain
// refuses as a low-order point, instead of a panic in the conversion.
func publicKey(b []byte) vault.PublicKey {
	var p vault.PublicKey
	if len(b) == len(p) {
		copy(p[:], b)
	}
	return p
}
