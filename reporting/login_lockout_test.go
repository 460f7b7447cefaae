package reporting_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/storage"
)

// gatedStore holds every login reservation until n of them have been
// made, so that a test can start the argon2id work of n parallel attempts
// only after all of them were counted: the order that let the old code
// evaluate all of them, made certain instead of likely.
type gatedStore struct {
	*storage.DB
	n   int
	all chan struct{}

	mu       sync.Mutex
	reserved int
	allowed  int
}

func (g *gatedStore) ReserveLoginAttempt(ctx context.Context, b reporting.LoginBucket, now time.Time, lock func(int) time.Time) (bool, error) {
	ok, err := g.DB.ReserveLoginAttempt(ctx, b, now, lock)
	g.mu.Lock()
	g.reserved++
	if ok {
		g.allowed++
	}
	if g.reserved == g.n {
		close(g.all)
	}
	g.mu.Unlock()
	select {
	case <-g.all:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return ok, err
}

// lockState reads a counter of the admin.
func lockState(t *testing.T, e *env, device int64) reporting.LoginState {
	t.Helper()
	admin, err := e.db.UserByName(t.Context(), adminName)
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.db.LoginState(t.Context(), reporting.LoginBucket{UserID: admin.ID, Device: device})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// 40 logins at once, 39 with wrong passwords and one with the right one,
// all counted before any is checked: only FreeLoginAttempts are allowed,
// at most that many run argon2id (one audit entry each), every other
// attempt is refused with the wrong-password answer, and the account is
// locked afterwards unless the right one was among the allowed and got in.
func TestLoginParallelAttemptsReservedFirst(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	const n = 40
	gate := &gatedStore{DB: e.db, n: n, all: make(chan struct{})}
	office := reporting.NewOffice(gate, e.kdf, fastParams, e.anchor, e.clock.Now)
	t.Cleanup(office.Close)
	before := len(e.auditActions(t))

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		password := "falsch falsch falsch"
		if i == n/2 {
			password = adminPassword
		}
		wg.Go(func() { _, _, errs[i] = office.Login(ctx, adminName, password, "") })
	}
	wg.Wait()

	if gate.allowed != reporting.FreeLoginAttempts {
		t.Errorf("%d of %d attempts allowed, want %d", gate.allowed, n, reporting.FreeLoginAttempts)
	}
	in := 0
	for i, err := range errs {
		if err == nil {
			in++
			if i != n/2 {
				t.Errorf("attempt %d with a wrong password got in", i)
			}
			continue
		}
		if reporting.ErrorCode(err) != reporting.EUnauthorized || reporting.MessageID(err) != "error.login.failed" {
			t.Errorf("attempt %d: %v, want the wrong-password answer", i, err)
		}
	}
	evaluated := 0
	for _, a := range e.auditActions(t)[before:] {
		if a == reporting.AuditLoginFailed+":" || a == reporting.AuditLogin+":" {
			evaluated++
		}
	}
	if evaluated < 1 || evaluated > reporting.FreeLoginAttempts {
		t.Errorf("%d passwords checked, want 1 to %d", evaluated, reporting.FreeLoginAttempts)
	}
	if in == 0 {
		if st := lockState(t, e, 0); !e.clock.Now().Before(st.LockedUntil) {
			t.Errorf("after %d refused attempts the account is not locked: %+v", n, st)
		}
		accDenied(t, e, adminName, adminPassword)
	}
	t.Logf("allowed %d, evaluated %d, right one got in: %v", gate.allowed, evaluated, in == 1)
}

// 39 wrong passwords at once, then the right one: the right one is
// refused, the wrong-password answer, because the lock was reached.
func TestLoginRightAfterParallelWrongRefused(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	var wg sync.WaitGroup
	for range 39 {
		wg.Go(func() { _, _, _ = e.office.Login(t.Context(), adminName, "falsch falsch falsch", "") })
	}
	wg.Wait()
	if st := lockState(t, e, 0); st.Failures != reporting.FreeLoginAttempts {
		t.Errorf("%d failures counted, want %d (the rest refused uncounted)", st.Failures, reporting.FreeLoginAttempts)
	}
	if n := count(e.auditActions(t), reporting.AuditLoginFailed+":"); n > reporting.FreeLoginAttempts {
		t.Errorf("%d wrong passwords checked, want at most %d", n, reporting.FreeLoginAttempts)
	}
	accDenied(t, e, adminName, adminPassword)
}

// A stranger's failures lock only clients the account does not know: the
// browser that logged in before (password and code) keeps its own
// counter and gets in; a made-up device token, or another user's, is no
// better than none; a stolen device token gets only that device's budget.
func TestLoginDeviceOutlastsStranger(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	_, s := e.login(t)
	bertaPassword := accUser(t, e, s, "berta", reporting.RoleCounsellor)
	berta, err := e.office.LoginFrom(ctx, reporting.LoginAttempt{Name: "berta", Password: bertaPassword})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := e.office.LoginFrom(ctx, reporting.LoginAttempt{Name: adminName, Password: adminPassword})
	if err != nil {
		t.Fatal(err)
	}
	if mine.Device == "" || mine.Device == berta.Device {
		t.Fatalf("device tokens %q, %q: want a fresh one per browser", mine.Device, berta.Device)
	}

	for i := range 50 {
		device := []string{"", "0123456789abcdef", berta.Device}[i%3]
		_, err := e.office.LoginFrom(ctx, reporting.LoginAttempt{Name: adminName, Password: "rate mal", Device: device})
		wantLoginRefused(t, "stranger", err, "error.login.failed")
		e.clock.Advance(10 * time.Second)
	}
	if st := lockState(t, e, 0); !e.clock.Now().Before(st.LockedUntil) {
		t.Fatalf("the shared counter is not locked after 50 failures: %+v", st)
	}
	accDenied(t, e, adminName, adminPassword)
	again, err := e.office.LoginFrom(ctx, reporting.LoginAttempt{Name: adminName, Password: adminPassword, Device: mine.Device})
	if err != nil {
		t.Fatalf("the admin's own browser is locked out by a stranger: %v", err)
	}
	if again.Device != mine.Device {
		t.Errorf("a known device got a new token %q", again.Device)
	}
	if st := lockState(t, e, 0); !e.clock.Now().Before(st.LockedUntil) {
		t.Errorf("a login from the known device lifted the strangers' lock: %+v", st)
	}

	// A thief with the device token has the device's budget, then the
	// device is locked as well; unlocking lifts every lock.
	for range 2 * reporting.FreeLoginAttempts {
		_, err := e.office.LoginFrom(ctx, reporting.LoginAttempt{Name: adminName, Password: "rate mal", Device: mine.Device})
		wantLoginRefused(t, "thief", err, "error.login.failed")
	}
	if n := count(e.auditActions(t), reporting.AuditLoginFailed+":"); n > 3*reporting.FreeLoginAttempts {
		t.Errorf("%d passwords checked for 60 guesses", n)
	}
	_, err = e.office.LoginFrom(ctx, reporting.LoginAttempt{Name: adminName, Password: adminPassword, Device: mine.Device})
	wantLoginRefused(t, "locked device", err, "error.login.failed")

	if err := e.accounts.UnlockLogin(ctx, s, 0); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("unlock of an unknown user: %v", err)
	}
	admin, _ := e.db.UserByName(ctx, adminName)
	_, bs, _ := e.office.Login(ctx, "berta", bertaPassword, "")
	wantCode(t, e.accounts.UnlockLogin(ctx, bs, admin.ID), reporting.ENotFound)
	if err := e.accounts.UnlockLogin(ctx, s, admin.ID); err != nil {
		t.Fatal(err)
	}
	accAudited(t, e, adminName+" "+reporting.AuditLoginUnlock+" user=")
	accLogin(t, e, adminName, adminPassword)
	if _, err := e.office.LoginFrom(ctx, reporting.LoginAttempt{Name: adminName, Password: adminPassword, Device: mine.Device}); err != nil {
		t.Errorf("the device after unlock: %v", err)
	}
}

