package reporting

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Session lifetimes of the office.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	// MinPassword is the shortest password accepted for an office user.
	MinPassword = 12
	// touchEvery bounds how often a busy session is written to the store.
	touchEvery = time.Minute
)

// The first-run setup link: the hash of its token (consumed by the store's
// CreateFirstAdmin) and the random seed the token is derived from
// (Anchor.setupToken).
const (
	settingSetupToken = "setup_token"
	settingSetupSeed  = "setup_seed"
)

// Office is the counsellors' way in: first-run setup, login with its
// lockout and second factor, and sessions. Decrypted team keys live in its
// session map and nowhere else; a restart drops them all. The other
// office services reach the map through small unexported interfaces it
// implements (accountsOffice, twoFactorOffice).
type Office struct {
	auditor
	store  OfficeStore
	kdf    *vault.KDF
	params vault.Params
	floor  vault.Params // stored parameters below it are refused (vault.Floor)
	anchor *Anchor      // MACs of keys and settings under the server secret
	now    func() time.Time

	mu       sync.Mutex
	sessions map[string]*OfficeSession // by hex of the token hash

	attemptMu sync.Mutex
	inflight  map[LoginBucket]struct{} // counters with a password check running (passwords.go)
}

// OfficeStore is what the Office reads and writes: setup, login with its
// lockout and second factor, sessions, and adopting a server secret.
type OfficeStore interface {
	AuditStore
	LoginStore
	codeStore
	// Setup (the methods of Store).
	CountUsers(ctx context.Context) (int, error)
	CreateFirstAdmin(ctx context.Context, a FirstAdmin) error
	Setting(ctx context.Context, key string) ([]byte, error)
	PutSetting(ctx context.Context, key string, value []byte) error
	PutSettingMACOnce(ctx context.Context, key string, value, mac []byte) (storedValue, storedMAC []byte, err error)
	// Login and sessions.
	UserByName(ctx context.Context, name string) (User, error)
	User(ctx context.Context, id int64) (User, error)
	UserTeamKeys(ctx context.Context, userID int64) ([]WrappedTeamKey, error)
	Teams(ctx context.Context) ([]Team, error)
	TOTP(ctx context.Context, userID int64) (TOTPState, error)
	TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error
	DeleteSession(ctx context.Context, tokenHash []byte) error
	DeleteSessionsBefore(ctx context.Context, t time.Time) error
	// A login opens its teams' key chains and completes pending key
	// rotations (TeamStore).
	PreviousTeamKeys(ctx context.Context, teamID int64) ([]PreviousKey, error)
	TeamMembers(ctx context.Context, teamID int64) ([]Member, error)
	SettingMAC(ctx context.Context, key string) (value, mac []byte, err error)
	Revoke(ctx context.Context, r Revocation) error
	// Adopting a server secret (AdoptSecret).
	UserRows(ctx context.Context) ([]UserRow, error)
	UpdateTeams(ctx context.Context, read, changed []Team) error
	SetUserMAC(ctx context.Context, userID int64, mac []byte) error
	PutSettingsMAC(ctx context.Context, settings []SignedSetting) error
	CountReportsByKDF(ctx context.Context, params []string) (int, error)
}

// OfficeSession is one logged-in user with the team keys their password
// unwrapped.
type OfficeSession struct {
	User     User
	Keys     *vault.Keyring
	created  time.Time
	lastSeen time.Time
	hash     []byte
	totp     *totpEnrolment // a two-factor enrolment not yet confirmed (totp.go); guarded by Office.mu
	device   int64          // the known device the login came from, 0: an unknown client; its counter throttles re-checks
}

// NewOffice returns the office service. params are used for new users;
// existing ones keep the parameters stored with them until their next
// login raises them. anchor checks every key and security setting read
// from the store (see Anchor); share it with the Intake.
func NewOffice(store OfficeStore, kdf *vault.KDF, params vault.Params, anchor *Anchor, now func() time.Time) *Office {
	return &Office{auditor: auditor{log: store, now: now}, store: store, kdf: kdf, params: params, floor: vault.Floor(params), anchor: anchor, now: now, sessions: map[string]*OfficeSession{}}
}

