package reporting

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Limits of office accounts.
const (
	// InvitationLifetime is how long an invitation link can be used.
	InvitationLifetime = 72 * time.Hour
	// FreeLoginAttempts is how many failed logins in a row an account
	// takes before each further attempt has to wait.
	FreeLoginAttempts = 5
	// LoginLockBase is the wait after FreeLoginAttempts failures; each
	// further failure doubles it, up to LoginLockMax.
	LoginLockBase = 30 * time.Second
	// LoginLockMax caps the wait: long enough to make guessing hopeless
	// (at most 96 guesses a day), short enough that someone who only
	// mistyped is not locked out for the day.
	LoginLockMax = 15 * time.Minute
	// MaxLoginDevices is how many known devices a user keeps; a login
	// from one more forgets the one unused longest.
	MaxLoginDevices = 10
	// LoginDeviceLifetime is how long a known device stays known without
	// a successful login from it.
	LoginDeviceLifetime = 90 * 24 * time.Hour
)

// AuditLoginUnlock: an admin (or the operator on the command line) reset
// a user's failed logins and locks.
const AuditLoginUnlock = "login_unlock"

// User states on the users page.
const (
	StateActive   = "active"
	StateDisabled = "disabled"
	StateInvited  = "invited" // the link was sent, no password set yet
	StateExpired  = "expired" // invited, but the link expired unused
)

// UserRoles lists the roles of office users, for forms.
var UserRoles = []string{RoleAdmin, RoleCounsellor, RoleStatistician}

// settingRecoveryPublic is the settings key of the recovery key pair's
// public half, written at setup.
const settingRecoveryPublic = "recovery_public_key"

// Invitation is a pending invitation as stored: the token's hash only, and
// the invited user's provisional private key wrapped under a key derived
// from the token. The provisional pair holds the team keys only until
// acceptance, which replaces it (see Accounts.AcceptInvitation).
type Invitation struct {
	UserID     int64
	TokenHash  []byte
	WrappedKey []byte
	Expires    time.Time
	CreatedBy  int64
}

// Acceptance is what accepting an invitation writes: the invitee's
// password credentials, their fresh key pair (public half, MAC, private
// half wrapped under the password's key) and their team keys sealed to it.
type Acceptance struct {
	TokenHash  []byte
	Now        time.Time
	Params     vault.Params
	Verifier   []byte
	WrappedKey []byte
	PublicKey  vault.PublicKey
	MAC        []byte
	Keys       []WrappedTeamKey // PublicKey: the team's key the copy holds
}

// UserRow is one line of the users page.
type UserRow struct {
	ID        int64
	Name      string
	Role      string
	Teams     []string // names of the teams whose key is sealed to the user
	Disabled  bool
	Pending   bool      // invited, no password set yet
	Expires   time.Time // of the pending invitation; zero when none is left
	LastLogin string    // the day of the last login, "" for never
	State     string    // one of the State constants; set by Accounts.Users

	LoginFailures  int       // failed logins on the shared counter of unknown clients
	DeviceFailures int       // failed logins on the user's known devices, summed
	LockedUntil    time.Time // the shared counter's lock; zero when none was set
	Locked         bool      // the shared lock is active now; set by Accounts.Users
	// LastAdmin: the user is the only active admin (enabled, not
	// pending), so neither another role nor disabling can be offered;
	// set by Accounts.Users.
	LastAdmin bool
}

// LoginState is a counter's run of failed logins and the lock it earned.
type LoginState struct {
	Failures    int
	LockedUntil time.Time
}

// LoginBucket names the failure counter a login attempt spends: the
// account's shared counter of clients it does not know (Device 0), or the
// counter of one of the account's known devices (LoginDevice.ID).
type LoginBucket struct {
	UserID int64
	Device int64
}

// LoginDevice is a browser that completed a login (password and second
// factor), as stored: only its token's hash. It authenticates nothing; it
// only decides which counter the browser's login attempts spend.
type LoginDevice struct {
	ID        int64
	UserID    int64
	TokenHash []byte
	Created   time.Time
	LastUsed  time.Time // of the last successful login from it
}

// AccountStore keeps office users beyond the first admin: invitations,
// roles, disabling, password changes, login throttling and sessions.
// storage.DB implements it; the services take the part they use.
type AccountStore interface {
	UserAdminStore
	LoginStore
}

