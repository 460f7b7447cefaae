package reporting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// settingRecoveryPublicKey holds the public half of the recovery key pair,
// stored at setup, so that every later team's key can be sealed to it.
const settingRecoveryPublicKey = "recovery_public_key"

// MaxTeamName is the longest team name, in characters.
const MaxTeamName = 100

// TeamStore keeps teams beyond the first: creating them, their
// municipalities and their members.
type TeamStore interface {
	// CreateTeam stores a new team, its private key sealed to the recovery
	// key pair and to its creator, and the municipalities it takes from
	// other teams, in one transaction, and returns the new team's ID.
	// EConflict "error.team.changed" if the teams are no longer those in
	// nt.Read, EConflict "error.team.name_taken" if the name is taken.
	CreateTeam(ctx context.Context, nt NewTeam) (int64, error)
	// UpdateTeams writes the names and municipalities of the changed teams
	// in one transaction, unless the stored teams are no longer read
	// (EConflict "error.team.changed"); EConflict "error.team.name_taken"
	// if a name is taken.
	UpdateTeams(ctx context.Context, read, changed []Team) error
	// TeamMembers lists the users holding a team's key, by name.
	TeamMembers(ctx context.Context, teamID int64) ([]Member, error)
	// UsersOutsideTeam lists, by name, the users who do not hold a team's
	// key.
	UsersOutsideTeam(ctx context.Context, teamID int64) ([]Member, error)
	// AddTeamMember stores a team's key sealed to a user. It refuses
	// (EConflict "error.team.member_not_eligible") a user who is disabled
	// or a statistician by the time it runs, and one who is a member
	// already (EConflict "error.team.already_member").
	AddTeamMember(ctx context.Context, teamID, userID int64, wrapped []byte) error
	// RemoveTeamMember deletes a user's copy of a team's key; ENotFound if
	// they hold none.
	RemoveTeamMember(ctx context.Context, teamID, userID int64) error
	// Revoke removes a user from one team (r.TeamID), disables them
	// (r.Disable: also their sessions and every team key they hold) or
	// makes them a statistician (r.Statistician: likewise),
	// or only completes pending rotations (r.Complete), applies
	// r.Rotations (each clearing its team's pending mark), marks
	// r.Pending and appends r.Audit, all in one transaction.
	// ENotFound "error.team.not_member" if a removed user holds no copy;
	// EConflict "error.team.changed" if a rotated team's key or members
	// are no longer those the rotation was made for;
	// EConflict "error.accounts.last_admin" if it would leave no admin.
	Revoke(ctx context.Context, r Revocation) error
	// PreviousTeamKeys lists the replaced keys of a team, each sealed to
	// the key that replaced it.
	PreviousTeamKeys(ctx context.Context, teamID int64) ([]PreviousKey, error)
}

// TeamRotation is a team key's rotation as it is written: the team row
// with its new public key and MAC, the replaced private key sealed to the
// new key, and the new private key sealed to every remaining member and to
// the recovery key pair.
type TeamRotation struct {
	Team         Team            // with the new PublicKey and its MAC
	OldPublicKey vault.PublicKey // the key being replaced: written only if still stored
	Previous     []byte          // the replaced private key, sealed to the new public key
	Members      map[int64][]byte
	// Dropped are members whose copy is deleted and not replaced (disabled
	// users and statisticians still holding one from before).
	Dropped     []int64
	RecoveryKey []byte
}

// Revocation is a user leaving one team, or every team by being disabled,
// with the rotations of the teams' keys and the audit entry.
type Revocation struct {
	UserID  int64
	TeamID  int64 // the team the user is removed from; 0 with Disable or Statistician
	Disable bool
	// Statistician makes the user a statistician, who holds no key.
	Statistician bool
	// Complete rotates pending teams' keys and nobody leaves now: the
	// user lost their copy at an earlier revocation (UserID is 0).
	Complete  bool
	Rotations []TeamRotation
	// Pending are teams whose key the acting admin could not rotate: they
	// are marked to be rotated at the next login of a member.
	Pending []int64
	Audit   *AuditEntry
}

// PreviousKey is a team's replaced key as stored: its private half sealed
// to the public key that replaced it.
type PreviousKey struct {
	PublicKey vault.PublicKey
	Successor vault.PublicKey
	Wrapped   []byte
}

// NewTeam is everything creating a team writes in one transaction.
type NewTeam struct {
	Team        Team   // ID unset
	RecoveryKey []byte // the team key sealed to the recovery key pair
	CreatorID   int64  // the admin who created it
	CreatorKey  []byte // the team key sealed to the creator's key pair
	Read        []Team // the teams as they were when the change was planned
	Others      []Team // other teams whose municipalities change
}

