package reporting_test

import (
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// TestRoleRule spells out who may do what, the whole table: a change to
// reporting/permissions.go that opens or closes anything for a role has
// to change this test too. The authorization matrix in reporting/web
// checks the routes against it from the outside.
func TestRoleRule(t *testing.T) {
	const (
		a = reporting.RoleAdmin
		c = reporting.RoleCounsellor
		s = reporting.RoleStatistician
	)
	want := []struct {
		name  string
		p     reporting.Permission
		roles []string
	}{
		{"CaseWork", reporting.PermCaseWork, []string{a, c}},
		{"ManageAccounts", reporting.PermManageAccounts, []string{a}},
		{"ManageTeams", reporting.PermManageTeams, []string{a}},
		{"Audit", reporting.PermAudit, []string{a}},
		{"Statistics", reporting.PermStatistics, []string{a, s}},
		{"PublishStatistics", reporting.PermPublishStatistics, []string{a}},
		{"Settings", reporting.PermSettings, []string{a}},
		{"Outbox", reporting.PermOutbox, []string{a}},
		{"Integrity", reporting.PermIntegrity, []string{a}},
	}
	for _, w := range want {
		for _, role := range reporting.UserRoles {
			allowed := false
			for _, r := range w.roles {
				allowed = allowed || r == role
			}
			if got := reporting.Can(role, w.p); got != allowed {
				t.Errorf("Can(%q, %s) = %v, want %v", role, w.name, got, allowed)
			}
			u := &reporting.OfficeSession{User: reporting.User{Role: role}}
			if got := u.Can(w.p); got != allowed {
				t.Errorf("session of %q: Can(%s) = %v, want %v", role, w.name, got, allowed)
			}
		}
		// The name templates use leads to the same permission.
		if p, ok := reporting.PermissionNamed(w.name); !ok || p != w.p {
			t.Errorf("PermissionNamed(%q) = %v, %v; want %v, true", w.name, p, ok, w.p)
		}
	}
	// Every permission is in the table above: the one after the last
	// is refused to every role, so a new permission fails here until
	// its row is written.
	next := want[len(want)-1].p + 1
	for _, role := range reporting.UserRoles {
		if reporting.Can(role, next) {
			t.Errorf("Can(%q, %d) = true for a permission the test does not know", role, next)
		}
	}
}

// TestRoleRuleRefusesTheUnknown checks that what is not granted is
// refused: an unknown or empty role, the zero permission, a missing
// session, a misspelt name.
func TestRoleRuleRefusesTheUnknown(t *testing.T) {
	for _, role := range []string{"", "Admin", "admin ", "root", "reporter"} {
		for p := reporting.Permission(0); p <= reporting.PermIntegrity+1; p++ {
			if reporting.Can(role, p) {
				t.Errorf("Can(%q, %d) = true for an unknown role", role, p)
			}
		}
	}
	for _, role := range reporting.UserRoles {
		if reporting.Can(role, 0) {
			t.Errorf("Can(%q, 0) = true: the zero permission must grant nothing", role)
		}
	}
	var none *reporting.OfficeSession
	if none.Can(reporting.PermCaseWork) || none.Can(reporting.PermStatistics) {
		t.Error("a nil session may do something")
	}
	for _, name := range []string{"", "casework", "Admin", "PermAudit", "Cases"} {
		if p, ok := reporting.PermissionNamed(name); ok {
			t.Errorf("PermissionNamed(%q) = %v, true; want unknown", name, p)
		}
	}
}
