package reporting_test

import (
	"context"
	"sync"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// sharedCounter is the account's counter of unknown clients. A login
// attempt is counted as a failure before the password is checked and
// cleared only with the login: with the log down the login does not
// happen, so the attempt stays counted. It must: if a broken log undid the
// count, whoever can break the log would guess passwords without limit.
var sharedCounter = []string{"users.failed_count", "users.locked_until"}

// deviceCounter is the same for a known device's counter.
var deviceCounter = []string{"login_devices.failed_count", "login_devices.locked_until"}

// atomicUser invites and accepts a counsellor holding the given teams and
// returns their ID and password.
func atomicUser(t *testing.T, e *env, s *reporting.OfficeSession, name, role string, teams ...int64) (int64, string) {
	t.Helper()
	password := accUser(t, e, s, name, role, teams...)
	u, err := e.db.UserByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID, password
}

// stillLive fails unless the session of token still works.
func stillLive(t *testing.T, e *env, token, why string) {
	t.Helper()
	if _, err := e.office.Session(t.Context(), token); err != nil {
		t.Errorf("%s: the session no longer works: %v", why, err)
	}
}

// sessionGone fails unless the session of token is gone.
func sessionGone(t *testing.T, e *env, token, why string) {
	t.Helper()
	if s, err := e.office.Session(t.Context(), token); err == nil {
		t.Errorf("%s: the session of %s still works", why, s.User.Name)
	}
}

// refusedAs turns the expected refusal of a change into success, for the
// cases whose change is the record of a refusal (a failed login): with the
// log working the person is told "wrong password", which is what the
// rerun must get.
func refusedAs(err error, messageID string) error {
	if reporting.ErrorCode(err) != "" && (reporting.MessageID(err) == messageID || reporting.FieldErrors(err)["old"] == messageID) {
		return nil
	}
	if err == nil {
		return errSucceeded
	}
	return err
}

var errSucceeded = reporting.Errorf(reporting.EConflict, "test.unexpected_success")

// checks holds, per env, the check a case's prepare left for after the
// failed run (it needs prepare's tokens and sessions).
var checks sync.Map // *env → func(*testing.T)

// later leaves check for runLater.
func later(e *env, check func(t *testing.T)) { checks.Store(e, check) }

// runLater runs the check prepare left for e.
func runLater(t *testing.T, e *env) {
	t.Helper()
	check, ok := checks.LoadAndDelete(e)
	if !ok {
		t.Fatal("prepare left no check")
	}
	check.(func(*testing.T))(t)
}

// accountAtomicCases are the failing-audit cases of sessions, login, accounts, invitations, recovery.
func accountAtomicCases() []atomicCase {
	return []atomicCase{
		{
			action: reporting.AuditSetup,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				token := e.start(t)
				later(e, func(t *testing.T) {
					// The setup page still opens with the link: the person
					// can simply try again.
					if err := e.office.CheckSetupToken(t.Context(), token); err != nil {
						t.Errorf("the setup token after the failed setup: %v", err)
					}
				})
				return func(ctx context.Context) error {
					_, err := e.office.Setup(ctx, setupForm(token))
					return err
				}
			},
			check: runLater,
		},
		{
			action: reporting.AuditLogin, name: "unknown client",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				return func(ctx context.Context) error {
					_, _, err := e.office.Login(ctx, adminName, adminPassword, "")
					return err
				}
			},
			mayDiffer: sharedCounter,
			check: func(t *testing.T, e *env) {
				if n := e.office.SessionCount(); n != 0 {
					t.Errorf("%d sessions live after a login whose entry failed", n)
				}
			},
		},
		{
			action: reporting.AuditLogin, name: "known device",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				first, err := e.office.LoginFrom(t.Context(), reporting.LoginAttempt{Name: adminName, Password: adminPassword})
				if err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error {
					_, err := e.office.LoginFrom(ctx, reporting.LoginAttempt{Name: adminName, Password: adminPassword, Device: first.Device})
					return err
				}
			},
			mayDiffer: deviceCounter,
			check: func(t *testing.T, e *env) {
				if n := e.office.SessionCount(); n != 1 {
					t.Errorf("%d sessions live, want only the first login's", n)
				}
			},
		},
		{
			// Raising the argon2id parameters at login rewrites the
			// user's credentials: with the log down they stay as they
			// were (the dump), and the password still works.
			action: reporting.AuditLogin, name: "kdf raised",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				stronger := reporting.NewOffice(e.db, e.kdf, vault.Params{Time: 2, MemoryKiB: 9 * 1024, Threads: 1}, e.anchor, e.clock.Now)
				t.Cleanup(stronger.Close)
				return func(ctx context.Context) error {
					_, s, err := stronger.Login(ctx, adminName, adminPassword, "")
					if err == nil && len(s.Keys.Teams()) != 1 {
						t.Errorf("the raised login holds %d team keys, want 1", len(s.Keys.Teams()))
					}
					return err
				}
			},
			mayDiffer: sharedCounter,
		},
		{
			action: reporting.AuditLoginFailed, name: "login",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				return func(ctx context.Context) error {
					_, _, err := e.office.Login(ctx, adminName, "falsches Passwort!", "")
					return refusedAs(err, "error.login.failed")
				}
			},
			mayDiffer: sharedCounter,
		},
		{
			// A wrong old password on the password form counts as a failed
			// login on the counter the session logged in from.
			action: reporting.AuditLoginFailed, name: "password change",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				return func(ctx context.Context) error {
					err := e.accounts.ChangePassword(ctx, s, reporting.PasswordForm{Old: "falsches Passwort!", New: "ein ganz neues Passwort", Confirm: "ein ganz neues Passwort"})
					return refusedAs(err, "error.accounts.old_password")
				}
			},
			mayDiffer: sharedCounter,
		},
		{
			action: reporting.AuditPassword,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				other, _ := e.login(t)
				t.Cleanup(func() {
					// After the rerun the other session ends, as a
					// password change ends every other session.
					sessionGone(t, e, other, "after the password change")
				})
				return func(ctx context.Context) error {
					return e.accounts.ChangePassword(ctx, s, reporting.PasswordForm{Old: adminPassword, New: "ein ganz neues Passwort", Confirm: "ein ganz neues Passwort"})
				}
			},
			// The old password was checked: the attempt stays counted
			// until the change is stored (see sharedCounter).
			mayDiffer: sharedCounter,
			check: func(t *testing.T, e *env) {
				// The password did not change, so neither do the sessions
				// that rely on it.
				if n := e.office.SessionCount(); n != 2 {
					t.Errorf("%d sessions live after the failed change, want both", n)
				}
			},
		},
		{
			action: reporting.AuditLogout,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				token, _ := e.login(t)
				later(e, func(t *testing.T) {
					sessionGone(t, e, token, "after a logout whose entry failed")
				})
				return func(ctx context.Context) error { return e.office.Logout(ctx, token) }
			},
			// A logout wipes the session's keys even when its row and
			// entry cannot be written (see Office.Logout): a broken log
			// must not keep team keys usable on a computer its user left.
			check:   runLater,
			noRerun: "the failed logout has ended the session in memory on purpose, so the same logout has no session left to log; TestLogoutAudited covers a logout with the log working",
		},
		{
			action: reporting.AuditSessionRevoke,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				otherToken, other := e.login(t)
				later(e, func(t *testing.T) {
					sessionGone(t, e, otherToken, "after a revocation whose entry failed")
				})
				return func(ctx context.Context) error { return e.accounts.RevokeSession(ctx, s, other.ID()) }
			},
			// Like a logout: the revoked session's keys go even if its
			// row and entry cannot be written (see Accounts.RevokeSession).
			check:   runLater,
			noRerun: "the failed revocation has ended the session in memory on purpose; TestAccountsSessions audits one with the log working",
		},
		{
			action: reporting.AuditUserInvite,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				team := firstTeam(t, e, s).id
				return func(ctx context.Context) error {
					_, err := e.accounts.Invite(ctx, s, reporting.InviteForm{Name: "berta", Role: reporting.RoleCounsellor, Teams: []int64{team}})
					return err
				}
			},
		},
		{
			action: reporting.AuditUserAccept,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				token := accInvite(t, e, s, "berta", reporting.RoleCounsellor, firstTeam(t, e, s).id)
				later(e, func(t *testing.T) {
					if name, err := e.accounts.Invitation(t.Context(), token); err != nil || name != "berta" {
						t.Errorf("the link after the failed acceptance: %q, %v; want it still working", name, err)
					}
				})
				return func(ctx context.Context) error {
					return e.accounts.AcceptInvitation(ctx, reporting.AcceptForm{Token: token, Password: "bertas langes Passwort", Confirm: "bertas langes Passwort"})
				}
			},
			check: runLater,
		},
		{
			action: reporting.AuditDelete, name: "withdrawn invitation",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				accInvite(t, e, s, "berta", reporting.RoleCounsellor, firstTeam(t, e, s).id)
				u, err := e.db.UserByName(t.Context(), "berta")
				if err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error { return e.accounts.WithdrawInvitation(ctx, s, u.ID) }
			},
		},
		{
			action: reporting.AuditUserEnable,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				id, _ := atomicUser(t, e, s, "berta", reporting.RoleCounsellor)
				if err := e.accounts.SetDisabled(t.Context(), s, id, true); err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error { return e.accounts.SetDisabled(ctx, s, id, false) }
			},
		},
		disableCase("no team key", false),
		disableCase("team key rotated", true),
		{
			action: reporting.AuditUserRole, name: "to admin",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				id, password := atomicUser(t, e, s, "berta", reporting.RoleCounsellor, firstTeam(t, e, s).id)
				token, _ := accLogin(t, e, "berta", password)
				// The role did not change, so her session keeps the role
				// it was made with, as the rows say.
				later(e, func(t *testing.T) { stillLive(t, e, token, "after a role change whose entry failed") })
				return func(ctx context.Context) error { return e.accounts.SetRole(ctx, s, id, reporting.RoleAdmin) }
			},
			check: runLater,
		},
		{
			// To statistician: every team key is revoked, with rotation.
			action: reporting.AuditUserRole, name: "to statistician",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				id, password := atomicUser(t, e, s, "berta", reporting.RoleCounsellor, firstTeam(t, e, s).id)
				token, _ := accLogin(t, e, "berta", password)
				old := firstTeam(t, e, s).kp.Public()
				later(e, func(t *testing.T) {
					stillLive(t, e, token, "after a role change whose entry failed")
					if firstTeam(t, e, s).kp.Public() != old {
						t.Error("the admin's session holds a rotated team key that was never stored")
					}
				})
				return func(ctx context.Context) error { return e.accounts.SetRole(ctx, s, id, reporting.RoleStatistician) }
			},
			check: runLater,
		},
		{
			action: reporting.AuditRecover,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				key := e.setUp(t)
				return func(ctx context.Context) error {
					res, err := e.accounts.Recover(ctx, key, "notfall", "ein langes Notfallpasswort")
					if err == nil && len(res.Teams) != 1 {
						t.Errorf("the recovered admin holds the keys of %v, want the first team", res.Teams)
					}
					return err
				}
			},
		},
		{
			action: reporting.AuditLoginUnlock, name: "admin",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				id := lockedUser(t, e, s)
				return func(ctx context.Context) error { return e.accounts.UnlockLogin(ctx, s, id) }
			},
		},
		{
			action: reporting.AuditLoginUnlock, name: "command line",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				lockedUser(t, e, s)
				return func(ctx context.Context) error { return e.accounts.UnlockLoginByName(ctx, "berta") }
			},
		},
		{
			action: reporting.AuditSecretInit,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				// Turn the deployment into one from before the secret.
				raw := e.rawDB(t)
				for _, q := range []string{`UPDATE teams SET mac = NULL`, `UPDATE users SET mac = NULL`, `UPDATE settings SET mac = NULL`,
					`DELETE FROM audit`, `DELETE FROM settings WHERE key IN ('audit_head', 'audit_keyed_from')`} {
					if _, err := raw.ExecContext(t.Context(), q); err != nil {
						t.Fatal(err)
					}
				}
				return func(ctx context.Context) error {
					return e.office.AdoptSecret(ctx, func([]string) bool { return true }, func(ctx context.Context) error {
						_, err := e.db.KeyAuditChain(ctx, false)
						return err
					})
				}
			},
		},
	}
}

