package reporting

import (
	"context"
	"fmt"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// ---- login throttling ----

// passwordChecker is the Office's check of a user's password with the
// login lockout, for the services that ask for the password again before
// a change (Accounts: the password; TwoFactor: the second factor). It
// stays in one place, on the Office, with its counters of running
// attempts; *Office implements it.
type passwordChecker interface {
	checkPassword(ctx context.Context, u User, device int64, password string) (*passwordCheck, error)
	passed(ctx context.Context, p *passwordCheck) error
}

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
