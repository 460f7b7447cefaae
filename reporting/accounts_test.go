package reporting_test

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/anchortest"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// ---- helpers (accounts) ----

// accDB opens a second connection to the test database, for the few
// things no store method does yet (adding a team with its keys).
func accDB(t *testing.T, e *env) *sql.DB {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+filepath.Join(e.dir, storage.FileName)+"?_busy_timeout=5000&_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// accAddTeam adds a team covering the given municipality, with its private
// key sealed to the admin and to the recovery key as the teams feature
// would, and narrows the first team to Bochum, so that reports from
// municipality go to the new team. It returns the team's ID.
func accAddTeam(t *testing.T, e *env, name, municipality, recoveryKey string) int64 {
	t.Helper()
	ctx := t.Context()
	conn := accDB(t, e)
	admin, err := e.db.UserByName(ctx, adminName)
	if err != nil {
		t.Fatal(err)
	}
	key, err := vault.ParseRecoveryKey(recoveryKey)
	if err != nil {
		t.Fatal(err)
	}
	team := vault.NewKeyPair()
	pub := team.Public()
	if _, err := conn.ExecContext(ctx, `UPDATE teams SET municipalities = 'bochum' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	res, err := conn.ExecContext(ctx, `INSERT INTO teams (name, public_key, municipalities) VALUES (?, ?, ?)`, name, pub[:], municipality)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	if _, err := conn.ExecContext(ctx, `INSERT INTO recovery_envelopes (team_id, wrapped) VALUES (?, ?)`,
		id, vault.RecoveryKeyPair(key).Public().SealKeyPair(team, vault.RecoveryAD(pub))); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO user_team_keys (user_id, team_id, wrapped) VALUES (?, ?, ?)`,
		admin.ID, id, admin.PublicKey.SealKeyPair(team, vault.TeamKeyAD("user:"+hex.EncodeToString(admin.Salt), pub))); err != nil {
		t.Fatal(err)
	}
	anchortest.SignRows(t, conn, e.anchor)
	return id
}

// accTeamID returns the ID of the team with this name.
func accTeamID(t *testing.T, e *env, name string) int64 {
	t.Helper()
	teams, err := e.db.Teams(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range teams {
		if tm.Name == name {
			return tm.ID
		}
	}
	t.Fatalf("no team %q in %v", name, teams)
	return 0
}

// accReport submits a report from a municipality and returns its case
// number.
func accReport(t *testing.T, e *env, municipality, text string) string {
	t.Helper()
	f := validForm()
	f.Municipality, f.Description = municipality, text
	_, rc := submit(t, e.intake(t), f, "de")
	return rc.CaseNo
}

// accCaseNos lists the case numbers a session sees.
func accCaseNos(t *testing.T, e *env, s *reporting.OfficeSession) []string {
	t.Helper()
	cases, _, err := e.cases.Cases(t.Context(), s, reporting.Page{Limit: 100})
	if err != nil {
		t.Fatalf("Cases: %v", err)
	}
	var nos []string
	for _, c := range cases {
		nos = append(nos, c.CaseNo)
	}
	slices.Sort(nos)
	return nos
}

// accCaseID finds the ID of a case by its number, as the admin.
func accCaseID(t *testing.T, e *env, s *reporting.OfficeSession, caseNo string) string {
	t.Helper()
	cases, _, err := e.cases.Cases(t.Context(), s, reporting.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.CaseNo == caseNo {
			return c.ID
		}
	}
	t.Fatalf("case %s not in the list", caseNo)
	return ""
}

// accInvite invites a user as the admin session s and returns the token.
func accInvite(t *testing.T, e *env, s *reporting.OfficeSession, name, role string, teams ...int64) string {
	t.Helper()
	inv, err := e.accounts.Invite(t.Context(), s, reporting.InviteForm{Name: name, Role: role, Teams: teams})
	if err != nil {
		t.Fatalf("Invite %s: %v", name, err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(inv.Token) {
		t.Fatalf("invitation token %q is not 32 random bytes in hex", inv.Token)
	}
	return inv.Token
}

// accUser invites and accepts a user and returns their password.
func accUser(t *testing.T, e *env, s *reporting.OfficeSession, name, role string, teams ...int64) string {
	t.Helper()
	password := "das Passwort von " + name
	token := accInvite(t, e, s, name, role, teams...)
	if err := e.accounts.AcceptInvitation(t.Context(), reporting.AcceptForm{Token: token, Password: password, Confirm: password}); err != nil {
		t.Fatalf("AcceptInvitation %s: %v", name, err)
	}
	return password
}

// accLogin logs a user in and fails the test if that does not work.
func accLogin(t *testing.T, e *env, name, password string) (string, *reporting.OfficeSession) {
	t.Helper()
	token, s, err := e.office.Login(t.Context(), name, password, "")
	if err != nil {
		t.Fatalf("Login %s: %v", name, err)
	}
	return token, s
}

// accDenied fails unless a login is refused with the login-failed message.
func accDenied(t *testing.T, e *env, name, password string) {
	t.Helper()
	token, s, err := e.office.Login(t.Context(), name, password, "")
	if token != "" || s != nil {
		t.Fatalf("Login %s succeeded, want refused", name)
	}
	if ae := appError(t, err); ae.Code != reporting.EUnauthorized || ae.MessageID != "error.login.failed" {
		t.Fatalf("Login %s: %v, want the wrong-password answer", name, err)
	}
}

// accAudit returns the actions of the audit log with their details, oldest
// first.
func accAudit(t *testing.T, e *env) []string {
	t.Helper()
	entries, _, err := e.db.AuditEntries(t.Context(), "", reporting.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].UserName+" "+entries[i].Action+" "+entries[i].Detail)
	}
	return out
}

// accAudited fails unless the audit log has an entry starting with prefix.
func accAudited(t *testing.T, e *env, prefix string) {
	t.Helper()
	log := accAudit(t, e)
	if !slices.ContainsFunc(log, func(s string) bool { return strings.HasPrefix(s, prefix) }) {
		t.Errorf("no audit entry %q in\n%s", prefix, strings.Join(log, "\n"))
	}
}

// accFieldError fails unless err is a validation error on exactly field
// with message id.
func accFieldError(t *testing.T, err error, field, id string) {
	t.Helper()
	wantCode(t, err, reporting.EInvalid)
	if got := reporting.FieldErrors(err); len(got) != 1 || got[field] != id {
		t.Fatalf("FieldErrors = %v, want %s: %s", got, field, id)
	}
}

// ---- invitations ----

// An admin invites a counsellor to their team; the link shows the name,
// refuses a short or mistyped password, and once accepted the counsellor
// logs in and reads the team's case. The link is spent afterwards, the
// database never held the token, and both steps are in the audit log.
func TestAccountsInvitationRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	caseNo := accReport(t, e, "bochum", "Am Schalter abgewiesen.")
	_, admin := e.login(t)

	teams, err := e.accounts.InviteTeams(ctx, admin)
	if err != nil || len(teams) != 1 || teams[0].Name != "PLANB Ruhr" {
		t.Fatalf("InviteTeams = %v, %v; want the admin's one team", teams, err)
	}
	token := accInvite(t, e, admin, " berta ", reporting.RoleCounsellor, teams[0].ID)

	if name, err := e.accounts.Invitation(ctx, token); err != nil || name != "berta" {
		t.Fatalf("Invitation = %q, %v; want berta", name, err)
	}
	// Before accepting, no password at all logs berta in.
	accDenied(t, e, "berta", "")
	accDenied(t, e, "berta", "irgendein langes Passwort")

	short := strings.Repeat("x", reporting.MinPassword-1)
	accFieldError(t, e.accounts.AcceptInvitation(ctx, reporting.AcceptForm{Token: token, Password: short, Confirm: short}), "password", "error.setup.password_short")
	accFieldError(t, e.accounts.AcceptInvitation(ctx, reporting.AcceptForm{Token: token, Password: "ein langes Passwort", Confirm: "ein langes Passwort!"}), "confirm", "error.setup.password_mismatch")
	if err := e.accounts.AcceptInvitation(ctx, reporting.AcceptForm{Token: token, Password: "bertas langes Passwort", Confirm: "bertas langes Passwort"}); err != nil {
		t.Fatalf("AcceptInvitation: %v", err)
	}

	_, berta := accLogin(t, e, "berta", "bertas langes Passwort")
	if berta.User.Role != reporting.RoleCounsellor {
		t.Errorf("berta's role = %q", berta.User.Role)
	}
	if got := accCaseNos(t, e, berta); !slices.Equal(got, []string{caseNo}) {
		t.Fatalf("berta sees %v, want [%s]", got, caseNo)
	}
	c, err := e.cases.Case(ctx, berta, accCaseID(t, e, admin, caseNo))
	if err != nil || c.Report.Description != "Am Schalter abgewiesen." {
		t.Fatalf("berta reads the case: %q, %v", c.Report.Description, err)
	}

	// Used: the link is dead, like an unknown one.
	for _, tok := range []string{token, vault.NewToken(), ""} {
		_, err := e.accounts.Invitation(ctx, tok)
		wantCode(t, err, reporting.ENotFound)
		err = e.accounts.AcceptInvitation(ctx, reporting.AcceptForm{Token: tok, Password: "ein anderes langes Passwort", Confirm: "ein anderes langes Passwort"})
		wantCode(t, err, reporting.ENotFound)
	}
	accDenied(t, e, "berta", "ein anderes langes Passwort")
	accLogin(t, e, "berta", "bertas langes Passwort")

	// Only the token's hash was ever stored, and the invitation row is gone.
	if err := e.db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal"} {
		raw, err := os.ReadFile(filepath.Join(e.dir, storage.FileName+suffix))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		tokBytes, _ := hex.DecodeString(token)
		if bytes.Contains(raw, []byte(token)) || bytes.Contains(raw, tokBytes) {
			t.Errorf("the database file%s holds the invitation token", suffix)
		}
	}
	var left int
	if err := accDB(t, e).QueryRowContext(ctx, `SELECT count(*) FROM invitations`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d invitation rows left after accepting (%v)", left, err)
	}
	accAudited(t, e, "admin user_invite user=2 role=counsellor teams=1")
	accAudited(t, e, "berta user_accept")
}

