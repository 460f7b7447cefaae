package reporting

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"image/png"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Two-factor login with TOTP (RFC 6238).
//
// The secret is sealed under the key-encryption key of the user's
// password (users.totp_secret_sealed), so a copy of the database holds no
// usable second factor: it opens only after the password has been checked,
// at login or when the user types it again to change their second factor.
// The last accepted time step is stored so that no code works twice.
// Recovery codes are stored as hashes and deleted when used.

// Audit actions of two-factor beyond those in audit.go: a user made new
// recovery codes, or logged in with one (their device may be lost).
const (
	AuditTOTPRecoveryCodes = "totp_recovery_codes"
	AuditTOTPRecoveryUsed  = "totp_recovery_used"
)

const (
	// totpPeriod and the library's defaults (SHA-1, 6 digits) are what
	// every authenticator app understands. SHA-1 is sound inside HMAC.
	totpPeriod = 30
	// totpSkew accepts the codes of one step before and after now: phone
	// clocks drift and people type slowly. More would widen the window
	// for guessing.
	totpSkew = 1
	// totpIssuer is the name authenticator apps show for the entry.
	totpIssuer = "Meldestelle"
	// totpQRSize is the QR code's width and height in pixels.
	totpQRSize = 256

	// RecoveryCodeCount is how many one-time recovery codes a user gets.
	RecoveryCodeCount = 10
	// recoveryCodeLen characters of Crockford's base32 carry 60 random
	// bits.
	recoveryCodeLen = 12

	// settingTOTPRoles holds the roles that must use two-factor, comma
	// separated.
	settingTOTPRoles = "totp_required_roles"
)

// TOTPRoles lists the roles two-factor can be required for, in the order
// the settings page shows them.
var TOTPRoles = []string{RoleAdmin, RoleCounsellor, RoleStatistician}

var totpValidate = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPState is a user's second factor as stored.
type TOTPState struct {
	Sealed        []byte // the base32 secret sealed under the password's KEK; nil: two-factor is off
	LastStep      int64  // the last time step accepted; codes of it and earlier steps are refused
	RecoveryCodes int    // unused recovery codes left
}

// Enabled reports whether the user has two-factor on.
func (st TOTPState) Enabled() bool { return st.Sealed != nil }

// TOTPStore keeps second factors: the TOTP secret (sealed), the last
// accepted time step and the recovery codes' hashes. The roles that must
// use two-factor are a setting.
type TOTPStore interface {
	// TOTP returns a user's second factor; ENotFound if there is no such
	// user.
	TOTP(ctx context.Context, userID int64) (TOTPState, error)
	// EnableTOTP stores a sealed secret, the time step of the code that
	// confirmed it (as used) and the hashes of new recovery codes;
	// EConflict if the user has two-factor on already.
	EnableTOTP(ctx context.Context, userID int64, sealed []byte, step int64, recoveryHashes [][]byte) error
	// DisableTOTP removes a user's secret and recovery codes.
	DisableTOTP(ctx context.Context, userID int64) error
	// UseTOTPStep records a time step as used if it is later than the last
	// one, atomically; EConflict if it is not (the code was used already,
	// perhaps by a login running at the same moment) or two-factor is off.
	UseTOTPStep(ctx context.Context, userID int64, step int64) error
	// UseRecoveryCode deletes the user's recovery code with this hash;
	// ENotFound if there is none (wrong, or used already).
	UseRecoveryCode(ctx context.Context, userID int64, hash []byte) error
	// ReplaceRecoveryCodes replaces a user's recovery codes; EConflict if
	// two-factor is off.
	ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte) error
	// RecoveryCodes returns the stored hashes of a user's unused recovery
	// codes.
	RecoveryCodes(ctx context.Context, userID int64) ([][]byte, error)
	// RekeyRecoveryCodes replaces each stored hash old[i] by new[i], in one
	// transaction; a hash no longer stored (the code was used meanwhile)
	// is skipped.
	RekeyRecoveryCodes(ctx context.Context, userID int64, old, new [][]byte) error
}

