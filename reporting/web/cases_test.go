package web_test

import (
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/anchortest"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// ---- helpers for the case pages ----

// onlyCase submits one report and returns the admin's cookie and the
// case page's address.
func onlyCase(t *testing.T, e *env) (*http.Cookie, string) {
	t.Helper()
	if resp, _ := submit(t, e, "de", validReport("Die Vermieterin sagte: „Nicht an Sie.“\nZweite Zeile.")); resp.StatusCode != http.StatusOK {
		t.Fatal("submission failed")
	}
	c := login(t, e)
	_, list := getAs(t, c, e.URL+"/office/cases")
	ids := caseIDs(list)
	if len(ids) != 1 {
		t.Fatalf("the list links %d cases, want 1", len(ids))
	}
	return c, e.URL + "/office/cases/" + ids[0]
}

// wantRedirect fails unless resp is a 303 to want.
func wantRedirect(t *testing.T, what string, resp *http.Response, body, want string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		t.Fatalf("%s: status %d to %q, want 303 to %q\n%s", what, resp.StatusCode, resp.Header.Get("Location"), want, body)
	}
}

// rawDB opens a second connection to the environment's database, to set
// up teams and users the store has no method for yet.
func rawDB(t testing.TB, e *env) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(e.Dir, storage.FileName)+"?_foreign_keys=on&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// addTeam creates a team with a fresh key pair directly in the database.
func addTeam(t *testing.T, e *env, name string) (int64, *vault.KeyPair) {
	t.Helper()
	kp := vault.NewKeyPair()
	pub := kp.Public()
	res, err := rawDB(t, e).Exec(`INSERT INTO teams (name, public_key, municipalities) VALUES (?, ?, 'herne')`, name, pub[:])
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	anchortest.SignRows(t, rawDB(t, e), e.Anchor)
	return id, kp
}