// Anchor returns the integrity anchor the office was built with, to share
// with an Intake on the same database.
func (o *Office) Anchor() *Anchor { return o.anchor }

// IntegrityAlerts returns the integrity failures seen since start, for the
// warning on admins' office pages.
func (o *Office) IntegrityAlerts() []string { return o.anchor.Alerts() }

// Start forgets sessions of an earlier process, whose keys are gone, and
// when no user exists yet returns the one-time setup token (see
// PrepareSetup). It returns "" when the office is set up.
func (o *Office) Start(ctx context.Context) (string, error) {
	if err := o.store.DeleteSessionsBefore(ctx, o.now().Add(time.Hour)); err != nil {
		return "", opError("start", err)
	}
	return o.PrepareSetup(ctx)
}

// PrepareSetup returns the one-time setup token when no user exists, and
// "" when the office is set up. The token stays the same across restarts
// until the setup uses it.
//
// Why derived and not stored: an operator who restarts before opening the
// link must not find it dead, so the same token has to be printable again;
// but a copy of the database (a backup, a stolen disk) must not give the
// link that creates the first admin. So the database keeps only a random
// seed and the token's hash, and the token is an HMAC of the seed under a
// key derived from the server secret, which lives in its own file and is
// never in a backup. A token file next to the database would be one more
// secret file to protect and would sit in every copy of the data directory.
func (o *Office) PrepareSetup(ctx context.Context) (string, error) {
	n, err := o.store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", opError("prepare setup", err)
	}
	seed, err := o.store.Setting(ctx, settingSetupSeed)
	if err != nil && ErrorCode(err) != ENotFound {
		return "", opError("prepare setup", err)
	}
	if len(seed) > 0 {
		token := o.anchor.setupToken(seed)
		stored, err := o.store.Setting(ctx, settingSetupToken)
		if err != nil && ErrorCode(err) != ENotFound {
			return "", opError("prepare setup", err)
		}
		// A hash that does not match (a new server secret, a token of an
		// older version) gets a fresh link below rather than a dead one.
		if err == nil && vault.Equal(stored, vault.HashToken(token)) {
			return token, nil
		}
	}
	seed = vault.NewSalt()
	token := o.anchor.setupToken(seed)
	err = o.store.Atomically(ctx, func(ctx context.Context) error {
		if err := o.store.PutSetting(ctx, settingSetupSeed, seed); err != nil {
			return err
		}
		return o.store.PutSetting(ctx, settingSetupToken, vault.HashToken(token))
	})
	if err != nil {
		return "", opError("prepare setup", err)
	}
	return token, nil
}

// SetupForm is the first-run form.
type SetupForm struct {
	Token    string
	Team     string
	Username string
	Password string
	Confirm  string
}

// CheckSetupToken reports whether token is the current setup token.
func (o *Office) CheckSetupToken(ctx context.Context, token string) error {
	stored, err := o.store.Setting(ctx, settingSetupToken)
	if err != nil || token == "" || !vault.Equal(stored, vault.HashToken(token)) {
		return Errorf(ENotFound, "error.setup.token")
	}
	return nil
}

