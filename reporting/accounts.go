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
// acceptance, which replaces it (see Office.AcceptInvitation).
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
	State     string    // one of the State constants; set by Office.Users

	LoginFailures  int       // failed logins on the shared counter of unknown clients
	DeviceFailures int       // failed logins on the user's known devices, summed
	LockedUntil    time.Time // the shared counter's lock; zero when none was set
	Locked         bool      // the shared lock is active now; set by Office.Users
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
type AccountStore interface {
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
	// UnlockLogin resets a user's shared counter and all their device
	// counters and appends e to the audit log, in one transaction;
	// ENotFound if there is no such user.
	UnlockLogin(ctx context.Context, userID int64, e *AuditEntry) error
}

func accountNameOK(name string) bool {
	return name != "" && utf8.RuneCountInString(name) <= 64
}

// ---- sessions ----

// ID names the session in pages, forms and the audit log: the first 8
// bytes of the token's hash, in hex. It cannot log anyone in — the cookie
// holds the token, and even the full hash would not do — and 64 bits keep
// it unique among one user's few sessions.
func (s *OfficeSession) ID() string { return hex.EncodeToString(s.hash[:8]) }

// SessionInfo describes one of a user's live sessions.
type SessionInfo struct {
	ID       string
	Created  time.Time
	LastSeen time.Time
	Current  bool // the session asking
}

// storeSession writes a new session's row and the day of the login, in
// the login's unit of work. The row is only written if the user is still
// enabled with the role and password that login checked, so a disable,
// role change or password change that committed meanwhile wins.
func (o *Office) storeSession(ctx context.Context, s *OfficeSession, u User) error {
	err := o.store.CreateUserSession(ctx, Session{TokenHash: s.hash, UserID: u.ID, Created: s.created, LastSeen: s.lastSeen}, u.Role, u.Verifier)
	if err != nil {
		return err
	}
	return o.store.RecordLogin(ctx, u.ID, s.created.Format(time.DateOnly))
}

// enterSession puts a session whose row committed in the map. Checking the
// row again once the session is in the map closes the gap to a disable,
// role change or password change that committed after the row: either
// that change's sweep of the map (which runs after its rows are deleted)
// finds this session, or this check finds the row gone.
func (o *Office) enterSession(ctx context.Context, s *OfficeSession) error {
	key := hex.EncodeToString(s.hash)
	o.mu.Lock()
	o.sessions[key] = s
	o.mu.Unlock()
	if err := o.store.TouchSession(ctx, s.hash, s.lastSeen); err != nil {
		o.mu.Lock()
		if o.sessions[key] == s {
			o.drop(key, s)
		}
		o.mu.Unlock()
		return err
	}
	return nil
}

// endSession forgets one session and wipes its keys, unless it is gone
// from the map already.
func (o *Office) endSession(s *OfficeSession) {
	key := hex.EncodeToString(s.hash)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sessions[key] == s {
		o.drop(key, s)
	}
}

// forgetSessions drops a user's sessions from memory and wipes their keys,
// all but keep (nil: all). The caller deletes the rows first (see
// enterSession for why the order matters).
func (o *Office) forgetSessions(userID int64, keep *OfficeSession) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, s := range o.sessions {
		if s.User.ID == userID && s != keep {
			o.drop(k, s)
		}
	}
}

// EndUserSessions ends every session of a user at once: it deletes their
// rows and drops them, with their keys, from memory, so the next request
// with any of the user's cookies is refused. Call it whenever a user loses
// access that their live sessions still hold.
func (o *Office) EndUserSessions(ctx context.Context, userID int64) error {
	if err := o.store.DeleteUserSessions(ctx, userID); err != nil {
		return err
	}
	o.forgetSessions(userID, nil)
	return nil
}

