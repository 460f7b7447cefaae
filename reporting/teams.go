package reporting

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
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

// TeamsStore is what the Teams service reads and writes: the teams and
// their members, the user rows it seals a team key to, the recovery
// public key (a MACed setting) every new team's key is sealed to, and the
// audit log. storage.DB implements it.
type TeamsStore interface {
	AuditStore
	TeamStore
	// Teams lists all teams.
	Teams(ctx context.Context) ([]Team, error)
	// User finds a user by ID; ENotFound if none.
	User(ctx context.Context, id int64) (User, error)
	// SettingMAC returns a setting and its MAC (nil when none is
	// stored), or an ENotFound error.
	SettingMAC(ctx context.Context, key string) (value, mac []byte, err error)
}

// teamKeys is the Office's session map as Teams needs it (office_keys.go):
// the decrypted team keys stay in the Office's sessions, and Teams asks
// the Office to rotate or take them there. *Office implements it.
type teamKeys interface {
	// rotation makes a team's new key pair and what its rotation writes,
	// from the session's copy of the current key.
	rotation(ctx context.Context, s *OfficeSession, team Team, leaving int64) (TeamRotation, *vault.KeyPair, error)
	// completeRotations rotates the pending teams whose key s holds.
	completeRotations(ctx context.Context, s *OfficeSession, teams []Team) error
	// rotateSessions puts rotated keys on every live session holding the old.
	rotateSessions(next map[int64]*vault.KeyPair)
	// revokeTeamKey wipes a team's key from a user's live sessions.
	revokeTeamKey(userID, teamID int64)
}

// Teams is the admins' work on teams: creating and editing them, adding
// and removing members (which rotates the team's key). It holds no
// decrypted key of its own: it seals from and to the keys on the
// *OfficeSession it is given, and changes live sessions only through the
// Office (teamKeys).
type Teams struct {
	auditor
	store  TeamsStore
	keys   teamKeys
	anchor *Anchor
	now    func() time.Time
}