// disableCase disables a counsellor who is logged in, holding the first
// team's key (rotate) or none.
func disableCase(name string, rotate bool) atomicCase {
	return atomicCase{
		action: reporting.AuditUserDisable, name: name,
		prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
			e.setUp(t)
			_, s := e.login(t)
			var teams []int64
			if rotate {
				teams = append(teams, firstTeam(t, e, s).id)
			}
			id, password := atomicUser(t, e, s, "berta", reporting.RoleCounsellor, teams...)
			token, _ := accLogin(t, e, "berta", password)
			old := firstTeam(t, e, s).kp.Public()
			later(e, func(t *testing.T) {
				// She is still enabled in the database and could log in
				// again at once; ending her session would protect nothing
				// and leave memory and rows disagreeing. The admin sees
				// the error and disables her again.
				stillLive(t, e, token, "after a disable whose entry failed")
				if firstTeam(t, e, s).kp.Public() != old {
					t.Error("the admin's session holds a rotated team key that was never stored")
				}
			})
			return func(ctx context.Context) error { return e.accounts.SetDisabled(ctx, s, id, true) }
		},
		check: runLater,
	}
}

// lockedUser makes a counsellor "berta" with failed logins on her shared
// counter and on her known device, and returns her ID.
func lockedUser(t *testing.T, e *env, s *reporting.OfficeSession) int64 {
	t.Helper()
	id, password := atomicUser(t, e, s, "berta", reporting.RoleCounsellor)
	r, err := e.office.LoginFrom(t.Context(), reporting.LoginAttempt{Name: "berta", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	for _, device := range []string{"", r.Device} {
		for range 2 {
			if _, err := e.office.LoginFrom(t.Context(), reporting.LoginAttempt{Name: "berta", Password: "falsches Passwort!", Device: device}); reporting.MessageID(err) != "error.login.failed" {
				t.Fatalf("wrong password: %v", err)
			}
		}
	}
	return id
}

// With the audit log down, no change of sessions, login, accounts, invitations, recovery stands.
func TestAuditFailureAccounts(t *testing.T) {
	runAtomicCases(t, accountAtomicCases())
}

// A logout with the log working deletes the session's row and writes its
// entry (the failing-audit case cannot rerun it, see above).
func TestLogoutAudited(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	token, _ := e.login(t)
	if err := e.office.Logout(t.Context(), token); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	raw := e.rawDB(t)
	if got := lastAudit(t, raw); got != "logout " {
		t.Errorf("newest audit entry %q, want the logout", got)
	}
	var n int
	if err := raw.QueryRowContext(t.Context(), `SELECT count(*) FROM sessions`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d session rows after the logout (%v)", n, err)
	}
	sessionGone(t, e, token, "after the logout")
}