// TwoFactor is each user's second factor (enrolment, recovery codes,
// turning it off) and the admins' setting of the roles that must use it.
// The login's check of the code stays with the Office; a change here
// asks for the password again through the Office's password check, so it
// spends the same lockout counters as a login.
type TwoFactor struct {
	auditor
	store  TwoFactorStore
	anchor *Anchor
	office twoFactorOffice
	now    func() time.Time
}

// TwoFactorStore is what TwoFactor reads and writes.
type TwoFactorStore interface {
	AuditStore
	TOTPStore
	// User, SettingMAC, PutSettingMAC and CountUsers are those of Store.
	User(ctx context.Context, id int64) (User, error)
	SettingMAC(ctx context.Context, key string) (value, mac []byte, err error)
	PutSettingMAC(ctx context.Context, key string, value, mac []byte) error
	CountUsers(ctx context.Context) (int, error)
}

// twoFactorOffice is what TwoFactor needs of the Office: the password
// check with the login lockout (to re-authenticate a user before a change
// to their second factor) and the session's pending enrolment, which the
// Office's lock guards and which ends with the session. *Office
// implements it.
type twoFactorOffice interface {
	passwordChecker
	pendingTOTP(s *OfficeSession, start func() (*totpEnrolment, error)) (*totpEnrolment, error)
	confirmedTOTP(s *OfficeSession, p *totpEnrolment)
}

// NewTwoFactor returns the two-factor service. office is the *Office,
// whose password check with the login lockout re-authenticates a user
// before a change to their second factor, and whose sessions hold the
// pending enrolments.
func NewTwoFactor(store TwoFactorStore, anchor *Anchor, office twoFactorOffice, now func() time.Time) *TwoFactor {
	return &TwoFactor{auditor: auditor{log: store, now: now}, store: store, anchor: anchor, office: office, now: now}
}

// codeStore is what checking and consuming a code needs, at login (the
// Office) and before a change to the second factor (TwoFactor).
type codeStore interface {
	UseTOTPStep(ctx context.Context, userID int64, step int64) error
	UseRecoveryCode(ctx context.Context, userID int64, hash []byte) error
	RecoveryCodes(ctx context.Context, userID int64) ([][]byte, error)
	RekeyRecoveryCodes(ctx context.Context, userID int64, old, new [][]byte) error
}

// totpEnrolment is a session's two-factor enrolment before the user has
// confirmed it: the new secret lives only here, in process memory (the
// session's field, guarded by Office.mu: TwoFactor reaches it through
// the Office), until a code proves that the user's app has it. Only then is it sealed and stored; an abandoned
// enrolment dies with the session.
type totpEnrolment struct {
	key *otp.Key
}

// totpAD binds a sealed secret to its user (by their random salt, as the
// user's other envelopes are) and to its purpose.
func totpAD(salt []byte) vault.AD {
	return vault.AD{Purpose: "totp", Row: "user:" + hex.EncodeToString(salt)}
}

