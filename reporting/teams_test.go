package reporting_test

import (
	"database/sql"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/anchortest"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// ---- helpers for teams ----

const memberPassword = "ein anderes langes Passwort"

// addTeamUser creates an office user with the same construction as
// Office.newUser (salt, verifier and key pair from the password, the
// private key wrapped under the password's KEK) and stores it directly in
// the database, since creating users is not the teams' business.
func (e *env) addTeamUser(t *testing.T, name, role string, disabled bool) reporting.User {
	t.Helper()
	ctx := t.Context()
	salt := vault.NewSalt()
	creds, err := e.kdf.Password(ctx, memberPassword, salt, fastParams)
	if err != nil {
		t.Fatal(err)
	}
	pair := vault.NewKeyPair()
	wrapped := creds.KEK.WrapKeyPair(pair, vault.UserKeyAD("user:"+hex.EncodeToString(salt)))
	conn, err := sql.Open("sqlite3", "file:"+e.db.Path()+"?_foreign_keys=on&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pub := pair.Public()
	if _, err := conn.ExecContext(ctx, `INSERT INTO users (name, role, salt, kdf_params, verifier_hash, public_key, private_key_wrapped, disabled)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, name, role, salt, fastParams.String(), creds.Verifier, pub[:], wrapped, disabled); err != nil {
		t.Fatalf("insert user %s: %v", name, err)
	}
	anchortest.SignRows(t, conn, e.anchor)
	u, err := e.db.UserByName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// loginMember logs a user made by addTeamUser in.
func (e *env) loginMember(t *testing.T, name string) *reporting.OfficeSession {
	t.Helper()
	_, s, err := e.office.Login(t.Context(), name, memberPassword, "")
	if err != nil {
		t.Fatalf("Login(%s): %v", name, err)
	}
	return s
}

// team finds a team by name.
func (e *env) team(t *testing.T, name string) reporting.Team {
	t.Helper()
	teams, err := e.db.Teams(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range teams {
		if tm.Name == name {
			return tm
		}
	}
	t.Fatalf("no team %q among %+v", name, teams)
	return reporting.Team{}
}

// createTeam creates a team as the admin session s and fails on error.
func (e *env) createTeam(t *testing.T, s *reporting.OfficeSession, name string, munis ...string) int64 {
	t.Helper()
	id, err := e.teams.CreateTeam(t.Context(), s, reporting.TeamForm{Name: name, Municipalities: munis})
	if err != nil {
		t.Fatalf("CreateTeam(%s): %v", name, err)
	}
	return id
}

// addMember adds a user to a team as the admin session s and fails on
// error.
func (e *env) addMember(t *testing.T, s *reporting.OfficeSession, teamID, userID int64) {
	t.Helper()
	if err := e.teams.AddTeamMember(t.Context(), s, teamID, userID); err != nil {
		t.Fatalf("AddTeamMember(team %d, user %d): %v", teamID, userID, err)
	}
}

// submitIn submits a valid report from municipality m and returns its ID.
func (e *env) submitIn(t *testing.T, in *reporting.Intake, m, description string) string {
	t.Helper()
	f := validForm()
	f.Municipality, f.Description = m, description
	_, rc := submit(t, in, f, "de")
	return e.reportID(t, rc.CaseNo)
}

// reportID finds a report's ID by its case number, reading every team's
// rows straight from the store.
func (e *env) reportID(t *testing.T, caseNo string) string {
	t.Helper()
	teams, err := e.db.Teams(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, tm := range teams {
		ids = append(ids, tm.ID)
	}
	rows, _, err := e.db.Reports(t.Context(), ids, reporting.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.CaseNo == caseNo {
			return r.ID
		}
	}
	t.Fatalf("no report %s", caseNo)
	return ""
}

// caseIDs lists the IDs of the cases a session sees.
func (e *env) caseIDs(t *testing.T, s *reporting.OfficeSession) []string {
	t.Helper()
	cases, _, err := e.cases.Cases(t.Context(), s, reporting.Page{Limit: 1000})
	if err != nil {
		t.Fatalf("Cases: %v", err)
	}
	var ids []string
	for _, c := range cases {
		ids = append(ids, c.ID)
	}
	return ids
}

// userKeyPair unwraps a user's own key pair with their password, as Login
// does: what someone who knows the password (or a counsellor with the row
// in hand) has.
func (e *env) userKeyPair(t *testing.T, u reporting.User, password string) *vault.KeyPair {
	t.Helper()
	creds, err := e.kdf.Password(t.Context(), password, u.Salt, u.Params)
	if err != nil {
		t.Fatal(err)
	}
	own, err := creds.KEK.UnwrapKeyPair(u.WrappedKey, u.PublicKey, vault.UserKeyAD("user:"+hex.EncodeToString(u.Salt)))
	if err != nil {
		t.Fatalf("unwrap %s's key pair: %v", u.Name, err)
	}
	return own
}

// sealedKeyAD is the AD of a report's data key sealed to its team (the
// purpose is intake.go's purposeSealedKey). The positive checks below
// open with it, so a wrong value here fails the test loudly instead of
// making the negative checks pass for the wrong reason.
func sealedKeyAD(reportID string) vault.AD { return vault.AD{Purpose: "report-key", Row: reportID} }

// auditDetails returns the details of the audit entries with an action.
func (e *env) auditDetails(t *testing.T, action string) []string {
	t.Helper()
	entries, _, err := e.db.AuditEntries(t.Context(), "", reporting.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		if en.Action == action {
			out = append(out, en.Detail)
		}
	}
	return out
}

// twoTeams sets up the office with team A (the first team, "PLANB Ruhr")
// and team B ("Herne", covering herne), a counsellor in each (alice in A,
// bob in B), and returns the admin's session. The admin holds both keys.
func twoTeams(t *testing.T, e *env) (admin *reporting.OfficeSession, a, b reporting.Team, alice, bob reporting.User) {
	t.Helper()
	e.setUp(t)
	_, admin = e.login(t)
	e.createTeam(t, admin, "Herne", "herne")
	a, b = e.team(t, "PLANB Ruhr"), e.team(t, "Herne")
	alice = e.addTeamUser(t, "alice", reporting.RoleCounsellor, false)
	bob = e.addTeamUser(t, "bob", reporting.RoleCounsellor, false)
	e.addMember(t, admin, a.ID, alice.ID)
	e.addMember(t, admin, b.ID, bob.ID)
	return admin, a, b, alice, bob
}

// ---- isolation ----

// A counsellor of one team cannot open another team's case: the office
// refuses it like an unknown case and does not list it, and the key
// material they have cannot open it either, while the other team's
// member reads it.
func TestTeamIsolation(t *testing.T) {
	e := newEnv(t)
	_, a, b, alice, bob := twoTeams(t, e)
	ctx := t.Context()
	in := e.intake(t)
	inB := e.submitIn(t, in, "herne", "Bericht aus Herne")
	inA := e.submitIn(t, in, "bochum", "Bericht aus Bochum")

	rowB, err := e.db.Report(ctx, inB)
	if err != nil {
		t.Fatal(err)
	}
	if rowB.TeamID != b.ID {
		t.Fatalf("the Herne report went to team %d, want B (%d)", rowB.TeamID, b.ID)
	}

	sa := e.loginMember(t, "alice")
	sb := e.loginMember(t, "bob")

	// Authorization: A's member is told B's case does not exist.
	_, err = e.cases.Case(ctx, sa, inB)
	wantCode(t, err, reporting.ENotFound)
	unknown := "00000000-0000-4000-8000-000000000000"
	_, errUnknown := e.cases.Case(ctx, sa, unknown)
	if reporting.MessageID(err) != reporting.MessageID(errUnknown) {
		t.Errorf("another team's case answers %q, an unknown one %q: they must look the same", reporting.MessageID(err), reporting.MessageID(errUnknown))
	}
	if ids := e.caseIDs(t, sa); !slices.Equal(ids, []string{inA}) {
		t.Errorf("alice's case list = %v, want only A's case %s", ids, inA)
	}
	if ids := e.caseIDs(t, sb); !slices.Equal(ids, []string{inB}) {
		t.Errorf("bob's case list = %v, want only B's case %s", ids, inB)
	}
	if c, err := e.cases.Case(ctx, sb, inB); err != nil || c.Report.Description != "Bericht aus Herne" {
		t.Errorf("bob opens B's case: %q, %v", c.Report.Description, err)
	}
	_, err = e.cases.Case(ctx, sb, inA)
	wantCode(t, err, reporting.ENotFound)

	// Cryptography: alice's session has no key for B at all ...
	if _, ok := sa.Keys.Team(b.ID); ok {
		t.Fatal("alice's session holds B's key")
	}
	keyA, ok := sa.Keys.Team(a.ID)
	if !ok {
		t.Fatal("alice's session lacks A's key")
	}
	// ... and with B's row in hand, neither A's team key nor alice's own
	// key pair opens its data key.
	if _, err := keyA.OpenKey(rowB.SealedKey, sealedKeyAD(inB)); !errors.Is(err, vault.ErrOpen) {
		t.Errorf("A's team key opens B's data key: %v", err)
	}
	aliceOwn := e.userKeyPair(t, alice, memberPassword)
	if _, err := aliceOwn.OpenKey(rowB.SealedKey, sealedKeyAD(inB)); !errors.Is(err, vault.ErrOpen) {
		t.Errorf("alice's user key pair opens B's data key: %v", err)
	}
	// Nor can she open B's key from bob's envelope.
	bobKeys, err := e.db.UserTeamKeys(ctx, bob.ID)
	if err != nil || len(bobKeys) != 1 {
		t.Fatalf("bob's team keys = %d, %v", len(bobKeys), err)
	}
	for _, ad := range []vault.AD{
		vault.TeamKeyAD("user:"+hex.EncodeToString(alice.Salt), b.PublicKey),
		vault.TeamKeyAD("user:"+hex.EncodeToString(bob.Salt), b.PublicKey),
	} {
		if _, err := aliceOwn.OpenKeyPair(bobKeys[0].Wrapped, b.PublicKey, ad); !errors.Is(err, vault.ErrOpen) {
			t.Errorf("alice's key pair opens bob's copy of B's key: %v", err)
		}
	}

	// B's member can, with the same AD: so the refusals above are the
	// keys' doing.
	keyB, ok := sb.Keys.Team(b.ID)
	if !ok {
		t.Fatal("bob's session lacks B's key")
	}
	if _, err := keyB.OpenKey(rowB.SealedKey, sealedKeyAD(inB)); err != nil {
		t.Errorf("B's team key does not open B's data key: %v", err)
	}
	bobOwn := e.userKeyPair(t, bob, memberPassword)
	if _, err := bobOwn.OpenKeyPair(bobKeys[0].Wrapped, b.PublicKey, vault.TeamKeyAD("user:"+hex.EncodeToString(bob.Salt), b.PublicKey)); err != nil {
		t.Errorf("bob's key pair does not open his copy of B's key: %v", err)
	}
}

// ---- routing ----

// With several teams, every municipality's report reaches exactly the team
// that covers it, including places moved from one team to another.
func TestRoutingWithSeveralTeams(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, admin := e.login(t)
	ctx := t.Context()
	herne := e.createTeam(t, admin, "Herne", "herne")
	west := e.createTeam(t, admin, "West", "essen", "muelheim", "herne") // takes herne from Herne
	net := e.createTeam(t, admin, "Netz", "online")
	// Herne gets its place back, and Marl, from the first team.
	if err := e.teams.UpdateTeam(ctx, admin, herne, reporting.TeamForm{Name: "Herne", Municipalities: []string{"herne", "marl"}}); err != nil {
		t.Fatalf("UpdateTeam: %v", err)
	}
	first := e.team(t, "PLANB Ruhr").ID

	want := map[string]int64{
		"bochum": first, "herne": herne, "essen": west, "muelheim": west, "ennepe_ruhr": first,
		"marl": herne, "other_nrw": first, "outside_nrw": first, "online": net, "not_stated": first,
	}
	if len(want) != len(reporting.Municipalities) {
		t.Fatalf("the table covers %d municipalities, the vocabulary has %d", len(want), len(reporting.Municipalities))
	}
	in := e.intake(t)
	for _, m := range reporting.Municipalities {
		id := e.submitIn(t, in, m, "Bericht aus "+m)
		r, err := e.db.Report(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.TeamID != want[m] {
			t.Errorf("a report from %s went to team %d (%s), want %d", m, r.TeamID, r.TeamName, want[m])
		}
	}
	// Each municipality is covered by exactly one team.
	teams, err := e.db.Teams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range reporting.Municipalities {
		n := 0
		for _, tm := range teams {
			if tm.Covers(m) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s is covered by %d teams, want 1", m, n)
		}
	}
}

// ---- create and edit ----

// A new team's key is sealed to the recovery key (so the printed recovery
// key opens it, and with it the team's reports) and to its creator, whose
// live session holds it at once.
func TestCreateTeamHoldsRecoveryEnvelope(t *testing.T) {
	e := newEnv(t)
	recoveryKey := e.setUp(t)
	_, admin := e.login(t)
	ctx := t.Context()
	id := e.createTeam(t, admin, "Essen", "essen")
	team := e.team(t, "Essen")
	if team.ID != id || !slices.Equal(team.Municipalities, []string{"essen"}) {
		t.Fatalf("stored team = %+v", team)
	}
	if e.team(t, "PLANB Ruhr").Covers("essen") {
		t.Error("the first team still covers essen")
	}

	reportID := e.submitIn(t, e.intake(t), "essen", "Bericht aus Essen")
	row, err := e.db.Report(ctx, reportID)
	if err != nil || row.TeamID != id {
		t.Fatalf("report went to team %d (%v), want %d", row.TeamID, err, id)
	}

	envelopes, err := e.db.RecoveryKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(envelopes, func(w reporting.WrappedTeamKey) bool { return w.TeamID == id })
	if i < 0 {
		t.Fatalf("no recovery envelope for the new team among %d", len(envelopes))
	}
	rk, err := vault.ParseRecoveryKey(recoveryKey)
	if err != nil {
		t.Fatal(err)
	}
	recovered, err := vault.RecoveryKeyPair(rk).OpenKeyPair(envelopes[i].Wrapped, team.PublicKey, vault.RecoveryAD(team.PublicKey))
	if err != nil {
		t.Fatalf("the recovery key does not open the new team's key: %v", err)
	}
	if _, err := recovered.OpenKey(row.SealedKey, sealedKeyAD(reportID)); err != nil {
		t.Errorf("the recovered team key does not open the team's report: %v", err)
	}
	// Another recovery key does not.
	if _, err := vault.RecoveryKeyPair(vault.NewKey()).OpenKeyPair(envelopes[i].Wrapped, team.PublicKey, vault.RecoveryAD(team.PublicKey)); err == nil {
		t.Error("a different recovery key opens the envelope")
	}

	// The creator holds the key: in the live session, and at next login.
	if c, err := e.cases.Case(ctx, admin, reportID); err != nil || c.Report.Description != "Bericht aus Essen" {
		t.Errorf("the creating admin's session cannot open the new team's case: %v", err)
	}
	_, again := e.login(t)
	if _, ok := again.Keys.Team(id); !ok {
		t.Error("the creating admin's next login lacks the new team's key")
	}
	if d := e.auditDetails(t, reporting.AuditTeamCreate); len(d) != 1 || !strings.Contains(d[0], "essen") {
		t.Errorf("team_create audit details = %q", d)
	}
}

// The team forms name each field a person got wrong; a change that would
// leave a municipality without a team is refused; giving a municipality
// to a team takes it from the one that had it.
func TestUpdateTeamRules(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, admin := e.login(t)
	ctx := t.Context()
	herne := e.createTeam(t, admin, "Herne", "herne", "marl")
	first := e.team(t, "PLANB Ruhr").ID

	invalid := []struct {
		name  string
		id    int64
		form  reporting.TeamForm
		field string
		msg   string
	}{
		{"empty name", herne, reporting.TeamForm{Name: "  ", Municipalities: []string{"herne"}}, "name", "error.team.name"},
		{"long name", herne, reporting.TeamForm{Name: strings.Repeat("x", reporting.MaxTeamName+1)}, "name", "error.team.name"},
		{"name taken", herne, reporting.TeamForm{Name: "planb ruhr", Municipalities: []string{"herne", "marl"}}, "name", "error.team.name_taken"},
		{"unknown place", herne, reporting.TeamForm{Name: "Herne", Municipalities: []string{"herne", "marl", "paris"}}, "municipalities", "error.team.municipality_unknown"},
		{"leaves marl uncovered", herne, reporting.TeamForm{Name: "Herne", Municipalities: []string{"herne"}}, "municipalities", "error.team.uncovered"},
		{"leaves all uncovered", first, reporting.TeamForm{Name: "PLANB Ruhr"}, "municipalities", "error.team.uncovered"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			err := e.teams.UpdateTeam(ctx, admin, tt.id, tt.form)
			ae := appError(t, err)
			if ae.Code != reporting.EInvalid || ae.Fields[tt.field] != tt.msg {
				t.Errorf("error = %+v, want %s on %s", ae, tt.msg, tt.field)
			}
		})
	}
	if got := e.team(t, "Herne"); !slices.Equal(got.Municipalities, []string{"herne", "marl"}) {
		t.Errorf("refused changes changed the team: %+v", got)
	}
	_, err := e.teams.CreateTeam(ctx, admin, reporting.TeamForm{Name: "HERNE"})
	if ae := appError(t, err); ae.Fields["name"] != "error.team.name_taken" {
		t.Errorf("creating a second Herne: %+v", ae)
	}
	wantCode(t, e.teams.UpdateTeam(ctx, admin, 999, reporting.TeamForm{Name: "X"}), reporting.ENotFound)

	if got := reporting.Uncovered([]reporting.Team{e.team(t, "PLANB Ruhr"), e.team(t, "Herne")}, herne, []string{"herne"}); !slices.Equal(got, []string{"marl"}) {
		t.Errorf("Uncovered = %v, want [marl]", got)
	}

	// Rename, and take bochum from the first team; Herne may let marl go
	// only once another team takes it.
	if err := e.teams.UpdateTeam(ctx, admin, herne, reporting.TeamForm{Name: "Herne und Bochum", Municipalities: []string{"bochum", "herne", "marl", "bochum"}}); err != nil {
		t.Fatalf("UpdateTeam: %v", err)
	}
	hb := e.team(t, "Herne und Bochum")
	if !slices.Equal(hb.Municipalities, []string{"bochum", "herne", "marl"}) {
		t.Errorf("municipalities = %v", hb.Municipalities)
	}
	if e.team(t, "PLANB Ruhr").Covers("bochum") {
		t.Error("bochum is still covered by the first team too")
	}
	if err := e.teams.UpdateTeam(ctx, admin, first, reporting.TeamForm{Name: "PLANB Ruhr", Municipalities: append(e.team(t, "PLANB Ruhr").Municipalities, "marl")}); err != nil {
		t.Fatalf("first team takes marl: %v", err)
	}
	if err := e.teams.UpdateTeam(ctx, admin, herne, reporting.TeamForm{Name: "Herne", Municipalities: []string{"herne", "bochum"}}); err != nil {
		t.Errorf("giving up marl after another team took it: %v", err)
	}
	// A team may end up with no place when others cover everything.
	if err := e.teams.UpdateTeam(ctx, admin, first, reporting.TeamForm{Name: "PLANB Ruhr", Municipalities: reporting.Municipalities}); err != nil {
		t.Fatalf("first team takes everything: %v", err)
	}
	if got := e.team(t, "Herne"); len(got.Municipalities) != 0 {
		t.Errorf("Herne still covers %v", got.Municipalities)
	}
	if d := e.auditDetails(t, reporting.AuditTeamUpdate); len(d) != 4 {
		t.Errorf("%d team_update audit entries, want 4: %q", len(d), d)
	}
}

// Only admins administer teams, even if a routing mistake let someone
// else reach the office's methods.
func TestTeamAdministrationIsForAdmins(t *testing.T) {
	e := newEnv(t)
	_, a, b, alice, bob := twoTeams(t, e)
	ctx := t.Context()
	sa := e.loginMember(t, "alice")
	_, err := e.teams.TeamOverview(ctx, sa)
	wantCode(t, err, reporting.ENotFound)
	_, err = e.teams.TeamDetail(ctx, sa, a.ID)
	wantCode(t, err, reporting.ENotFound)
	_, err = e.teams.CreateTeam(ctx, sa, reporting.TeamForm{Name: "Eigenes Team"})
	wantCode(t, err, reporting.ENotFound)
	wantCode(t, e.teams.UpdateTeam(ctx, sa, a.ID, reporting.TeamForm{Name: "A", Municipalities: reporting.Municipalities}), reporting.ENotFound)
	// alice holds A's key, yet may not pass it on, nor remove anyone.
	wantCode(t, e.teams.AddTeamMember(ctx, sa, a.ID, bob.ID), reporting.ENotFound)
	wantCode(t, e.teams.RemoveTeamMember(ctx, sa, b.ID, bob.ID), reporting.ENotFound)
	if keys, _ := e.db.UserTeamKeys(ctx, bob.ID); len(keys) != 1 || keys[0].TeamID != b.ID {
		t.Errorf("bob's keys changed: %+v", keys)
	}
	if keys, _ := e.db.UserTeamKeys(ctx, alice.ID); len(keys) != 1 || keys[0].TeamID != a.ID {
		t.Errorf("alice's keys changed: %+v", keys)
	}
	if got := e.team(t, "PLANB Ruhr"); got.Name != "PLANB Ruhr" {
		t.Errorf("team renamed by a counsellor: %+v", got)
	}
}

// ---- members ----

// An added member's next login holds the team key and reads the team's
// cases; a removed member's live session loses the key at once.
func TestAddAndRemoveMember(t *testing.T) {
	e := newEnv(t)
	admin, _, b, _, _ := twoTeams(t, e)
	ctx := t.Context()
	inB := e.submitIn(t, e.intake(t), "herne", "Bericht aus Herne")
	carla := e.addTeamUser(t, "carla", reporting.RoleCounsellor, false)

	before := e.loginMember(t, "carla")
	if _, err := e.cases.Case(ctx, before, inB); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Fatalf("carla opens B's case before being added: %v", err)
	}

	e.addMember(t, admin, b.ID, carla.ID)
	// The key is sealed to carla's public key: her next login opens it.
	after := e.loginMember(t, "carla")
	if _, ok := after.Keys.Team(b.ID); !ok {
		t.Fatal("carla's next login lacks B's key")
	}
	if c, err := e.cases.Case(ctx, after, inB); err != nil || c.Report.Description != "Bericht aus Herne" {
		t.Errorf("carla cannot read B's case after being added: %v", err)
	}
	if ids := e.caseIDs(t, after); !slices.Equal(ids, []string{inB}) {
		t.Errorf("carla's list = %v, want [%s]", ids, inB)
	}
	info, err := e.teams.TeamDetail(ctx, admin, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(info.Members, func(m reporting.Member) bool { return m.Name == "carla" }) ||
		slices.ContainsFunc(info.Candidates, func(m reporting.Member) bool { return m.Name == "carla" }) {
		t.Errorf("team B members %+v, candidates %+v", info.Members, info.Candidates)
	}
	// Adding her twice is refused next to the field.
	if ae := appError(t, e.teams.AddTeamMember(ctx, admin, b.ID, carla.ID)); ae.Fields["user"] != "error.team.already_member" {
		t.Errorf("adding twice: %+v", ae)
	}

	if err := e.teams.RemoveTeamMember(ctx, admin, b.ID, carla.ID); err != nil {
		t.Fatalf("RemoveTeamMember: %v", err)
	}
	// Both of her live sessions lose the key at once.
	for _, s := range []*reporting.OfficeSession{after, before} {
		if _, ok := s.Keys.Team(b.ID); ok {
			t.Error("a live session of carla still holds B's key")
		}
	}
	_, err = e.cases.Case(ctx, after, inB)
	wantCode(t, err, reporting.ENotFound)
	if ids := e.caseIDs(t, after); len(ids) != 0 {
		t.Errorf("carla's live session still lists %v", ids)
	}
	if s := e.loginMember(t, "carla"); len(s.Keys.Teams()) != 0 {
		t.Errorf("carla's next login holds keys of teams %v", s.Keys.Teams())
	}
	// Others' sessions keep their keys.
	if _, ok := admin.Keys.Team(b.ID); !ok {
		t.Error("the admin's session lost B's key when carla was removed")
	}

	if got := e.auditDetails(t, reporting.AuditTeamMember); !slices.ContainsFunc(got, func(d string) bool { return strings.HasPrefix(d, "add user:carla") }) ||
		!slices.ContainsFunc(got, func(d string) bool { return strings.HasPrefix(d, "remove user:carla") }) {
		t.Errorf("team_member audit details = %q", got)
	}
	wantCode(t, e.teams.RemoveTeamMember(ctx, admin, b.ID, carla.ID), reporting.ENotFound)
}

// Members are given keys only by an admin who holds the team's key, only
// to users who may hold keys; the last member stays.
func TestMemberRules(t *testing.T) {
	e := newEnv(t)
	admin, _, b, alice, bob := twoTeams(t, e)
	ctx := t.Context()
	stats := e.addTeamUser(t, "stella", reporting.RoleStatistician, false)
	gone := e.addTeamUser(t, "gerd", reporting.RoleCounsellor, true)

	for _, u := range []reporting.User{stats, gone} {
		if ae := appError(t, e.teams.AddTeamMember(ctx, admin, b.ID, u.ID)); ae.Fields["user"] != "error.team.member_not_eligible" {
			t.Errorf("adding %s: %+v", u.Name, ae)
		}
	}
	if ae := appError(t, e.teams.AddTeamMember(ctx, admin, b.ID, 9999)); ae.Fields["user"] != "error.team.user_unknown" {
		t.Errorf("adding an unknown user: %+v", ae)
	}
	info, err := e.teams.TeamDetail(ctx, admin, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range info.Candidates {
		names = append(names, m.Name)
	}
	if !slices.Equal(names, []string{"alice"}) {
		t.Errorf("candidates for B = %v, want only alice (not members, statisticians or disabled users)", names)
	}

	// A second admin who holds no key of B cannot add anyone to B.
	other := e.addTeamUser(t, "otto", reporting.RoleAdmin, false)
	so := e.loginMember(t, other.Name)
	err = e.teams.AddTeamMember(ctx, so, b.ID, alice.ID)
	wantCode(t, err, reporting.EConflict)
	if reporting.MessageID(err) != "error.team.key_not_held" {
		t.Errorf("message = %q", reporting.MessageID(err))
	}
	if info, _ := e.teams.TeamDetail(ctx, so, b.ID); info.HoldsKey {
		t.Error("TeamDetail says otto holds B's key")
	}
	// After the admin removes themselves from B, they cannot add either.
	if err := e.teams.RemoveTeamMember(ctx, admin, b.ID, admin.User.ID); err != nil {
		t.Fatalf("admin leaves B: %v", err)
	}
	wantCode(t, e.teams.AddTeamMember(ctx, admin, b.ID, alice.ID), reporting.EConflict)
	// bob is now B's only member: removing him would lock the team out.
	err = e.teams.RemoveTeamMember(ctx, admin, b.ID, bob.ID)
	wantCode(t, err, reporting.EConflict)
	if keys, _ := e.db.UserTeamKeys(ctx, bob.ID); len(keys) != 1 {
		t.Error("bob lost B's key though he is its last member")
	}
}

// TeamOverview shows every team with its places and members, and whether
// the viewing admin holds its key.
func TestTeamOverview(t *testing.T) {
	e := newEnv(t)
	admin, a, b, _, _ := twoTeams(t, e)
	infos, err := e.teams.TeamOverview(t.Context(), admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[0].ID != a.ID || infos[1].ID != b.ID {
		t.Fatalf("overview = %+v", infos)
	}
	names := func(ms []reporting.Member) (out []string) {
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	if got := names(infos[1].Members); !slices.Equal(got, []string{adminName, "bob"}) {
		t.Errorf("B's members = %v", got)
	}
	if got := names(infos[0].Members); !slices.Equal(got, []string{adminName, "alice"}) {
		t.Errorf("A's members = %v", got)
	}
	if !infos[0].HoldsKey || !infos[1].HoldsKey || !slices.Equal(infos[1].Municipalities, []string{"herne"}) || infos[0].Covers("herne") {
		t.Errorf("overview = %+v", infos)
	}
}