// NewTeams returns the Teams service. keys is the *Office whose sessions
// hold the team keys; anchor checks every team and user row before a key
// is sealed to it.
func NewTeams(store TeamsStore, keys teamKeys, anchor *Anchor, now func() time.Time) *Teams {
	return &Teams{auditor: auditor{log: store, now: now}, store: store, keys: keys, anchor: anchor, now: now}
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
func (tm *Teams) TeamOverview(ctx context.Context, s *OfficeSession) ([]TeamInfo, error) {
	if err := allow(s, PermManageTeams); err != nil {
		return nil, err
	}
	if good, err := tm.anchor.goodTeams(ctx, tm.store, tm.now()); err != nil {
		slog.Warn("pending team key rotation failed", "user", s.User.ID, "err", err)
	} else if err := tm.keys.completeRotations(ctx, s, good); err != nil {
		slog.Warn("pending team key rotation failed", "user", s.User.ID, "err", err)
	}
	teams, err := tm.store.Teams(ctx)
	if err != nil {
		return nil, opError("team overview", err)
	}
	out := make([]TeamInfo, len(teams))
	for i, t := range teams {
		users, err := tm.store.TeamMembers(ctx, t.ID)
		if err != nil {
			return nil, opError("team overview", err)
		}
		_, held := s.Keys.Team(t.ID)
		out[i] = TeamInfo{Team: t, Members: users, HoldsKey: held}
	}
	return out, nil
}

// TeamDetail returns one team with its members and the users who may be
// added.
func (tm *Teams) TeamDetail(ctx context.Context, s *OfficeSession, id int64) (TeamInfo, error) {
	if err := allow(s, PermManageTeams); err != nil {
		return TeamInfo{}, err
	}
	teams, err := tm.store.Teams(ctx)
	if err != nil {
		return TeamInfo{}, opError("team detail", err)
	}
	t, ok := findTeam(teams, id)
	if !ok {
		return TeamInfo{}, Errorf(ENotFound, "error.team.not_found")
	}
	users, err := tm.store.TeamMembers(ctx, id)
	if err != nil {
		return TeamInfo{}, opError("team detail", err)
	}
	outside, err := tm.store.UsersOutsideTeam(ctx, id)
	if err != nil {
		return TeamInfo{}, opError("team detail", err)
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
func (tm *Teams) CreateTeam(ctx context.Context, s *OfficeSession, f TeamForm) (int64, error) {
	if err := allow(s, PermManageTeams); err != nil {
		return 0, err
	}
	teams, err := tm.anchor.verifiedTeams(ctx, tm.store, tm.now())
	if err != nil {
		return 0, opError("create team", err)
	}
	name, munis, errs := f.validate(teams, 0)
	if err := errs.err(); err != nil {
		return 0, err
	}
	// A swapped recovery key would hand over this team and every later
	// one: its MAC is checked before anything is sealed to it.
	recoveryPub, err := tm.anchor.recoveryPublic(ctx, tm.store, tm.now())
	if err != nil {
		return 0, opError("create team", err)
	}
	pair := vault.NewKeyPair()
	team := Team{Name: name, PublicKey: pair.Public(), Municipalities: munis}
	team.MAC = tm.anchor.TeamMAC(team)
	nt := NewTeam{
		Team:        team,
		RecoveryKey: recoveryPub.SealKeyPair(pair, vault.RecoveryAD(pair.Public())),
		CreatorID:   s.User.ID,
		// The session's own key, verified at login, not the stored one.
		CreatorKey: s.User.PublicKey.SealKeyPair(pair, userTeamKeyAD(s.User.Salt, pair.Public())),
		Read:       teams,
		Others:     tm.anchor.signTeams(assign(teams, 0, munis)),
	}
	var id int64
	// The entry names the new team's ID, so it is written in the unit
	// after the team.
	err = tm.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		if id, err = tm.store.CreateTeam(ctx, nt); err != nil {
			return nameTaken(err)
		}
		return tm.audit(ctx, s, AuditTeamCreate, "", fmt.Sprintf("team:%d municipalities:%s", id, strings.Join(munis, ",")))
	})
	if err != nil {
		pair.Wipe()
		return 0, opError("create team", err)
	}
	// Only a team that exists goes onto the session.
	s.Keys.Add(id, pair)
	return id, nil
}

// UpdateTeam renames a team and sets its municipalities. Municipalities it
// takes are removed from the teams that had them; a change that would
// leave a municipality without any team is refused, with the reason next
// to the municipalities field.
func (tm *Teams) UpdateTeam(ctx context.Context, s *OfficeSession, id int64, f TeamForm) error {
	if err := allow(s, PermManageTeams); err != nil {
		return err
	}
	teams, err := tm.anchor.verifiedTeams(ctx, tm.store, tm.now())
	if err != nil {
		return opError("update team", err)
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
	changed := tm.anchor.signTeams(append(assign(teams, id, munis), team))
	detail := fmt.Sprintf("team:%d municipalities:%s", id, strings.Join(munis, ","))
	err = tm.audited(ctx, s, AuditTeamUpdate, "", detail, func(ctx context.Context) error {
		return nameTaken(tm.store.UpdateTeams(ctx, teams, changed))
	})
	return opError("update team", err)
}

// AddTeamMember gives a user a team's key, sealed to the user's public key,
// so that their next login opens the team's reports. Only an admin whose
// session holds the team's key can do this: the key is given, never made
// up, so whoever has no copy has nothing to give.
func (tm *Teams) AddTeamMember(ctx context.Context, s *OfficeSession, teamID, userID int64) error {
	if err := allow(s, PermManageTeams); err != nil {
		return err
	}
	teams, err := tm.anchor.verifiedTeams(ctx, tm.store, tm.now())
	if err != nil {
		return opError("add team member", err)
	}
	team, ok := findTeam(teams, teamID)
	if !ok {
		return Errorf(ENotFound, "error.team.not_found")
	}
	key, ok := s.Keys.Team(teamID)
	if !ok {
		return Errorf(EConflict, "error.team.key_not_held")
	}
	u, err := tm.store.User(ctx, userID)
	if ErrorCode(err) == ENotFound {
		return fieldErrors{"user": "error.team.user_unknown"}.err()
	} else if err != nil {
		return opError("add team member", err)
	}
	if !eligible(u.Role, u.Disabled) {
		return fieldErrors{"user": "error.team.member_not_eligible"}.err()
	}
	// The team key is about to be sealed to the stored public key: a key
	// swapped by SQL would give the team's reports to whoever swapped it.
	if err := tm.anchor.checkUser(ctx, tm.store, tm.now(), u); err != nil {
		return opError("add team member", err)
	}
	// The AD names the user (by salt) and the team, so this envelope
	// cannot be passed off as another user's or another team's.
	wrapped := u.PublicKey.SealKeyPair(key, userTeamKeyAD(u.Salt, team.PublicKey))
	err = tm.audited(ctx, s, AuditTeamMember, "", fmt.Sprintf("add user:%s team:%d", u.Name, teamID), func(ctx context.Context) error {
		err := tm.store.AddTeamMember(ctx, teamID, userID, wrapped)
		if ErrorCode(err) == EConflict {
			return fieldErrors{"user": MessageID(err)}.err()
		}
		return err
	})
	return opError("add team member", err)
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
func (tm *Teams) RemoveTeamMember(ctx context.Context, s *OfficeSession, teamID, userID int64) error {
	if err := allow(s, PermManageTeams); err != nil {
		return err
	}
	users, err := tm.store.TeamMembers(ctx, teamID)
	if err != nil {
		return opError("remove team member", err)
	}
	i := slices.IndexFunc(users, func(m Member) bool { return m.ID == userID })
	if i < 0 {
		return Errorf(ENotFound, "error.team.not_member")
	}
	if !slices.ContainsFunc(users, func(m Member) bool { return m.ID != userID && m.eligible() }) {
		return Errorf(EConflict, "error.team.last_member")
	}
	teams, err := tm.anchor.verifiedTeams(ctx, tm.store, tm.now())
	if err != nil {
		return opError("remove team member", err)
	}
	team, ok := findTeam(teams, teamID)
	if !ok {
		return Errorf(ENotFound, "error.team.not_found")
	}
	rot, next, err := tm.keys.rotation(ctx, s, team, userID)
	if err != nil {
		return opError("remove team member", err)
	}
	defer next.Wipe() // each session gets its own copy
	err = tm.store.Revoke(ctx, Revocation{UserID: userID, TeamID: teamID, Rotations: []TeamRotation{rot},
		Audit: tm.entry(s, AuditTeamMember, fmt.Sprintf("remove user:%s team:%d rotated", users[i].Name, teamID))})
	if err != nil {
		return opError("remove team member", err)
	}
	tm.keys.revokeTeamKey(userID, teamID)
	tm.keys.rotateSessions(map[int64]*vault.KeyPair{teamID: next})
	return nil
}

// RevokeTeamKey wipes a team's key from every live session of a user.
// Deleting the stored copy only stops the next login; the sessions that
// already unwrapped the key must lose it too, or a removed member could
// keep reading until they log out.
func (tm *Teams) RevokeTeamKey(userID, teamID int64) { tm.keys.revokeTeamKey(userID, teamID) }

// signTeams sets the anchor's MAC on teams about to be written.
func (a *Anchor) signTeams(teams []Team) []Team {
	for i := range teams {
		teams[i].MAC = a.TeamMAC(teams[i])
	}
	return teams
}