// checkSecondFactor is called by LoginFrom after the password matched,
// with the password's credentials (whose KEK opens the sealed TOTP secret)
// and the code typed into the login form's totp field. It is part of the
// attempt the password check reserved, so a wrong or missing code leaves
// that attempt counted as a failure. A user without two-factor passes.
// Only now, after a correct password on an attempt the lock allowed, may
// the answer say that a code is missing or wrong: it tells nothing to
// someone who does not know the password.
func (o *Office) checkSecondFactor(ctx context.Context, u User, creds vault.Credentials, code string) error {
	st, err := o.store.TOTP(ctx, u.ID)
	if err != nil {
		return err
	}
	if !st.Enabled() {
		return nil
	}
	fail := func(messageID string) error {
		if err := o.auditUser(ctx, u, AuditLoginFailed, "totp"); err != nil {
			return err
		}
		return Errorf(EUnauthorized, messageID)
	}
	if strings.TrimSpace(code) == "" {
		return fail("error.totp.required")
	}
	// The verifier matched, so a secret that does not open is corruption,
	// not a wrong password: an internal error.
	secret, err := creds.KEK.Open(st.Sealed, totpAD(u.Salt))
	if err != nil {
		return err
	}
	defer clear(secret)
	// A recovery code is deleted in one unit with the entry that says it
	// was used (the device may be lost): when the entry cannot be written,
	// the code stays and the login fails, so the user can try again.
	var msg string
	err = o.store.Atomically(ctx, func(ctx context.Context) error {
		m, recovery, err := useCode(ctx, o.store, o.now(), u, st, string(secret), code)
		if err != nil || m != "" {
			msg = m
			return err
		}
		if recovery {
			return o.auditUser(ctx, u, AuditTOTPRecoveryUsed, "")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if msg != "" {
		return fail(msg)
	}
	return nil
}

// useCode checks a code typed by user u, either a TOTP code of secret or
// one of their recovery codes, and consumes it: the TOTP time step is
// recorded as used, the recovery code deleted. It returns "" when the
// code is accepted (and whether it was a recovery code), or the message
// ID that says why not.
func useCode(ctx context.Context, store codeStore, now time.Time, u User, st TOTPState, secret, code string) (string, bool, error) {
	// Whenever the secret is open (a login, a change to two-factor),
	// recovery codes stored by an earlier version as plain hashes are
	// keyed: from then on a database copy cannot test guesses at them.
	if err := rekeyRecoveryCodes(ctx, store, u, secret); err != nil {
		return "", false, err
	}
	code = normalizeCode(code)
	if isTOTPCode(code) {
		step, used, ok := matchStep(secret, code, now, st.LastStep)
		if !ok {
			if used {
				return "error.totp.used", false, nil
			}
			return "error.totp.wrong", false, nil
		}
		// The compare-and-set in the store, not the check above, is what
		// stops a replay: two logins with one code at the same moment both
		// pass the check, but only one moves the step.
		err := store.UseTOTPStep(ctx, u.ID, step)
		if ErrorCode(err) == EConflict {
			return "error.totp.used", false, nil
		}
		return "", false, err
	}
	rc, ok := parseRecoveryCode(code)
	if !ok {
		return "error.totp.wrong", false, nil
	}
	err := store.UseRecoveryCode(ctx, u.ID, storedRecoveryCode(secret, u.ID, rc))
	if ErrorCode(err) == ENotFound {
		return "error.totp.wrong", false, nil
	}
	return "", err == nil, err
}

// matchStep looks for the time step within totpSkew of now whose code is
// code. It accepts only steps after last; used says that the code matched
// a step that was used already.
func matchStep(secret, code string, now time.Time, last int64) (step int64, used, ok bool) {
	cur := now.Unix() / totpPeriod
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		if s < 0 {
			continue
		}
		// hotp compares in constant time.
		match, err := hotp.ValidateCustom(code, uint64(s), secret, totpValidate)
		if err != nil || !match {
			continue
		}
		if s <= last {
			used = true
			continue
		}
		return s, false, true
	}
	return 0, used, false
}

// normalizeCode removes what people type between groups (spaces, dashes)
// and makes letters upper case.
func normalizeCode(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\u00a0', '\t':
			return -1
		}
		return r
	}, s)
	return strings.ToUpper(s)
}