// The password asked again before a change to two-factor and before a
// password change is throttled like a login: twelve wrong passwords on
// the two-factor page leave five counted and the counter locked, after
// which the right password is refused with the same field error.
func TestReauthThrottled(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	_, s := e.login(t)
	if _, err := e.twoFactor.BeginTOTP(ctx, s); err != nil {
		t.Fatal(err)
	}
	for range 12 {
		_, err := e.twoFactor.EnableTOTP(ctx, s, "falsch falsch falsch", "000000")
		if got := reporting.FieldErrors(err)["password"]; got != "error.totp.password" {
			t.Fatalf("wrong password on the two-factor page: %v", err)
		}
	}
	if st := lockState(t, e, 0); st.Failures != reporting.FreeLoginAttempts || !e.clock.Now().Before(st.LockedUntil) {
		t.Errorf("after 12 wrong passwords: %+v, want %d failures and a lock", st, reporting.FreeLoginAttempts)
	}
	if n := count(e.auditActions(t), reporting.AuditLoginFailed+":totp_reauth"); n != reporting.FreeLoginAttempts {
		t.Errorf("%d passwords checked, want %d", n, reporting.FreeLoginAttempts)
	}
	_, err := e.twoFactor.EnableTOTP(ctx, s, adminPassword, "000000")
	if got := reporting.FieldErrors(err)["password"]; got != "error.totp.password" {
		t.Errorf("right password while locked: %v, want the wrong-password field error", err)
	}
	accFieldError(t, e.accounts.ChangePassword(ctx, s, reporting.PasswordForm{Old: adminPassword, New: "ein neues langes Passwort", Confirm: "ein neues langes Passwort"}), "old", "error.accounts.old_password")
	if err := e.twoFactor.DisableTOTP(ctx, s, adminPassword, "000000"); err == nil {
		t.Error("DisableTOTP without two-factor on succeeded")
	}
	e.clock.Advance(reporting.LoginLockMax)
	if err := e.accounts.ChangePassword(ctx, s, reporting.PasswordForm{Old: adminPassword, New: "ein neues langes Passwort", Confirm: "ein neues langes Passwort"}); err != nil {
		t.Errorf("password change after the lock: %v", err)
	}
	if st := lockState(t, e, 0); st.Failures != 0 {
		t.Errorf("a successful re-check left %d failures", st.Failures)
	}
}

