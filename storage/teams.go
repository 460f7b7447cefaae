package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// CreateTeam stores a new team with its recovery envelope, its creator's
// copy of the key and the municipalities other teams give up, all in one
// transaction: a team whose key nobody holds, or that the recovery key
// cannot open, must never exist even for a moment.
func (db *DB) CreateTeam(ctx context.Context, nt reporting.NewTeam) (int64, error) {
	var id int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := unchangedTeams(ctx, tx, nt.Read); err != nil {
			return err
		}
		if err := writeTeams(ctx, tx, nt.Others); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO teams (name, public_key, municipalities, mac) VALUES (?, ?, ?, ?)`,
			nt.Team.Name, nt.Team.PublicKey[:], joinCodes(nt.Team.Municipalities), nt.Team.MAC)
		if isUnique(err) {
			return reporting.Errorf(reporting.EConflict, "error.team.name_taken")
		}
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_envelopes (team_id, wrapped) VALUES (?, ?)`, id, nt.RecoveryKey); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO user_team_keys (user_id, team_id, wrapped) VALUES (?, ?, ?)`, nt.CreatorID, id, nt.CreatorKey)
		return err
	})
	return id, wrap("create team", err)
}

// UpdateTeams writes the changed teams' names and municipalities in one
// transaction, so a municipality moving from one team to another is never
// covered by both or by neither.
func (db *DB) UpdateTeams(ctx context.Context, read, changed []reporting.Team) error {
	return db.change(ctx, "update teams", func(tx *sql.Tx) error {
		if err := unchangedTeams(ctx, tx, read); err != nil {
			return err
		}
		return writeTeams(ctx, tx, changed)
	})
}

// unchangedTeams fails with EConflict unless the stored teams are exactly
// those read when the change was planned. Moving municipalities is planned
// from a snapshot; if another admin changed the teams since, applying the
// plan could leave a municipality with no team or with two.
func unchangedTeams(ctx context.Context, tx *sql.Tx, read []reporting.Team) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, name, municipalities FROM teams ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	changed := reporting.Errorf(reporting.EConflict, "error.team.changed")
	i := 0
	for rows.Next() {
		var id int64
		var name, munis string
		if err := rows.Scan(&id, &name, &munis); err != nil {
			return err
		}
		if i >= len(read) {
			return changed
		}
		t := read[i]
		if t.ID != id || t.Name != name || !slices.Equal(t.Municipalities, splitCodes(munis)) {
			return changed
		}
		i++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if i != len(read) {
		return changed
	}
	return nil
}

func writeTeams(ctx context.Context, tx *sql.Tx, teams []reporting.Team) error {
	stmt, err := tx.PrepareContext(ctx, `UPDATE teams SET name = ?, municipalities = ?, mac = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, t := range teams {
		res, err := stmt.ExecContext(ctx, t.Name, joinCodes(t.Municipalities), t.MAC, t.ID)
		if isUnique(err) {
			return reporting.Errorf(reporting.EConflict, "error.team.name_taken")
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return reporting.Errorf(reporting.ENotFound, "error.team.not_found")
		}
	}
	return nil
}

// TeamMembers lists the users holding a team's key, by name.
func (db *DB) TeamMembers(ctx context.Context, teamID int64) ([]reporting.Member, error) {
	list, err := db.members(ctx, `SELECT id, name, role, disabled FROM users
		WHERE id IN (SELECT user_id FROM user_team_keys WHERE team_id = ?) ORDER BY name`, teamID)
	return list, wrap("team members", err)
}

// UsersOutsideTeam lists the users who do not hold a team's key, by name.
func (db *DB) UsersOutsideTeam(ctx context.Context, teamID int64) ([]reporting.Member, error) {
	list, err := db.members(ctx, `SELECT id, name, role, disabled FROM users
		WHERE id NOT IN (SELECT user_id FROM user_team_keys WHERE team_id = ?) ORDER BY name`, teamID)
	return list, wrap("users outside team", err)
}

func (db *DB) members(ctx context.Context, query string, args ...any) ([]reporting.Member, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []reporting.Member
	for rows.Next() {
		var m reporting.Member
		if err := rows.Scan(&m.ID, &m.Name, &m.Role, &m.Disabled); err != nil {
			return nil, err
		}
		list = append(list, m)
	}
	return list, rows.Err()
}

// AddTeamMember stores a team's key sealed to a user. The eligibility is
// checked again inside the transaction, so a user disabled or made a
// statistician a moment ago does not receive a key; nor does an invited
// user whose invitation is gone, whose stored public key is a provisional
// one that only the link (and an older database copy) opens.
func (db *DB) AddTeamMember(ctx context.Context, teamID, userID int64, wrapped []byte) error {
	return db.change(ctx, "add team member", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO user_team_keys (user_id, team_id, wrapped)
			SELECT id, ?, ? FROM users WHERE id = ? AND disabled = 0 AND role <> 'statistician'
			AND (length(verifier_hash) > 0 OR id IN (SELECT user_id FROM invitations))`, teamID, wrapped, userID)
		if isPrimaryKey(err) {
			return reporting.Errorf(reporting.EConflict, "error.team.already_member")
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return reporting.Errorf(reporting.EConflict, "error.team.member_not_eligible")
		}
		return nil
	})
}

// RemoveTeamMember deletes a user's copy of a team's key.
func (db *DB) RemoveTeamMember(ctx context.Context, teamID, userID int64) error {
	return db.change(ctx, "remove team member", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM user_team_keys WHERE team_id = ? AND user_id = ?`, teamID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return reporting.Errorf(reporting.ENotFound, "error.team.not_member")
		}
		return nil
	})
}

