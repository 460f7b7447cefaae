package reporting

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// The Office's part of team keys: the session map holds every decrypted
// team key, so whatever must reach into it (rotating a key in live
// sessions, taking one away, completing a rotation at login) is an
// unexported method of *Office here. Teams and Accounts reach these
// through small interfaces of their own that *Office satisfies, so no
// other service ever holds the map.

// teamKeyStore is what the Office's team key work reads and writes:
// members and their rows for a rotation, the recovery public key it is
// sealed to, the revocation that writes it, the chain of previous keys
// at login, and the audit log the anchor's refusals go to. The Office's
// store includes it.
type teamKeyStore interface {
	AuditStore
	TeamMembers(ctx context.Context, teamID int64) ([]Member, error)
	User(ctx context.Context, id int64) (User, error)
	SettingMAC(ctx context.Context, key string) (value, mac []byte, err error)
	Revoke(ctx context.Context, r Revocation) error
	PreviousTeamKeys(ctx context.Context, teamID int64) ([]PreviousKey, error)
}

var _ teamKeyStore = Store(nil)

// rotation makes a new key pair for team and everything its rotation
// writes, for the team's members but leaving. The session's key of the
// team must be the stored one: it is the key sealed under the new one,
// so that the team's earlier cases stay readable.
func (o *Office) rotation(ctx context.Context, s *OfficeSession, team Team, leaving int64) (TeamRotation, *vault.KeyPair, error) {
	old, ok := s.Keys.Team(team.ID)
	if !ok {
		return TeamRotation{}, nil, Errorf(EConflict, "error.revoke.key_not_held")
	}
	if old.Public() != team.PublicKey {
		return TeamRotation{}, nil, Errorf(EConflict, "error.team.changed")
	}
	members, err := o.store.TeamMembers(ctx, team.ID)
	if err != nil {
		return TeamRotation{}, nil, fmt.Errorf("rotate team key: %w", err)
	}
	// The new key goes to the recovery key pair as well, or Recover
	// would lose the team; its stored public key is checked first.
	recoveryPub, err := o.anchor.recoveryPublic(ctx, o.store, o.now())
	if err != nil {
		return TeamRotation{}, nil, opError("rotate team key", err)
	}
	next := vault.NewKeyPair()
	rot := TeamRotation{OldPublicKey: team.PublicKey, Members: map[int64][]byte{},
		Previous:    next.Public().SealKeyPair(old, vault.PreviousKeyAD(next.Public(), old.Public())),
		RecoveryKey: recoveryPub.SealKeyPair(next, vault.RecoveryAD(next.Public()))}
	for _, m := range members {
		switch {
		case m.ID == leaving:
			continue // their copy is deleted by the revocation itself
		case !m.eligible():
			// A disabled user or statistician still holding a copy from
			// before revocation deleted copies: it is not renewed.
			rot.Dropped = append(rot.Dropped, m.ID)
			continue
		}
		u, err := o.store.User(ctx, m.ID)
		if err != nil {
			next.Wipe()
			return TeamRotation{}, nil, fmt.Errorf("rotate team key: %w", err)
		}
		// Like adding a member: a public key swapped by SQL would get
		// the new key, so every member's row is checked first.
		if err := o.anchor.checkUser(ctx, o.store, o.now(), u); err != nil {
			next.Wipe()
			return TeamRotation{}, nil, err
		}
		rot.Members[m.ID] = u.PublicKey.SealKeyPair(next, userTeamKeyAD(u.Salt, next.Public()))
	}
	team.PublicKey = next.Public()
	team.MAC = o.anchor.TeamMAC(team)
	rot.Team = team
	return rot, next, nil
}

// completeRotations rotates the key of every team marked pending whose
// key the session holds, each in its own transaction with an audit entry
// by the session's user that also clears the mark. The user who lost
// their copy is no member any more, so the new key is not sealed to them:
// a key they kept opens nothing filed after this. Teams that fail keep
// their mark; their errors are returned together.
// teams must be verified rows (goodTeams): a rotation signs the row's
// name and municipalities anew, so an unchecked row would be laundered.
func (o *Office) completeRotations(ctx context.Context, s *OfficeSession, teams []Team) error {
	var errs []error
	for _, t := range teams {
		if _, held := s.Keys.Team(t.ID); !t.RotatePending || !held {
			continue
		}
		if err := o.completeRotation(ctx, s, t); err != nil {
			errs = append(errs, fmt.Errorf("complete rotation team %d: %w", t.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (o *Office) completeRotation(ctx context.Context, s *OfficeSession, t Team) error {
	rot, next, err := o.rotation(ctx, s, t, 0)
	if err != nil {
		return err
	}
	defer next.Wipe() // each session gets its own copy
	err = o.store.Revoke(ctx, Revocation{Complete: true, Rotations: []TeamRotation{rot},
		Audit: o.entry(s, AuditTeamMember, fmt.Sprintf("team:%d rotation completed", t.ID))})
	if err != nil {
		return err
	}
	o.rotateSessions(map[int64]*vault.KeyPair{t.ID: next})
	return nil
}

// rotateSessions gives every live session that holds one of the rotated
// teams' keys a copy of the new key, with the old one chained behind it:
// remaining members go on working (and see new reports) without logging
// in again. The revoked user's sessions lost the key before.
func (o *Office) rotateSessions(next map[int64]*vault.KeyPair) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.sessions {
		for id, kp := range next {
			s.Keys.Rotate(id, kp)
		}
	}
}

// openChain hangs a team's previous keys behind its current pair head,
// newest first, so that the session opens the cases sealed before each
// rotation. Each link is found by the key it is sealed to and opened with
// that key; a link that does not open (a changed row) ends the walk: it is
// refused and shown to the admins, and only the cases from before it stay
// closed. The links need no MAC: they are only ever opened, never sealed
// to, so a link a database writer made up opens nothing they could not
// have sealed to the current key anyway.
func (o *Office) openChain(ctx context.Context, head *vault.KeyPair, teamID int64) error {
	links, err := o.store.PreviousTeamKeys(ctx, teamID)
	if err != nil {
		return fmt.Errorf("team key chain: %w", err)
	}
	tail := head
	for len(links) > 0 { // each link is used once: a cycle in the rows ends
		i := slices.IndexFunc(links, func(k PreviousKey) bool { return k.Successor == tail.Public() })
		if i < 0 {
			return nil
		}
		l := links[i]
		links = slices.Delete(links, i, i+1)
		kp, err := tail.OpenKeyPair(l.Wrapped, l.PublicKey, vault.PreviousKeyAD(tail.Public(), l.PublicKey))
		if err != nil {
			_ = o.anchor.refuse(ctx, o.store, o.now(), fmt.Sprintf("team:%d previous key", teamID))
			return nil
		}
		tail.SetPrevious(kp)
		tail = kp
	}
	return nil
}

// revokeTeamKey wipes a team's key from every live session of a user.
// Deleting the stored copy only stops the next login; the sessions that
// already unwrapped the key must lose it too, or a removed member could
// keep reading until they log out.
func (o *Office) revokeTeamKey(userID, teamID int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.sessions {
		if s.User.ID == userID {
			s.Keys.Remove(teamID)
		}
	}
}
