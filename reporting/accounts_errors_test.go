package reporting_test

import (
	"context"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// An error from below (here the audit log refusing its entry) leaves the
// Office, Accounts and TwoFactor services named with the operation, so
// the log line an operator reads says what failed; it stays an internal
// error, so the person still sees the plain error page.
func TestAccountServiceErrorsNameTheOperation(t *testing.T) {
	e := newEnv(t)
	recoveryKey := e.setUp(t)
	token, s := e.login(t)
	breakAudit(t, e.rawDB(t))
	const newPassword = "neues-pferd-batterie"
	calls := []namedCall{
		{"invite", func(ctx context.Context) error {
			_, err := e.accounts.Invite(ctx, s, reporting.InviteForm{Name: "fatma", Role: reporting.RoleStatistician})
			return err
		}},
		{"change password", func(ctx context.Context) error {
			return e.accounts.ChangePassword(ctx, s, reporting.PasswordForm{Old: adminPassword, New: newPassword, Confirm: newPassword})
		}},
		{"recover", func(ctx context.Context) error {
			_, err := e.accounts.Recover(ctx, recoveryKey, "notfall", newPassword)
			return err
		}},
		{"set totp roles", func(ctx context.Context) error {
			return e.twoFactor.SetTOTPRequiredRoles(ctx, s, []string{reporting.RoleAdmin})
		}},
		{"logout", func(ctx context.Context) error { return e.office.Logout(ctx, token) }}, // last: it ends the session
	}
	wantOperationNamed(t, calls)
}