// An invitee gets exactly the teams they were invited to: a counsellor of
// Herne cannot open a Bochum case, a statistician gets no team at all, and
// an admin can only hand out keys their own session holds.
func TestAccountsInviteeOnlyReadsInvitedTeams(t *testing.T) {
	e := newEnv(t)
	recovery := e.setUp(t)
	ctx := t.Context()
	herne := accAddTeam(t, e, "Herne", "herne", recovery)
	bochumCase := accReport(t, e, "bochum", "Bochumer Fall")
	herneCase := accReport(t, e, "herne", "Herner Fall")
	_, admin := e.login(t)
	if got := accCaseNos(t, e, admin); len(got) != 2 {
		t.Fatalf("the admin sees %v, want both cases", got)
	}

	pw := accUser(t, e, admin, "carla", reporting.RoleCounsellor, herne)
	_, carla := accLogin(t, e, "carla", pw)
	if got := accCaseNos(t, e, carla); !slices.Equal(got, []string{herneCase}) {
		t.Errorf("carla sees %v, want only [%s]", got, herneCase)
	}
	_, err := e.cases.Case(ctx, carla, accCaseID(t, e, admin, bochumCase))
	wantCode(t, err, reporting.ENotFound)
	if _, err := e.cases.Case(ctx, carla, accCaseID(t, e, admin, herneCase)); err != nil {
		t.Errorf("carla cannot open the Herne case: %v", err)
	}

	pw = accUser(t, e, admin, "dora", reporting.RoleStatistician)
	_, dora := accLogin(t, e, "dora", pw)
	if n := len(dora.Keys.Teams()); n != 0 {
		t.Errorf("the statistician holds %d team keys", n)
	}

	bochum := accTeamID(t, e, "PLANB Ruhr")
	invalid := []struct {
		name  string
		form  reporting.InviteForm
		field string
		msg   string
	}{
		{"statistician with a team", reporting.InviteForm{Name: "emil", Role: reporting.RoleStatistician, Teams: []int64{bochum}}, "teams", "error.accounts.statistician_teams"},
		{"team the admin does not hold", reporting.InviteForm{Name: "emil", Role: reporting.RoleCounsellor, Teams: []int64{herne + 100}}, "teams", "error.accounts.team_not_held"},
		{"unknown role", reporting.InviteForm{Name: "emil", Role: "root"}, "role", "error.accounts.role"},
		{"blank name", reporting.InviteForm{Name: "  ", Role: reporting.RoleCounsellor}, "name", "error.setup.username"},
		{"long name", reporting.InviteForm{Name: strings.Repeat("e", 65), Role: reporting.RoleCounsellor}, "name", "error.setup.username"},
		{"name taken", reporting.InviteForm{Name: "carla", Role: reporting.RoleCounsellor}, "name", "error.accounts.name_taken"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.accounts.Invite(ctx, admin, tt.form)
			accFieldError(t, err, tt.field, tt.msg)
		})
	}
	// Only admins invite, even if a handler forgot to check.
	_, err = e.accounts.Invite(ctx, carla, reporting.InviteForm{Name: "emil", Role: reporting.RoleCounsellor, Teams: []int64{herne}})
	wantCode(t, err, reporting.ENotFound)
	if _, err := e.accounts.InviteTeams(ctx, carla); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("InviteTeams for a counsellor: %v", err)
	}
	if n, _ := e.db.CountUsers(ctx); n != 3 {
		t.Errorf("%d users after the refused invitations, want 3", n)
	}
}

