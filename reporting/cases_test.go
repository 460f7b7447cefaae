package reporting_test

import (
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/anchortest"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// ---- helpers for case work ----

// rawDB opens a second connection to the test database, for setting up
// what the store has no method for (more teams and users) and for looking
// at rows as they are stored.
func (e *env) rawDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(e.dir, storage.FileName)+"?_foreign_keys=on&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// addTeam creates a team with a fresh key pair directly in the database.
func (e *env) addTeam(t *testing.T, name string) (int64, *vault.KeyPair) {
	t.Helper()
	kp := vault.NewKeyPair()
	pub := kp.Public()
	res, err := e.rawDB(t).ExecContext(t.Context(), `INSERT INTO teams (name, public_key, municipalities) VALUES (?, ?, 'herne')`, name, pub[:])
	if err != nil {
		t.Fatalf("insert team: %v", err)
	}
	id, _ := res.LastInsertId()
	anchortest.SignRows(t, e.rawDB(t), e.anchor)
	return id, kp
}

// teamKey is a team's key pair with its ID, to seal to a new member.
type teamKey struct {
	id int64
	kp *vault.KeyPair
}

// addUser creates a user who can log in with password and holds the
// given team keys, the way an invitation would: the team keys are sealed
// to the user's public key.
func (e *env) addUser(t *testing.T, name, password, role string, teams ...teamKey) int64 {
	t.Helper()
	ctx := t.Context()
	salt := vault.NewSalt()
	creds, err := e.kdf.Password(ctx, password, salt, fastParams)
	if err != nil {
		t.Fatal(err)
	}
	holder := "user:" + hex.EncodeToString(salt)
	pair := vault.NewKeyPair()
	pub := pair.Public()
	db := e.rawDB(t)
	res, err := db.ExecContext(ctx, `INSERT INTO users (name, role, salt, kdf_params, verifier_hash, public_key, private_key_wrapped)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, name, role, salt, fastParams.String(), creds.Verifier, pub[:],
		creds.KEK.WrapKeyPair(pair, vault.UserKeyAD(holder)))
	if err != nil {
		t.Fatalf("insert user: %v", err)
	}
	id, _ := res.LastInsertId()
	for _, tk := range teams {
		if _, err := db.ExecContext(ctx, `INSERT INTO user_team_keys (user_id, team_id, wrapped) VALUES (?, ?, ?)`,
			id, tk.id, pub.SealKeyPair(tk.kp, vault.TeamKeyAD(holder, tk.kp.Public()))); err != nil {
			t.Fatalf("insert team key: %v", err)
		}
	}
	anchortest.SignRows(t, db, e.anchor)
	return id
}

// loginAs logs a user in.
func (e *env) loginAs(t *testing.T, name, password string) *reporting.OfficeSession {
	t.Helper()
	_, s, err := e.office.Login(t.Context(), name, password, "")
	if err != nil {
		t.Fatalf("Login(%s): %v", name, err)
	}
	return s
}

// firstTeam returns the team created at setup, with its key from s.
func firstTeam(t *testing.T, e *env, s *reporting.OfficeSession) teamKey {
	t.Helper()
	teams, err := e.db.Teams(t.Context())
	if err != nil || len(teams) == 0 {
		t.Fatalf("Teams: %v, %v", teams, err)
	}
	kp, ok := s.Keys.Team(teams[0].ID)
	if !ok {
		t.Fatal("the admin's session holds no key for the first team")
	}
	return teamKey{teams[0].ID, kp}
}

// caseEnv is a set-up office with one report and the admin logged in.
func caseEnv(t *testing.T) (*env, *reporting.OfficeSession, string) {
	t.Helper()
	e := newEnv(t)
	e.setUp(t)
	f := validForm()
	f.Grounds = []string{"anti_black", "gender"}
	f.IncidentDate, f.IncidentDay = "2026-04", "9"
	submit(t, e.intake(t), f, "de")
	_, s := e.login(t)
	cases, _, err := e.cases.Cases(t.Context(), s, reporting.Page{Limit: 1})
	if err != nil || len(cases) != 1 {
		t.Fatalf("Cases: %v, %v", cases, err)
	}
	return e, s, cases[0].ID
}

// validClassification is a complete triage form.
func validClassification() reporting.ClassificationForm {
	return reporting.ClassificationForm{
		IncidentDate: "2026-04", IncidentDay: "9", Municipality: "herne",
		Grounds: []string{"racism", "gender"}, Subgrounds: []string{"anti_black", "women"},
		Areas: []string{"work"}, Subareas: []string{"hiring"}, Forms: []string{"direct", "microaggression"},
		Level: "institutional", IncidentType: "discrimination", ReporterRole: "affected",
		AGGRelevant: "agg_relevant", Interventions: []string{"complaint_letter"},
	}
}

// auditActions lists the actions and details logged for a case, oldest first.
func auditActions(t *testing.T, e *env, id string) []string {
	t.Helper()
	entries, _, err := e.db.AuditEntries(t.Context(), id, reporting.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range slices.Backward(entries) {
		if en.Action != reporting.AuditCaseOpen {
			out = append(out, en.Action+" "+en.Detail)
		}
	}
	return out
}

// mustBundle loads the translations.
func mustBundle(t *testing.T) *i18n.Bundle {
	t.Helper()
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---- classification ----

// Every code of the scheme has a label in both office languages: a code
// without one would show as its message ID.
func TestEveryCodeIsOffered(t *testing.T) {
	dims := map[string][]string{
		"cls.ground": reporting.Grounds, "cls.area": reporting.Areas, "cls.form": reporting.Forms,
		"cls.level": reporting.Levels, "cls.incident_type": reporting.IncidentTypes, "cls.role": reporting.ReporterRoles,
		"cls.agg": reporting.AGGRelevance, "cls.intervention": reporting.Interventions, "cls.closing": reporting.ClosingReasons,
		"municipality": reporting.Municipalities, "status": reporting.Statuses,
	}
	for _, subs := range reporting.SubgroundsOf {
		dims["cls.subground"] = append(dims["cls.subground"], subs...)
	}
	for _, subs := range reporting.SubareasOf {
		dims["cls.subarea"] = append(dims["cls.subarea"], subs...)
	}
	// The scheme's own lists, spelled out, so that a code dropped from the
	// Go data is noticed.
	want := map[string]int{"cls.ground": 9, "cls.area": 11, "cls.form": 12, "cls.level": 5, "cls.incident_type": 9,
		"cls.role": 5, "cls.agg": 3, "cls.intervention": 7, "municipality": 10, "status": 8, "cls.subground": 34, "cls.subarea": 44}
	tr := mustBundle(t)
	for prefix, codes := range dims {
		if n, ok := want[prefix]; ok && len(codes) != n {
			t.Errorf("%s has %d codes, CLASSIFICATION.md has %d", prefix, len(codes), n)
		}
		for _, code := range codes {
			for _, lang := range []string{"de", "en"} {
				if id := prefix + "." + code; tr.T(lang, id, nil) == id {
					t.Errorf("no %s label for %s", lang, id)
				}
			}
		}
	}
}

func TestClassificationValidate(t *testing.T) {
	good := validClassification()
	c, err := good.Validate(reporting.StatusTriage, today)
	if err != nil {
		t.Fatalf("Validate(valid form): %v", err)
	}
	want := reporting.Classification{Year: 2026, Month: 4, Day: 9, Municipality: "herne",
		Grounds: []string{"racism", "gender"}, Subgrounds: []string{"anti_black", "women"},
		Areas: []string{"work"}, Subareas: []string{"hiring"}, Forms: []string{"direct", "microaggression"},
		Level: "institutional", IncidentType: "discrimination", ReporterRole: "affected",
		AGGRelevant: "agg_relevant", Interventions: []string{"complaint_letter"}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Validate = %+v\nwant %+v", c, want)
	}

	// Order and duplicates do not matter: the record is in vocabulary order.
	messy := good
	messy.Grounds = []string{"gender", "racism", "gender"}
	messy.Subgrounds = []string{"women", "anti_black"}
	if c, err := messy.Validate(reporting.StatusTriage, today); err != nil || !slices.Equal(c.Grounds, want.Grounds) || !slices.Equal(c.Subgrounds, want.Subgrounds) {
		t.Errorf("Validate(unordered) = %v, %v; want %v", c.Grounds, err, want.Grounds)
	}

	for _, tc := range []struct {
		name   string
		status string
		edit   func(*reporting.ClassificationForm)
		field  string
		msg    string
	}{
		{"unknown ground", "triage", func(f *reporting.ClassificationForm) { f.Grounds = append(f.Grounds, "height") }, "grounds", "error.cls.unknown"},
		{"no ground", "triage", func(f *reporting.ClassificationForm) { f.Grounds, f.Subgrounds = nil, nil }, "grounds", "error.cls.grounds.required"},
		{"sub-ground without its ground", "triage", func(f *reporting.ClassificationForm) { f.Subgrounds = append(f.Subgrounds, "islam") }, "subgrounds", "error.cls.subgrounds"},
		{"unknown sub-ground", "triage", func(f *reporting.ClassificationForm) { f.Subgrounds = []string{"tall"} }, "subgrounds", "error.cls.subgrounds"},
		{"a ground as sub-ground", "triage", func(f *reporting.ClassificationForm) { f.Subgrounds = []string{"racism"} }, "subgrounds", "error.cls.subgrounds"},
		{"unknown area", "triage", func(f *reporting.ClassificationForm) { f.Areas = []string{"space"} }, "areas", "error.cls.unknown"},
		{"no area", "triage", func(f *reporting.ClassificationForm) { f.Areas, f.Subareas = nil, nil }, "areas", "error.cls.areas.required"},
		{"sub-area of another area", "triage", func(f *reporting.ClassificationForm) { f.Subareas = []string{"school"} }, "subareas", "error.cls.subareas"},
		{"unknown form", "triage", func(f *reporting.ClassificationForm) { f.Forms = []string{"rude"} }, "forms", "error.cls.unknown"},
		{"unknown level", "triage", func(f *reporting.ClassificationForm) { f.Level = "cosmic" }, "level", "error.cls.unknown"},
		{"unknown incident type", "triage", func(f *reporting.ClassificationForm) { f.IncidentType = "x" }, "incident_type", "error.cls.unknown"},
		{"unknown role", "triage", func(f *reporting.ClassificationForm) { f.ReporterRole = "judge" }, "reporter_role", "error.cls.reporter_role.required"},
		{"no role", "triage", func(f *reporting.ClassificationForm) { f.ReporterRole = "" }, "reporter_role", "error.cls.reporter_role.required"},
		{"no municipality", "triage", func(f *reporting.ClassificationForm) { f.Municipality = "" }, "municipality", "error.cls.municipality.required"},
		{"unknown municipality", "triage", func(f *reporting.ClassificationForm) { f.Municipality = "berlin" }, "municipality", "error.cls.municipality.required"},
		{"unknown AGG relevance", "triage", func(f *reporting.ClassificationForm) { f.AGGRelevant = "maybe" }, "agg_relevant", "error.cls.unknown"},
		{"unknown intervention", "triage", func(f *reporting.ClassificationForm) { f.Interventions = []string{"prayer"} }, "interventions", "error.cls.unknown"},
		{"future incident", "triage", func(f *reporting.ClassificationForm) { f.IncidentDate = "2027-01" }, "incident_date", "error.incident_date.future"},
		{"bad incident date", "triage", func(f *reporting.ClassificationForm) { f.IncidentDate = "soon" }, "incident_date", "error.incident_date.format"},
		{"closing reason of an open case", "triage", func(f *reporting.ClassificationForm) { f.ClosingReason = "resolved" }, "closing_reason", "error.cls.closing_reason.not_closed"},
		{"closed case without reason", "closed", func(f *reporting.ClassificationForm) {}, "closing_reason", "error.cls.closing_reason.required"},
		{"unknown closing reason", "closed", func(f *reporting.ClassificationForm) { f.ClosingReason = "bored" }, "closing_reason", "error.cls.unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := validClassification()
			tc.edit(&f)
			_, err := f.Validate(tc.status, today)
			e := appError(t, err)
			if e.Code != reporting.EInvalid || e.Fields[tc.field] != tc.msg {
				t.Errorf("Validate: %v, fields %v; want %s: %s", err, e.Fields, tc.field, tc.msg)
			}
		})
	}

	// Optional fields may stay empty; a closed case keeps its reason.
	f := reporting.ClassificationForm{Municipality: "not_stated", Grounds: []string{"not_stated"}, Areas: []string{"not_stated"}, ReporterRole: "not_stated", ClosingReason: "no_contact"}
	if c, err := f.Validate(reporting.StatusClosed, today); err != nil || c.Year != 0 || c.ClosingReason != "no_contact" {
		t.Errorf("Validate(minimal, closed) = %+v, %v", c, err)
	}
}

// With no record yet the form starts from the reporter's choices; the
// stored record comes back as it was saved, and saving again keeps the
// day the case was closed.
func TestClassifyRoundTripAndPrefill(t *testing.T) {
	e, s, id := caseEnv(t)
	ctx := t.Context()
	file, err := e.cases.CaseFile(ctx, s, id)
	if err != nil {
		t.Fatal(err)
	}
	want := reporting.ClassificationForm{ReporterRole: "affected", Municipality: "bochum",
		Grounds: []string{"racism", "gender"}, Subgrounds: []string{"anti_black"}, Areas: []string{"work"},
		IncidentDate: "2026-04", IncidentDay: "9"}
	if file.Classification != nil || !reflect.DeepEqual(file.Form, want) {
		t.Errorf("pre-filled form = %+v (record %v)\nwant %+v", file.Form, file.Classification, want)
	}

	f := validClassification()
	if err := e.cases.Classify(ctx, s, id, f); err != nil {
		t.Fatalf("Classify: %v", err)
	}
	file, err = e.cases.CaseFile(ctx, s, id)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := f.Validate("triage", today)
	stored.ReportID = id
	if file.Classification == nil || !reflect.DeepEqual(*file.Classification, stored) {
		t.Fatalf("stored record = %+v\nwant %+v", file.Classification, stored)
	}
	if !reflect.DeepEqual(file.Form, f) {
		t.Errorf("the form of the stored record = %+v\nwant %+v", file.Form, f)
	}
	// The plain row: year and month, never the day.
	var year, month int
	var grounds, municipality string
	if err := e.rawDB(t).QueryRowContext(ctx, `SELECT year, month, grounds, municipality FROM classifications WHERE report_id = ?`, id).
		Scan(&year, &month, &grounds, &municipality); err != nil {
		t.Fatal(err)
	}
	if year != 2026 || month != 4 || grounds != "racism,gender" || municipality != "herne" {
		t.Errorf("stored row: %d-%d %q %q", year, month, grounds, municipality)
	}

	// Close, then correct the record: the closing day stays.
	for _, to := range []string{"triage", "closed"} {
		if err := e.cases.ChangeStatus(ctx, s, id, reporting.StatusForm{To: to, ClosingReason: "resolved"}); err != nil {
			t.Fatalf("ChangeStatus(%s): %v", to, err)
		}
	}
	f.ClosingReason = "partly_resolved"
	f.Level = "structural"
	if err := e.cases.Classify(ctx, s, id, f); err != nil {
		t.Fatalf("Classify(closed): %v", err)
	}
	c, _ := e.cases.Case(ctx, s, id)
	if c.Classification.ClosedOn != "2026-05-20" || c.Classification.ClosingReason != "partly_resolved" || c.Classification.Level != "structural" {
		t.Errorf("after correcting a closed case: %+v", c.Classification)
	}
	if got := auditActions(t, e, id); !slices.Equal(got, []string{"classify created", "status new→triage", "status triage→closed", "classify updated"}) {
		t.Errorf("audit = %q", got)
	}
}

// ---- workflow ----

// Every transition in the table works from the status it starts in, and
// every other pair is refused, leaving the case as it was.
func TestTransitions(t *testing.T) {
	e, s, id := caseEnv(t)
	ctx := t.Context()
	db := e.rawDB(t)
	if err := e.cases.Classify(ctx, s, id, validClassification()); err != nil {
		t.Fatal(err)
	}
	setStatus := func(status string) {
		if _, err := db.ExecContext(ctx, `UPDATE reports SET status = ? WHERE id = ?`, status, id); err != nil {
			t.Fatal(err)
		}
	}
	allowed := 0
	for _, from := range reporting.Statuses {
		for _, to := range append(slices.Clone(reporting.Statuses), "", "lost") {
			setStatus(from)
			err := e.cases.ChangeStatus(ctx, s, id, reporting.StatusForm{To: to, ClosingReason: "resolved"})
			c, cerr := e.cases.Case(ctx, s, id)
			if cerr != nil {
				t.Fatal(cerr)
			}
			if reporting.CanTransition(from, to) {
				allowed++
				if err != nil || c.Status != to {
					t.Errorf("%s → %s: %v, status now %s", from, to, err, c.Status)
				}
				continue
			}
			want := "error.status.not_allowed"
			if to == "" {
				want = "error.status.required" // nothing chosen: ask for a choice
			}
			if e := appError(t, err); e.Fields["status"] != want {
				t.Errorf("%s → %q: %v, want %s", from, to, err, want)
			}
			if c.Status != from {
				t.Errorf("%s → %s refused, but the status is now %s", from, to, c.Status)
			}
		}
	}
	if allowed != 23 {
		t.Errorf("%d allowed transitions, the documented table has 23", allowed)
	}
	if reporting.CanTransition(reporting.StatusWithdrawn, reporting.StatusNew) || len(reporting.Transitions[reporting.StatusWithdrawn]) != 0 {
		t.Error("withdrawn is not final")
	}
	if !reporting.CanTransition(reporting.StatusClosed, reporting.StatusCounselling) {
		t.Error("a closed case cannot be reopened")
	}
	history, err := e.db.StatusHistory(ctx, id)
	if err != nil || len(history) != 23 {
		t.Fatalf("history has %d entries, %v; want one per allowed transition", len(history), err)
	}
	for _, h := range history {
		if !reporting.CanTransition(h.From, h.To) || h.UserName != adminName || !h.At.Equal(today) {
			t.Errorf("history entry %+v", h)
		}
	}
}

// The history records who moved a case when, from and to which status;
// closing needs a record and a reason and fills in the closing day;
// reopening clears it; each change is audited as "from→to".
func TestStatusHistoryAndClosing(t *testing.T) {
	e, s, id := caseEnv(t)
	ctx := t.Context()
	move := func(to, reason string) error {
		return e.cases.ChangeStatus(ctx, s, id, reporting.StatusForm{To: to, ClosingReason: reason})
	}
	if err := move("triage", ""); err != nil {
		t.Fatal(err)
	}
	if e := appError(t, move("closed", "resolved")); e.Fields["status"] != "error.status.classify_first" {
		t.Errorf("closing without a record: %v", e)
	}
	if err := e.cases.Classify(ctx, s, id, validClassification()); err != nil {
		t.Fatal(err)
	}
	if e := appError(t, move("closed", "")); e.Fields["closing_reason"] != "error.cls.closing_reason.required" {
		t.Errorf("closing without a reason: %v", e)
	}
	e.clock.Advance(24 * time.Hour)
	if err := move("closed", "no_contact"); err != nil {
		t.Fatal(err)
	}
	c, _ := e.cases.Case(ctx, s, id)
	if c.Classification.ClosedOn != "2026-05-21" || c.Classification.ClosingReason != "no_contact" {
		t.Errorf("closed record: %+v", c.Classification)
	}
	e.clock.Advance(time.Hour)
	if err := move("counselling", ""); err != nil {
		t.Fatal(err)
	}
	c, _ = e.cases.Case(ctx, s, id)
	if c.Classification.ClosedOn != "" || c.Classification.ClosingReason != "" {
		t.Errorf("a reopened case is still closed: %+v", c.Classification)
	}

	// A second counsellor of the team moves it on.
	e.addUser(t, "berta", "berta's long password", reporting.RoleCounsellor, firstTeam(t, e, s))
	berta := e.loginAs(t, "berta", "berta's long password")
	if err := e.cases.ChangeStatus(ctx, berta, id, reporting.StatusForm{To: "intervention"}); err != nil {
		t.Fatal(err)
	}
	file, err := e.cases.CaseFile(ctx, s, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range file.History {
		got = append(got, fmt.Sprintf("%s %s %s→%s", h.At.Format(time.RFC3339), h.UserName, h.From, h.To))
	}
	want := []string{
		"2026-05-20T10:30:00Z admin new→triage",
		"2026-05-21T10:30:00Z admin triage→closed",
		"2026-05-21T11:30:00Z admin closed→counselling",
		"2026-05-21T11:30:00Z berta counselling→intervention",
	}
	if !slices.Equal(got, want) {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(file.NextStatus, reporting.Transitions["intervention"]) {
		t.Errorf("offered %v, want %v", file.NextStatus, reporting.Transitions["intervention"])
	}
	if got := auditActions(t, e, id); !slices.Equal(got, []string{"status new→triage", "classify created", "status triage→closed",
		"status closed→counselling", "status counselling→intervention"}) {
		t.Errorf("audit = %q", got)
	}
}

// ---- assignment ----

// A case can be given only to an enabled member of its own team who does
// case work.
func TestAssignOnlyToTeamMembers(t *testing.T) {
	e, s, id := caseEnv(t)
	ctx := t.Context()
	team := firstTeam(t, e, s)
	otherID, otherKey := e.addTeam(t, "Herne")
	berta := e.addUser(t, "berta", "berta's long password", reporting.RoleCounsellor, team)
	carl := e.addUser(t, "carl", "carl's long password", reporting.RoleCounsellor, teamKey{otherID, otherKey})
	stats := e.addUser(t, "stella", "stella's long password", reporting.RoleStatistician)
	// A statistician holding a key by mistake is still no case worker.
	if _, err := e.rawDB(t).ExecContext(ctx, `INSERT INTO user_team_keys (user_id, team_id, wrapped) VALUES (?, ?, x'00')`, stats, team.id); err != nil {
		t.Fatal(err)
	}
	dora := e.addUser(t, "dora", "dora's long password", reporting.RoleCounsellor, team)
	if _, err := e.rawDB(t).ExecContext(ctx, `UPDATE users SET disabled = 1 WHERE id = ?`, dora); err != nil {
		t.Fatal(err)
	}

	file, err := e.cases.CaseFile(ctx, s, id)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range file.Members {
		names = append(names, m.Name)
	}
	if !slices.Equal(names, []string{adminName, "berta"}) {
		t.Errorf("members offered: %v, want admin and berta", names)
	}

	for _, who := range []int64{carl, stats, dora, 9999} {
		err := e.cases.Assign(ctx, s, id, who)
		if e := appError(t, err); e.Fields["assignee"] != "error.assign.not_member" {
			t.Errorf("Assign(%d): %v, want error.assign.not_member", who, err)
		}
	}
	// The store checks it too, in the same statement as the update.
	wantCode(t, e.db.Assign(ctx, id, team.id, carl), reporting.EConflict)

	if err := e.cases.Assign(ctx, s, id, berta); err != nil {
		t.Fatal(err)
	}
	c, _ := e.cases.Case(ctx, s, id)
	if c.AssigneeID != berta || c.AssigneeName != "berta" {
		t.Errorf("assignee = %d %q, want berta", c.AssigneeID, c.AssigneeName)
	}
	if err := e.cases.Assign(ctx, s, id, 0); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.cases.Case(ctx, s, id); c.AssigneeID != 0 || c.AssigneeName != "" {
		t.Errorf("after unassigning: %d %q", c.AssigneeID, c.AssigneeName)
	}
	if got := auditActions(t, e, id); !slices.Equal(got, []string{fmt.Sprintf("assign user=%d", berta), "assign none"}) {
		t.Errorf("audit = %q", got)
	}
}

// ---- notes ----

// A note is sealed to the team's public key: the report's data key, which
// the reporter's receipt opens, does not open it; the team key does.
func TestNotesSealedToTeam(t *testing.T) {
	e, s, id := caseEnv(t)
	ctx := t.Context()
	const text = "Telefonat mit der Person: möchte Beschwerdebrief.\nTermin am Dienstag."
	if err := e.cases.AddNote(ctx, s, id, "  "+text+"\n"); err != nil {
		t.Fatal(err)
	}
	for body, msg := range map[string]string{" \n ": "error.note.required", strings.Repeat("x", reporting.MaxNote+1): "error.note.too_long"} {
		if e := appError(t, e.cases.AddNote(ctx, s, id, body)); e.Fields["body"] != msg {
			t.Errorf("AddNote(%d characters): %v, want %s", len(body), e, msg)
		}
	}

	stored, err := e.db.Notes(ctx, id)
	if err != nil || len(stored) != 1 {
		t.Fatalf("Notes = %v, %v", stored, err)
	}
	n := stored[0]
	if strings.Contains(string(n.Body), "Beschwerdebrief") {
		t.Fatal("the note is stored in plain")
	}
	team := firstTeam(t, e, s)
	r, err := e.db.Report(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	dk, err := team.kp.OpenKey(r.SealedKey, vault.AD{Purpose: "report-key", Row: id})
	if err != nil {
		t.Fatalf("the data key does not open: %v", err)
	}
	// Version 2: the AD binds the author's user ID and the stored time.
	v1 := vault.AD{Purpose: "note", Row: id + "/" + n.ID}
	ad := v1.Bind(strconv.FormatInt(s.User.ID, 10), n.At.UTC().Format(time.RFC3339Nano))
	if _, err := team.kp.Open(n.Body, v1); err == nil {
		t.Error("a new note opens under the version 1 AD, which binds no author")
	}
	if _, err := dk.Open(n.Body, ad); err == nil {
		t.Error("the report's data key opens the note")
	}
	plain, err := team.kp.Open(n.Body, ad)
	if err != nil || string(plain) != text {
		t.Errorf("the team key opens %q, %v; want the note", plain, err)
	}
	if _, err := team.kp.Open(n.Body, vault.AD{Purpose: "note", Row: id + "/another"}); err == nil {
		t.Error("the note opens under another note's AD")
	}

	file, err := e.cases.CaseFile(ctx, s, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(file.Notes) != 1 || file.Notes[0] != (reporting.Note{ID: n.ID, Author: adminName, Day: "2026-05-20", Body: text}) {
		t.Errorf("notes on the case = %+v", file.Notes)
	}
	if got := auditActions(t, e, id); !slices.Equal(got, []string{"note " + n.ID}) {
		t.Errorf("audit = %q", got)
	}
}

// ---- deadline ----

func TestDeadline(t *testing.T) {
	work := func(y, m, d int) reporting.Classification {
		return reporting.Classification{Year: y, Month: m, Day: d, Areas: []string{"housing", "work"}, AGGRelevant: "agg_relevant"}
	}
	at := func(s string) time.Time {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			panic(err)
		}
		return t.Add(15 * time.Hour) // the time of day does not count
	}
	for _, tc := range []struct {
		name  string
		c     reporting.Classification
		today string
		want  reporting.Deadline
	}{
		{"two months later", work(2026, 3, 14), "2026-04-01",
			reporting.Deadline{Applies: true, Known: true, Date: "2026-05-14", DaysLeft: 43}},
		{"fourteen days left", work(2026, 3, 14), "2026-04-30",
			reporting.Deadline{Applies: true, Known: true, Date: "2026-05-14", DaysLeft: 14, Soon: true}},
		{"fifteen days left", work(2026, 3, 14), "2026-04-29",
			reporting.Deadline{Applies: true, Known: true, Date: "2026-05-14", DaysLeft: 15}},
		{"last day", work(2026, 3, 14), "2026-05-14",
			reporting.Deadline{Applies: true, Known: true, Date: "2026-05-14", DaysLeft: 0, Soon: true}},
		{"passed", work(2026, 3, 14), "2026-05-15",
			reporting.Deadline{Applies: true, Known: true, Date: "2026-05-14", DaysLeft: -1, Passed: true}},
		{"month only: the first is assumed", work(2026, 3, 0), "2026-04-25",
			reporting.Deadline{Applies: true, Known: true, Date: "2026-05-01", DayAssumed: true, DaysLeft: 6, Soon: true}},
		{"no such day: end of month", work(2025, 12, 31), "2026-01-02",
			reporting.Deadline{Applies: true, Known: true, Date: "2026-02-28", DaysLeft: 57}},
		{"leap year", work(2023, 12, 30), "2024-01-02",
			reporting.Deadline{Applies: true, Known: true, Date: "2024-02-29", DaysLeft: 58}},
		{"goods and services", reporting.Classification{Year: 2026, Month: 5, Day: 2, Areas: []string{"goods_services"}, AGGRelevant: "agg_relevant"}, "2026-05-20",
			reporting.Deadline{Applies: true, Known: true, Date: "2026-07-02", DaysLeft: 43}},
		{"incident month unknown", work(0, 0, 0), "2026-05-20", reporting.Deadline{Applies: true}},
		{"not AGG-relevant", reporting.Classification{Year: 2026, Month: 5, Areas: []string{"work"}, AGGRelevant: "unclear"}, "2026-05-20", reporting.Deadline{}},
		{"other area", reporting.Classification{Year: 2026, Month: 5, Areas: []string{"housing"}, AGGRelevant: "agg_relevant"}, "2026-05-20", reporting.Deadline{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Deadline(at(tc.today)); got != tc.want {
				t.Errorf("Deadline(%s) = %+v\nwant %+v", tc.today, got, tc.want)
			}
			if got := tc.c.DeadlineDate(); got != tc.want.Date {
				t.Errorf("DeadlineDate() = %q, want %q", got, tc.want.Date)
			}
		})
	}
}

// The deadline goes with the case's record: it is stored for the list,
// and a case shows it, warning while the case is open.
func TestDeadlineOnCase(t *testing.T) {
	e, s, id := caseEnv(t)
	ctx := t.Context()
	f := validClassification()
	f.IncidentDate, f.IncidentDay = "2026-03", "" // deadline 2026-05-01: passed on 2026-05-20
	if err := e.cases.Classify(ctx, s, id, f); err != nil {
		t.Fatal(err)
	}
	c, _ := e.cases.Case(ctx, s, id)
	if !c.Deadline.Passed || c.Deadline.Date != "2026-05-01" || !c.Deadline.DayAssumed || !c.DeadlineWarning() {
		t.Errorf("deadline = %+v, warning %v", c.Deadline, c.DeadlineWarning())
	}
	// In plain only the Monday of the deadline's week (issue 9).
	var stored, exact sql.NullString
	if err := e.rawDB(t).QueryRowContext(ctx, `SELECT deadline_week, deadline FROM reports WHERE id = ?`, id).Scan(&stored, &exact); err != nil || stored.String != "2026-04-27" || exact.Valid {
		t.Errorf("stored deadline week %v, exact %v, %v; want 2026-04-27 and no exact date", stored, exact, err)
	}
	for _, to := range []string{"triage", "documented"} {
		if err := e.cases.ChangeStatus(ctx, s, id, reporting.StatusForm{To: to}); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := e.cases.Case(ctx, s, id); c.DeadlineWarning() {
		t.Error("a documented case still warns about its deadline")
	}
	f.AGGRelevant = "not_agg_relevant"
	if err := e.cases.Classify(ctx, s, id, f); err != nil {
		t.Fatal(err)
	}
	if err := e.rawDB(t).QueryRowContext(ctx, `SELECT deadline_week FROM reports WHERE id = ?`, id).Scan(&stored); err != nil || stored.Valid {
		t.Errorf("a case that is not AGG-relevant has the stored deadline %v, %v", stored, err)
	}
}

// ---- transfer ----

// After a transfer the old team's members cannot open the case, the new
// team's can, with every note; an assignee outside the new team is
// removed; a session that never held the old team key cannot move it.
func TestTransfer(t *testing.T) {
	e, s, id := caseEnv(t)
	ctx := t.Context()
	old := firstTeam(t, e, s)
	newID, newKey := e.addTeam(t, "Herne")
	e.addUser(t, "berta", "berta's long password", reporting.RoleCounsellor, old)
	e.addUser(t, "carl", "carl's long password", reporting.RoleCounsellor, teamKey{newID, newKey})
	berta := e.loginAs(t, "berta", "berta's long password")
	carl := e.loginAs(t, "carl", "carl's long password")

	for _, n := range []string{"Erste Notiz", "Zweite Notiz"} {
		if err := e.cases.AddNote(ctx, s, id, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.cases.Assign(ctx, s, id, s.User.ID); err != nil {
		t.Fatal(err)
	}
	before, _ := e.cases.Case(ctx, s, id)

	// Carl holds only the new team's key: he can neither see nor move it.
	if _, err := e.cases.Transfer(ctx, carl, id, newID); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("Transfer by a non-member: %v, want not found", err)
	}
	for team, msg := range map[int64]string{old.id: "error.transfer.same_team", 999: "error.transfer.team"} {
		if _, err := e.cases.Transfer(ctx, s, id, team); appError(t, err).Fields["team"] != msg {
			t.Errorf("Transfer to %d: %v, want %s", team, err, msg)
		}
	}

	held, err := e.cases.Transfer(ctx, berta, id, newID)
	if err != nil || held {
		t.Fatalf("Transfer = %v, %v; want done, and berta cannot follow", held, err)
	}
	for who, sess := range map[string]*reporting.OfficeSession{"admin": s, "berta": berta} {
		if _, err := e.cases.Case(ctx, sess, id); reporting.ErrorCode(err) != reporting.ENotFound {
			t.Errorf("%s of the old team still opens the case: %v", who, err)
		}
		if list, total, _, err := e.cases.CaseList(ctx, sess, reporting.CaseFilter{Page: reporting.Page{Limit: 10}}); err != nil || total != 0 || len(list) != 0 {
			t.Errorf("%s still lists the case: %d, %v", who, total, err)
		}
	}
	// A fresh login does not help: the keys were re-sealed, not hidden.
	if _, err := e.cases.Case(ctx, e.loginAs(t, adminName, adminPassword), id); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("a new admin session opens the moved case: %v", err)
	}
	file, err := e.cases.CaseFile(ctx, carl, id)
	if err != nil {
		t.Fatalf("the new team cannot open the case: %v", err)
	}
	if file.Report.Description != before.Report.Description || file.TeamName != "Herne" || file.AssigneeID != 0 {
		t.Errorf("moved case: %q, team %q, assignee %d", file.Report.Description, file.TeamName, file.AssigneeID)
	}
	if len(file.Notes) != 2 || file.Notes[0].Body != "Erste Notiz" || file.Notes[1].Body != "Zweite Notiz" {
		t.Errorf("notes after the move: %+v", file.Notes)
	}
	// The old team key opens neither the data key nor a note any more.
	r, _ := e.db.Report(ctx, id)
	if _, err := old.kp.OpenKey(r.SealedKey, vault.AD{Purpose: "report-key", Row: id}); err == nil {
		t.Error("the old team key still opens the data key")
	}
	notes, _ := e.db.Notes(ctx, id)
	for _, n := range notes {
		if _, err := old.kp.Open(n.Body, vault.AD{Purpose: "note", Row: id + "/" + n.ID}); err == nil {
			t.Error("the old team key still opens a note")
		}
	}
	if got := auditActions(t, e, id); got[len(got)-1] != fmt.Sprintf("transfer %d→%d", old.id, newID) {
		t.Errorf("audit = %q", got)
	}
}

// A transfer that raced with a new note is refused whole: no note may
// stay sealed to the team the case left.
func TestTransferConflicts(t *testing.T) {
	e, s, id := caseEnv(t)
	ctx := t.Context()
	old := firstTeam(t, e, s)
	newID, newKey := e.addTeam(t, "Herne")
	r, _ := e.db.Report(ctx, id)
	dk, _ := old.kp.OpenKey(r.SealedKey, vault.AD{Purpose: "report-key", Row: id})
	if err := e.cases.AddNote(ctx, s, id, "Notiz"); err != nil {
		t.Fatal(err)
	}
	sealed := newKey.Public().SealKey(dk, vault.AD{Purpose: "report-key", Row: id})
	err := e.db.TransferCase(ctx, reporting.CaseTransfer{ReportID: id, From: old.id, To: newID, SealedKey: sealed, Notes: map[string][]byte{}})
	wantCode(t, err, reporting.EConflict)
	if c, err := e.cases.Case(ctx, s, id); err != nil || c.TeamID != old.id {
		t.Errorf("after a refused transfer the case is %+v, %v", c.TeamID, err)
	}
	err = e.db.TransferCase(ctx, reporting.CaseTransfer{ReportID: id, From: newID, To: old.id, SealedKey: sealed})
	wantCode(t, err, reporting.EConflict)
	// A note for a team the case has left is refused too.
	wantCode(t, e.db.AddNote(ctx, reporting.StoredNote{ID: "n", ReportID: id, UserID: s.User.ID, At: today, Body: []byte{1}}, newID), reporting.EConflict)
}

// A statistician holds no team keys; even with one by mistake, case work
// is closed to them.
func TestStatisticianDoesNoCaseWork(t *testing.T) {
	e, s, id := caseEnv(t)
	e.addUser(t, "stella", "stella's long password", reporting.RoleStatistician, firstTeam(t, e, s))
	stella := e.loginAs(t, "stella", "stella's long password")
	ctx := t.Context()
	if _, err := e.cases.Case(ctx, stella, id); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("Case: %v", err)
	}
	if err := e.cases.AddNote(ctx, stella, id, "x"); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("AddNote: %v", err)
	}
	if list, _, _, err := e.cases.CaseList(ctx, stella, reporting.CaseFilter{Page: reporting.Page{Limit: 5}}); err != nil || len(list) != 0 {
		t.Errorf("CaseList: %d cases, %v", len(list), err)
	}
}
