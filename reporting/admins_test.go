package reporting_test

import (
	"sync"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// Two admins who take each other's admin role (or disable each other) at
// the same moment must not both succeed: the check runs inside the unit of
// work that makes the change, so exactly one goes through, the other is
// refused with the coded, translated last-admin error, and the office
// keeps exactly one active admin.
func TestLastAdminRaceKeepsOne(t *testing.T) {
	for _, c := range []struct {
		name string
		act  func(e *env, s *reporting.OfficeSession, other int64) error
	}{
		{"counsellor", func(e *env, s *reporting.OfficeSession, other int64) error {
			return e.accounts.SetRole(t.Context(), s, other, reporting.RoleCounsellor)
		}},
		// Statistician and disabling go through the key revocation.
		{"statistician", func(e *env, s *reporting.OfficeSession, other int64) error {
			return e.accounts.SetRole(t.Context(), s, other, reporting.RoleStatistician)
		}},
		{"disable", func(e *env, s *reporting.OfficeSession, other int64) error {
			return e.accounts.SetDisabled(t.Context(), s, other, true)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			admin := setUpAdmin(t, e)
			pw := accUser(t, e, admin, "berta", reporting.RoleAdmin, accTeamID(t, e, "PLANB Ruhr"))
			_, berta := accLogin(t, e, "berta", pw)

			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, pair := range [][2]*reporting.OfficeSession{{admin, berta}, {berta, admin}} {
				wg.Go(func() { errs[i] = c.act(e, pair[0], pair[1].User.ID) })
			}
			wg.Wait()

			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case reporting.ErrorCode(err) != reporting.EConflict || reporting.MessageID(err) != "error.accounts.last_admin":
					t.Errorf("the refused change: %v (code %q, message %q), want EConflict error.accounts.last_admin",
						err, reporting.ErrorCode(err), reporting.MessageID(err))
				}
			}
			if ok != 1 {
				t.Errorf("%d of the two changes went through (%v), want exactly one", ok, errs)
			}
			rows, err := e.db.UserRows(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			active := 0
			for _, r := range rows {
				if r.Role == reporting.RoleAdmin && !r.Disabled && !r.Pending {
					active++
				}
			}
			if active != 1 {
				t.Errorf("%d active admins left, want 1: %+v", active, rows)
			}
		})
	}
}

// The users list marks the only active admin, so the page offers them no
// other role; an invited admin who has not set a password yet does not
// count, an enabled second admin does.
func TestLastAdminMarked(t *testing.T) {
	e := newEnv(t)
	admin := setUpAdmin(t, e)
	ctx := t.Context()
	last := func() []string {
		t.Helper()
		rows, err := e.accounts.Users(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rows {
			if r.LastAdmin {
				names = append(names, r.Name)
			}
		}
		return names
	}
	if got := last(); len(got) != 1 || got[0] != adminName {
		t.Fatalf("only admin: marked %v", got)
	}
	accInvite(t, e, admin, "carla", reporting.RoleAdmin)
	if got := last(); len(got) != 1 || got[0] != adminName {
		t.Errorf("with an invited admin: marked %v", got)
	}
	// The invited admin does not save the last one.
	wantCode(t, e.accounts.SetRole(ctx, admin, admin.User.ID, reporting.RoleCounsellor), reporting.EConflict)
	accUser(t, e, admin, "berta", reporting.RoleAdmin)
	if got := last(); len(got) != 0 {
		t.Errorf("with two active admins: marked %v", got)
	}
}