// A link works for InvitationLifetime and not a second longer; an expired
// one is "not found" like an unknown one, shows as expired on the users
// page, its wrapped key is deleted, and withdrawing it frees the name.
func TestAccountsInvitationExpires(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	_, admin := e.login(t)
	late := accInvite(t, e, admin, "late", reporting.RoleCounsellor)
	onTime := accInvite(t, e, admin, "ontime", reporting.RoleCounsellor)

	e.clock.Advance(reporting.InvitationLifetime - time.Second)
	_, admin = e.login(t)
	if err := e.accounts.AcceptInvitation(ctx, reporting.AcceptForm{Token: onTime, Password: "gerade noch rechtzeitig", Confirm: "gerade noch rechtzeitig"}); err != nil {
		t.Fatalf("accept a second before expiry: %v", err)
	}
	e.clock.Advance(time.Second)
	_, err := e.accounts.Invitation(ctx, late)
	wantCode(t, err, reporting.ENotFound)
	err = e.accounts.AcceptInvitation(ctx, reporting.AcceptForm{Token: late, Password: "zu spät, leider schon", Confirm: "zu spät, leider schon"})
	wantCode(t, err, reporting.ENotFound)
	accDenied(t, e, "late", "zu spät, leider schon")

	users, err := e.accounts.Users(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	var lateID int64
	for _, u := range users {
		states[u.Name] = u.State
		if u.Name == "late" {
			lateID = u.ID
		}
	}
	if want := map[string]string{adminName: reporting.StateActive, "ontime": reporting.StateActive, "late": reporting.StateExpired}; !accSameMap(states, want) {
		t.Errorf("states = %v, want %v", states, want)
	}
	var left int
	if err := accDB(t, e).QueryRowContext(ctx, `SELECT count(*) FROM invitations`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d expired invitation copies left (%v)", left, err)
	}

	if err := e.accounts.WithdrawInvitation(ctx, admin, lateID); err != nil {
		t.Fatalf("WithdrawInvitation: %v", err)
	}
	accInvite(t, e, admin, "late", reporting.RoleCounsellor)
	// An account in use cannot be "withdrawn".
	u, _ := e.db.UserByName(ctx, "ontime")
	wantCode(t, e.accounts.WithdrawInvitation(ctx, admin, u.ID), reporting.ENotFound)
	accAudited(t, e, "admin delete invitation user=")
}

func accSameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// ---- disable, enable, roles ----

// Disabling a user ends all their sessions at once — the very next
// request with their token is refused and their keys are wiped — and they
// cannot log in, with the same answer as a wrong password. Enabling lets
// them back in. Nobody disables themselves.
func TestAccountsDisableEndsSessions(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	adminTok, admin := e.login(t)
	pw := accUser(t, e, admin, "berta", reporting.RoleCounsellor, accTeamID(t, e, "PLANB Ruhr"))
	tok1, s1 := accLogin(t, e, "berta", pw)
	tok2, _ := accLogin(t, e, "berta", pw)
	u, _ := e.db.UserByName(ctx, "berta")

	if err := e.accounts.SetDisabled(ctx, admin, u.ID, true); err != nil {
		t.Fatalf("disable: %v", err)
	}
	for _, tok := range []string{tok1, tok2} {
		_, err := e.office.Session(ctx, tok)
		wantCode(t, err, reporting.EUnauthorized)
	}
	if n := len(s1.Keys.Teams()); n != 0 {
		t.Errorf("the disabled user's session still holds %d keys", n)
	}
	if err := e.db.TouchSession(ctx, vault.HashToken(tok1), e.clock.Now()); err == nil {
		t.Error("the disabled user's session row is still stored")
	}
	accDenied(t, e, "berta", pw)

	wantCode(t, e.accounts.SetDisabled(ctx, admin, admin.User.ID, true), reporting.EConflict)
	if _, err := e.office.Session(ctx, adminTok); err != nil {
		t.Errorf("the admin's own session: %v", err)
	}

	if err := e.accounts.SetDisabled(ctx, admin, u.ID, false); err != nil {
		t.Fatalf("enable: %v", err)
	}
	accLogin(t, e, "berta", pw)
	accAudited(t, e, "admin user_disable user=2")
	accAudited(t, e, "admin user_enable user=2")
}

// A role change applies at once: the user's sessions end, so they come
// back with the new role; a statistician loses every team key and reads
// nothing. The last active admin cannot step down.
func TestAccountsRoleChange(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	caseNo := accReport(t, e, "essen", "Essener Fall")
	_, admin := e.login(t)

	// The only admin cannot demote themselves.
	wantCode(t, e.accounts.SetRole(ctx, admin, admin.User.ID, reporting.RoleCounsellor), reporting.EConflict)
	wantCode(t, e.accounts.SetRole(ctx, admin, admin.User.ID, "root"), reporting.EInvalid)

	pw := accUser(t, e, admin, "berta", reporting.RoleCounsellor, accTeamID(t, e, "PLANB Ruhr"))
	tok, _ := accLogin(t, e, "berta", pw)
	u, _ := e.db.UserByName(ctx, "berta")

	if err := e.accounts.SetRole(ctx, admin, u.ID, reporting.RoleStatistician); err != nil {
		t.Fatalf("SetRole: %v", err)
	}
	_, err := e.office.Session(ctx, tok)
	wantCode(t, err, reporting.EUnauthorized)
	if keys, err := e.db.UserTeamKeys(ctx, u.ID); err != nil || len(keys) != 0 {
		t.Errorf("statistician still has %d team keys (%v)", len(keys), err)
	}
	_, berta := accLogin(t, e, "berta", pw)
	if berta.User.Role != reporting.RoleStatistician || len(berta.Keys.Teams()) != 0 || len(accCaseNos(t, e, berta)) != 0 {
		t.Errorf("after demotion: role %q, %d keys", berta.User.Role, len(berta.Keys.Teams()))
	}
	accAudited(t, e, "admin user_role user=2 counsellor→statistician")

	// Made admin, berta lets the first admin step down.
	if err := e.accounts.SetRole(ctx, admin, u.ID, reporting.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	_, berta = accLogin(t, e, "berta", pw)
	if err := e.accounts.SetRole(ctx, berta, admin.User.ID, reporting.RoleCounsellor); err != nil {
		t.Fatalf("demote the first admin with another admin around: %v", err)
	}
	_, former := e.login(t)
	if former.User.Role != reporting.RoleCounsellor || !slices.Equal(accCaseNos(t, e, former), []string{caseNo}) {
		t.Errorf("the former admin: role %q, keeps the team's cases: %v", former.User.Role, accCaseNos(t, e, former))
	}
	// A counsellor (the former admin) cannot change roles any more.
	wantCode(t, e.accounts.SetRole(ctx, former, u.ID, reporting.RoleCounsellor), reporting.ENotFound)
	wantCode(t, e.accounts.SetDisabled(ctx, former, u.ID, true), reporting.ENotFound)
	if _, err := e.accounts.Users(ctx, former); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("Users for a counsellor: %v", err)
	}
}

// ---- own password ----

// Changing the password checks the old one, keeps access to the cases
// (the private key is re-wrapped, team keys untouched), ends the user's
// other sessions but not this one, and the old password stops working.
func TestAccountsPasswordChange(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	caseNo := accReport(t, e, "marl", "Marler Fall")
	tok1, s1 := e.login(t)
	tok2, _ := e.login(t)
	const newPassword = "ein ganz neues langes Passwort"

	invalid := []struct {
		name  string
		form  reporting.PasswordForm
		field string
		msg   string
	}{
		{"wrong old password", reporting.PasswordForm{Old: "falsch falsch falsch", New: newPassword, Confirm: newPassword}, "old", "error.accounts.old_password"},
		{"short new password", reporting.PasswordForm{Old: adminPassword, New: "kurz", Confirm: "kurz"}, "new", "error.setup.password_short"},
		{"mismatch", reporting.PasswordForm{Old: adminPassword, New: newPassword, Confirm: newPassword + "!"}, "confirm", "error.setup.password_mismatch"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			accFieldError(t, e.accounts.ChangePassword(ctx, s1, tt.form), tt.field, tt.msg)
		})
	}
	if _, err := e.office.Session(ctx, tok2); err != nil {
		t.Fatalf("a refused change ended the other session: %v", err)
	}
	accAudited(t, e, "admin login_failed password_change")

	if err := e.accounts.ChangePassword(ctx, s1, reporting.PasswordForm{Old: adminPassword, New: newPassword, Confirm: newPassword}); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	_, err := e.office.Session(ctx, tok2)
	wantCode(t, err, reporting.EUnauthorized)
	if _, err := e.office.Session(ctx, tok1); err != nil {
		t.Errorf("the session that changed the password ended: %v", err)
	}
	if got := accCaseNos(t, e, s1); !slices.Equal(got, []string{caseNo}) {
		t.Errorf("the changing session sees %v", got)
	}
	accDenied(t, e, adminName, adminPassword)
	_, s := accLogin(t, e, adminName, newPassword)
	if _, err := e.cases.Case(ctx, s, accCaseID(t, e, s, caseNo)); err != nil {
		t.Errorf("after the change the case does not open: %v", err)
	}
	accAudited(t, e, "admin password_change")
}