// TeamForm is the create or edit form of a team, as typed.
type TeamForm struct {
	Name           string
	Municipalities []string
}

// Member is a team member as the admin pages show them: no key material.
type Member struct {
	ID       int64
	Name     string
	Role     string
	Disabled bool
}

// TeamInfo is a team as the admin pages show it.
type TeamInfo struct {
	Team
	Members []Member
	// HoldsKey says whether the viewing admin's session holds the team's
	// key: only then can they add members.
	HoldsKey bool
	// Candidates are the users who may be added (filled by TeamDetail).
	Candidates []Member
}

// TeamOverview lists all teams with their members, for admins. A pending
// rotation of a team whose key the admin holds is completed first; one
// that fails is logged and stays shown as pending.
func (o *Office) TeamOverview(ctx context.Context, s *OfficeSession) ([]TeamInfo, error) {
	if err := allow(s, PermManageTeams); err != nil {
		return nil, err
	}
	if good, err := o.anchor.goodTeams(ctx, o.store, o.now()); err != nil {
		slog.Warn("pending team key rotation failed", "user", s.User.ID, "err", err)
	} else if err := o.completeRotations(ctx, s, good); err != nil {
		slog.Warn("pending team key rotation failed", "user", s.User.ID, "err", err)
	}
	teams, err := o.store.Teams(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]TeamInfo, len(teams))
	for i, t := range teams {
		users, err := o.store.TeamMembers(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		_, held := s.Keys.Team(t.ID)
		out[i] = TeamInfo{Team: t, Members: users, HoldsKey: held}
	}
	return out, nil
}

// TeamDetail returns one team with its members and the users who may be
// added.
func (o *Office) TeamDetail(ctx context.Context, s *OfficeSession, id int64) (TeamInfo, error) {
	if err := allow(s, PermManageTeams); err != nil {
		return TeamInfo{}, err
	}
	teams, err := o.store.Teams(ctx)
	if err != nil {
		return TeamInfo{}, err
	}
	t, ok := findTeam(teams, id)
	if !ok {
		return TeamInfo{}, Errorf(ENotFound, "error.team.not_found")
	}
	users, err := o.store.TeamMembers(ctx, id)
	if err != nil {
		return TeamInfo{}, err
	}
	outside, err := o.store.UsersOutsideTeam(ctx, id)
	if err != nil {
		return TeamInfo{}, err
	}
	outside = slices.DeleteFunc(outside, func(m Member) bool { return !m.eligible() })
	_, held := s.Keys.Team(id)
	return TeamInfo{Team: t, Members: users, HoldsKey: held, Candidates: outside}, nil
}

// eligible reports whether a user may hold a team key: only roles that do
// case work (statisticians never decrypt anything); a disabled user cannot
// log in.
func eligible(role string, disabled bool) bool { return Can(role, PermCaseWork) && !disabled }

func (m Member) eligible() bool { return eligible(m.Role, m.Disabled) }

func findTeam(teams []Team, id int64) (Team, bool) {
	i := slices.IndexFunc(teams, func(t Team) bool { return t.ID == id })
	if i < 0 {
		return Team{}, false
	}
	return teams[i], true
}

// validate checks the form against the other teams and returns the clean
// name and municipalities (known codes, each once, in vocabulary order).
func (f TeamForm) validate(teams []Team, id int64) (string, []string, fieldErrors) {
	errs := fieldErrors{}
	name := strings.TrimSpace(f.Name)
	switch {
	case name == "" || utf8.RuneCountInString(name) > MaxTeamName || !utf8.ValidString(name):
		errs.add("name", "error.team.name")
	case slices.ContainsFunc(teams, func(t Team) bool { return t.ID != id && strings.EqualFold(t.Name, name) }):
		// Names are compared without case: "Herne" and "herne" would be
		// two teams nobody can tell apart in a list.
		errs.add("name", "error.team.name_taken")
	}
	var munis []string
	for _, m := range f.Municipalities {
		if !known(Municipalities, m) {
			errs.add("municipalities", "error.team.municipality_unknown")
			continue
		}
		munis = appendOnce(munis, m)
	}
	slices.SortFunc(munis, byVocab(Municipalities))
	return name, munis, errs
}

// assign returns the teams whose municipalities change when team id (0 for
// a new team) takes munis: every other team gives up the ones it had,
// since a municipality belongs to exactly one team.
func assign(teams []Team, id int64, munis []string) []Team {
	var changed []Team
	for _, t := range teams {
		if t.ID == id {
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(t.Municipalities), func(m string) bool { return slices.Contains(munis, m) })
		if len(kept) != len(t.Municipalities) {
			t.Municipalities = kept
			changed = append(changed, t)
		}
	}
	return changed
}