// UserAdminStore is the admins' side of the accounts: invitations, roles,
// disabling and unlocking.
type UserAdminStore interface {
	// CreateUser stores a user, the team keys sealed to them and, for an
	// invited user, the invitation, in one transaction, and returns the
	// user's ID; EConflict "error.accounts.name_taken" if the name is in
	// use.
	CreateUser(ctx context.Context, u User, keys []WrappedTeamKey, inv *Invitation) (int64, error)
	// Invitation finds the invitation with this token hash; ENotFound if
	// there is none or it expired before now.
	Invitation(ctx context.Context, tokenHash []byte, now time.Time) (Invitation, error)
	// AcceptInvitation sets the invited user's password credentials and
	// new key pair, replaces their team key copies with a.Keys and deletes
	// the invitation, in one transaction; ENotFound if the invitation is
	// gone or expired before now, EConflict "error.team.changed" if the
	// user's copies are no longer those a.Keys replace (a team key was
	// rotated or a team added meanwhile: accepting again works).
	AcceptInvitation(ctx context.Context, a Acceptance) error
	// DeleteExpiredInvitations deletes invitations that expired before now.
	DeleteExpiredInvitations(ctx context.Context, now time.Time) error
	// WithdrawInvitation deletes a user who has not accepted their
	// invitation yet, with everything sealed to them; ENotFound if there
	// is no such user.
	WithdrawInvitation(ctx context.Context, userID int64) error
	// UserRows lists every user with their teams, by name.
	UserRows(ctx context.Context) ([]UserRow, error)
	// SetUserDisabled disables or enables a user; disabling deletes their
	// sessions in the same transaction. EConflict
	// "error.accounts.last_admin" if it would leave no active admin.
	SetUserDisabled(ctx context.Context, userID int64, disabled bool) error
	// SetUserRole changes a user's role and deletes their sessions; to
	// statistician it also deletes their team keys. EConflict
	// "error.accounts.last_admin" if it would leave no active admin.
	SetUserRole(ctx context.Context, userID int64, role string) error
	// UnlockLogin resets a user's shared counter and all their device
	// counters and appends e to the audit log, in one transaction;
	// ENotFound if there is no such user.
	UnlockLogin(ctx context.Context, userID int64, e *AuditEntry) error
}

// LoginStore is the login's side of the accounts: sessions of users,
// the throttling counters, known devices and password changes.
type LoginStore interface {
	// ChangePassword replaces a user's credentials and wrapped private key
	// if their verifier is still oldVerifier (EConflict otherwise), and
	// deletes their sessions but keepSession.
	ChangePassword(ctx context.Context, userID int64, oldVerifier []byte, params vault.Params, verifier, wrapped, oldTOTP, newTOTP, keepSession []byte) error
	// DeleteUserSessions deletes every session of a user.
	DeleteUserSessions(ctx context.Context, userID int64) error
	// CreateUserSession stores a new session if the user is still enabled
	// with this role and verifier; EUnauthorized otherwise.
	CreateUserSession(ctx context.Context, s Session, role string, verifier []byte) error
	// ReserveLoginAttempt decides, in one transaction, whether an attempt
	// may be evaluated: false if the counter is locked at now; otherwise
	// it counts the attempt as a failure in advance, sets the lock to
	// lock(failures so far) and returns true. ENotFound if there is no
	// such user, or no such device of the user.
	ReserveLoginAttempt(ctx context.Context, b LoginBucket, now time.Time, lock func(failures int) time.Time) (bool, error)
	// ClearLoginFailures resets a counter after a successful login; for a
	// device it also records now as its last use.
	ClearLoginFailures(ctx context.Context, b LoginBucket, now time.Time) error
	// RecordLogin records the day of a user's successful login.
	RecordLogin(ctx context.Context, userID int64, day string) error
	// LoginDevice finds a known device by its token's hash; ENotFound if
	// there is none.
	LoginDevice(ctx context.Context, tokenHash []byte) (LoginDevice, error)
	// AddLoginDevice stores a new known device and returns its ID; in the
	// same transaction it deletes devices unused since expireBefore and
	// the user's devices beyond the keep most recently used.
	AddLoginDevice(ctx context.Context, d LoginDevice, keep int, expireBefore time.Time) (int64, error)
}

// Accounts is the admins' work on office users (invitations, roles,
// disabling, unlocking, recovery) and each user's own account page and
// password. It holds no session and no decrypted key of its own: the
// team keys it seals to a new user come from the acting admin's session,
// and the Office keeps the session map it asks to end or update.
type Accounts struct {
	auditor
	store   AccountsStore
	kdf     *vault.KDF
	params  vault.Params // argon2id parameters for new and accepting users
	anchor  *Anchor
	office  accountsOffice
	rotator teamRotator
	now     func() time.Time
}

