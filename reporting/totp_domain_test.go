package reporting_test

import (
	"bytes"
	"encoding/base32"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// ---- two-factor helpers ----

// totpCode is the code an authenticator app shows for secret at time at.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatalf("GenerateCode: %v", err)
	}
	return code
}

// enrol sets up two-factor for the admin through the office, as the
// enrolment page does, and returns the secret (as an app would store it)
// and the recovery codes. The clock moves on to the next time step, so
// the confirming code is not the current one any more.
func (e *env) enrol(t *testing.T) (string, []string) {
	t.Helper()
	_, s := e.login(t)
	en, err := e.twoFactor.BeginTOTP(t.Context(), s)
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	secret := strings.ReplaceAll(en.Secret, " ", "")
	codes, err := e.twoFactor.EnableTOTP(t.Context(), s, adminPassword, totpCode(t, secret, e.clock.Now()))
	if err != nil {
		t.Fatalf("EnableTOTP: %v", err)
	}
	e.clock.Advance(30 * time.Second)
	return secret, codes
}

// loginWith logs the admin in with a code in the totp field.
func (e *env) loginWith(t *testing.T, password, code string) error {
	t.Helper()
	token, s, err := e.office.Login(t.Context(), adminName, password, code)
	if err == nil && (token == "" || s == nil) {
		t.Fatal("Login succeeded without a session")
	}
	if err != nil && (token != "" || s != nil) {
		t.Fatalf("Login failed (%v) but returned a session", err)
	}
	return err
}

// wantLoginRefused fails unless err is a refused login with messageID.
func wantLoginRefused(t *testing.T, what string, err error, messageID string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: login succeeded, want it refused with %s", what, messageID)
		return
	}
	ae := appError(t, err)
	if ae.Code != reporting.EUnauthorized || ae.MessageID != messageID {
		t.Errorf("%s: error %s/%s, want %s/%s", what, ae.Code, ae.MessageID, reporting.EUnauthorized, messageID)
	}
}

// auditActions lists the audit log's action:detail pairs, oldest first.
func (e *env) auditActions(t *testing.T) []string {
	t.Helper()
	entries, _, err := e.db.AuditEntries(t.Context(), "", reporting.Page{Limit: 1000})
	if err != nil {
		t.Fatalf("AuditEntries: %v", err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].Action+":"+entries[i].Detail)
	}
	return out
}

func count(list []string, v string) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

// ---- enrolment and login ----