// Setup creates the first team (covering every municipality), its key pair
// and recovery key, and the first admin, and returns the recovery key for
// the person to print. It can succeed once.
func (o *Office) Setup(ctx context.Context, f SetupForm) (string, error) {
	if err := o.CheckSetupToken(ctx, f.Token); err != nil {
		return "", opError("setup", err)
	}
	errs := fieldErrors{}
	f.Team, f.Username = strings.TrimSpace(f.Team), strings.TrimSpace(f.Username)
	if f.Team == "" || utf8.RuneCountInString(f.Team) > 100 {
		errs.add("team", "error.setup.team")
	}
	if f.Username == "" || utf8.RuneCountInString(f.Username) > 64 {
		errs.add("username", "error.setup.username")
	}
	if utf8.RuneCountInString(f.Password) < MinPassword {
		errs.add("password", "error.setup.password_short")
	} else if f.Password != f.Confirm {
		errs.add("confirm", "error.setup.password_mismatch")
	}
	if err := errs.err(); err != nil {
		return "", opError("setup", err)
	}

	team := vault.NewKeyPair()
	defer team.Wipe() // sealed to the admin and the recovery key; the admin logs in to use it
	recovery := vault.NewKey()
	defer recovery.Wipe()
	recoveryPair := vault.RecoveryKeyPair(recovery)
	defer recoveryPair.Wipe()
	user, err := newUser(ctx, o.kdf, o.params, o.anchor, f.Username, RoleAdmin, f.Password)
	if err != nil {
		return "", opError("setup", err)
	}
	first := Team{Name: f.Team, PublicKey: team.Public(), Municipalities: Municipalities}
	first.MAC = o.anchor.TeamMAC(first)
	recoveryPub := recoveryPair.Public()
	fa := FirstAdmin{
		SetupTokenHash:       vault.HashToken(f.Token),
		Team:                 first,
		RecoveryPublicKey:    recoveryPub,
		RecoveryPublicKeyMAC: o.anchor.SettingMAC(settingRecoveryPublicKey, recoveryPub[:]),
		RecoveryKey:          recoveryPair.Public().SealKeyPair(team, vault.RecoveryAD(team.Public())),
		User:                 user,
		UserTeamKey:          user.PublicKey.SealKeyPair(team, userTeamKeyAD(user.Salt, team.Public())),
		// Written with their MACs: from now on a missing one is refused
		// as deleted, not read as its default (settings.go).
		Settings: o.anchor.defaultSettings(),
	}
	// One unit: a setup whose entry fails leaves no admin behind, and the
	// setup token still works for the next try.
	err = o.store.Atomically(ctx, func(ctx context.Context) error {
		// Usually the intake made them at start; a missing one would make
		// every later start refuse the receipts (settings.go).
		if err := ensureReceiptSettings(ctx, o.store, o.anchor, o.params); err != nil {
			return err
		}
		if err := o.store.CreateFirstAdmin(ctx, fa); err != nil {
			return err
		}
		// The store consumed the token's hash; the seed goes too, so
		// nothing of the spent link is left.
		if err := o.store.PutSetting(ctx, settingSetupSeed, []byte{}); err != nil {
			return err
		}
		admin, err := o.store.UserByName(ctx, user.Name)
		if err != nil {
			return err
		}
		return o.auditUser(ctx, admin, AuditSetup, "")
	})
	if err != nil {
		return "", opError("setup", err)
	}
	return vault.FormatRecoveryKey(recovery), nil
}

// newUser makes a user's salt, verifier and key pair from their password,
// with argon2id parameters params.
func newUser(ctx context.Context, kdf *vault.KDF, params vault.Params, anchor *Anchor, name, role, password string) (User, error) {
	salt := vault.NewSalt()
	creds, err := kdf.Password(ctx, password, salt, params)
	if err != nil {
		return User{}, err
	}
	defer creds.Wipe()
	pair := vault.NewKeyPair()
	defer pair.Wipe() // only its public half and its wrapped private half are kept
	u := User{
		Name: name, Role: role, Salt: salt, Params: params, Verifier: creds.Verifier,
		PublicKey:  pair.Public(),
		WrappedKey: creds.KEK.WrapKeyPair(pair, userKeyAD(salt)),
	}
	u.MAC = anchor.UserMAC(u)
	return u, nil
}

func userKeyAD(salt []byte) vault.AD { return vault.UserKeyAD("user:" + hex.EncodeToString(salt)) }

func userTeamKeyAD(salt []byte, pub vault.PublicKey) vault.AD {
	return vault.TeamKeyAD("user:"+hex.EncodeToString(salt), pub)
}

// dummySalt is used to spend the same argon2id work on an unknown user
// name, a locked counter or a busy one as on a password check, so the
// answer's timing does not tell which.
var dummySalt = vault.NewSalt()

// LoginAttempt is what the login form sends, with the device token of the
// browser's device cookie ("" for none).
type LoginAttempt struct {
	Name     string
	Password string
	Code     string // TOTP or recovery code; "" when the user has none
	Device   string
}

// LoginResult is a successful login: the session token for the cookie,
// the session, and the device token for the device cookie (the one the
// browser presented if it named a known device of the user, else a new
// one).
type LoginResult struct {
	Token   string
	Session *OfficeSession
	Device  string
}