// ---- login slowdown ----

// After FreeLoginAttempts wrong passwords the account is locked: even the
// right password is refused, with the same answer as a wrong one, and
// without checking it (the failure count does not move). Once the lock
// has passed the right password works and the count starts afresh; each
// failure after the fifth doubles the wait.
func TestAccountsLoginSlowdown(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	admin, _ := e.db.UserByName(ctx, adminName)
	failures := func() reporting.LoginState {
		t.Helper()
		st, err := e.db.LoginState(ctx, reporting.LoginBucket{UserID: admin.ID})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	for range reporting.FreeLoginAttempts - 1 {
		accDenied(t, e, adminName, "falsch falsch falsch")
	}
	// Four failures lock nothing yet.
	if st := failures(); st.Failures != reporting.FreeLoginAttempts-1 || !st.LockedUntil.IsZero() {
		t.Fatalf("after 4 failures: %+v", st)
	}
	accDenied(t, e, adminName, "falsch falsch falsch")
	if st := failures(); !st.LockedUntil.Equal(today.Add(reporting.LoginLockBase)) {
		t.Fatalf("after 5 failures locked until %v, want %v", st.LockedUntil, today.Add(reporting.LoginLockBase))
	}

	accDenied(t, e, adminName, adminPassword)
	accDenied(t, e, adminName, "falsch falsch falsch")
	e.clock.Advance(reporting.LoginLockBase - time.Second)
	accDenied(t, e, adminName, adminPassword)
	if st := failures(); st.Failures != reporting.FreeLoginAttempts {
		t.Errorf("attempts while locked were checked: %d failures", st.Failures)
	}
	unknown := appError(t, func() error { _, _, err := e.office.Login(ctx, "nobody", adminPassword, ""); return err }())
	if unknown.MessageID != "error.login.failed" {
		t.Errorf("unknown user: %q", unknown.MessageID)
	}

	// The lock passes: one more failure locks for twice as long.
	e.clock.Advance(time.Second)
	accDenied(t, e, adminName, "falsch falsch falsch")
	e.clock.Advance(2*reporting.LoginLockBase - time.Second)
	accDenied(t, e, adminName, adminPassword)
	e.clock.Advance(time.Second)
	accLogin(t, e, adminName, adminPassword)
	if st := failures(); st.Failures != 0 || !st.LockedUntil.IsZero() {
		t.Errorf("after a successful login: %+v, want a fresh count", st)
	}
	// Success reset the count: four more failures lock nothing.
	for range reporting.FreeLoginAttempts - 1 {
		accDenied(t, e, adminName, "falsch falsch falsch")
	}
	accLogin(t, e, adminName, adminPassword)

	// The wait never exceeds LoginLockMax, however many failures.
	for range 20 {
		accDenied(t, e, adminName, "falsch falsch falsch")
		if st := failures(); !st.LockedUntil.IsZero() {
			if wait := st.LockedUntil.Sub(e.clock.Now()); wait > reporting.LoginLockMax {
				t.Fatalf("after %d failures the wait is %v", st.Failures, wait)
			}
			e.clock.Advance(st.LockedUntil.Sub(e.clock.Now()))
		}
	}
	if st := failures(); st.LockedUntil.Sub(e.clock.Now()) != 0 {
		t.Errorf("lock state %+v", st)
	}
	accDenied(t, e, adminName, "falsch falsch falsch")
	if st := failures(); st.LockedUntil.Sub(e.clock.Now()) != reporting.LoginLockMax {
		t.Errorf("after %d failures the wait is %v, want the cap %v", st.Failures, st.LockedUntil.Sub(e.clock.Now()), reporting.LoginLockMax)
	}

	// A wrong old password on the password form counts the same, and the
	// form is refused while the account is locked.
	e.clock.Advance(reporting.LoginLockMax)
	_, s := accLogin(t, e, adminName, adminPassword)
	for range reporting.FreeLoginAttempts {
		accFieldError(t, e.accounts.ChangePassword(ctx, s, reporting.PasswordForm{Old: "falsch falsch falsch", New: "ein neues langes Passwort", Confirm: "ein neues langes Passwort"}), "old", "error.accounts.old_password")
	}
	accFieldError(t, e.accounts.ChangePassword(ctx, s, reporting.PasswordForm{Old: adminPassword, New: "ein neues langes Passwort", Confirm: "ein neues langes Passwort"}), "old", "error.accounts.old_password")
	accDenied(t, e, adminName, adminPassword)
}

// ---- sessions ----

// The account page lists the user's live sessions by a short ID that is
// neither the token nor its hash; another session can be ended from here
// (the next request with it is refused), the current one only by logging
// out, and nobody else's at all.
func TestAccountsSessions(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	tok1, s1 := e.login(t)
	e.clock.Advance(time.Minute)
	tok2, s2 := e.login(t)

	a, err := e.accounts.Account(ctx, s1)
	if err != nil {
		t.Fatal(err)
	}
	if a.User.Name != adminName || !slices.Equal(a.Teams, []string{"PLANB Ruhr"}) || len(a.Sessions) != 2 {
		t.Fatalf("Account = %+v", a)
	}
	if a.Sessions[0].ID != s2.ID() || a.Sessions[1].ID != s1.ID() || !a.Sessions[1].Current || a.Sessions[0].Current {
		t.Errorf("sessions %+v: want the newer first and the asking one marked", a.Sessions)
	}
	for i, tok := range []string{tok1, tok2} {
		id := a.Sessions[1-i].ID
		if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) || strings.Contains(tok, id) || hex.EncodeToString(vault.HashToken(tok)) == id {
			t.Errorf("session ID %q is not a short name: token %s", id, tok)
		}
		if _, err := e.office.Session(ctx, id); err == nil {
			t.Errorf("the session ID %q logs in", id)
		}
	}

	wantCode(t, e.accounts.RevokeSession(ctx, s1, s1.ID()), reporting.EConflict)
	wantCode(t, e.accounts.RevokeSession(ctx, s1, "0123456789abcdef"), reporting.ENotFound)
	pw := accUser(t, e, s1, "berta", reporting.RoleCounsellor)
	_, berta := accLogin(t, e, "berta", pw)
	wantCode(t, e.accounts.RevokeSession(ctx, s1, berta.ID()), reporting.ENotFound)
	wantCode(t, e.accounts.RevokeSession(ctx, berta, s2.ID()), reporting.ENotFound)

	if err := e.accounts.RevokeSession(ctx, s1, s2.ID()); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	_, err = e.office.Session(ctx, tok2)
	wantCode(t, err, reporting.EUnauthorized)
	if len(s2.Keys.Teams()) != 0 {
		t.Error("the revoked session's keys are still there")
	}
	if _, err := e.office.Session(ctx, tok1); err != nil {
		t.Errorf("revoking another session ended this one: %v", err)
	}
	if a, _ := e.accounts.Account(ctx, s1); len(a.Sessions) != 1 {
		t.Errorf("after revoking, %d sessions listed", len(a.Sessions))
	}
	accAudited(t, e, "admin session_revoke session="+s2.ID())
}