// Enrolment needs the current password and a code from the app; after it,
// a login needs a code too. A wrong password is refused the same way as
// before, code or not, so the answer never tells an attacker more than
// "wrong password" unless the password was right.
func TestTOTPEnrolThenLoginNeedsCode(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	_, s := e.login(t)

	en, err := e.twoFactor.BeginTOTP(ctx, s)
	if err != nil {
		t.Fatalf("BeginTOTP: %v", err)
	}
	if !regexp.MustCompile(`^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$`).MatchString(en.Secret) {
		t.Errorf("secret for typing = %q, want 32 base32 letters in groups of four", en.Secret)
	}
	if again, _ := e.twoFactor.BeginTOTP(ctx, s); again.Secret != en.Secret {
		t.Error("reloading the enrolment page changed the secret the user may be scanning")
	}
	secret := strings.ReplaceAll(en.Secret, " ", "")
	if st, _ := e.twoFactor.TOTPStatus(ctx, s); st.Enabled {
		t.Fatal("two-factor on before the user confirmed")
	}
	if err := e.loginWith(t, adminPassword, ""); err != nil {
		t.Fatalf("a pending enrolment already demands a code: %v", err)
	}

	now := e.clock.Now()
	tests := []struct {
		name, password, code string
		fields               []string
	}{
		{"wrong password", adminPassword + "x", totpCode(t, secret, now), []string{"password"}},
		{"wrong code", adminPassword, wrongCode(totpCode(t, secret, now)), []string{"code"}},
		{"both wrong", "nope", "", []string{"code", "password"}},
		{"code of another secret", adminPassword, totpCode(t, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", now), []string{"code"}},
	}
	for _, tt := range tests {
		_, err := e.twoFactor.EnableTOTP(ctx, s, tt.password, tt.code)
		ae := appError(t, err)
		if ae.Code != reporting.EInvalid || len(ae.Fields) != len(tt.fields) {
			t.Errorf("%s: error %v, want field errors on %v", tt.name, err, tt.fields)
		}
		for _, f := range tt.fields {
			if _, ok := ae.Fields[f]; !ok {
				t.Errorf("%s: no error on field %s: %v", tt.name, f, ae.Fields)
			}
		}
	}
	if st, _ := e.twoFactor.TOTPStatus(ctx, s); st.Enabled {
		t.Fatal("a failed confirmation turned two-factor on")
	}

	confirm := totpCode(t, secret, now)
	codes, err := e.twoFactor.EnableTOTP(ctx, s, adminPassword, " "+confirm[:3]+" "+confirm[3:]+" ")
	if err != nil {
		t.Fatalf("EnableTOTP with the app's code, typed with spaces: %v", err)
	}
	if len(codes) != reporting.RecoveryCodeCount {
		t.Errorf("%d recovery codes, want %d", len(codes), reporting.RecoveryCodeCount)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$`).MatchString(c) {
			t.Errorf("recovery code %q is not three groups of four unambiguous characters", c)
		}
		if seen[c] {
			t.Errorf("recovery code %q handed out twice", c)
		}
		seen[c] = true
	}
	if st, _ := e.twoFactor.TOTPStatus(ctx, s); !st.Enabled || st.RecoveryCodes != reporting.RecoveryCodeCount {
		t.Errorf("status after enrolment = %+v, want on with %d codes", st, reporting.RecoveryCodeCount)
	}
	if _, err := e.twoFactor.TOTPQRCode(s); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("the QR code is still served after enrolment: %v", err)
	}
	if _, err := e.twoFactor.BeginTOTP(ctx, s); reporting.ErrorCode(err) != reporting.EConflict {
		t.Errorf("BeginTOTP with two-factor on: %v, want EConflict", err)
	}

	// The code that confirmed the enrolment does not log in (replay).
	wantLoginRefused(t, "confirming code", e.loginWith(t, adminPassword, confirm), "error.totp.used")
	e.clock.Advance(30 * time.Second)
	wantLoginRefused(t, "no code", e.loginWith(t, adminPassword, ""), "error.totp.required")
	wantLoginRefused(t, "wrong password, valid code", e.loginWith(t, "falsch", totpCode(t, secret, e.clock.Now())), "error.login.failed")
	wantLoginRefused(t, "wrong password, no code", e.loginWith(t, "falsch", ""), "error.login.failed")
	if err := e.loginWith(t, adminPassword, totpCode(t, secret, e.clock.Now())); err != nil {
		t.Errorf("login with password and current code: %v", err)
	}

	got := e.auditActions(t)
	if count(got, reporting.AuditTOTPEnable+":") != 1 {
		t.Errorf("audit %v: want one %s", got, reporting.AuditTOTPEnable)
	}
	if count(got, reporting.AuditLoginFailed+":totp") != 2 {
		t.Errorf("audit %v: want two failed second factors (replayed and missing code)", got)
	}
}

// wrongCode returns a six-digit code that is not code.
func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// A wrong code, a code from too long ago or too far ahead, and things
// that are not codes are refused after a correct password, each with a
// failed login in the audit log. A code from the step before or after
// now is accepted: phone clocks drift.
func TestTOTPWrongCodeRefused(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	secret, _ := e.enrol(t)
	// One more step, so that the step before now is not the confirming
	// code's (used) step.
	e.clock.Advance(30 * time.Second)
	now := e.clock.Now()
	refuse := func(cases []struct{ name, code string }) {
		t.Helper()
		for _, tt := range cases {
			wantLoginRefused(t, tt.name, e.loginWith(t, adminPassword, tt.code), "error.totp.wrong")
		}
	}
	// Four at a time: the fifth failure in a row would lock the account
	// (TestTOTPFailuresLockAccount), and a good login resets the count.
	refuse([]struct{ name, code string }{
		{"wrong digits", wrongCode(totpCode(t, secret, now))},
		{"two steps ago", totpCode(t, secret, now.Add(-60*time.Second))},
		{"two steps ahead", totpCode(t, secret, now.Add(60*time.Second))},
		{"letters", "abcdef"},
	})
	if err := e.loginWith(t, adminPassword, totpCode(t, secret, now.Add(-30*time.Second))); err != nil {
		t.Errorf("code of the previous step: %v", err)
	}
	refuse([]struct{ name, code string }{
		{"too short", totpCode(t, secret, now)[:5]},
		{"seven digits", totpCode(t, secret, now) + "1"},
	})
	if err := e.loginWith(t, adminPassword, totpCode(t, secret, now.Add(30*time.Second))); err != nil {
		t.Errorf("code of the next step: %v", err)
	}
	if n := count(e.auditActions(t), reporting.AuditLoginFailed+":totp"); n != 6 {
		t.Errorf("%d failed second factors in the audit log, want 6", n)
	}
}

// Guessing codes after a stolen password is slowed down like guessing
// passwords: after five wrong codes in a row even the right code is
// refused until the lock expires.
func TestTOTPFailuresLockAccount(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	secret, _ := e.enrol(t)
	e.clock.Advance(30 * time.Second)
	for range 5 {
		if err := e.loginWith(t, adminPassword, wrongCode(totpCode(t, secret, e.clock.Now()))); err == nil {
			t.Fatal("a wrong code was accepted")
		}
	}
	if err := e.loginWith(t, adminPassword, totpCode(t, secret, e.clock.Now())); err == nil {
		t.Fatal("the right code was accepted right after five wrong ones: codes can be guessed at full speed")
	}
	e.clock.Advance(16 * time.Minute)
	if err := e.loginWith(t, adminPassword, totpCode(t, secret, e.clock.Now())); err != nil {
		t.Errorf("after the lock expired the right code is refused: %v", err)
	}
}

// A code works once: not again in the same 30 seconds, not in the next
// step while it would still be within the skew, and not an earlier
// step's code after a later one was used.
func TestTOTPReplayRefused(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	secret, _ := e.enrol(t)
	code := totpCode(t, secret, e.clock.Now())
	if err := e.loginWith(t, adminPassword, code); err != nil {
		t.Fatalf("first use: %v", err)
	}
	wantLoginRefused(t, "same code again", e.loginWith(t, adminPassword, code), "error.totp.used")
	e.clock.Advance(30 * time.Second)
	wantLoginRefused(t, "same code a step later", e.loginWith(t, adminPassword, code), "error.totp.used")

	next := totpCode(t, secret, e.clock.Now().Add(30*time.Second))
	if err := e.loginWith(t, adminPassword, next); err != nil {
		t.Fatalf("code of the next step: %v", err)
	}
	// The current step's code is older than the one just used.
	wantLoginRefused(t, "older code after a newer one", e.loginWith(t, adminPassword, totpCode(t, secret, e.clock.Now())), "error.totp.used")
}

// Two logins racing with the same code (one of them an attacker who read
// it over the user's shoulder): exactly one gets in. The others are
// refused as a replay, or as busy (another check on the same counter was
// running: the same answer as a wrong password).
func TestTOTPConcurrentReplay(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	secret, _ := e.enrol(t)
	code := totpCode(t, secret, e.clock.Now())
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, _, errs[i] = e.office.Login(t.Context(), adminName, adminPassword, code) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if id := reporting.MessageID(err); id != "error.totp.used" && id != "error.login.failed" {
			t.Errorf("racing login: %v, want error.totp.used or error.login.failed", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d racing logins with one code got in, want exactly 1", ok, n)
	}
}

// A recovery code can be typed into the code field instead of a TOTP code
// (in any case, with or without dashes, with O for 0) and works once.
func TestTOTPRecoveryCodeWorksOnce(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, codes := e.enrol(t)
	if err := e.loginWith(t, adminPassword, codes[0]); err != nil {
		t.Fatalf("login with a recovery code: %v", err)
	}
	wantLoginRefused(t, "recovery code again", e.loginWith(t, adminPassword, codes[0]), "error.totp.wrong")

	sloppy := strings.ToLower(strings.ReplaceAll(codes[1], "-", " "))
	sloppy = strings.ReplaceAll(sloppy, "0", "o")
	if err := e.loginWith(t, adminPassword, sloppy); err != nil {
		t.Errorf("recovery code typed as %q (from %q): %v", sloppy, codes[1], err)
	}
	wantLoginRefused(t, "made-up recovery code", e.loginWith(t, adminPassword, "ABCD-EFGH-JKMN"), "error.totp.wrong")

	_, s := e.loginWithCode(t, codes[2])
	st, err := e.twoFactor.TOTPStatus(t.Context(), s)
	if err != nil || st.RecoveryCodes != reporting.RecoveryCodeCount-3 {
		t.Errorf("status = %+v, %v; want %d recovery codes left", st, err, reporting.RecoveryCodeCount-3)
	}
	if n := count(e.auditActions(t), reporting.AuditTOTPRecoveryUsed+":"); n != 3 {
		t.Errorf("%d logins with a recovery code in the audit log, want 3", n)
	}
}

// loginWithCode logs the admin in with a code and returns the session.
func (e *env) loginWithCode(t *testing.T, code string) (string, *reporting.OfficeSession) {
	t.Helper()
	token, s, err := e.office.Login(t.Context(), adminName, adminPassword, code)
	if err != nil {
		t.Fatalf("Login with code %q: %v", code, err)
	}
	return token, s
}

// New recovery codes need the password and a code; the old ones stop
// working.
func TestTOTPNewRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	secret, old := e.enrol(t)
	ctx := t.Context()
	_, s := e.loginWithCode(t, totpCode(t, secret, e.clock.Now()))
	e.clock.Advance(30 * time.Second)

	_, err := e.twoFactor.NewRecoveryCodes(ctx, s, "falsch", totpCode(t, secret, e.clock.Now()))
	if f := reporting.FieldErrors(err); f["password"] == "" {
		t.Errorf("wrong password: %v, want an error on the password field", err)
	}
	_, err = e.twoFactor.NewRecoveryCodes(ctx, s, adminPassword, wrongCode(totpCode(t, secret, e.clock.Now())))
	if f := reporting.FieldErrors(err); f["code"] == "" {
		t.Errorf("wrong code: %v, want an error on the code field", err)
	}
	fresh, err := e.twoFactor.NewRecoveryCodes(ctx, s, adminPassword, totpCode(t, secret, e.clock.Now()))
	if err != nil {
		t.Fatalf("NewRecoveryCodes: %v", err)
	}
	if len(fresh) != reporting.RecoveryCodeCount {
		t.Fatalf("%d new codes", len(fresh))
	}
	wantLoginRefused(t, "old recovery code", e.loginWith(t, adminPassword, old[0]), "error.totp.wrong")
	if err := e.loginWith(t, adminPassword, fresh[0]); err != nil {
		t.Errorf("new recovery code: %v", err)
	}
	if n := count(e.auditActions(t), reporting.AuditTOTPRecoveryCodes+":"); n != 1 {
		t.Errorf("%d recovery code renewals in the audit log, want 1", n)
	}
}

// Turning two-factor off needs the password and a code; afterwards no
// code is asked for, and a fresh enrolment is possible.
func TestTOTPDisabledNoLongerAsked(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	secret, codes := e.enrol(t)
	ctx := t.Context()
	_, s := e.loginWithCode(t, totpCode(t, secret, e.clock.Now()))
	e.clock.Advance(30 * time.Second)

	err := e.twoFactor.DisableTOTP(ctx, s, "falsch", totpCode(t, secret, e.clock.Now()))
	if f := reporting.FieldErrors(err); f["password"] == "" {
		t.Errorf("wrong password: %v, want an error on the password field", err)
	}
	err = e.twoFactor.DisableTOTP(ctx, s, adminPassword, "")
	if f := reporting.FieldErrors(err); f["code"] == "" {
		t.Errorf("no code: %v, want an error on the code field", err)
	}
	if st, _ := e.twoFactor.TOTPStatus(ctx, s); !st.Enabled {
		t.Fatal("a refused DisableTOTP turned two-factor off")
	}
	// A recovery code will do (the phone may be lost).
	if err := e.twoFactor.DisableTOTP(ctx, s, adminPassword, codes[0]); err != nil {
		t.Fatalf("DisableTOTP: %v", err)
	}
	if err := e.loginWith(t, adminPassword, ""); err != nil {
		t.Errorf("login without code after disabling: %v", err)
	}
	if err := e.loginWith(t, adminPassword, codes[1]); err != nil {
		t.Errorf("anything in the code field is ignored once two-factor is off, got %v", err)
	}
	if err := e.twoFactor.DisableTOTP(ctx, s, adminPassword, totpCode(t, secret, e.clock.Now())); reporting.ErrorCode(err) != reporting.EConflict {
		t.Errorf("DisableTOTP when off: %v, want EConflict", err)
	}
	if _, err := e.twoFactor.BeginTOTP(ctx, s); err != nil {
		t.Errorf("BeginTOTP after disabling: %v", err)
	}
	if n := count(e.auditActions(t), reporting.AuditTOTPDisable+":"); n != 1 {
		t.Errorf("%d disablings in the audit log, want 1", n)
	}
}

// The stored secret is a ciphertext: neither the base32 secret nor its
// bytes are in the database files, and it opens only under the KEK of the
// user's password (and only for this user).
func TestTOTPSecretSealedAtRest(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	secret, codes := e.enrol(t)
	ctx := t.Context()
	u, err := e.db.UserByName(ctx, adminName)
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.db.TOTP(ctx, u.ID)
	if err != nil || !st.Enabled() {
		t.Fatalf("TOTP = %+v, %v", st, err)
	}

	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		t.Fatal(err)
	}
	needles := [][]byte{[]byte(secret), raw}
	for _, c := range codes {
		needles = append(needles, []byte(c), []byte(strings.ReplaceAll(c, "-", "")))
	}
	files, _ := filepath.Glob(filepath.Join(e.dir, "*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s contains the secret or a recovery code %q", filepath.Base(f), n)
			}
		}
	}

	ad := vault.AD{Purpose: "totp", Row: "user:" + hex.EncodeToString(u.Salt)}
	right, err := e.kdf.Password(ctx, adminPassword, u.Salt, u.Params)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := right.KEK.Open(st.Sealed, ad); err != nil || string(plain) != secret {
		t.Errorf("the password's KEK does not open the secret: %q, %v", plain, err)
	}
	wrong, err := e.kdf.Password(ctx, adminPassword+"!", u.Salt, u.Params)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.KEK.Open(st.Sealed, ad); err == nil {
		t.Error("another password's KEK opens the secret")
	}
	if _, err := right.KEK.Open(st.Sealed, vault.AD{Purpose: "totp", Row: "user:" + hex.EncodeToString(vault.NewSalt())}); err == nil {
		t.Error("the secret opens as another user's")
	}
}

// ---- required per role ----

// When an admin makes two-factor mandatory for a role, users of that
// role without it still log in, but must enrol before anything else;
// once enrolled they are free, and cannot turn it off while the rule
// stands.
func TestTOTPRequiredPerRole(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	_, s := e.login(t)

	if need, err := e.twoFactor.NeedsTOTPEnrolment(ctx, s); err != nil || need {
		t.Fatalf("NeedsTOTPEnrolment before any rule = %v, %v", need, err)
	}
	err := e.twoFactor.SetTOTPRequiredRoles(ctx, s, []string{"admin", "root"})
	if f := reporting.FieldErrors(err); f["roles"] == "" {
		t.Errorf("unknown role: %v, want an error on roles", err)
	}
	counsellor := &reporting.OfficeSession{User: reporting.User{ID: s.User.ID, Name: "c", Role: reporting.RoleCounsellor}}
	if err := e.twoFactor.SetTOTPRequiredRoles(ctx, counsellor, []string{"counsellor"}); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("a counsellor changed the setting: %v", err)
	}
	if roles, _ := e.twoFactor.TOTPRequiredRoles(ctx); len(roles) != 0 {
		t.Fatalf("refused changes were stored: %v", roles)
	}

	if err := e.twoFactor.SetTOTPRequiredRoles(ctx, s, []string{"statistician", "admin"}); err != nil {
		t.Fatalf("SetTOTPRequiredRoles: %v", err)
	}
	if roles, _ := e.twoFactor.TOTPRequiredRoles(ctx); strings.Join(roles, ",") != "admin,statistician" {
		t.Errorf("required roles = %v", roles)
	}
	if n := count(e.auditActions(t), reporting.AuditSettings+":two_factor=admin,statistician"); n != 1 {
		t.Errorf("audit %v: want the settings change", e.auditActions(t))
	}
	if need, err := e.twoFactor.NeedsTOTPEnrolment(ctx, s); err != nil || !need {
		t.Errorf("NeedsTOTPEnrolment for an admin without two-factor = %v, %v; want true", need, err)
	}
	if need, _ := e.twoFactor.NeedsTOTPEnrolment(ctx, counsellor); need {
		t.Error("a counsellor is sent to enrol, but only admins and statisticians must")
	}
	// The password still logs in: the session is restricted, not refused.
	_, s2 := e.login(t)
	if need, _ := e.twoFactor.NeedsTOTPEnrolment(ctx, s2); !need {
		t.Error("new session of an admin without two-factor is not restricted")
	}

	secret, _ := e.enrol(t)
	for _, sess := range []*reporting.OfficeSession{s, s2} {
		if need, err := e.twoFactor.NeedsTOTPEnrolment(ctx, sess); err != nil || need {
			t.Errorf("after enrolment NeedsTOTPEnrolment = %v, %v; want false for every session", need, err)
		}
	}
	err = e.twoFactor.DisableTOTP(ctx, s, adminPassword, totpCode(t, secret, e.clock.Now()))
	if reporting.ErrorCode(err) != reporting.EConflict || reporting.MessageID(err) != "error.totp.required_by_role" {
		t.Errorf("DisableTOTP while required: %v, want EConflict", err)
	}
	if st, _ := e.twoFactor.TOTPStatus(ctx, s); !st.Enabled || !st.Required {
		t.Errorf("status = %+v, want on and required", st)
	}
}

// A pending enrolment lives in the session only: another session of the
// same user does not see it, and logging out forgets it.
func TestTOTPPendingEnrolmentPerSession(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	token, s := e.login(t)
	_, other := e.login(t)
	en, err := e.twoFactor.BeginTOTP(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if png, err := e.twoFactor.TOTPQRCode(s); err != nil || len(png) == 0 {
		t.Fatalf("TOTPQRCode: %d bytes, %v", len(png), err)
	}
	if _, err := e.twoFactor.TOTPQRCode(other); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("another session sees the pending enrolment: %v", err)
	}
	secret := strings.ReplaceAll(en.Secret, " ", "")
	_, err = e.twoFactor.EnableTOTP(ctx, other, adminPassword, totpCode(t, secret, e.clock.Now()))
	if reporting.ErrorCode(err) != reporting.EConflict {
		t.Errorf("EnableTOTP in a session without enrolment: %v, want EConflict", err)
	}
	if err := e.office.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.twoFactor.TOTPStatus(ctx, other); st.Enabled {
		t.Error("two-factor turned on without confirmation")
	}
}

// Changing the password keeps two-factor working: the secret, sealed
// under the password's key, is re-sealed under the new one, so the user
// logs in with the new password and their app's code (and not with the
// old password).
func TestPasswordChangeKeepsTOTP(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	secret, _ := e.enrol(t)
	_, s := e.loginWithCode(t, totpCode(t, secret, e.clock.Now()))
	const newPassword = "ein ganz neues langes Passwort"
	if err := e.accounts.ChangePassword(t.Context(), s, reporting.PasswordForm{Old: adminPassword, New: newPassword, Confirm: newPassword}); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	e.clock.Advance(30 * time.Second)
	if err := e.loginWith(t, newPassword, totpCode(t, secret, e.clock.Now())); err != nil {
		t.Fatalf("new password and code after the change: %v", err)
	}
	e.clock.Advance(30 * time.Second)
	if err := e.loginWith(t, adminPassword, totpCode(t, secret, e.clock.Now())); err == nil {
		t.Error("the old password still works")
	}
	if err := e.loginWith(t, newPassword, ""); err == nil {
		t.Error("two-factor was lost with the password change")
	}
}