// Login checks a user's password (and second factor) from a client that
// presents no device cookie; see LoginFrom.
func (o *Office) Login(ctx context.Context, name, password, totp string) (string, *OfficeSession, error) {
	r, err := o.LoginFrom(ctx, LoginAttempt{Name: name, Password: password, Code: totp})
	return r.Token, r.Session, err
}

// LoginFrom checks a user's password (and second factor), unwraps their
// team keys into a new session and returns the session token for the
// cookie and the device token for the device cookie. Unknown user, wrong
// password, disabled account, locked counter and a concurrent attempt on
// the same counter give the same error after the same argon2id work; a
// missing or wrong code is told only after the right password, on an
// attempt the lock allowed.
func (o *Office) LoginFrom(ctx context.Context, a LoginAttempt) (LoginResult, error) {
	denied := Errorf(EUnauthorized, "error.login.failed")
	// The device is looked up before the user, for every attempt, so an
	// unknown name does the same reads as a known one.
	dev, found, err := o.lookupDevice(ctx, a.Device)
	if err != nil {
		return LoginResult{}, opError("login", err)
	}
	u, err := o.store.UserByName(ctx, strings.TrimSpace(a.Name))
	if ErrorCode(err) == ENotFound {
		if err := o.dummyWork(ctx, a.Password, o.params); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, denied
	} else if err != nil {
		return LoginResult{}, fmt.Errorf("login: %w", err)
	}
	// The user's row is checked before anything is derived or unwrapped
	// with it: a public key swapped by SQL would make the team keys an
	// admin gives this user readable by whoever swapped it, and lowered
	// KDF parameters would make the password cheap to guess.
	if err := o.anchor.checkUser(ctx, o.store, o.now(), u); err != nil {
		return LoginResult{}, opError("login", err)
	}
	if err := o.anchor.checkParams(ctx, o.store, o.now(), fmt.Sprintf("user:%d", u.ID), u.Params, o.floor); err != nil {
		return LoginResult{}, opError("login", err)
	}
	device := o.deviceOf(u, dev, found)
	p, err := o.checkPassword(ctx, u, device, a.Password)
	if err != nil {
		return LoginResult{}, opError("login", err)
	}
	defer p.end()
	if !p.ok {
		if p.evaluated {
			if err := o.auditUser(ctx, u, AuditLoginFailed, ""); err != nil {
				return LoginResult{}, opError("login", err)
			}
		}
		return LoginResult{}, denied
	}
	// The code is part of the same attempt: a wrong one leaves the
	// attempt counted, so codes cannot be guessed at leisure by someone
	// who knows the password.
	if err := o.checkSecondFactor(ctx, u, p.creds, a.Code); err != nil {
		return LoginResult{}, opError("login", err)
	}
	wrapped, err := o.store.UserTeamKeys(ctx, u.ID)
	if err != nil {
		return LoginResult{}, opError("login", err)
	}
	// The team keys a user proves at login are pinned to the verified
	// teams: an envelope of a team whose row fails its MAC does not get
	// onto the ring (refused and shown to the admins), while the user
	// still gets in with the others, so an admin can see the warning.
	teams, err := o.anchor.goodTeams(ctx, o.store, o.now())
	if err != nil {
		return LoginResult{}, opError("login", err)
	}
	wrapped = slices.DeleteFunc(wrapped, func(w WrappedTeamKey) bool {
		t, ok := findTeam(teams, w.TeamID)
		return !ok || t.PublicKey != w.PublicKey
	})
	// A stored envelope that does not open after the verifier matched is
	// corruption, not a wrong password: it is an internal error.
	own, err := p.creds.KEK.UnwrapKeyPair(u.WrappedKey, u.PublicKey, userKeyAD(u.Salt))
	if err != nil {
		return LoginResult{}, opError("login", err)
	}
	defer own.Wipe() // the session keeps the team keys, not the user's own
	ring := vault.NewKeyring()
	for _, w := range wrapped {
		t, err := own.OpenKeyPair(w.Wrapped, w.PublicKey, userTeamKeyAD(u.Salt, w.PublicKey))
		if err != nil {
			return LoginResult{}, opError("login", err)
		}
		if err := o.openChain(ctx, t, w.TeamID); err != nil {
			t.Wipe()
			return LoginResult{}, opError("login", err)
		}
		ring.Add(w.TeamID, t)
	}
	token := vault.NewToken()
	now := o.now()
	s := &OfficeSession{User: u, Keys: ring, created: now, lastSeen: now, hash: vault.HashToken(token), device: device}
	entered := false
	defer func() {
		if !entered {
			ring.Wipe() // the session never went live: its keys go
		}
	}()
	detail := ""
	var raised rewrapped
	if u.Params.Weaker(o.params) {
		// Parameters raised in the configuration reach the user now, the
		// only moment the password is at hand (see rewrap); argon2id runs
		// before the unit of work.
		if raised, err = o.rewrap(ctx, u, p.creds.KEK, own, a.Password); err != nil {
			return LoginResult{}, fmt.Errorf("login: raise kdf parameters: %w", err)
		}
		defer raised.creds.Wipe()
		detail = "kdf_raised"
	}
	deviceToken := a.Device
	if device == 0 {
		// Password and second factor were right: from now on this browser
		// spends its own counter, which no stranger can touch.
		deviceToken = vault.NewToken()
	}
	// The session's row, the cleared counter, the raised parameters, the
	// new device and the entry commit together; the session goes live
	// in memory only after.
	err = o.store.Atomically(ctx, func(ctx context.Context) error {
		if err := o.storeSession(ctx, s, u); err != nil {
			return err
		}
		if err := o.passed(ctx, p); err != nil {
			return err
		}
		if detail != "" {
			if err := o.storeRewrap(ctx, u, raised, s); err != nil {
				return fmt.Errorf("login: raise kdf parameters: %w", err)
			}
		}
		if device == 0 {
			if err := o.rememberDevice(ctx, u, deviceToken); err != nil {
				return err
			}
		}
		return o.audit(ctx, s, AuditLogin, "", detail)
	})
	if ErrorCode(err) == EUnauthorized {
		return LoginResult{}, denied
	} else if err != nil {
		return LoginResult{}, opError("login", err)
	}
	if detail != "" {
		// The user's other sessions end, as with a password change.
		s.User.Params, s.User.Verifier, s.User.WrappedKey = o.params, raised.creds.Verifier, raised.wrapped
		o.forgetSessions(u.ID, s)
	}
	if err := o.enterSession(ctx, s); err != nil {
		return LoginResult{}, opError("login", err)
	}
	entered = true
	// A team that lost a member while the acting admin lacked its key is
	// rotated now. A failure keeps the mark for the next login and must
	// not lock the member out: they may be the one to fix its cause. The
	// teams are the verified ones read above (refused ones are not again).
	if err := o.completeRotations(ctx, s, teams); err != nil {
		slog.Warn("pending team key rotation failed", "user", u.ID, "err", err)
	}
	return LoginResult{Token: token, Session: s, Device: deviceToken}, nil
}