// AccountsStore is what Accounts reads and writes.
type AccountsStore interface {
	AuditStore
	UserAdminStore
	// User, UserByName, UserTeamKeys, RecoveryKeys, Teams, Setting and
	// DeleteSession are those of Store; Revoke that of TeamStore.
	User(ctx context.Context, id int64) (User, error)
	UserByName(ctx context.Context, name string) (User, error)
	UserTeamKeys(ctx context.Context, userID int64) ([]WrappedTeamKey, error)
	RecoveryKeys(ctx context.Context) ([]WrappedTeamKey, error)
	Teams(ctx context.Context) ([]Team, error)
	Setting(ctx context.Context, key string) ([]byte, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
	Revoke(ctx context.Context, r Revocation) error
}

// accountsOffice is what Accounts needs of the Office: the password check
// with the login lockout and the password change it shares with the
// login, and the session map (listing, ending and re-keying a user's live
// sessions). *Office implements it.
type accountsOffice interface {
	passwordChecker
	rewrap(ctx context.Context, u User, oldKEK vault.Key, pair *vault.KeyPair, password string) (rewrapped, error)
	storeRewrap(ctx context.Context, u User, r rewrapped, keep *OfficeSession) error
	sessionsOf(userID int64, current *OfficeSession) []SessionInfo
	dropSession(userID int64, id string) ([]byte, bool)
	forgetSessions(userID int64, keep *OfficeSession)
	rotateSessions(next map[int64]*vault.KeyPair)
}

// teamRotator makes a team key's rotation (teams.go): a disabled user or
// a new statistician loses every team key, and the teams whose key the
// acting admin holds get a new one.
type teamRotator interface {
	rotation(ctx context.Context, s *OfficeSession, team Team, leaving int64) (TeamRotation, *vault.KeyPair, error)
}

// NewAccounts returns the accounts service. params are the argon2id
// parameters for new users and accepted invitations (the Office's);
// office is the *Office whose sessions and login lockout the accounts
// share; rotator makes team key rotations (the teams service).
func NewAccounts(store AccountsStore, kdf *vault.KDF, params vault.Params, anchor *Anchor, office accountsOffice, rotator teamRotator, now func() time.Time) *Accounts {
	return &Accounts{auditor: auditor{log: store, now: now}, store: store, kdf: kdf, params: params, anchor: anchor, office: office, rotator: rotator, now: now}
}

func accountNameOK(name string) bool {
	return name != "" && utf8.RuneCountInString(name) <= 64
}

// RevokeSession ends another session of the same user (one left open on
// another computer). The current session ends by logging out instead.
//
// Like a logout, the revoked session loses its keys at once, before its
// row and the audit entry are written together: if that unit fails, the
// user sees an error, the row stays (harmless: without the map entry it
// logs nobody in, and the next start deletes it) and no entry claims a
// revocation that is not stored; but a session the user wants ended on a
// computer they cannot reach is never kept alive by a broken log.
func (a *Accounts) RevokeSession(ctx context.Context, s *OfficeSession, id string) error {
	if id == s.ID() {
		return Errorf(EConflict, "error.accounts.revoke_current")
	}
	// Only the user's own sessions: an ID of someone else's session is
	// "not found", like a made-up one.
	hash, found := a.office.dropSession(s.User.ID, id)
	if !found {
		return Errorf(ENotFound, "error.not_found")
	}
	return opError("revoke session", a.audited(ctx, s, AuditSessionRevoke, "", "session="+id, func(ctx context.Context) error {
		return a.store.DeleteSession(ctx, hash)
	}))
}

// Account is what the account page shows a user about themselves.
type Account struct {
	User     User
	Teams    []string
	Sessions []SessionInfo
}

// Account returns the session user's account: role, teams and live
// sessions.
func (a *Accounts) Account(ctx context.Context, s *OfficeSession) (Account, error) {
	teams, err := a.teamNames(ctx, s.User.ID)
	if err != nil {
		return Account{}, opError("account", err)
	}
	return Account{User: s.User, Teams: teams, Sessions: a.office.sessionsOf(s.User.ID, s)}, nil
}

// teamNames returns the names of the teams whose key is sealed to a user.
func (a *Accounts) teamNames(ctx context.Context, userID int64) ([]string, error) {
	keys, err := a.store.UserTeamKeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	teams, err := a.store.Teams(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range teams {
		if slices.ContainsFunc(keys, func(k WrappedTeamKey) bool { return k.TeamID == t.ID }) {
			names = append(names, t.Name)
		}
	}
	return names, nil
}

// UnlockLogin resets a user's failed logins and locks, the shared counter
// and every device's; admins only. The audit entry is written in the same
// transaction.
func (a *Accounts) UnlockLogin(ctx context.Context, s *OfficeSession, userID int64) error {
	if err := allow(s, PermManageAccounts); err != nil {
		return err
	}
	e := &AuditEntry{At: a.now(), UserID: s.User.ID, UserName: s.User.Name, Action: AuditLoginUnlock, Detail: fmt.Sprintf("user=%d", userID)}
	if err := a.store.UnlockLogin(ctx, userID, e); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}

// UnlockLoginByName is UnlockLogin for the command line, for a deployment
// whose only admin is locked out without a known browser. Whoever runs it
// holds the server and its database already; the entry names the
// "system" as the actor.
func (a *Accounts) UnlockLoginByName(ctx context.Context, name string) error {
	u, err := a.store.UserByName(ctx, strings.TrimSpace(name))
	if err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	e := &AuditEntry{At: a.now(), UserName: "system", Action: AuditLoginUnlock, Detail: fmt.Sprintf("user=%d command_line", u.ID)}
	if err := a.store.UnlockLogin(ctx, u.ID, e); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}

// ---- users (admin) ----

// Users lists every office user with role, teams and state, for an admin.
// Invitation copies that expired are deleted first: an expired link can
// never be used, and the wrapped key has no business staying around.
func (a *Accounts) Users(ctx context.Context, s *OfficeSession) ([]UserRow, error) {
	if err := allow(s, PermManageAccounts); err != nil {
		return nil, opError("users", err)
	}
	now := a.now()
	if err := a.store.DeleteExpiredInvitations(ctx, now); err != nil {
		return nil, opError("users", err)
	}
	rows, err := a.store.UserRows(ctx)
	if err != nil {
		return nil, opError("users", err)
	}
	for i := range rows {
		r := &rows[i]
		if !r.Expires.IsZero() {
			r.Expires = r.Expires.In(now.Location()) // the office's time zone, like every other time shown
		}
		switch {
		case r.Disabled:
			r.State = StateDisabled
		case r.Pending && !r.Expires.IsZero() && now.Before(r.Expires):
			r.State = StateInvited
		case r.Pending:
			r.State = StateExpired
		default:
			r.State = StateActive
		}
		r.Locked = now.Before(r.LockedUntil)
		if !r.LockedUntil.IsZero() {
			r.LockedUntil = r.LockedUntil.In(now.Location())
		}
	}
	markLastAdmin(rows)
	return rows, nil
}

// markLastAdmin marks the only active admin, if there is exactly one.
// Only what the page offers: the store refuses the change itself inside
// its transaction (error.accounts.last_admin), so a list that is stale by
// the time someone clicks cannot leave the office without an admin.
func markLastAdmin(rows []UserRow) {
	last := -1
	for i, r := range rows {
		if r.Role == RoleAdmin && r.State == StateActive {
			if last >= 0 {
				return
			}
			last = i
		}
	}
	if last >= 0 {
		rows[last].LastAdmin = true
	}
}

// ReapInvitations deletes the invitations that expired, with the team
// key copies of invited users who have no live invitation left; the
// reaper runs it every minute.
func (a *Accounts) ReapInvitations(ctx context.Context) error {
	if err := a.store.DeleteExpiredInvitations(ctx, a.now()); err != nil {
		return fmt.Errorf("reap invitations: %w", err)
	}
	return nil
}

// InviteTeams lists the teams an admin can invite people to: those whose
// key their session holds, since the invitation seals that key to the new
// user.
func (a *Accounts) InviteTeams(ctx context.Context, s *OfficeSession) ([]Team, error) {
	if err := allow(s, PermManageAccounts); err != nil {
		return nil, opError("invite teams", err)
	}
	teams, err := a.store.Teams(ctx)
	if err != nil {
		return nil, opError("invite teams", err)
	}
	return slices.DeleteFunc(teams, func(t Team) bool {
		_, ok := s.Keys.Team(t.ID)
		return !ok
	}), nil
}

// InviteForm is the invitation form.
type InviteForm struct {
	Name  string
	Role  string
	Teams []int64
}

// Invited is a new invitation: the token for the link (shown once, never
// stored) and when the link expires.
type Invited struct {
	Token   string
	Expires time.Time
}

// Invite creates a user and returns the one-time token of their invitation
// link. The user's key pair is made now: its private half is wrapped under
// a key derived from the token, and the chosen team keys (taken from the
// admin's session) are sealed to its public half, so the invitee holds
// them the moment they set a password. Only the token's hash is stored.
func (a *Accounts) Invite(ctx context.Context, s *OfficeSession, f InviteForm) (Invited, error) {
	if err := allow(s, PermManageAccounts); err != nil {
		return Invited{}, opError("invite", err)
	}
	errs := fieldErrors{}
	f.Name = strings.TrimSpace(f.Name)
	if !accountNameOK(f.Name) {
		errs.add("name", "error.setup.username")
	}
	if !slices.Contains(UserRoles, f.Role) {
		errs.add("role", "error.accounts.role")
	}
	slices.Sort(f.Teams)
	f.Teams = slices.Compact(f.Teams)
	// Statistics never need decryption, so a statistician holds no key.
	if f.Role == RoleStatistician && len(f.Teams) > 0 {
		errs.add("teams", "error.accounts.statistician_teams")
	}
	pairs := make([]*vault.KeyPair, 0, len(f.Teams))
	for _, id := range f.Teams {
		kp, ok := s.Keys.Team(id)
		if !ok {
			errs.add("teams", "error.accounts.team_not_held")
			break
		}
		pairs = append(pairs, kp)
	}
	if err := errs.err(); err != nil {
		return Invited{}, opError("invite", err)
	}

	token := vault.NewToken()
	salt := vault.NewSalt()
	pair := vault.NewKeyPair()
	u := User{Name: f.Name, Role: f.Role, Salt: salt, Params: a.params,
		// Empty until accepted: no password derives an empty verifier.
		Verifier: []byte{}, WrappedKey: []byte{}, PublicKey: pair.Public()}
	u.MAC = a.anchor.UserMAC(u)
	keys := make([]WrappedTeamKey, len(pairs))
	for i, kp := range pairs {
		keys[i] = WrappedTeamKey{TeamID: f.Teams[i], PublicKey: kp.Public(),
			Wrapped: pair.Public().SealKeyPair(kp, userTeamKeyAD(salt, kp.Public()))}
	}
	inv := &Invitation{
		TokenHash:  vault.HashToken(token),
		WrappedKey: vault.InvitationKey(token, salt).WrapKeyPair(pair, invitationAD(salt)),
		Expires:    a.now().Add(InvitationLifetime),
		CreatedBy:  s.User.ID,
	}
	teams := make([]string, len(f.Teams))
	for i, t := range f.Teams {
		teams[i] = strconv.FormatInt(t, 10)
	}
	// The entry names the new user's ID, which only the insert tells.
	err := a.store.Atomically(ctx, func(ctx context.Context) error {
		id, err := a.store.CreateUser(ctx, u, keys, inv)
		if err != nil {
			return err
		}
		return a.audit(ctx, s, AuditUserInvite, "", fmt.Sprintf("user=%d role=%s teams=%s", id, f.Role, strings.Join(teams, ",")))
	})
	if ErrorCode(err) == EConflict {
		return Invited{}, fieldErrors{"name": MessageID(err)}.err()
	}
	if err != nil {
		return Invited{}, opError("invite", err)
	}
	return Invited{Token: token, Expires: inv.Expires}, nil
}

func invitationAD(salt []byte) vault.AD {
	return vault.InvitationAD("user:" + hex.EncodeToString(salt))
}

// Invitation returns the name of the user a pending invitation is for.
// Unknown, used and expired links are all "not found".
func (a *Accounts) Invitation(ctx context.Context, token string) (string, error) {
	_, u, err := a.invitation(ctx, token)
	return u.Name, opError("invitation", err)
}

func (a *Accounts) invitation(ctx context.Context, token string) (Invitation, User, error) {
	if token == "" {
		return Invitation{}, User{}, Errorf(ENotFound, "error.not_found")
	}
	inv, err := a.store.Invitation(ctx, vault.HashToken(token), a.now())
	if err != nil {
		return Invitation{}, User{}, err
	}
	u, err := a.store.User(ctx, inv.UserID)
	return inv, u, err
}

// AcceptForm is the invitee's password form.
type AcceptForm struct {
	Token    string
	Password string
	Confirm  string
}

// AcceptInvitation sets the invitee's password and gives them a key pair
// of their own. The invitation's provisional pair (made at invitation
// time, wrapped under the token's key) opens the team keys the inviting
// admin gave; they are sealed to a fresh pair made now, whose private half
// only the password's key-encryption key (argon2id) wraps; the provisional
// copies and the invitation are deleted in the same transaction. So the
// link together with a copy of the database from its 72 hours opens only
// the team keys the invitation gave, never a key the user receives after
// accepting (a team added later, a rotated key). The link works once.
//
// The other way, making the pair only at acceptance and having a team
// member seal the team keys later, would leave the invitee without their
// teams until someone logs in, and need stored pending grants that a
// database writer could replay; this keeps the admin's direct gift.
func (a *Accounts) AcceptInvitation(ctx context.Context, f AcceptForm) error {
	inv, u, err := a.invitation(ctx, f.Token)
	if err != nil {
		return opError("accept invitation", err)
	}
	if err := passwordErrors("password", f.Password, f.Confirm); err != nil {
		return opError("accept invitation", err)
	}
	if err := a.anchor.checkUser(ctx, a.store, a.now(), u); err != nil {
		return opError("accept invitation", err)
	}
	// A stored invitation that the token found but does not open is
	// corruption, not a wrong link: an internal error.
	provisional, err := vault.InvitationKey(f.Token, u.Salt).UnwrapKeyPair(inv.WrappedKey, u.PublicKey, invitationAD(u.Salt))
	if err != nil {
		return opError("accept invitation", err)
	}
	defer provisional.Wipe()
	held, err := a.store.UserTeamKeys(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("accept invitation: %w", err)
	}
	var teams []Team
	if len(held) > 0 {
		if teams, err = a.anchor.verifiedTeams(ctx, a.store, a.now()); err != nil {
			return err
		}
	}
	fresh := vault.NewKeyPair()
	defer fresh.Wipe()
	keys := make([]WrappedTeamKey, 0, len(held))
	for _, w := range held {
		// Only keys of MACed teams move to the new pair: an envelope of a
		// team a database writer made up is refused (and shown to the
		// admins), not passed on.
		if t, ok := findTeam(teams, w.TeamID); !ok || t.PublicKey != w.PublicKey {
			return a.anchor.refuse(ctx, a.store, a.now(), fmt.Sprintf("invitation envelope team:%d", w.TeamID))
		}
		kp, err := provisional.OpenKeyPair(w.Wrapped, w.PublicKey, userTeamKeyAD(u.Salt, w.PublicKey))
		if err != nil {
			return fmt.Errorf("accept invitation: team %d: %w", w.TeamID, err)
		}
		keys = append(keys, WrappedTeamKey{TeamID: w.TeamID, PublicKey: w.PublicKey,
			Wrapped: fresh.Public().SealKeyPair(kp, userTeamKeyAD(u.Salt, w.PublicKey))})
		kp.Wipe()
	}
	creds, err := a.kdf.Password(ctx, f.Password, u.Salt, a.params)
	if err != nil {
		return opError("accept invitation", err)
	}
	defer creds.Wipe()
	u.PublicKey = fresh.Public()
	acc := Acceptance{TokenHash: inv.TokenHash, Now: a.now(), Params: a.params,
		Verifier: creds.Verifier, WrappedKey: creds.KEK.WrapKeyPair(fresh, userKeyAD(u.Salt)),
		PublicKey: u.PublicKey, MAC: a.anchor.UserMAC(u), Keys: keys}
	err = a.store.Atomically(ctx, func(ctx context.Context) error {
		if err := a.store.AcceptInvitation(ctx, acc); err != nil {
			return err
		}
		return a.auditUser(ctx, u, AuditUserAccept, "")
	})
	if ErrorCode(err) == EConflict {
		// A team key was rotated or given meanwhile: nothing was written,
		// the link still works, and sending the form again picks it up.
		return fieldErrors{"password": "error.revoke.accept_retry"}.err()
	}
	return opError("accept invitation", err)
}

// passwordErrors checks a new password and its confirmation.
func passwordErrors(field, password, confirm string) error {
	errs := fieldErrors{}
	if utf8.RuneCountInString(password) < MinPassword {
		errs.add(field, "error.setup.password_short")
	} else if password != confirm {
		errs.add("confirm", "error.setup.password_mismatch")
	}
	return errs.err()
}

// WithdrawInvitation deletes a user who never accepted their invitation
// (for example because the link expired), so the name can be invited
// again.
func (a *Accounts) WithdrawInvitation(ctx context.Context, s *OfficeSession, userID int64) error {
	if err := allow(s, PermManageAccounts); err != nil {
		return opError("withdraw invitation", err)
	}
	return opError("withdraw invitation", a.audited(ctx, s, AuditDelete, "", fmt.Sprintf("invitation user=%d", userID), func(ctx context.Context) error {
		return a.store.WithdrawInvitation(ctx, userID)
	}))
}

// SetDisabled disables or enables a user. A disabled user's sessions end
// at once (rows and keys), they cannot log in, and every team key they
// held is taken from them: their copies are deleted and the key of each of
// their teams whose key the acting admin's session holds is rotated (see
// RemoveTeamMember), all in one transaction with the audit entry. A team
// whose key the admin does not hold loses the user's copy but keeps its
// key for now; the audit entry names it ("unrotated") and the team is
// marked, so that the next login of a member holding its key rotates it
// (see Office.completeRotations). Enabling a user again
// gives back no key: an admin adds them to their teams again. An admin
// cannot disable themselves, nor the last active admin.
func (a *Accounts) SetDisabled(ctx context.Context, s *OfficeSession, userID int64, disabled bool) error {
	if err := allow(s, PermManageAccounts); err != nil {
		return opError("set disabled", err)
	}
	if disabled && userID == s.User.ID {
		return Errorf(EConflict, "error.accounts.disable_self")
	}
	u, err := a.store.User(ctx, userID)
	if err != nil {
		return opError("set disabled", err)
	}
	if u.Disabled == disabled {
		return nil
	}
	if !disabled {
		return opError("enable user", a.audited(ctx, s, AuditUserEnable, "", fmt.Sprintf("user=%d", userID), func(ctx context.Context) error {
			return a.store.SetUserDisabled(ctx, userID, false)
		}))
	}
	return opError("disable user", a.revokeAll(ctx, s, Revocation{UserID: userID, Disable: true}, AuditUserDisable, fmt.Sprintf("user=%d", userID)))
}

// revokeAll takes every team key from a user who is disabled or made a
// statistician (r says which): their copies are deleted and the key of
// each of their teams whose key the acting admin's session holds is
// rotated, in one transaction with the audit entry; then their sessions
// end and the other live sessions get the new keys.
func (a *Accounts) revokeAll(ctx context.Context, s *OfficeSession, r Revocation, action, detail string) error {
	held, err := a.store.UserTeamKeys(ctx, r.UserID)
	if err != nil {
		return fmt.Errorf("revoke team keys: %w", err)
	}
	next := map[int64]*vault.KeyPair{}
	defer func() {
		for _, kp := range next {
			kp.Wipe()
		}
	}()
	var unrotated []string
	if len(held) > 0 {
		teams, err := a.anchor.verifiedTeams(ctx, a.store, a.now())
		if err != nil {
			return err
		}
		for _, w := range held {
			t, ok := findTeam(teams, w.TeamID)
			if _, mine := s.Keys.Team(w.TeamID); !ok || !mine {
				unrotated = append(unrotated, strconv.FormatInt(w.TeamID, 10))
				if ok {
					// The user may have kept the key: the team is marked
					// and rotated at the next login of a member holding it.
					r.Pending = append(r.Pending, t.ID)
				}
				continue
			}
			rot, kp, err := a.rotator.rotation(ctx, s, t, r.UserID)
			if err != nil {
				return err
			}
			next[t.ID] = kp
			r.Rotations = append(r.Rotations, rot)
		}
	}
	detail += fmt.Sprintf(" rotated=%d", len(r.Rotations))
	if len(unrotated) > 0 {
		detail += " unrotated=" + strings.Join(unrotated, ",")
	}
	r.Audit = &AuditEntry{At: a.now(), UserID: s.User.ID, UserName: s.User.Name, Action: action, Detail: detail}
	if err := a.store.Revoke(ctx, r); err != nil {
		return err
	}
	// The rows went in the same transaction; now the keys in memory.
	a.office.forgetSessions(r.UserID, nil)
	a.office.rotateSessions(next)
	return nil
}

// SetRole changes a user's role. The user's sessions end, so that the new
// role (and for a statistician, the loss of every team key) applies at
// once. The last active admin keeps the role.
func (a *Accounts) SetRole(ctx context.Context, s *OfficeSession, userID int64, role string) error {
	if err := allow(s, PermManageAccounts); err != nil {
		return opError("set role", err)
	}
	if !slices.Contains(UserRoles, role) {
		return Errorf(EInvalid, "error.accounts.role")
	}
	u, err := a.store.User(ctx, userID)
	if err != nil {
		return opError("set role", err)
	}
	if u.Role == role {
		return nil
	}
	detail := fmt.Sprintf("user=%d %s→%s", userID, u.Role, role)
	if role == RoleStatistician {
		// A statistician holds no key: like disabling, this revokes
		// every team key the user held, with rotation.
		return opError("set role", a.revokeAll(ctx, s, Revocation{UserID: userID, Statistician: true}, AuditUserRole, detail))
	}
	err = a.audited(ctx, s, AuditUserRole, "", detail, func(ctx context.Context) error {
		return a.store.SetUserRole(ctx, userID, role)
	})
	if err != nil {
		return opError("set role", err)
	}
	// The rows went with the entry; now the sessions in memory.
	a.office.forgetSessions(userID, nil)
	return nil
}

// ---- own password ----

// PasswordForm is the form to change one's own password.
type PasswordForm struct {
	Old     string
	New     string
	Confirm string
}

// ChangePassword checks the old password and wraps the user's private key
// under the new password's key. Team keys stay as they are: they are
// sealed to the user's public key, which does not change. The user's other
// sessions end. A wrong old password counts as a failed login, so a taken-
// over session cannot be used to guess the password.
func (a *Accounts) ChangePassword(ctx context.Context, s *OfficeSession, f PasswordForm) error {
	if err := passwordErrors("new", f.New, f.Confirm); err != nil {
		return opError("change password", err)
	}
	u, err := a.store.User(ctx, s.User.ID)
	if err != nil {
		return opError("change password", err)
	}
	wrong := fieldErrors{"old": "error.accounts.old_password"}.err()
	// The old password spends the login counter of the device the
	// session logged in from: a taken-over session gets no more guesses
	// than the login form gives, and a locked counter refuses even the
	// right password, with the same answer.
	p, err := a.office.checkPassword(ctx, u, s.device, f.Old)
	if err != nil {
		return opError("change password", err)
	}
	defer p.end()
	if !p.ok {
		if p.evaluated {
			if err := a.audit(ctx, s, AuditLoginFailed, "", "password_change"); err != nil {
				return opError("change password", err)
			}
		}
		return wrong
	}
	old := p.creds
	defer old.Wipe() // a copy: p.end wipes only p's
	pair, err := old.KEK.UnwrapKeyPair(u.WrappedKey, u.PublicKey, userKeyAD(u.Salt))
	if err != nil {
		return opError("change password", err)
	}
	defer pair.Wipe()
	r, err := a.office.rewrap(ctx, u, old.KEK, pair, f.New)
	if err != nil {
		return opError("change password", err)
	}
	defer r.creds.Wipe()
	// The counter clears only with the change: a right password whose
	// change is not stored is no success yet.
	err = a.store.Atomically(ctx, func(ctx context.Context) error {
		if err := a.office.passed(ctx, p); err != nil {
			return err
		}
		if err := a.office.storeRewrap(ctx, u, r, s); err != nil {
			return err
		}
		return a.audit(ctx, s, AuditPassword, "", "")
	})
	if err != nil {
		return opError("change password", err)
	}
	a.office.forgetSessions(u.ID, s)
	return nil
}

// ---- recovery ----

// RecoverResult says what Recover did.
type RecoverResult struct {
	Admin string
	Teams []string // the teams whose keys the new admin holds
}

// Recover creates a new admin who holds every team's key, opened with the
// recovery key: the way back in when every admin lost their password. A
// wrong recovery key changes nothing.
func (a *Accounts) Recover(ctx context.Context, recoveryKey, name, password string) (RecoverResult, error) {
	name = strings.TrimSpace(name)
	errs := fieldErrors{}
	if !accountNameOK(name) {
		errs.add("admin", "error.setup.username")
	}
	if utf8.RuneCountInString(password) < MinPassword {
		errs.add("password", "error.setup.password_short")
	}
	if err := errs.err(); err != nil {
		return RecoverResult{}, opError("recover", err)
	}
	wrongKey := Errorf(EUnauthorized, "error.accounts.recovery_key")
	key, err := vault.ParseRecoveryKey(recoveryKey)
	if err != nil {
		return RecoverResult{}, wrongKey
	}
	recovery := vault.RecoveryKeyPair(key)
	key.Wipe()
	defer recovery.Wipe()
	stored, err := a.store.Setting(ctx, settingRecoveryPublic)
	if ErrorCode(err) == ENotFound {
		return RecoverResult{}, Errorf(EConflict, "error.not_set_up")
	} else if err != nil {
		return RecoverResult{}, opError("recover", err)
	}
	pub := recovery.Public()
	if !vault.Equal(stored, pub[:]) {
		return RecoverResult{}, wrongKey
	}
	wrapped, err := a.store.RecoveryKeys(ctx)
	if err != nil {
		return RecoverResult{}, opError("recover", err)
	}
	// Only MACed teams: an envelope a database writer sealed to the
	// recovery key (anyone can) must not give the new admin a rogue key.
	teams, err := a.anchor.verifiedTeams(ctx, a.store, a.now())
	if err != nil {
		return RecoverResult{}, opError("recover", err)
	}
	pairs := make([]*vault.KeyPair, len(wrapped))
	defer func() { // the team keys were needed only to seal them to the new admin
		for _, kp := range pairs {
			if kp != nil {
				kp.Wipe()
			}
		}
	}()
	for i, w := range wrapped {
		if t, ok := findTeam(teams, w.TeamID); !ok || t.PublicKey != w.PublicKey {
			return RecoverResult{}, a.anchor.refuse(ctx, a.store, a.now(), fmt.Sprintf("recovery envelope team:%d", w.TeamID))
		}
		if pairs[i], err = recovery.OpenKeyPair(w.Wrapped, w.PublicKey, vault.RecoveryAD(w.PublicKey)); err != nil {
			return RecoverResult{}, fmt.Errorf("recovery envelope of team %d does not open: %w", w.TeamID, err)
		}
	}

	u, err := newUser(ctx, a.kdf, a.params, a.anchor, name, RoleAdmin, password)
	if err != nil {
		return RecoverResult{}, opError("recover", err)
	}
	res := RecoverResult{Admin: name}
	keys := make([]WrappedTeamKey, len(pairs))
	for i, kp := range pairs {
		keys[i] = WrappedTeamKey{TeamID: wrapped[i].TeamID, PublicKey: kp.Public(),
			Wrapped: u.PublicKey.SealKeyPair(kp, userTeamKeyAD(u.Salt, kp.Public()))}
		for _, t := range teams {
			if t.ID == wrapped[i].TeamID {
				res.Teams = append(res.Teams, t.Name)
			}
		}
	}
	// The entry names the new admin's ID, which only the insert tells.
	err = a.store.Atomically(ctx, func(ctx context.Context) error {
		id, err := a.store.CreateUser(ctx, u, keys, nil)
		if err != nil {
			return err
		}
		admin := u
		admin.ID = id
		return a.auditUser(ctx, admin, AuditRecover, fmt.Sprintf("user=%d teams=%d", id, len(keys)))
	})
	if ErrorCode(err) == EConflict {
		return RecoverResult{}, fieldErrors{"admin": MessageID(err)}.err()
	} else if err != nil {
		return RecoverResult{}, opError("recover", err)
	}
	return res, nil
}