// sessionsOf lists a user's live sessions, newest first.
func (o *Office) sessionsOf(userID int64, current *OfficeSession) []SessionInfo {
	o.mu.Lock()
	var list []SessionInfo
	for _, s := range o.sessions {
		if s.User.ID == userID {
			list = append(list, SessionInfo{ID: s.ID(), Created: s.created, LastSeen: s.lastSeen, Current: s == current})
		}
	}
	o.mu.Unlock()
	slices.SortFunc(list, func(a, b SessionInfo) int { return b.Created.Compare(a.Created) })
	return list
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
func (o *Office) RevokeSession(ctx context.Context, s *OfficeSession, id string) error {
	if id == s.ID() {
		return Errorf(EConflict, "error.accounts.revoke_current")
	}
	o.mu.Lock()
	var found *OfficeSession
	for k, t := range o.sessions {
		// Only the user's own sessions: an ID of someone else's session is
		// "not found", like a made-up one.
		if t.User.ID == s.User.ID && t.ID() == id {
			found = t
			o.drop(k, t)
			break
		}
	}
	o.mu.Unlock()
	if found == nil {
		return Errorf(ENotFound, "error.not_found")
	}
	return o.audited(ctx, s, AuditSessionRevoke, "", "session="+id, func(ctx context.Context) error {
		return o.store.DeleteSession(ctx, found.hash)
	})
}

// Account is what the account page shows a user about themselves.
type Account struct {
	User     User
	Teams    []string
	Sessions []SessionInfo
}

// Account returns the session user's account: role, teams and live
// sessions.
func (o *Office) Account(ctx context.Context, s *OfficeSession) (Account, error) {
	teams, err := o.teamNames(ctx, s.User.ID)
	if err != nil {
		return Account{}, err
	}
	return Account{User: s.User, Teams: teams, Sessions: o.sessionsOf(s.User.ID, s)}, nil
}

// teamNames returns the names of the teams whose key is sealed to a user.
func (o *Office) teamNames(ctx context.Context, userID int64) ([]string, error) {
	keys, err := o.store.UserTeamKeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	teams, err := o.store.Teams(ctx)
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

// ---- login throttling ----

// Every check of a user's password (at login, and again before a change
// of the password or of the second factor) together with the second-factor
// code that follows it is one attempt, and each attempt spends a counter
// (LoginBucket): the counter of a known device if the browser presents its
// cookie, else the account's shared counter of unknown clients. The
// attempt is counted as a failure before argon2id runs, in the transaction
// that checks the lock, and only a full success clears the counter again:
// attempts sent in parallel cannot all start before the first failure is
// recorded. So a stranger can lock only the shared counter; the user's own
// browser still gets in with its device's budget, and an admin (or the
// command line) can unlock.

// lockUntil returns until when a counter with this many failed logins in
// a row must wait: not at all for the first FreeLoginAttempts, then
// LoginLockBase, doubling with each further failure up to LoginLockMax.
func lockUntil(now time.Time, failures int) time.Time {
	if failures < FreeLoginAttempts {
		return time.Time{}
	}
	d := LoginLockBase
	for i := FreeLoginAttempts; i < failures && d < LoginLockMax; i++ {
		d *= 2
	}
	return now.Add(min(d, LoginLockMax))
}

// passwordCheck is one attempt at a user's password.
type passwordCheck struct {
	bucket    LoginBucket
	evaluated bool // the attempt was allowed and argon2id derived the credentials
	ok        bool // evaluated, the password matched, and the user is enabled
	creds     vault.Credentials
	release   func() // frees the counter's in-flight slot; nil when none is held
}

// end frees the attempt's in-flight slot once the attempt is decided, and
// wipes the password's KEK: every use of it (unwrapping the user's key,
// the TOTP secret) happens before.
func (p *passwordCheck) end() {
	p.creds.Wipe()
	if p.release != nil {
		p.release()
		p.release = nil
	}
}

// checkPassword spends one attempt of u's counter (device 0: the shared
// one) on password. The attempt is reserved, counted as a failure, before
// argon2id runs; an attempt refused because the counter is locked, or
// because another attempt on it is still running, does the same argon2id
// work on a salt of nobody's and comes back not ok, so that every refusal
// takes as long as a wrong password. The caller calls end, and passed
// when everything the attempt asked for (password, code) was right.
func (o *Office) checkPassword(ctx context.Context, u User, device int64, password string) (*passwordCheck, error) {
	p := &passwordCheck{bucket: LoginBucket{UserID: u.ID, Device: device}}
	now := o.now()
	allowed, err := o.store.ReserveLoginAttempt(ctx, p.bucket, now, func(n int) time.Time { return lockUntil(now, n) })
	if err != nil {
		return nil, fmt.Errorf("login attempt: %w", err)
	}
	if allowed {
		// One evaluated attempt per counter at a time. The reservation
		// already keeps the count exact; this keeps a burst on one account
		// from occupying every argon2id slot, and a refused attempt stays
		// counted, like a wrong one.
		p.release, allowed = o.holdAttempt(p.bucket)
	}
	if !allowed {
		return p, o.dummyWork(ctx, password, u.Params)
	}
	p.creds, err = o.kdf.Password(ctx, password, u.Salt, u.Params)
	if err != nil {
		p.end()
		return nil, fmt.Errorf("login attempt: %w", err)
	}
	p.evaluated = true
	p.ok = p.creds.Matches(u.Verifier) && !u.Disabled
	return p, nil
}

// passed clears the attempt's counter after a full success.
func (o *Office) passed(ctx context.Context, p *passwordCheck) error {
	if err := o.store.ClearLoginFailures(ctx, p.bucket, o.now()); err != nil {
		return fmt.Errorf("login success: %w", err)
	}
	return nil
}

// dummyWork spends the argon2id work of a password check whose result
// nobody looks at: for an unknown name, a locked counter and a busy one.
// params are those a real check of the same user would use (for an
// unknown name, those of new users), so the time is the same.
func (o *Office) dummyWork(ctx context.Context, password string, params vault.Params) error {
	if _, err := o.kdf.Password(ctx, password, dummySalt, params); err != nil {
		return fmt.Errorf("login attempt: %w", err)
	}
	return nil
}

// holdAttempt takes the in-flight slot of a counter; false if another
// attempt holds it. It is per counter, not per account, so that a
// stranger's attempts on the shared counter never make the user's own
// device "busy".
func (o *Office) holdAttempt(b LoginBucket) (func(), bool) {
	o.attemptMu.Lock()
	defer o.attemptMu.Unlock()
	if _, busy := o.inflight[b]; busy {
		return nil, false
	}
	if o.inflight == nil {
		o.inflight = map[LoginBucket]struct{}{}
	}
	o.inflight[b] = struct{}{}
	return func() {
		o.attemptMu.Lock()
		delete(o.inflight, b)
		o.attemptMu.Unlock()
	}, true
}

// deviceOf returns the device a device token names: its ID if it is one
// of u's devices and was used within LoginDeviceLifetime, else 0 (the
// shared counter). A missing, made-up, expired or other user's token all
// count as an unknown client.
func (o *Office) deviceOf(u User, d LoginDevice, found bool) int64 {
	if !found || d.UserID != u.ID || o.now().Sub(d.LastUsed) > LoginDeviceLifetime {
		return 0
	}
	return d.ID
}

// lookupDevice finds the device a browser's device token names.
func (o *Office) lookupDevice(ctx context.Context, token string) (LoginDevice, bool, error) {
	if token == "" {
		return LoginDevice{}, false, nil
	}
	d, err := o.store.LoginDevice(ctx, vault.HashToken(token))
	if ErrorCode(err) == ENotFound {
		return LoginDevice{}, false, nil
	}
	if err != nil {
		return LoginDevice{}, false, fmt.Errorf("login device: %w", err)
	}
	return d, true, nil
}

// rememberDevice makes the browser that just logged in from an unknown
// client a known device of u, under token (for its cookie).
func (o *Office) rememberDevice(ctx context.Context, u User, token string) error {
	now := o.now()
	_, err := o.store.AddLoginDevice(ctx, LoginDevice{UserID: u.ID, TokenHash: vault.HashToken(token), Created: now, LastUsed: now},
		MaxLoginDevices, now.Add(-LoginDeviceLifetime))
	if err != nil {
		return fmt.Errorf("login device: %w", err)
	}
	return nil
}

// UnlockLogin resets a user's failed logins and locks, the shared counter
// and every device's; admins only. The audit entry is written in the same
// transaction.
func (o *Office) UnlockLogin(ctx context.Context, s *OfficeSession, userID int64) error {
	if err := allow(s, PermManageAccounts); err != nil {
		return err
	}
	e := &AuditEntry{At: o.now(), UserID: s.User.ID, UserName: s.User.Name, Action: AuditLoginUnlock, Detail: fmt.Sprintf("user=%d", userID)}
	if err := o.store.UnlockLogin(ctx, userID, e); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}

// UnlockLoginByName is UnlockLogin for the command line, for a deployment
// whose only admin is locked out without a known browser. Whoever runs it
// holds the server and its database already; the entry names the
// "system" as the actor.
func (o *Office) UnlockLoginByName(ctx context.Context, name string) error {
	u, err := o.store.UserByName(ctx, strings.TrimSpace(name))
	if err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	e := &AuditEntry{At: o.now(), UserName: "system", Action: AuditLoginUnlock, Detail: fmt.Sprintf("user=%d command_line", u.ID)}
	if err := o.store.UnlockLogin(ctx, u.ID, e); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}

// ---- users (admin) ----

// Users lists every office user with role, teams and state, for an admin.
// Invitation copies that expired are deleted first: an expired link can
// never be used, and the wrapped key has no business staying around.
func (o *Office) Users(ctx context.Context, s *OfficeSession) ([]UserRow, error) {
	if err := allow(s, PermManageAccounts); err != nil {
		return nil, err
	}
	now := o.now()
	if err := o.store.DeleteExpiredInvitations(ctx, now); err != nil {
		return nil, err
	}
	rows, err := o.store.UserRows(ctx)
	if err != nil {
		return nil, err
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
	return rows, nil
}

// ReapInvitations deletes the invitations that expired, with the team
// key copies of invited users who have no live invitation left; the
// reaper runs it every minute.
func (o *Office) ReapInvitations(ctx context.Context) error {
	if err := o.store.DeleteExpiredInvitations(ctx, o.now()); err != nil {
		return fmt.Errorf("reap invitations: %w", err)
	}
	return nil
}

// InviteTeams lists the teams an admin can invite people to: those whose
// key their session holds, since the invitation seals that key to the new
// user.
func (o *Office) InviteTeams(ctx context.Context, s *OfficeSession) ([]Team, error) {
	if err := allow(s, PermManageAccounts); err != nil {
		return nil, err
	}
	teams, err := o.store.Teams(ctx)
	if err != nil {
		return nil, err
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
func (o *Office) Invite(ctx context.Context, s *OfficeSession, f InviteForm) (Invited, error) {
	if err := allow(s, PermManageAccounts); err != nil {
		return Invited{}, err
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
		return Invited{}, err
	}

	token := vault.NewToken()
	salt := vault.NewSalt()
	pair := vault.NewKeyPair()
	u := User{Name: f.Name, Role: f.Role, Salt: salt, Params: o.params,
		// Empty until accepted: no password derives an empty verifier.
		Verifier: []byte{}, WrappedKey: []byte{}, PublicKey: pair.Public()}
	u.MAC = o.anchor.UserMAC(u)
	keys := make([]WrappedTeamKey, len(pairs))
	for i, kp := range pairs {
		keys[i] = WrappedTeamKey{TeamID: f.Teams[i], PublicKey: kp.Public(),
			Wrapped: pair.Public().SealKeyPair(kp, userTeamKeyAD(salt, kp.Public()))}
	}
	inv := &Invitation{
		TokenHash:  vault.HashToken(token),
		WrappedKey: vault.InvitationKey(token, salt).WrapKeyPair(pair, invitationAD(salt)),
		Expires:    o.now().Add(InvitationLifetime),
		CreatedBy:  s.User.ID,
	}
	teams := make([]string, len(f.Teams))
	for i, t := range f.Teams {
		teams[i] = strconv.FormatInt(t, 10)
	}
	// The entry names the new user's ID, which only the insert tells.
	err := o.store.Atomically(ctx, func(ctx context.Context) error {
		id, err := o.store.CreateUser(ctx, u, keys, inv)
		if err != nil {
			return err
		}
		return o.audit(ctx, s, AuditUserInvite, "", fmt.Sprintf("user=%d role=%s teams=%s", id, f.Role, strings.Join(teams, ",")))
	})
	if ErrorCode(err) == EConflict {
		return Invited{}, fieldErrors{"name": MessageID(err)}.err()
	}
	if err != nil {
		return Invited{}, err
	}
	return Invited{Token: token, Expires: inv.Expires}, nil
}

func invitationAD(salt []byte) vault.AD {
	return vault.InvitationAD("user:" + hex.EncodeToString(salt))
}

// Invitation returns the name of the user a pending invitation is for.
// Unknown, used and expired links are all "not found".
func (o *Office) Invitation(ctx context.Context, token string) (string, error) {
	_, u, err := o.invitation(ctx, token)
	return u.Name, err
}

func (o *Office) invitation(ctx context.Context, token string) (Invitation, User, error) {
	if token == "" {
		return Invitation{}, User{}, Errorf(ENotFound, "error.not_found")
	}
	inv, err := o.store.Invitation(ctx, vault.HashToken(token), o.now())
	if err != nil {
		return Invitation{}, User{}, err
	}
	u, err := o.store.User(ctx, inv.UserID)
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
func (o *Office) AcceptInvitation(ctx context.Context, f AcceptForm) error {
	inv, u, err := o.invitation(ctx, f.Token)
	if err != nil {
		return err
	}
	if err := passwordErrors("password", f.Password, f.Confirm); err != nil {
		return err
	}
	if err := o.anchor.checkUser(ctx, o.store, o.now(), u); err != nil {
		return err
	}
	// A stored invitation that the token found but does not open is
	// corruption, not a wrong link: an internal error.
	provisional, err := vault.InvitationKey(f.Token, u.Salt).UnwrapKeyPair(inv.WrappedKey, u.PublicKey, invitationAD(u.Salt))
	if err != nil {
		return err
	}
	defer provisional.Wipe()
	held, err := o.store.UserTeamKeys(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("accept invitation: %w", err)
	}
	var teams []Team
	if len(held) > 0 {
		if teams, err = o.anchor.verifiedTeams(ctx, o.store, o.now()); err != nil {
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
			return o.anchor.refuse(ctx, o.store, o.now(), fmt.Sprintf("invitation envelope team:%d", w.TeamID))
		}
		kp, err := provisional.OpenKeyPair(w.Wrapped, w.PublicKey, userTeamKeyAD(u.Salt, w.PublicKey))
		if err != nil {
			return fmt.Errorf("accept invitation: team %d: %w", w.TeamID, err)
		}
		keys = append(keys, WrappedTeamKey{TeamID: w.TeamID, PublicKey: w.PublicKey,
			Wrapped: fresh.Public().SealKeyPair(kp, userTeamKeyAD(u.Salt, w.PublicKey))})
		kp.Wipe()
	}
	creds, err := o.kdf.Password(ctx, f.Password, u.Salt, o.params)
	if err != nil {
		return err
	}
	defer creds.Wipe()
	u.PublicKey = fresh.Public()
	a := Acceptance{TokenHash: inv.TokenHash, Now: o.now(), Params: o.params,
		Verifier: creds.Verifier, WrappedKey: creds.KEK.WrapKeyPair(fresh, userKeyAD(u.Salt)),
		PublicKey: u.PublicKey, MAC: o.anchor.UserMAC(u), Keys: keys}
	err = o.store.Atomically(ctx, func(ctx context.Context) error {
		if err := o.store.AcceptInvitation(ctx, a); err != nil {
			return err
		}
		return o.auditUser(ctx, u, AuditUserAccept, "")
	})
	if ErrorCode(err) == EConflict {
		// A team key was rotated or given meanwhile: nothing was written,
		// the link still works, and sending the form again picks it up.
		return fieldErrors{"password": "error.revoke.accept_retry"}.err()
	}
	return err
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
func (o *Office) WithdrawInvitation(ctx context.Context, s *OfficeSession, userID int64) error {
	if err := allow(s, PermManageAccounts); err != nil {
		return err
	}
	return o.audited(ctx, s, AuditDelete, "", fmt.Sprintf("invitation user=%d", userID), func(ctx context.Context) error {
		return o.store.WithdrawInvitation(ctx, userID)
	})
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
func (o *Office) SetDisabled(ctx context.Context, s *OfficeSession, userID int64, disabled bool) error {
	if err := allow(s, PermManageAccounts); err != nil {
		return err
	}
	if disabled && userID == s.User.ID {
		return Errorf(EConflict, "error.accounts.disable_self")
	}
	u, err := o.store.User(ctx, userID)
	if err != nil {
		return err
	}
	if u.Disabled == disabled {
		return nil
	}
	if !disabled {
		return o.audited(ctx, s, AuditUserEnable, "", fmt.Sprintf("user=%d", userID), func(ctx context.Context) error {
			return o.store.SetUserDisabled(ctx, userID, false)
		})
	}
	return o.revokeAll(ctx, s, Revocation{UserID: userID, Disable: true}, AuditUserDisable, fmt.Sprintf("user=%d", userID))
}

// revokeAll takes every team key from a user who is disabled or made a
// statistician (r says which): their copies are deleted and the key of
// each of their teams whose key the acting admin's session holds is
// rotated, in one transaction with the audit entry; then their sessions
// end and the other live sessions get the new keys.
func (o *Office) revokeAll(ctx context.Context, s *OfficeSession, r Revocation, action, detail string) error {
	held, err := o.store.UserTeamKeys(ctx, r.UserID)
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
		teams, err := o.anchor.verifiedTeams(ctx, o.store, o.now())
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
			rot, kp, err := o.rotation(ctx, s, t, r.UserID)
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
	r.Audit = o.entry(s, action, detail)
	if err := o.store.Revoke(ctx, r); err != nil {
		return err
	}
	// The rows went in the same transaction; now the keys in memory.
	o.forgetSessions(r.UserID, nil)
	o.rotateSessions(next)
	return nil
}

// SetRole changes a user's role. The user's sessions end, so that the new
// role (and for a statistician, the loss of every team key) applies at
// once. The last active admin keeps the role.
func (o *Office) SetRole(ctx context.Context, s *OfficeSession, userID int64, role string) error {
	if err := allow(s, PermManageAccounts); err != nil {
		return err
	}
	if !slices.Contains(UserRoles, role) {
		return Errorf(EInvalid, "error.accounts.role")
	}
	u, err := o.store.User(ctx, userID)
	if err != nil {
		return err
	}
	if u.Role == role {
		return nil
	}
	detail := fmt.Sprintf("user=%d %s→%s", userID, u.Role, role)
	if role == RoleStatistician {
		// A statistician holds no key: like disabling, this revokes
		// every team key the user held, with rotation.
		return o.revokeAll(ctx, s, Revocation{UserID: userID, Statistician: true}, AuditUserRole, detail)
	}
	err = o.audited(ctx, s, AuditUserRole, "", detail, func(ctx context.Context) error {
		return o.store.SetUserRole(ctx, userID, role)
	})
	if err != nil {
		return err
	}
	// The rows went with the entry; now the sessions in memory.
	o.forgetSessions(userID, nil)
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
func (o *Office) ChangePassword(ctx context.Context, s *OfficeSession, f PasswordForm) error {
	if err := passwordErrors("new", f.New, f.Confirm); err != nil {
		return err
	}
	u, err := o.store.User(ctx, s.User.ID)
	if err != nil {
		return err
	}
	wrong := fieldErrors{"old": "error.accounts.old_password"}.err()
	// The old password spends the login counter of the device the
	// session logged in from: a taken-over session gets no more guesses
	// than the login form gives, and a locked counter refuses even the
	// right password, with the same answer.
	p, err := o.checkPassword(ctx, u, s.device, f.Old)
	if err != nil {
		return err
	}
	defer p.end()
	if !p.ok {
		if p.evaluated {
			if err := o.audit(ctx, s, AuditLoginFailed, "", "password_change"); err != nil {
				return err
			}
		}
		return wrong
	}
	old := p.creds
	defer old.Wipe() // a copy: p.end wipes only p's
	pair, err := old.KEK.UnwrapKeyPair(u.WrappedKey, u.PublicKey, userKeyAD(u.Salt))
	if err != nil {
		return err
	}
	defer pair.Wipe()
	r, err := o.rewrap(ctx, u, old.KEK, pair, f.New)
	if err != nil {
		return err
	}
	defer r.creds.Wipe()
	// The counter clears only with the change: a right password whose
	// change is not stored is no success yet.
	err = o.store.Atomically(ctx, func(ctx context.Context) error {
		if err := o.passed(ctx, p); err != nil {
			return err
		}
		if err := o.storeRewrap(ctx, u, r, s); err != nil {
			return err
		}
		return o.audit(ctx, s, AuditPassword, "", "")
	})
	if err != nil {
		return err
	}
	o.forgetSessions(u.ID, s)
	return nil
}

// rewrapped is a user's key pair and two-factor secret wrapped under the
// credentials of a new password (or of new argon2id parameters), ready to
// store.
type rewrapped struct {
	creds   vault.Credentials
	wrapped []byte
	oldTOTP []byte // the sealed secret as read, which the store replaces only if unchanged
	newTOTP []byte
}

// rewrap derives credentials from password with the office's current
// argon2id parameters, wraps the user's key pair under them and reseals
// the two-factor secret from oldKEK to the new key-encryption key: the
// slow part of what a password change and raising the parameters at login
// share, done before their unit of work. The caller wipes r.creds.
func (o *Office) rewrap(ctx context.Context, u User, oldKEK vault.Key, pair *vault.KeyPair, password string) (rewrapped, error) {
	// The salt stays: the team keys' AD names the user by it.
	creds, err := o.kdf.Password(ctx, password, u.Salt, o.params)
	if err != nil {
		return rewrapped{}, err
	}
	r := rewrapped{creds: creds, wrapped: creds.KEK.WrapKeyPair(pair, userKeyAD(u.Salt))}
	totp, err := o.store.TOTP(ctx, u.ID)
	if err == nil {
		r.oldTOTP = totp.Sealed
		r.newTOTP, err = o.resealTOTP(ctx, u, oldKEK, u.Salt, creds.KEK)
	}
	if err != nil {
		creds.Wipe()
		return rewrapped{}, err
	}
	return r, nil
}

// storeRewrap stores what rewrap made if the user's verifier (and sealed
// two-factor secret) are still those read, and deletes the user's sessions
// but keep. The caller forgets them from memory once the unit committed.
func (o *Office) storeRewrap(ctx context.Context, u User, r rewrapped, keep *OfficeSession) error {
	return o.store.ChangePassword(ctx, u.ID, u.Verifier, o.params, r.creds.Verifier, r.wrapped, r.oldTOTP, r.newTOTP, keep.hash)
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
func (o *Office) Recover(ctx context.Context, recoveryKey, name, password string) (RecoverResult, error) {
	name = strings.TrimSpace(name)
	errs := fieldErrors{}
	if !accountNameOK(name) {
		errs.add("admin", "error.setup.username")
	}
	if utf8.RuneCountInString(password) < MinPassword {
		errs.add("password", "error.setup.password_short")
	}
	if err := errs.err(); err != nil {
		return RecoverResult{}, err
	}
	wrongKey := Errorf(EUnauthorized, "error.accounts.recovery_key")
	key, err := vault.ParseRecoveryKey(recoveryKey)
	if err != nil {
		return RecoverResult{}, wrongKey
	}
	recovery := vault.RecoveryKeyPair(key)
	key.Wipe()
	defer recovery.Wipe()
	stored, err := o.store.Setting(ctx, settingRecoveryPublic)
	if ErrorCode(err) == ENotFound {
		return RecoverResult{}, Errorf(EConflict, "error.not_set_up")
	} else if err != nil {
		return RecoverResult{}, err
	}
	pub := recovery.Public()
	if !vault.Equal(stored, pub[:]) {
		return RecoverResult{}, wrongKey
	}
	wrapped, err := o.store.RecoveryKeys(ctx)
	if err != nil {
		return RecoverResult{}, err
	}
	// Only MACed teams: an envelope a database writer sealed to the
	// recovery key (anyone can) must not give the new admin a rogue key.
	teams, err := o.anchor.verifiedTeams(ctx, o.store, o.now())
	if err != nil {
		return RecoverResult{}, err
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
			return RecoverResult{}, o.anchor.refuse(ctx, o.store, o.now(), fmt.Sprintf("recovery envelope team:%d", w.TeamID))
		}
		if pairs[i], err = recovery.OpenKeyPair(w.Wrapped, w.PublicKey, vault.RecoveryAD(w.PublicKey)); err != nil {
			return RecoverResult{}, fmt.Errorf("recovery envelope of team %d does not open: %w", w.TeamID, err)
		}
	}

	u, err := o.newUser(ctx, name, RoleAdmin, password)
	if err != nil {
		return RecoverResult{}, err
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
	err = o.store.Atomically(ctx, func(ctx context.Context) error {
		id, err := o.store.CreateUser(ctx, u, keys, nil)
		if err != nil {
			return err
		}
		admin := u
		admin.ID = id
		return o.auditUser(ctx, admin, AuditRecover, fmt.Sprintf("user=%d teams=%d", id, len(keys)))
	})
	if ErrorCode(err) == EConflict {
		return RecoverResult{}, fieldErrors{"admin": MessageID(err)}.err()
	} else if err != nil {
		return RecoverResult{}, err
	}
	return res, nil
}
