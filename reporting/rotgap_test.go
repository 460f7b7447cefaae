package reporting_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// A team whose key the disabling admin did not hold is marked pending and
// rotated at the next login of a member: the disabled user, with their
// password, the team key they kept and a database copy taken afterwards,
// opens no report filed after that login, while the member, the other
// member's live session and the recovery key read old and new.
func TestRotgapPendingRotationAtMemberLogin(t *testing.T) {
	e := newEnv(t)
	recoveryKey := e.setUp(t)
	ctx := t.Context()
	_, admin := e.login(t)
	team := e.team(t, "PLANB Ruhr")
	ursula := e.addTeamUser(t, "ursula", reporting.RoleCounsellor, false)
	mara := e.addTeamUser(t, "mara", reporting.RoleCounsellor, false)
	e.addMember(t, admin, team.ID, ursula.ID)
	e.addMember(t, admin, team.ID, mara.ID)
	e.addTeamUser(t, "other", reporting.RoleAdmin, false)
	other := e.loginMember(t, "other")
	in := e.intake(t)
	before := e.submitIn(t, in, "bochum", "vor der Sperre")
	oldKey := teamKeyOf(t, e.loginMember(t, "ursula"), team.ID).Copy()

	if err := e.accounts.SetDisabled(ctx, other, ursula.ID, true); err != nil {
		t.Fatalf("SetDisabled: %v", err)
	}
	got := e.team(t, "PLANB Ruhr")
	if got.PublicKey != team.PublicKey || !got.RotatePending {
		t.Fatalf("after a disable without the key: key changed %v, pending %v; want unchanged and pending",
			got.PublicKey != team.PublicKey, got.RotatePending)
	}
	if !slices.ContainsFunc(e.auditDetails(t, reporting.AuditUserDisable), func(d string) bool {
		return strings.HasSuffix(d, fmt.Sprintf(" unrotated=%d", team.ID))
	}) {
		t.Errorf("the disable's audit entry names no unrotated team: %q", e.auditDetails(t, reporting.AuditUserDisable))
	}
	// The teams page of an admin without the key shows the mark and
	// cannot rotate.
	infos, err := e.teams.TeamOverview(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(infos, func(ti reporting.TeamInfo) bool { return ti.ID == team.ID }); i < 0 || !infos[i].RotatePending {
		t.Error("the teams page does not show the team as pending")
	}

	sm := e.loginMember(t, "mara")
	got = e.team(t, "PLANB Ruhr")
	if got.PublicKey == team.PublicKey || got.RotatePending {
		t.Fatalf("after a member's login: key changed %v, pending %v; want changed and cleared",
			got.PublicKey != team.PublicKey, got.RotatePending)
	}
	if !slices.Contains(e.auditDetails(t, reporting.AuditTeamMember), fmt.Sprintf("team:%d rotation completed", team.ID)) {
		t.Errorf("no audit entry for the completed rotation: %q", e.auditDetails(t, reporting.AuditTeamMember))
	}
	after := e.submitIn(t, in, "bochum", "nach der Sperre")

	stolen := dbCopy(t, e, "after-completion")
	keys := attack(t, stolen, copyUser(t, e, stolen, "ursula", memberPassword), oldKey)
	if !opensReport(t, stolen, before, keys) {
		t.Fatal("the attacker's keys do not open the report from before: the attack is broken")
	}
	if opensReport(t, stolen, after, keys) {
		t.Fatal("a disabled user with a later database copy opens a report filed after the pending rotation")
	}

	reads(t, e, "mara (the login that rotated)", sm, before, after)
	reads(t, e, "mara (new login)", e.loginMember(t, "mara"), before, after)
	reads(t, e, "admin (live session)", admin, before, after)
	_, fresh := e.login(t)
	reads(t, e, "admin (new login)", fresh, before, after)
	if _, err := e.accounts.Recover(ctx, recoveryKey, "rita", "ein neues langes Passwort"); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	_, rita := accLogin(t, e, "rita", "ein neues langes Passwort")
	reads(t, e, "a recovered admin", rita, before, after)
}

// An admin holding the key completes a pending rotation by opening the
// teams page, and their live session reads what is filed after it.
func TestRotgapPendingRotationAtTeamsPage(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	_, admin := e.login(t)
	team := e.team(t, "PLANB Ruhr")
	ursula := e.addTeamUser(t, "ursula", reporting.RoleCounsellor, false)
	e.addMember(t, admin, team.ID, ursula.ID)
	e.addTeamUser(t, "other", reporting.RoleAdmin, false)
	if err := e.accounts.SetDisabled(ctx, e.loginMember(t, "other"), ursula.ID, true); err != nil {
		t.Fatalf("SetDisabled: %v", err)
	}
	if !e.team(t, "PLANB Ruhr").RotatePending {
		t.Fatal("the team is not marked pending")
	}
	infos, err := e.teams.TeamOverview(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(infos, func(ti reporting.TeamInfo) bool { return ti.ID == team.ID }); i < 0 || infos[i].RotatePending {
		t.Error("the teams page of an admin holding the key still shows the rotation pending")
	}
	if got := e.team(t, "PLANB Ruhr"); got.PublicKey == team.PublicKey || got.RotatePending {
		t.Fatalf("after the teams page: key changed %v, pending %v", got.PublicKey != team.PublicKey, got.RotatePending)
	}
	after := e.submitIn(t, e.intake(t), "bochum", "nach der Rotation")
	reads(t, e, "admin (live session)", admin, after)
}