// Session returns the live session for a token, ending it when it has been
// idle for IdleTimeout or open for AbsoluteTimeout.
func (o *Office) Session(ctx context.Context, token string) (*OfficeSession, error) {
	hash := vault.HashToken(token)
	key := hex.EncodeToString(hash)
	now := o.now()
	o.mu.Lock()
	s, ok := o.sessions[key]
	expired := ok && s.expired(now)
	touch := ok && !expired && now.Sub(s.lastSeen) > touchEvery
	if expired {
		o.drop(key, s)
	} else if ok && !touch {
		s.lastSeen = now
	}
	o.mu.Unlock()
	switch {
	case !ok:
		return nil, Errorf(EUnauthorized, "error.login.required")
	case expired:
		_ = o.store.DeleteSession(ctx, hash)
		return nil, Errorf(EUnauthorized, "error.login.expired")
	case touch:
		// The stored row is the session's authority: if it was deleted
		// (user disabled, session revoked), the keys go too.
		err := o.store.TouchSession(ctx, hash, now)
		o.mu.Lock()
		defer o.mu.Unlock()
		if ErrorCode(err) == EUnauthorized {
			o.drop(key, s)
		}
		if err != nil {
			return nil, opError("session", err)
		}
		s.lastSeen = now
	}
	return s, nil
}