// EndUserSessions ends every session of one user, rows and keys, and
// nobody else's.
func TestAccountsEndUserSessions(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	adminTok, admin := e.login(t)
	pw := accUser(t, e, admin, "berta", reporting.RoleCounsellor, accTeamID(t, e, "PLANB Ruhr"))
	tok, s := accLogin(t, e, "berta", pw)
	if err := e.office.EndUserSessions(ctx, s.User.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.office.Session(ctx, tok)
	wantCode(t, err, reporting.EUnauthorized)
	if len(s.Keys.Teams()) != 0 {
		t.Error("keys not wiped")
	}
	if _, err := e.office.Session(ctx, adminTok); err != nil {
		t.Errorf("another user's session ended: %v", err)
	}
}

// ---- users page ----

// The users page lists everyone with role, teams, state and the day of the
// last login.
func TestAccountsUsersList(t *testing.T) {
	e := newEnv(t)
	recovery := e.setUp(t)
	ctx := t.Context()
	herne := accAddTeam(t, e, "Herne", "herne", recovery)
	_, admin := e.login(t)
	pw := accUser(t, e, admin, "berta", reporting.RoleCounsellor, herne, accTeamID(t, e, "PLANB Ruhr"))
	accUser(t, e, admin, "carla", reporting.RoleStatistician)
	accInvite(t, e, admin, "dora", reporting.RoleCounsellor, herne)
	e.clock.Advance(25 * time.Hour)
	accLogin(t, e, "berta", pw)
	c, _ := e.db.UserByName(ctx, "carla")
	if err := e.accounts.SetDisabled(ctx, admin, c.ID, true); err != nil {
		t.Fatal(err)
	}

	rows, err := e.accounts.Users(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join([]string{r.Name, r.Role, strings.Join(r.Teams, "+"), r.State, r.LastLogin}, " "))
	}
	want := []string{
		"admin admin Herne+PLANB Ruhr active 2026-05-20",
		"berta counsellor Herne+PLANB Ruhr active 2026-05-21",
		"carla statistician  disabled ",
		"dora counsellor Herne invited ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Users:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range rows {
		if r.Name == "dora" && !r.Expires.Equal(today.Add(reporting.InvitationLifetime)) {
			t.Errorf("dora's link expires %v", r.Expires)
		}
	}
}