// Wrong codes on the pages that change two-factor count like wrong
// passwords: the password right, the code wrong five times, and then the
// right password and code are refused too.
func TestReauthCodesThrottled(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	secret, _ := e.enrol(t)
	_, s := e.loginWithCode(t, totpCode(t, secret, e.clock.Now()))
	e.clock.Advance(30 * time.Second)
	for range reporting.FreeLoginAttempts {
		_, err := e.twoFactor.NewRecoveryCodes(ctx, s, adminPassword, wrongCode(totpCode(t, secret, e.clock.Now())))
		if got := reporting.FieldErrors(err)["code"]; got != "error.totp.wrong" {
			t.Fatalf("wrong code: %v", err)
		}
	}
	_, err := e.twoFactor.NewRecoveryCodes(ctx, s, adminPassword, totpCode(t, secret, e.clock.Now()))
	if got := reporting.FieldErrors(err); got["password"] != "error.totp.password" || strings.Contains(got["code"], "wrong") {
		t.Errorf("right password and code while locked: %v, want refused at the password", err)
	}
}

// auditGate holds the first failed-login audit entry until released, so
// that the attempt writing it is still running (holding its counter's
// in-flight slot) while another attempt arrives.
type auditGate struct {
	*storage.DB
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *auditGate) AppendAudit(ctx context.Context, e *reporting.AuditEntry) error {
	if e.Action == reporting.AuditLoginFailed {
		g.once.Do(func() {
			close(g.entered)
			<-g.release
		})
	}
	return g.DB.AppendAudit(ctx, e)
}

// While one attempt on a counter is running, a second one on the same
// counter is refused with the wrong-password answer even with the right
// password, and stays counted; an attempt on another counter (the user's
// known device) is not held up by it.
func TestLoginBusyCounterRefused(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	mine, err := e.office.LoginFrom(ctx, reporting.LoginAttempt{Name: adminName, Password: adminPassword})
	if err != nil {
		t.Fatal(err)
	}
	gate := &auditGate{DB: e.db, entered: make(chan struct{}), release: make(chan struct{})}
	office := reporting.NewOffice(gate, e.kdf, fastParams, e.anchor, e.clock.Now)
	t.Cleanup(office.Close)

	done := make(chan error)
	go func() { _, _, err := office.Login(ctx, adminName, "falsch falsch falsch", ""); done <- err }()
	<-gate.entered
	_, _, busy := office.Login(ctx, adminName, adminPassword, "")
	_, fromDevice := office.LoginFrom(ctx, reporting.LoginAttempt{Name: adminName, Password: adminPassword, Device: mine.Device})
	close(gate.release)
	wantLoginRefused(t, "first, wrong", <-done, "error.login.failed")
	wantLoginRefused(t, "second, right, while the first runs", busy, "error.login.failed")
	if fromDevice != nil {
		t.Errorf("the known device was held up by a stranger's running attempt: %v", fromDevice)
	}
	if st := lockState(t, e, 0); st.Failures != 2 {
		t.Errorf("shared counter %+v, want both attempts counted", st)
	}
}