// addUser creates a user holding the given teams' keys, as an invitation
// would: each team key sealed to the user's public key.
func addUser(t *testing.T, e *env, name, password, role string, teams map[int64]*vault.KeyPair) int64 {
	t.Helper()
	ctx := t.Context()
	salt := vault.NewSalt()
	creds, err := vault.NewKDF(1).Password(ctx, password, salt, testParams)
	if err != nil {
		t.Fatal(err)
	}
	holder := "user:" + hex.EncodeToString(salt)
	pair := vault.NewKeyPair()
	pub := pair.Public()
	db := rawDB(t, e)
	res, err := db.ExecContext(ctx, `INSERT INTO users (name, role, salt, kdf_params, verifier_hash, public_key, private_key_wrapped)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, name, role, salt, testParams.String(), creds.Verifier, pub[:], creds.KEK.WrapKeyPair(pair, vault.UserKeyAD(holder)))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	for teamID, kp := range teams {
		if _, err := db.ExecContext(ctx, `INSERT INTO user_team_keys (user_id, team_id, wrapped) VALUES (?, ?, ?)`,
			id, teamID, pub.SealKeyPair(kp, vault.TeamKeyAD(holder, kp.Public()))); err != nil {
			t.Fatal(err)
		}
	}
	anchortest.SignRows(t, db, e.Anchor)
	return id
}

// firstTeamKey returns the first team's ID and key, from an admin session.
func firstTeamKey(t *testing.T, e *env) (int64, *vault.KeyPair) {
	t.Helper()
	_, s, err := e.Office.Login(t.Context(), e.Admin, e.Pass, "")
	if err != nil {
		t.Fatal(err)
	}
	teams, err := e.DB.Teams(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	kp, _ := s.Keys.Team(teams[0].ID)
	return teams[0].ID, kp
}

// ---- tests ----

// A counsellor triages a case, moves it on and writes a note, all with
// plain forms; the page shows the record, the status, the note and the
// history, the list shows the new record and deadline, and the audit log
// has each step.
func TestCasePageTriageStatusNote(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, caseURL := onlyCase(t, e)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")

	// Before triage: the form holds the reporter's choices.
	_, page := getAs(t, c, caseURL)
	wantAll(t, "the pre-filled case page", page,
		`class="notice" id="cls-state"`,
		`name="grounds" value="racism" checked`, `name="grounds" value="gender" checked`,
		`name="subgrounds" value="antiziganism" checked`, `name="areas" value="housing" checked`,
		`<option value="bochum" selected>`, `<option value="affected" selected>`,
		`name="incident_date" value="2026-03"`, `name="incident_day" value="14"`,
		`name="subgrounds" value="women">`, `name="subareas" value="tenancy">`, `name="forms" value="microaggression">`,
		`<option value="structural">`, `<option value="mass_mailing">`, `name="interventions" value="legal_out_of_court">`,
		`name="interventions" value="court">`, `id="triage-form"`, `<option value="triage">`, `<option value="documented">`)
	if strings.Contains(page, `<option value="closed">`) || strings.Contains(page, `id="deadline"`) {
		t.Error("a new case offers closing, or warns of a deadline before triage")
	}

	// The status route alone refuses an empty choice, and says why in
	// the triage panel.
	resp, body := postAs(t, c, caseURL+"/status", url.Values{"status": {""}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-tp-status"`) {
		t.Errorf("an empty status choice: status %d, no error at the field", resp.StatusCode)
	}
	resp, body = postAs(t, c, caseURL+"/classification", triage())
	wantRedirect(t, "classify", resp, body, "/office/cases/"+id+"?saved=classification#classification")
	resp, body = postAs(t, c, caseURL+"/status", url.Values{"status": {"triage"}})
	wantRedirect(t, "status", resp, body, "/office/cases/"+id+"?saved=triage#triage")
	resp, body = postAs(t, c, caseURL+"/notes", url.Values{"body": {"Rückruf vereinbart <Dienstag>."}})
	wantRedirect(t, "note", resp, body, "/office/cases/"+id+"?saved=notes#notes")
	resp, body = postAs(t, c, caseURL+"/assignee", url.Values{"assignee": {"1"}})
	wantRedirect(t, "assign", resp, body, "/office/cases/"+id+"?saved=triage#triage")

	today := time.Now().Format(time.DateOnly)
	_, page = getAs(t, c, caseURL)
	wantAll(t, "the case page after triage", page,
		`class="hint" id="cls-state"`,
		`name="areas" value="work" checked`, `name="subareas" value="hiring" checked`,
		`name="forms" value="denied_access" checked`, `name="interventions" value="complaint_letter" checked`,
		`<option value="agg_relevant" selected>`, `<option value="individual" selected>`,
		`name="incident_date" value="2025-01"`,
		`<dd id="status">In Sichtung</dd>`, `<dd id="assignee">anna</dd>`,
		// The deadline: two months from 1 January 2025, long passed, day assumed.
		`id="deadline"`, "2025-03-01", `id="deadline-warning">Frist abgelaufen!`, `id="deadline-assumed"`,
		// The note, escaped, with author and day.
		"Rückruf vereinbart &lt;Dienstag&gt;.", "anna, "+today,
		// The history row.
		"<td>anna</td>\n    <td>Eingegangen</td>\n    <td>In Sichtung</td>",
		// Closing is offered now, with its reason.
		`<option value="closed">`, `id="tp-closing_reason"`)
	if strings.Contains(page, `name="grounds" value="gender" checked`) {
		t.Error("the stored record still shows the reporter's ground")
	}

	_, list := getAs(t, c, e.URL+"/office/cases")
	wantAll(t, "the case list", list, "In Sichtung", "Arbeit, Wohnen", `class="deadline-warn">2025-03-01`, ">anna<")

	_, audit := getAs(t, c, e.URL+"/office/audit?case="+id)
	wantAll(t, "the case's audit log", audit, "Eingeordnet", "Status geändert", "new→triage", "Notiz hinzugefügt", "Zugewiesen", "user=1")
	if strings.Contains(audit, "Rückruf") {
		t.Error("the audit log shows a note's content")
	}
}