// ---- recovery ----

// The recovery key creates a new admin who holds every team's key and
// reads every case; a wrong recovery key changes nothing.
func TestAccountsRecover(t *testing.T) {
	e := newEnv(t)
	recovery := e.setUp(t)
	ctx := t.Context()
	accAddTeam(t, e, "Herne", "herne", recovery)
	bochumCase := accReport(t, e, "bochum", "Bochumer Fall")
	herneCase := accReport(t, e, "herne", "Herner Fall")
	usersBefore, _ := e.db.CountUsers(ctx)
	auditBefore := len(accAudit(t, e))

	for name, key := range map[string]string{
		"another key": vault.FormatRecoveryKey(vault.NewKey()),
		"garbage":     "das ist kein Schlüssel",
		"empty":       "",
		"truncated":   recovery[:len(recovery)-5],
	} {
		_, err := e.accounts.Recover(ctx, key, "notfall", "ein langes Notfallpasswort")
		if ae := appError(t, err); ae.Code != reporting.EUnauthorized || ae.MessageID != "error.accounts.recovery_key" {
			t.Errorf("%s: %v, want the wrong-key error", name, err)
		}
	}
	_, err := e.accounts.Recover(ctx, recovery, "notfall", "kurz")
	accFieldError(t, err, "password", "error.setup.password_short")
	_, err = e.accounts.Recover(ctx, recovery, adminName, "ein langes Notfallpasswort")
	accFieldError(t, err, "admin", "error.accounts.name_taken")
	if n, _ := e.db.CountUsers(ctx); n != usersBefore || len(accAudit(t, e)) != auditBefore {
		t.Fatalf("refused recoveries changed something: %d users, %d audit entries", n, len(accAudit(t, e)))
	}

	// As typed back from paper: lower case, spaces.
	res, err := e.accounts.Recover(ctx, strings.ToLower(strings.ReplaceAll(recovery, "-", " ")), "notfall", "ein langes Notfallpasswort")
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	if res.Admin != "notfall" || !slices.Equal(res.Teams, []string{"PLANB Ruhr", "Herne"}) {
		t.Errorf("Recover = %+v", res)
	}
	_, s := accLogin(t, e, "notfall", "ein langes Notfallpasswort")
	if s.User.Role != reporting.RoleAdmin {
		t.Errorf("recovered user has role %q", s.User.Role)
	}
	if got := accCaseNos(t, e, s); !slices.Equal(got, []string{bochumCase, herneCase}) {
		t.Errorf("the recovered admin sees %v", got)
	}
	for _, no := range []string{bochumCase, herneCase} {
		if _, err := e.cases.Case(ctx, s, accCaseID(t, e, s, no)); err != nil {
			t.Errorf("case %s does not open: %v", no, err)
		}
	}
	accAudited(t, e, "notfall recover user=2 teams=2")
}

// Logins that are under way while a user is disabled (their password
// already checked, argon2id still running or done) do not leave a live
// session behind: once the disable has returned and the logins have, no
// token any of them got is accepted.
func TestAccountsDisableDuringLogin(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	_, admin := e.login(t)
	pw := accUser(t, e, admin, "berta", reporting.RoleCounsellor, accTeamID(t, e, "PLANB Ruhr"))
	u, _ := e.db.UserByName(ctx, "berta")

	const logins = 8
	tokens := make(chan string, logins)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range logins {
		wg.Go(func() {
			<-start
			token, _, err := e.office.Login(ctx, "berta", pw, "")
			if err != nil && reporting.ErrorCode(err) != reporting.EUnauthorized {
				t.Errorf("Login: %v", err)
			}
			tokens <- token
		})
	}
	close(start)
	if err := e.accounts.SetDisabled(ctx, admin, u.ID, true); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(tokens)
	for token := range tokens {
		if token == "" {
			continue
		}
		if _, err := e.office.Session(ctx, token); reporting.ErrorCode(err) != reporting.EUnauthorized {
			t.Errorf("a login that raced the disable left a live session: %v", err)
		}
	}
}