func isPrimaryKey(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
}

// Revoke removes a user from a team, disables them or makes them a
// statistician, rotates the keys of
// the teams concerned and appends the audit entry, in one transaction: a
// crash in between must never leave a member removed but the key not
// rotated, nor a key rotated that some remaining member cannot open.
func (db *DB) Revoke(ctx context.Context, r reporting.Revocation) error {
	return db.change(ctx, "revoke", func(tx *sql.Tx) error {
		switch {
		case r.Complete:
			// Nobody leaves now: the copy went at an earlier revocation.
		case r.Statistician:
			// The role change deletes every copy and the sessions.
			if err := setUserRoleTx(ctx, tx, r.UserID, reporting.RoleStatistician); err != nil {
				return err
			}
		case r.Disable:
			activeAdmin, err := isActiveAdmin(ctx, tx, r.UserID)
			if err != nil {
				return err
			}
			if activeAdmin {
				if err := keepAnAdmin(ctx, tx, r.UserID); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = 1 WHERE id = ?`, r.UserID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, r.UserID); err != nil {
				return err
			}
			// Every copy goes, also of teams the acting admin could not
			// rotate: enabling the user again gives nothing back.
			if _, err := tx.ExecContext(ctx, `DELETE FROM user_team_keys WHERE user_id = ?`, r.UserID); err != nil {
				return err
			}
		default:
			res, err := tx.ExecContext(ctx, `DELETE FROM user_team_keys WHERE team_id = ? AND user_id = ?`, r.TeamID, r.UserID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return reporting.Errorf(reporting.ENotFound, "error.team.not_member")
			}
		}
		for _, rot := range r.Rotations {
			if err := rotateTeamKey(ctx, tx, rot); err != nil {
				return fmt.Errorf("rotate team %d: %w", rot.Team.ID, err)
			}
		}
		// Marked in the same transaction that deletes the copy: a crash
		// in between must not leave a team that lost a member unmarked.
		for _, id := range r.Pending {
			if _, err := tx.ExecContext(ctx, `UPDATE teams SET rotate_pending = 1 WHERE id = ?`, id); err != nil {
				return fmt.Errorf("mark team %d: %w", id, err)
			}
		}
		return db.appendAuditTx(ctx, tx, r.Audit)
	})
}

// rotateTeamKey writes one rotation inside tx. The team's key must still
// be the one replaced, and its members exactly those the new key was
// sealed to: a member added meanwhile holds the old key only and would
// silently lose the team's new reports, so the rotation is refused instead
// (the admin tries again).
func rotateTeamKey(ctx context.Context, tx *sql.Tx, rot reporting.TeamRotation) error {
	changed := reporting.Errorf(reporting.EConflict, "error.team.changed")
	t := rot.Team
	res, err := tx.ExecContext(ctx, `UPDATE teams SET public_key = ?, mac = ?, rotate_pending = 0 WHERE id = ? AND public_key = ?`,
		t.PublicKey[:], t.MAC, t.ID, rot.OldPublicKey[:])
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return changed
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO team_previous_keys (team_id, public_key, successor_key, wrapped) VALUES (?, ?, ?, ?)`,
		t.ID, rot.OldPublicKey[:], t.PublicKey[:], rot.Previous); err != nil {
		return err
	}
	for _, id := range rot.Dropped {
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_team_keys WHERE team_id = ? AND user_id = ?`, t.ID, id); err != nil {
			return err
		}
	}
	var held int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM user_team_keys WHERE team_id = ?`, t.ID).Scan(&held); err != nil {
		return err
	}
	if held != len(rot.Members) {
		return changed
	}
	stmt, err := tx.PrepareContext(ctx, `UPDATE user_team_keys SET wrapped = ? WHERE team_id = ? AND user_id = ?`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for id, wrapped := range rot.Members {
		res, err := stmt.ExecContext(ctx, wrapped, t.ID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return changed
		}
	}
	res, err = tx.ExecContext(ctx, `UPDATE recovery_envelopes SET wrapped = ? WHERE team_id = ?`, rot.RecoveryKey, t.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("no recovery envelope")
	}
	return nil
}

// PreviousTeamKeys lists a team's replaced keys.
func (db *DB) PreviousTeamKeys(ctx context.Context, teamID int64) ([]reporting.PreviousKey, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT public_key, successor_key, wrapped FROM team_previous_keys WHERE team_id = ?`, teamID)
	if err != nil {
		return nil, fmt.Errorf("storage: previous team keys: %w", err)
	}
	defer rows.Close()
	var keys []reporting.PreviousKey
	for rows.Next() {
		var k reporting.PreviousKey
		var pub, succ []byte
		if err := rows.Scan(&pub, &succ, &k.Wrapped); err != nil {
			return nil, fmt.Errorf("storage: previous team keys: %w", err)
		}
		k.PublicKey, k.Successor = publicKey(pub), publicKey(succ)
		keys = append(keys, k)
	}
	return keys, wrap("previous team keys", rows.Err())
}