// Uncovered returns the municipalities, in vocabulary order, that some
// team covers now but no team would cover if team teamID had exactly
// munis (and took them from the others). Reports from such a place would
// have no team of their own, so such a change is refused.
func Uncovered(teams []Team, teamID int64, munis []string) []string {
	var out []string
	for _, m := range Municipalities {
		before := slices.ContainsFunc(teams, func(t Team) bool { return t.Covers(m) })
		after := slices.Contains(munis, m) || slices.ContainsFunc(teams, func(t Team) bool { return t.ID != teamID && t.Covers(m) })
		if before && !after {
			out = append(out, m)
		}
	}
	return out
}

// nameTaken turns the store's unique-name conflict (another admin was
// faster) into the same field error the form check gives.
func nameTaken(err error) error {
	if ErrorCode(err) == EConflict && MessageID(err) == "error.team.name_taken" {
		return fieldErrors{"name": "error.team.name_taken"}.err()
	}
	return err
}

// CreateTeam creates a team with a fresh key pair and the given
// municipalities, which other teams give up. The private key is sealed to
// the recovery key pair, so it can always be recovered, and to the
// creating admin, who thereby becomes its first member and can add others
// at once: the key is also put on the admin's live session.
func (o *Office) CreateTeam(ctx context.Context, s *OfficeSession, f TeamForm) (int64, error) {
	if err := allow(s, PermManageTeams); err != nil {
		return 0, err
	}
	teams, err := o.anchor.verifiedTeams(ctx, o.store, o.now())
	if err != nil {
		return 0, err
	}
	name, munis, errs := f.validate(teams, 0)
	if err := errs.err(); err != nil {
		return 0, err
	}
	// A swapped recovery key would hand over this team and every later
	// one: its MAC is checked before anything is sealed to it.
	recoveryPub, err := o.anchor.recoveryPublic(ctx, o.store, o.now())
	if err != nil {
		return 0, err
	}
	pair := vault.NewKeyPair()
	team := Team{Name: name, PublicKey: pair.Public(), Municipalities: munis}
	team.MAC = o.anchor.TeamMAC(team)
	nt := NewTeam{
		Team:        team,
		RecoveryKey: recoveryPub.SealKeyPair(pair, vault.RecoveryAD(pair.Public())),
		CreatorID:   s.User.ID,
		// The session's own key, verified at login, not the stored one.
		CreatorKey: s.User.PublicKey.SealKeyPair(pair, userTeamKeyAD(s.User.Salt, pair.Public())),
		Read:       teams,
		Others:     o.signTeams(assign(teams, 0, munis)),
	}
	var id int64
	// The entry names the new team's ID, so it is written in the unit
	// after the team.
	err = o.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if id, err = o.store.CreateTeam(ctx, nt); err != nil {
			return nameTaken(err)
		}
		return o.audit(ctx, s, AuditTeamCreate, "", fmt.Sprintf("team:%d municipalities:%s", id, strings.Join(munis, ",")))
	})
	if err != nil {
		pair.Wipe()
		return 0, err
	}
	// Only a team that exists goes onto the session.
	s.Keys.Add(id, pair)
	return id, nil
}

// UpdateTeam renames a team and sets its municipalities. Municipalities it
// takes are removed from the teams that had them; a change that would
// leave a municipality without any team is refused, with the reason next
// to the municipalities field.
func (o *Office) UpdateTeam(ctx context.Context, s *OfficeSession, id int64, f TeamForm) error {
	if err := allow(s, PermManageTeams); err != nil {
		return err
	}
	teams, err := o.anchor.verifiedTeams(ctx, o.store, o.now())
	if err != nil {
		return err
	}
	team, ok := findTeam(teams, id)
	if !ok {
		return Errorf(ENotFound, "error.team.not_found")
	}
	name, munis, errs := f.validate(teams, id)
	if len(Uncovered(teams, id, munis)) > 0 {
		errs.add("municipalities", "error.team.uncovered")
	}
	if err := errs.err(); err != nil {
		return err
	}
	team.Name, team.Municipalities = name, munis
	changed := o.signTeams(append(assign(teams, id, munis), team))
	detail := fmt.Sprintf("team:%d municipalities:%s", id, strings.Join(munis, ","))
	return o.audited(ctx, s, AuditTeamUpdate, "", detail, func(ctx context.Context) error {
		return nameTaken(o.store.UpdateTeams(ctx, teams, changed))
	})
}