// expired reports whether the session has been idle for longer than
// IdleTimeout or open for longer than AbsoluteTimeout at now; Office.mu
// must be held.
func (s *OfficeSession) expired(now time.Time) bool {
	return now.Sub(s.lastSeen) > IdleTimeout || now.Sub(s.created) > AbsoluteTimeout
}

// ReapSessions ends every expired session: it forgets it, wipes its keys
// and deletes its stored row. Without it an abandoned session (a browser
// closed without logging out) would keep its team keys in memory until
// the next restart, long after nobody could use it any more. It returns
// how many sessions ended; a failed row deletion is reported but the keys
// are wiped all the same.
func (o *Office) ReapSessions(ctx context.Context) (int, error) {
	now := o.now()
	var hashes [][]byte
	o.mu.Lock()
	for key, s := range o.sessions {
		if s.expired(now) {
			o.drop(key, s)
			hashes = append(hashes, s.hash)
		}
	}
	o.mu.Unlock()
	var errs []error
	for _, h := range hashes {
		if err := o.store.DeleteSession(ctx, h); err != nil {
			errs = append(errs, fmt.Errorf("reap sessions: %w", err))
		}
	}
	return len(hashes), errors.Join(errs...)
}

// drop forgets a session and wipes its keys; o.mu must be held.
func (o *Office) drop(key string, s *OfficeSession) {
	delete(o.sessions, key)
	s.Keys.Wipe()
	s.totp = nil // an unconfirmed two-factor secret goes with the session
}

// Logout ends a session and wipes its keys.
//
// The keys go first, whatever follows: the row's deletion and the audit
// entry are one unit, and if it fails (the log is down) the person sees an
// error, the row stays (harmless: without the map entry it logs nobody in,
// and the next start deletes it) and no entry claims a logout that is not
// stored. Keeping the session alive instead would leave the team keys
// usable on a computer its user believes they left logged out, because of
// a broken log; a session that ends without an entry is nothing new (an
// expired one ends so).
func (o *Office) Logout(ctx context.Context, token string) error {
	hash := vault.HashToken(token)
	o.mu.Lock()
	s, ok := o.sessions[hex.EncodeToString(hash)]
	if ok {
		o.drop(hex.EncodeToString(hash), s)
	}
	o.mu.Unlock()
	if !ok {
		return opError("logout", o.store.DeleteSession(ctx, hash))
	}
	return opError("logout", o.audited(ctx, s, AuditLogout, "", "", func(ctx context.Context) error {
		return o.store.DeleteSession(ctx, hash)
	}))
}

// Close ends every session and wipes all keys, for shutdown.
func (o *Office) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, s := range o.sessions {
		o.drop(k, s)
	}
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

// dropSession forgets the session of user userID whose ID is id and wipes
// its keys, and returns its token's hash for deleting its row; false if
// the user has no such live session.
func (o *Office) dropSession(userID int64, id string) ([]byte, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, s := range o.sessions {
		if s.User.ID == userID && s.ID() == id {
			o.drop(k, s)
			return s.hash, true
		}
	}
	return nil, false
}

// pendingTOTP returns the session's two-factor enrolment that is not
// confirmed yet, or nil. When none is pending and start is not nil, it
// makes one with start, under the lock, so that two requests of one
// session never make two secrets.
func (o *Office) pendingTOTP(s *OfficeSession, start func() (*totpEnrolment, error)) (*totpEnrolment, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s.totp == nil && start != nil {
		p, err := start()
		if err != nil {
			return nil, err
		}
		s.totp = p
	}
	return s.totp, nil
}

// confirmedTOTP ends the session's enrolment p once it is stored, unless
// another one replaced it meanwhile.
func (o *Office) confirmedTOTP(s *OfficeSession, p *totpEnrolment) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s.totp == p {
		s.totp = nil
	}
}

// EndUserSessions ends every session of a user at once: it deletes their
// rows and drops them, with their keys, from memory, so the next request
// with any of the user's cookies is refused. Call it whenever a user loses
// access that their live sessions still hold.
func (o *Office) EndUserSessions(ctx context.Context, userID int64) error {
	if err := o.store.DeleteUserSessions(ctx, userID); err != nil {
		return opError("end user sessions", err)
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