func isTOTPCode(s string) bool {
	return len(s) == totpValidate.Digits.Length() && strings.Trim(s, "0123456789") == ""
}

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a printed
// recovery code cannot be misread; 32 letters, so a random byte masked to
// five bits picks each with the same chance.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newRecoveryCodes returns RecoveryCodeCount fresh recovery codes for a
// user whose TOTP secret is secret, formatted for printing, and what is
// stored of them.
func newRecoveryCodes(userID int64, secret string) ([]string, [][]byte) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		b := make([]byte, recoveryCodeLen)
		rand.Read(b) // crypto/rand: never fails (Go 1.24+)
		for j := range b {
			b[j] = crockford[b[j]&31]
		}
		raw := string(b)
		codes[i] = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12]
		hashes[i] = storedRecoveryCode(secret, userID, raw)
	}
	return codes, hashes
}

// parseRecoveryCode reads a normalised recovery code, forgiving the
// letters Crockford's alphabet leaves out because they look like digits.
func parseRecoveryCode(s string) (string, bool) {
	s = strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(s)
	if len(s) != recoveryCodeLen {
		return "", false
	}
	for _, r := range s {
		if !strings.ContainsRune(crockford, r) {
			return "", false
		}
	}
	return s, true
}

// storedRecoveryCode is what is stored of a recovery code: its hash, keyed
// under the user's TOTP secret (vault.RecoveryCodeMAC). The secret opens
// only with the password, so a copy of the database cannot test guesses;
// a fast hash is enough because each code is 60 random bits, not
// something a person chose.
func storedRecoveryCode(secret string, userID int64, code string) []byte {
	return vault.RecoveryCodeMAC([]byte(secret), recoveryHash(userID, code))
}

// rekeyRecoveryCodes converts a user's recovery codes stored as plain
// hashes (before issue 9) into keyed ones, now that the secret is open.
func rekeyRecoveryCodes(ctx context.Context, store codeStore, u User, secret string) error {
	stored, err := store.RecoveryCodes(ctx, u.ID)
	if err != nil {
		return err
	}
	var old, keyed [][]byte
	for _, h := range stored {
		if !vault.IsRecoveryCodeMAC(h) {
			old = append(old, h)
			keyed = append(keyed, vault.RecoveryCodeMAC([]byte(secret), h))
		}
	}
	if len(old) == 0 {
		return nil
	}
	return store.RekeyRecoveryCodes(ctx, u.ID, old, keyed)
}

// recoveryHash is the plain hash of a recovery code, the input of its
// MAC (and what versions before issue 9 stored). The user ID in the input
// makes a table computed for one user useless for any other.
func recoveryHash(userID int64, code string) []byte {
	h := sha256.New()
	h.Write([]byte("meldestelle totp recovery code\x00"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(userID)))
	h.Write([]byte(code))
	return h.Sum(nil)
}

// TOTPStatus is what a user's two-factor page shows.
type TOTPStatus struct {
	Enabled       bool
	RecoveryCodes int  // unused recovery codes left
	Required      bool // the user's role must use two-factor
}

// TOTPStatus returns the session user's two-factor state.
func (t *TwoFactor) TOTPStatus(ctx context.Context, s *OfficeSession) (TOTPStatus, error) {
	st, err := t.store.TOTP(ctx, s.User.ID)
	if err != nil {
		return TOTPStatus{}, opError("totp status", err)
	}
	required, err := t.roleRequiresTOTP(ctx, s.User.Role)
	if err != nil {
		return TOTPStatus{}, opError("totp status", err)
	}
	return TOTPStatus{Enabled: st.Enabled(), RecoveryCodes: st.RecoveryCodes, Required: required}, nil
}

// TOTPEnrolment is a pending enrolment as the user sees it.
type TOTPEnrolment struct {
	// Secret is the base32 secret in groups of four, for typing it into
	// an app by hand instead of scanning the QR code.
	Secret string
}