// AddTeamMember gives a user a team's key, sealed to the user's public key,
// so that their next login opens the team's reports. Only an admin whose
// session holds the team's key can do this: the key is given, never made
// up, so whoever has no copy has nothing to give.
func (o *Office) AddTeamMember(ctx context.Context, s *OfficeSession, teamID, userID int64) error {
	if err := allow(s, PermManageTeams); err != nil {
		return err
	}
	teams, err := o.anchor.verifiedTeams(ctx, o.store, o.now())
	if err != nil {
		return err
	}
	team, ok := findTeam(teams, teamID)
	if !ok {
		return Errorf(ENotFound, "error.team.not_found")
	}
	key, ok := s.Keys.Team(teamID)
	if !ok {
		return Errorf(EConflict, "error.team.key_not_held")
	}
	u, err := o.store.User(ctx, userID)
	if ErrorCode(err) == ENotFound {
		return fieldErrors{"user": "error.team.user_unknown"}.err()
	} else if err != nil {
		return err
	}
	if !eligible(u.Role, u.Disabled) {
		return fieldErrors{"user": "error.team.member_not_eligible"}.err()
	}
	// The team key is about to be sealed to the stored public key: a key
	// swapped by SQL would give the team's reports to whoever swapped it.
	if err := o.anchor.checkUser(ctx, o.store, o.now(), u); err != nil {
		return err
	}
	// The AD names the user (by salt) and the team, so this envelope
	// cannot be passed off as another user's or another team's.
	wrapped := u.PublicKey.SealKeyPair(key, userTeamKeyAD(u.Salt, team.PublicKey))
	return o.audited(ctx, s, AuditTeamMember, "", fmt.Sprintf("add user:%s team:%d", u.Name, teamID), func(ctx context.Context) error {
		err := o.store.AddTeamMember(ctx, teamID, userID, wrapped)
		if ErrorCode(err) == EConflict {
			return fieldErrors{"user": MessageID(err)}.err()
		}
		return err
	})
}

// RemoveTeamMember takes a team's key from a user and rotates it: their
// stored copy is deleted, the team gets a new key pair (new reports are
// sealed to it), and every remaining member and the recovery key pair get
// the new key, in one transaction with the audit entry. A copy of the
// database taken later gives the former member nothing filed after they
// left. Only an admin whose session holds the team's key can do this, since
// the old key must be sealed under the new one for the team's earlier
// cases. The last enabled member cannot be removed, since then no one could
// read the team's reports without the recovery key.
func (o *Office) RemoveTeamMember(ctx context.Context, s *OfficeSession, teamID, userID int64) error {
	if err := allow(s, PermManageTeams); err != nil {
		return err
	}
	users, err := o.store.TeamMembers(ctx, teamID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(users, func(m Member) bool { return m.ID == userID })
	if i < 0 {
		return Errorf(ENotFound, "error.team.not_member")
	}
	if !slices.ContainsFunc(users, func(m Member) bool { return m.ID != userID && m.eligible() }) {
		return Errorf(EConflict, "error.team.last_member")
	}
	teams, err := o.anchor.verifiedTeams(ctx, o.store, o.now())
	if err != nil {
		return err
	}
	team, ok := findTeam(teams, teamID)
	if !ok {
		return Errorf(ENotFound, "error.team.not_found")
	}
	rot, next, err := o.rotation(ctx, s, team, userID)
	if err != nil {
		return err
	}
	defer next.Wipe() // each session gets its own copy
	err = o.store.Revoke(ctx, Revocation{UserID: userID, TeamID: teamID, Rotations: []TeamRotation{rot},
		Audit: o.entry(s, AuditTeamMember, fmt.Sprintf("remove user:%s team:%d rotated", users[i].Name, teamID))})
	if err != nil {
		return err
	}
	o.RevokeTeamKey(userID, teamID)
	o.rotateSessions(map[int64]*vault.KeyPair{teamID: next})
	return nil
}

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
		return TeamRotation{}, nil, err
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

// entry is the audit entry of an action by the session's user.
func (o *Office) entry(s *OfficeSession, action, detail string) *AuditEntry {
	return &AuditEntry{At: o.now(), UserID: s.User.ID, UserName: s.User.Name, Action: action, Detail: detail}
}

// RevokeTeamKey wipes a team's key from every live session of a user.
// Deleting the stored copy only stops the next login; the sessions that
// already unwrapped the key must lose it too, or a removed member could
// keep reading until they log out.
func (o *Office) RevokeTeamKey(userID, teamID int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range o.sessions {
		if s.User.ID == userID {
			s.Keys.Remove(teamID)
		}
	}
}

// signTeams sets the anchor's MAC on teams about to be written.
func (o *Office) signTeams(teams []Team) []Team {
	for i := range teams {
		teams[i].MAC = o.anchor.TeamMAC(teams[i])
	}
	return teams
}