// A form with mistakes comes back on the case page with status 422, the
// error next to the field and everything typed still there; nothing is
// stored.
func TestCaseFormsKeepInputOnError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, caseURL := onlyCase(t, e)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")

	form := triage()
	form["grounds"] = []string{"gender"}
	form["subgrounds"] = []string{"women", "islam"} // islam without religion
	form.Del("areas")
	form.Del("subareas")
	form.Set("incident_date", "2025-07")
	form.Set("incident_day", "3")
	form.Set("level", "structural")
	resp, page := postAs(t, c, caseURL+"/classification", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("classification with mistakes: status %d, want 422", resp.StatusCode)
	}
	wantAll(t, "the returned classification form", page,
		`id="error-summary"`, `<li><a href="#err-tp-subgrounds">Genauere Angaben`, `<li><a href="#err-tp-areas">`,
		`id="err-tp-subgrounds">Genauere Angaben gehen nur zu einem angekreuzten Merkmal.`,
		`id="err-tp-areas">Bitte wählen Sie mindestens einen Lebensbereich`,
		`name="grounds" value="gender" checked`, `name="subgrounds" value="women" checked`, `name="subgrounds" value="islam" checked`,
		`name="forms" value="denied_access" checked`, `<option value="structural" selected>`,
		`name="incident_date" value="2025-07"`, `name="incident_day" value="3"`,
		`id="description"`) // still the whole case page
	if strings.Contains(page, `name="grounds" value="racism" checked`) {
		t.Error("the form shows the reporter's ground instead of what was typed")
	}
	if row, err := e.DB.CaseRow(t.Context(), id); err != nil || row.Classification != nil {
		t.Errorf("a form with mistakes was stored: %+v, %v", row.Classification, err)
	}

	note := strings.Repeat("Langer Text. ", 800) // over 10,000 characters
	for _, tc := range []struct {
		name, path string
		form       url.Values
		want       []string
	}{
		{"status not in the workflow", "/status", url.Values{"status": {"closed"}},
			[]string{`id="err-tp-status">Dieser Statuswechsel ist nicht vorgesehen.`, `<li><a href="#tp-status">Dieser Statuswechsel`}},
		{"empty note", "/notes", url.Values{"body": {"  \n "}}, []string{`id="err-note-body">Bitte schreiben Sie eine Notiz.`}},
		{"long note", "/notes", url.Values{"body": {note}}, []string{`id="err-note-body"`, note + "</textarea>"}},
		{"assignee outside the team", "/assignee", url.Values{"assignee": {"9999"}}, []string{`id="err-tp-assignee">Diese Person gehört nicht`}},
		{"assignee not a number", "/assignee", url.Values{"assignee": {"anna"}}, []string{`id="err-tp-assignee"`}},
		{"transfer to its own team", "/transfer", url.Values{"team": {"1"}}, []string{`id="err-tr-team">Der Fall gehört schon zu diesem Team.`}},
		{"transfer nowhere", "/transfer", url.Values{"team": {"x"}}, []string{`id="err-tr-team">Bitte wählen Sie ein Team.`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := postAs(t, c, caseURL+tc.path, tc.form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			wantAll(t, "the page", page, tc.want...)
		})
	}
	if notes, _ := e.DB.Notes(t.Context(), id); len(notes) != 0 {
		t.Errorf("%d notes stored from forms with mistakes", len(notes))
	}

	// Closing needs a record first, and a reason; both errors keep the choice.
	postAs(t, c, caseURL+"/status", url.Values{"status": {"triage"}})
	resp, page = postAs(t, c, caseURL+"/status", url.Values{"status": {"closed"}, "closing_reason": {"resolved"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("closing an unclassified case: status %d", resp.StatusCode)
	}
	wantAll(t, "the page", page, `id="err-tp-status">Bitte ordnen Sie den Fall ein`, `<option value="closed" selected>`, `<option value="resolved" selected>`)
	postAs(t, c, caseURL+"/classification", triage())
	_, page = postAs(t, c, caseURL+"/status", url.Values{"status": {"closed"}})
	wantAll(t, "the page", page, `id="err-tp-closing_reason">Bitte wählen Sie einen Abschlussgrund.`)

	// Someone else's or no case: not found, whichever form.
	for _, path := range []string{"/classification", "/status", "/notes", "/assignee", "/transfer"} {
		if resp, _ := postAs(t, c, e.URL+"/office/cases/00000000-0000-4000-8000-000000000000"+path, url.Values{"body": {"x"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s of an unknown case: status %d, want 404", path, resp.StatusCode)
		}
	}
}

// The list filters and sorts by the query string; the form shows what is
// selected; the page links keep the filter.
func TestCaseListFilterForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{CaptchaOff: true})
	for i := range 28 {
		f := validReport(fmt.Sprintf("Meldung Nummer %d", i))
		if resp, body := post(t, e.URL+"/de/report", f); resp.StatusCode != http.StatusOK {
			t.Fatalf("submission %d: status %d\n%s", i, resp.StatusCode, body)
		}
	}
	c := login(t, e)
	_, list := getAs(t, c, e.URL+"/office/cases")
	ids := caseIDs(list)
	if len(ids) != 25 || !strings.Contains(list, "Meldung Nummer 27") || strings.Contains(list, "Meldung Nummer 2<") {
		t.Fatalf("first page: %d cases", len(ids))
	}
	// Triage two of them: one religion case, moved on; one racism case.
	religion := triage()
	religion["grounds"], religion["subgrounds"] = []string{"religion"}, []string{"islam"}
	religion.Set("municipality", "herne")
	postAs(t, c, e.URL+"/office/cases/"+ids[3]+"/classification", religion)
	postAs(t, c, e.URL+"/office/cases/"+ids[3]+"/status", url.Values{"status": {"triage"}})
	postAs(t, c, e.URL+"/office/cases/"+ids[4]+"/classification", triage())

	for _, tc := range []struct {
		query    string
		want     []string
		selected []string
	}{
		{"ground=religion", []string{ids[3]}, []string{`<option value="religion" selected>`}},
		{"municipality=herne", []string{ids[3]}, []string{`<option value="herne" selected>`}},
		{"status=triage", []string{ids[3]}, []string{`<option value="triage" selected>`}},
		{"ground=racism&sort=case_no&dir=asc", []string{ids[4]}, []string{`<option value="case_no" selected>`, `<option value="asc" selected>`}},
		{"deadline=soon&assignee=none", []string{ids[3], ids[4]}, []string{`id="f-deadline" name="deadline" value="soon" checked`, `<option value="none" selected>`}},
		{"status=triage&ground=racism", nil, []string{"Keine passenden Fälle."}},
		{"assignee=me", nil, []string{`<option value="me" selected>`}},
	} {
		_, page := getAs(t, c, e.URL+"/office/cases?"+tc.query)
		if got := caseIDs(page); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("?%s lists %v, want %v", tc.query, got, tc.want)
		}
		wantAll(t, "?"+tc.query, page, tc.selected...)
	}

	// 27 new cases oldest first, in pages of 25: the second page has the
	// newest two, and the page links keep the filter.
	_, page := getAs(t, c, e.URL+"/office/cases?status=new&sort=received&dir=asc")
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(page)
	if next == nil || !strings.Contains(next[1], "status=new") || !strings.Contains(next[1], "dir=asc") || !strings.Contains(next[1], "page=2") {
		t.Fatalf("next link %v does not keep the filter", next)
	}
	_, page = getAs(t, c, e.URL+strings.ReplaceAll(next[1], "&amp;", "&"))
	if got := caseIDs(page); len(got) != 2 || got[1] != ids[0] || got[0] != ids[1] {
		t.Errorf("page 2 of 27 new cases oldest first: %v, want %v", got, []string{ids[1], ids[0]})
	}
	wantAll(t, "page 2", page, `<option value="new" selected>`, `rel="prev"`, "Seite 2 von 2")
}

// Moving a case: the old team loses it at once; the new team's member
// opens it with its notes.
func TestCaseTransfer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, caseURL := onlyCase(t, e)
	herne, herneKey := addTeam(t, e, "Herne")
	addUser(t, e, "carl", "carl's long password", reporting.RoleCounsellor, map[int64]*vault.KeyPair{herne: herneKey})
	postAs(t, c, caseURL+"/notes", url.Values{"body": {"Vorgespräch geführt."}})

	_, page := getAs(t, c, caseURL)
	wantAll(t, "the case page", page, `id="transfer-form"`, fmt.Sprintf(`<option value="%d">Herne</option>`, herne))
	resp, body := postAs(t, c, caseURL+"/transfer", url.Values{"team": {fmt.Sprint(herne)}})
	wantRedirect(t, "transfer", resp, body, "/office/cases?moved=1")
	_, list := getAs(t, c, e.URL+"/office/cases?moved=1")
	if !strings.Contains(list, `id="moved"`) || len(caseIDs(list)) != 0 {
		t.Errorf("after the move the list shows %d cases, notice %v", len(caseIDs(list)), strings.Contains(list, `id="moved"`))
	}
	if resp, _ := getAs(t, c, caseURL); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the old team still opens the case: status %d", resp.StatusCode)
	}

	carl := loginAs(t, e, "carl", "carl's long password")
	resp, page = getAs(t, carl, caseURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the new team's member gets status %d", resp.StatusCode)
	}
	wantAll(t, "the moved case", page, "Die Vermieterin sagte", "Vorgespräch geführt.", "<dd>Herne</dd>")
}

// Statisticians do no case work: the forms refuse them before anything
// else happens.
func TestStatisticianCannotPostCaseForms(t *testing.T) {
	t.Parallel()
	// The routes refuse before any service is asked: fake services
	// suffice, and the fake case service would answer a call with 500.
	e := newFakeServer(t, fakeUser{"stella", reporting.RoleStatistician})
	caseURL := e.URL + "/office/cases/00000000-0000-4000-8000-000000000001"
	s := loginAs(t, e, "stella", fakePassword)
	for _, path := range []string{"", "/notes", "/status"} {
		var resp *http.Response
		if path == "" {
			resp, _ = getAs(t, s, caseURL)
		} else {
			resp, _ = postAs(t, s, caseURL+path, url.Values{"body": {"x"}, "status": {"triage"}})
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("statistician at %q: status %d, want 403", path, resp.StatusCode)
		}
	}
}