// BeginTOTP starts a two-factor enrolment for the session's user, or
// returns the one already pending, so that reloading the page does not
// change the QR code the user may be scanning. EConflict if the user has
// two-factor on already.
func (t *TwoFactor) BeginTOTP(ctx context.Context, s *OfficeSession) (TOTPEnrolment, error) {
	st, err := t.store.TOTP(ctx, s.User.ID)
	if err != nil {
		return TOTPEnrolment{}, opError("begin totp", err)
	}
	if st.Enabled() {
		return TOTPEnrolment{}, Errorf(EConflict, "error.totp.already_on")
	}
	p, err := t.office.pendingTOTP(s, func() (*totpEnrolment, error) {
		// 20 random bytes (160 bits, RFC 4226's recommendation) from
		// crypto/rand, the library's defaults.
		key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: s.User.Name,
			Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return nil, err
		}
		return &totpEnrolment{key: key}, nil
	})
	if err != nil {
		return TOTPEnrolment{}, opError("begin totp", err)
	}
	return TOTPEnrolment{Secret: groups(p.key.Secret(), 4)}, nil
}

func groups(s string, n int) string {
	var parts []string
	for len(s) > n {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return strings.Join(append(parts, s), " ")
}

// TOTPQRCode returns the pending enrolment's otpauth:// URL as a QR code
// in PNG, for the user's app to scan; ENotFound when none is pending. It
// is served from our own origin: the page's CSP allows no other image
// source, and the secret must not go to a third-party QR service.
func (t *TwoFactor) TOTPQRCode(s *OfficeSession) ([]byte, error) {
	p, _ := t.office.pendingTOTP(s, nil)
	if p == nil {
		return nil, Errorf(ENotFound, "error.not_found")
	}
	img, err := p.key.Image(totpQRSize, totpQRSize)
	if err != nil {
		return nil, opError("totp qr code", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, opError("totp qr code", err)
	}
	return buf.Bytes(), nil
}

// reauthenticate checks the session user's password again before a
// change to their second factor: a session left open on a shared computer
// must not be enough to turn two-factor off or to learn recovery codes.
// It also yields the KEK that seals and opens the TOTP secret, which the
// session does not keep. The user is read afresh, as the password may
// have changed since login. The check spends the login counter of the
// device the session logged in from, like a login: a taken-over session
// cannot guess the password faster than the login form, and a locked
// counter refuses the right password too. A wrong (or refused) password
// gives the message ID for the password field. The caller ends the check,
// and calls passed once the code was right as well.
func (t *TwoFactor) reauthenticate(ctx context.Context, s *OfficeSession, password string) (User, *passwordCheck, string, error) {
	u, err := t.store.User(ctx, s.User.ID)
	if err != nil {
		return User{}, nil, "", err
	}
	p, err := t.office.checkPassword(ctx, u, s.device, password)
	if err != nil {
		return User{}, nil, "", err
	}
	if !p.ok {
		if p.evaluated {
			if err := t.auditUser(ctx, u, AuditLoginFailed, "totp_reauth"); err != nil {
				p.end()
				return User{}, nil, "", err
			}
		}
		return u, p, "error.totp.password", nil
	}
	return u, p, "", nil
}

// EnableTOTP confirms the session's pending enrolment with the user's
// current password and a code from their app, stores the secret sealed
// under the password's KEK and returns new recovery codes, which are shown
// this once and stored only as hashes. EConflict when no enrolment is
// pending (the session ended in between) or two-factor is on already.
func (t *TwoFactor) EnableTOTP(ctx context.Context, s *OfficeSession, password, code string) ([]string, error) {
	p, _ := t.office.pendingTOTP(s, nil)
	if p == nil {
		return nil, Errorf(EConflict, "error.totp.no_enrolment")
	}
	errs := fieldErrors{}
	u, check, msg, err := t.reauthenticate(ctx, s, password)
	if err != nil {
		return nil, opError("enable totp", err)
	}
	defer check.end()
	if msg != "" {
		errs.add("password", msg)
	}
	step, _, ok := matchStep(p.key.Secret(), normalizeCode(code), t.now(), 0)
	if !ok {
		errs.add("code", "error.totp.wrong")
	}
	if err := errs.err(); err != nil {
		return nil, opError("enable totp", err)
	}
	if err := t.office.passed(ctx, check); err != nil {
		return nil, opError("enable totp", err)
	}
	sealed := check.creds.KEK.Seal([]byte(p.key.Secret()), totpAD(u.Salt))
	codes, hashes := newRecoveryCodes(u.ID, p.key.Secret())
	// The confirming code's step is stored as used: it cannot log in.
	err = t.audited(ctx, s, AuditTOTPEnable, "", "", func(ctx context.Context) error {
		return t.store.EnableTOTP(ctx, u.ID, sealed, step, hashes)
	})
	if err != nil {
		// The enrolment stays pending: the user can confirm it again.
		return nil, opError("enable totp", err)
	}
	t.office.confirmedTOTP(s, p)
	return codes, nil
}

// confirmTOTP checks the password and a current code (or recovery code)
// of a user who has two-factor on, before a change to it, and returns the
// opened TOTP secret (which keys new recovery codes). Field errors name
// the field that was wrong.
func (t *TwoFactor) confirmTOTP(ctx context.Context, s *OfficeSession, password, code string) (User, string, error) {
	st, err := t.store.TOTP(ctx, s.User.ID)
	if err != nil {
		return User{}, "", err
	}
	if !st.Enabled() {
		return User{}, "", Errorf(EConflict, "error.totp.not_on")
	}
	u, check, msg, err := t.reauthenticate(ctx, s, password)
	if err != nil {
		return User{}, "", err
	}
	defer check.end()
	if msg != "" {
		// Without the password the secret does not open, so the code
		// cannot be checked either.
		return User{}, "", fieldErrors{"password": msg}.err()
	}
	secret, err := check.creds.KEK.Open(st.Sealed, totpAD(u.Salt))
	if err != nil {
		return User{}, "", err
	}
	msg, _, err = useCode(ctx, t.store, t.now(), u, st, string(secret), code)
	if err != nil {
		return User{}, "", err
	}
	if msg != "" {
		if err := t.auditUser(ctx, u, AuditLoginFailed, "totp"); err != nil {
			return User{}, "", err
		}
		// The attempt stays counted: a wrong code is a failed attempt.
		return User{}, "", fieldErrors{"code": msg}.err()
	}
	if err := t.office.passed(ctx, check); err != nil {
		return User{}, "", err
	}
	return u, string(secret), nil
}

// DisableTOTP turns the session user's two-factor off, after their
// current password and a code. EConflict when their role requires
// two-factor: they would only be sent to enrol again.
func (t *TwoFactor) DisableTOTP(ctx context.Context, s *OfficeSession, password, code string) error {
	required, err := t.roleRequiresTOTP(ctx, s.User.Role)
	if err != nil {
		return opError("disable totp", err)
	}
	if required {
		return Errorf(EConflict, "error.totp.required_by_role")
	}
	u, _, err := t.confirmTOTP(ctx, s, password, code)
	if err != nil {
		return opError("disable totp", err)
	}
	return opError("disable totp", t.audited(ctx, s, AuditTOTPDisable, "", "", func(ctx context.Context) error {
		return t.store.DisableTOTP(ctx, u.ID)
	}))
}

// NewRecoveryCodes replaces the session user's recovery codes, after
// their current password and a code, and returns the new ones to show
// once.
func (t *TwoFactor) NewRecoveryCodes(ctx context.Context, s *OfficeSession, password, code string) ([]string, error) {
	u, secret, err := t.confirmTOTP(ctx, s, password, code)
	if err != nil {
		return nil, opError("new recovery codes", err)
	}
	codes, hashes := newRecoveryCodes(u.ID, secret)
	err = t.audited(ctx, s, AuditTOTPRecoveryCodes, "", "", func(ctx context.Context) error {
		return t.store.ReplaceRecoveryCodes(ctx, u.ID, hashes)
	})
	if err != nil {
		return nil, opError("new recovery codes", err)
	}
	return codes, nil
}

// TOTPRequiredRoles returns the roles that must use two-factor.
func (t *TwoFactor) TOTPRequiredRoles(ctx context.Context) ([]string, error) {
	// MACed and required once set up: a database writer must not be able
	// to drop the requirement, by changing the row or by deleting it.
	v, err := t.anchor.requiredSetting(ctx, t.store, t.now(), settingTOTPRoles)
	if ErrorCode(err) == ENotFound {
		return nil, nil
	}
	if err != nil {
		return nil, opError("totp roles", err)
	}
	var roles []string
	for r := range strings.SplitSeq(string(v), ",") {
		if slices.Contains(TOTPRoles, r) {
			roles = append(roles, r)
		}
	}
	return roles, nil
}

func (t *TwoFactor) roleRequiresTOTP(ctx context.Context, role string) (bool, error) {
	roles, err := t.TOTPRequiredRoles(ctx)
	return slices.Contains(roles, role), err
}

// SetTOTPRequiredRoles sets the roles that must use two-factor; admins
// only. Users of those roles without two-factor are sent to enrol at their
// next request.
func (t *TwoFactor) SetTOTPRequiredRoles(ctx context.Context, s *OfficeSession, roles []string) error {
	// The route is for admins only; checked here again in case a route
	// is ever registered in the wrong group.
	if err := allow(s, PermSettings); err != nil {
		return opError("set totp roles", err)
	}
	var clean []string
	for _, r := range TOTPRoles { // in a fixed order, whatever the form sent
		if slices.Contains(roles, r) {
			clean = append(clean, r)
		}
	}
	for _, r := range roles {
		if !slices.Contains(TOTPRoles, r) {
			return fieldErrors{"roles": "error.totp.role"}.err()
		}
	}
	value := strings.Join(clean, ",")
	return opError("set totp roles", t.audited(ctx, s, AuditSettings, "", "two_factor="+value, func(ctx context.Context) error {
		return t.store.PutSettingMAC(ctx, settingTOTPRoles, []byte(value), t.anchor.SettingMAC(settingTOTPRoles, []byte(value)))
	}))
}

// NeedsTOTPEnrolment reports whether the session's user must set up
// two-factor before doing anything else: their role requires it and they
// have none. Their session is then restricted to enrolment and logout.
// It reads the store on every call, so enrolling in one session (or the
// admin dropping the requirement) frees all of the user's sessions at
// once.
func (t *TwoFactor) NeedsTOTPEnrolment(ctx context.Context, s *OfficeSession) (bool, error) {
	required, err := t.roleRequiresTOTP(ctx, s.User.Role)
	if err != nil || !required {
		return false, opError("totp enrolment", err)
	}
	st, err := t.store.TOTP(ctx, s.User.ID)
	if err != nil {
		return false, opError("totp enrolment", err)
	}
	return !st.Enabled(), nil
}

// resealTOTP is for changing a password (accounts work): it opens user
// u's sealed TOTP secret with the old password's KEK and seals it under
// the new password's KEK, bound to newSalt (pass u.Salt if the salt stays
// the same). It returns nil, nil when u has two-factor off. The caller
// must write the result to users.totp_secret_sealed in the same
// transaction as the new salt, verifier and wrapped private key: a secret
// sealed under the old password would no longer open, and the user could
// not log in. A password reset without the old password cannot re-seal
// the secret; it must turn two-factor off (TOTPStore.DisableTOTP) so the
// user can enrol again.
func (o *Office) resealTOTP(ctx context.Context, u User, oldKEK vault.Key, newSalt []byte, newKEK vault.Key) ([]byte, error) {
	st, err := o.store.TOTP(ctx, u.ID)
	if err != nil || !st.Enabled() {
		return nil, err
	}
	secret, err := oldKEK.Open(st.Sealed, totpAD(u.Salt))
	if err != nil {
		return nil, err
	}
	return newKEK.Seal(secret, totpAD(newSalt)), nil
}
