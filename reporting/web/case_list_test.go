package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// submitCases submits one report per description and returns their case
// IDs (the newest cases), oldest first, with the admin's cookie.
func submitCases(t *testing.T, e *env, descriptions ...string) (*http.Cookie, []string) {
	t.Helper()
	for i, d := range descriptions {
		if resp, body := submit(t, e, "de", validReport(d)); resp.StatusCode != http.StatusOK {
			t.Fatalf("submission %d: status %d\n%s", i, resp.StatusCode, body)
		}
	}
	c := login(t, e)
	_, list := getAs(t, c, e.URL+"/office/cases?sort=received&dir=asc")
	ids := caseIDs(list)
	if len(ids) < len(descriptions) {
		t.Fatalf("the list shows %d cases, want %d", len(ids), len(descriptions))
	}
	return c, ids[len(ids)-len(descriptions):]
}

// caseNo reads a case's number from the rows of a list page.
func caseNo(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`href="/office/cases/` + id + `">([0-9]{4}-[0-9]{4,})<`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no case number for %s on the page", id)
	}
	return m[1]
}

// The new filters find the cases a counsellor asks for: by sub-ground
// (antiziganism, not every racism case), area, unread and waiting for our
// reply; the row shows the chosen sub-ground, not the umbrella ground.
func TestCaseListSubgroundAreaAndMessageFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, ids := submitCases(t, e, "Erster Fall", "Zweiter Fall", "Dritter Fall")
	antiziganism := triage() // racism: antiziganism; areas work, housing
	postAs(t, c, e.URL+"/office/cases/"+ids[0]+"/classification", antiziganism)
	muslim := triage()
	muslim["subgrounds"], muslim["areas"], muslim["subareas"] = []string{"anti_muslim"}, []string{"health"}, nil
	postAs(t, c, e.URL+"/office/cases/"+ids[1]+"/classification", muslim)
	// A reporter's unanswered message on the third case; on the second the
	// reporter wrote, a counsellor answered, and it was read.
	db := rawDB(t, e)
	for _, q := range []string{
		`INSERT INTO messages (id, report_id, author, day, body) VALUES ('m1', '` + ids[2] + `', 'reporter', '2026-11-01', x'00')`,
		`UPDATE reports SET reporter_unread = 1, awaiting_reporter = 0 WHERE id = '` + ids[2] + `'`,
		`INSERT INTO messages (id, report_id, author, day, body) VALUES ('m2', '` + ids[1] + `', 'reporter', '2026-11-01', x'00')`,
		`INSERT INTO messages (id, report_id, author, day, body) VALUES ('m3', '` + ids[1] + `', 'counsellor', '2026-11-02', x'00')`,
		`UPDATE reports SET reporter_unread = 0, awaiting_reporter = 1 WHERE id = '` + ids[1] + `'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		query    string
		want     []string
		selected []string
	}{
		{"subground=antiziganism", []string{ids[0]}, []string{`<option value="antiziganism" selected>`}},
		{"subground=anti_muslim", []string{ids[1]}, []string{`<option value="anti_muslim" selected>`}},
		{"subground=anti_black", nil, []string{"Keine passenden Fälle."}},
		{"area=housing", []string{ids[0]}, []string{`<option value="housing" selected>`}},
		{"area=health&subground=anti_muslim", []string{ids[1]}, nil},
		{"area=health&subground=antiziganism", nil, nil},
		{"unread=1", []string{ids[2]}, []string{`id="f-unread" name="unread" value="1" checked`}},
		{"awaiting=1", []string{ids[2]}, []string{`id="f-awaiting" name="awaiting" value="1" checked`}},
		{"subground=no_such_code", []string{ids[2], ids[1], ids[0]}, nil}, // unknown: ignored
	} {
		_, page := getAs(t, c, e.URL+"/office/cases?"+tc.query)
		if got := caseIDs(page); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("?%s lists %v, want %v", tc.query, got, tc.want)
		}
		wantAll(t, "?"+tc.query, page, tc.selected...)
	}

	// The antiziganism row names its sub-ground, not "Rassismus, …".
	_, page := getAs(t, c, e.URL+"/office/cases?subground=antiziganism")
	cell := regexp.MustCompile(`(?s)<td class="grounds">(.*?)</td>`).FindStringSubmatch(page)
	if cell == nil || cell[1] != "Rassismus gegen Sinti*zze und Rom*nja" {
		t.Errorf("the grounds cell reads %q, want the sub-ground's label only", cell)
	}
	// Untriaged cases are marked new; the unread one is marked unread.
	_, page = getAs(t, c, e.URL+"/office/cases?unread=1")
	wantAll(t, "the unread case's row", page, `class="is-new"`, `<strong class="new-case">Neu</strong>`, `class="unread"`)
}

// A case number in the search field opens the case (303), with or
// without its year; a number of another team's case does not.
func TestCaseListSearchByCaseNumber(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, ids := submitCases(t, e, "Erster Fall", "Zweiter Fall")
	_, list := getAs(t, c, e.URL+"/office/cases")
	no := caseNo(t, list, ids[1])
	n := strings.TrimLeft(no[5:], "0")
	for _, q := range []string{no, n, " " + no + " "} {
		resp, body := getAs(t, c, e.URL+"/office/cases?q="+url.QueryEscape(q))
		wantRedirect(t, "search "+q, resp, body, "/office/cases/"+ids[1])
	}
	// Another team's member does not reach the case by its number.
	herne, herneKey := addTeam(t, e, "Herne")
	addUser(t, e, "carl", "carl's long password", reporting.RoleCounsellor, map[int64]*vault.KeyPair{herne: herneKey})
	carl := loginAs(t, e, "carl", "carl's long password")
	resp, page := getAs(t, carl, e.URL+"/office/cases?q="+url.QueryEscape(no))
	if resp.StatusCode != http.StatusOK || len(caseIDs(page)) != 0 || strings.Contains(page, ids[1]) {
		t.Errorf("another team's member searching %s: status %d, cases %v", no, resp.StatusCode, caseIDs(page))
	}
}

// Full-text search: a word of a report's text, of a message or of a note
// is found by a member of the case's team and not by a member of another
// team; afterwards neither the database nor its WAL holds the word or any
// search table.
func TestCaseFullTextSearchTeamsAndDisk(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	const word, noteWord = "Zebrastreifenvorfall", "Nachbarschaftsfest"
	c, ids := submitCases(t, e, "Am "+word+" wurde sie beschimpft.", "Etwas ganz anderes.")
	tablesBefore := schemaNames(t, e)
	postAs(t, c, e.URL+"/office/cases/"+ids[1]+"/notes", url.Values{"body": {"Beim " + noteWord + " erzählt."}})

	for q, want := range map[string][]string{
		word:                     {ids[0]},
		strings.ToLower(word):    {ids[0]}, // case does not matter
		noteWord:                 {ids[1]},
		"beschimpft " + noteWord: nil,
		"Straßenbahn":            nil,
	} {
		_, page := getAs(t, c, e.URL+"/office/cases?q="+url.QueryEscape(q))
		if got := caseIDs(page); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("the team's member searching %q finds %v, want %v", q, got, want)
		}
		if !strings.Contains(page, `value="`+q+`"`) {
			t.Errorf("the search field does not keep %q", q)
		}
	}
	herne, herneKey := addTeam(t, e, "Herne")
	addUser(t, e, "carl", "carl's long password", reporting.RoleCounsellor, map[int64]*vault.KeyPair{herne: herneKey})
	carl := loginAs(t, e, "carl", "carl's long password")
	for _, q := range []string{word, noteWord} {
		if _, page := getAs(t, carl, e.URL+"/office/cases?q="+url.QueryEscape(q)); len(caseIDs(page)) != 0 {
			t.Errorf("another team's member searching %q finds %v", q, caseIDs(page))
		}
	}

	if after := schemaNames(t, e); after != tablesBefore {
		t.Errorf("the search changed the schema:\nbefore %s\nafter  %s", tablesBefore, after)
	}
	for _, name := range []string{storage.FileName, storage.FileName + "-wal"} {
		raw, err := os.ReadFile(filepath.Join(e.Dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, w := range []string{word, noteWord, strings.ToLower(word)} {
			if bytes.Contains(raw, []byte(w)) {
				t.Errorf("%s contains %q", name, w)
			}
		}
	}
}

// schemaNames lists every table, index and trigger of the database.
func schemaNames(t *testing.T, e *env) string {
	t.Helper()
	rows, err := rawDB(t, e).Query(`SELECT type || ' ' || name FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// The reporter's wish and contact are sealed; the list filters by them
// after decrypting in memory.
func TestCaseListWishAndContactFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	doc := validReport("Nur zur Dokumentation.")
	doc.Set("wish", "document_only")
	doc.Del("contact")
	if resp, body := submit(t, e, "de", doc); resp.StatusCode != http.StatusOK {
		t.Fatalf("submission: status %d\n%s", resp.StatusCode, body)
	}
	c, ids := submitCases(t, e, "Bitte melden Sie sich.")
	_, list := getAs(t, c, e.URL+"/office/cases?sort=received&dir=asc")
	all := caseIDs(list)
	if len(all) != 2 || all[1] != ids[0] {
		t.Fatalf("cases %v, want 2 with %s last", all, ids[0])
	}
	for query, want := range map[string][]string{
		"wish=document_only":             {all[0]},
		"wish=contact_me":                {all[1]},
		"wish=counselling":               nil,
		"contact=yes":                    {all[1]},
		"contact=no":                     {all[0]},
		"contact=no&wish=document_only":  {all[0]},
		"contact=yes&wish=document_only": nil,
	} {
		_, page := getAs(t, c, e.URL+"/office/cases?"+query)
		if got := caseIDs(page); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("?%s lists %v, want %v", query, got, want)
		}
	}
}

// Bulk change: the ticked cases move on, each with its own audit entry; a
// case whose status may not move there is refused and named.
func TestCaseListBulkChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, ids := submitCases(t, e, "Eins", "Zwei", "Drei")
	_, list := getAs(t, c, e.URL+"/office/cases")
	resp, page := postAs(t, c, e.URL+"/office/cases/bulk", url.Values{"ids": {ids[0], ids[1]}, "status": {"triage"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("bulk triage: status %d\n%s", resp.StatusCode, page)
	}
	wantAll(t, "bulk triage", page, "Geänderte Fälle: 2.", caseNo(t, list, ids[0]), caseNo(t, list, ids[1]))

	// Counselling is allowed from triage, not from new: the third case is refused.
	admin := regexp.MustCompile(`<option value="([0-9]+)">`).FindStringSubmatch(list[strings.Index(list, `id="b-assignee"`):])
	if admin == nil {
		t.Fatal("the bulk form offers no assignee")
	}
	resp, page = postAs(t, c, e.URL+"/office/cases/bulk", url.Values{"ids": {ids[0], ids[1], ids[2]}, "status": {"counselling"}, "assignee": {admin[1]}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("bulk counselling: status %d\n%s", resp.StatusCode, page)
	}
	wantAll(t, "bulk counselling", page, "Geänderte Fälle: 2.", `id="bulk-refused"`, caseNo(t, list, ids[2])+": ")
	_, after := getAs(t, c, e.URL+"/office/cases?status=counselling&assignee=me")
	if got := caseIDs(after); len(got) != 2 || strings.Contains(strings.Join(got, ","), ids[2]) {
		t.Errorf("in counselling and assigned to me: %v, want %s and %s", got, ids[0], ids[1])
	}
	var statusEntries, assignEntries int
	db := rawDB(t, e)
	db.QueryRow(`SELECT count(*) FROM audit WHERE action = ?`, reporting.AuditStatus).Scan(&statusEntries)
	db.QueryRow(`SELECT count(*) FROM audit WHERE action = ?`, reporting.AuditAssign).Scan(&assignEntries)
	if statusEntries != 4 || assignEntries != 2 {
		t.Errorf("audit: %d status and %d assignment entries, want 4 and 2 (one per changed case)", statusEntries, assignEntries)
	}

	// Another team's member cannot change the case by its ID: refused as
	// a case they cannot open, and it stays new.
	herne, herneKey := addTeam(t, e, "Herne")
	addUser(t, e, "carl", "carl's long password", reporting.RoleCounsellor, map[int64]*vault.KeyPair{herne: herneKey})
	carl := loginAs(t, e, "carl", "carl's long password")
	resp, page = postAs(t, carl, e.URL+"/office/cases/bulk", url.Values{"ids": {ids[2]}, "status": {"triage"}})
	wantAll(t, "another team's bulk change", page, "Geänderte Fälle: 0.", "Ein Fall, den Sie nicht öffnen können")
	if _, still := getAs(t, c, e.URL+"/office/cases?status=new"); strings.Join(caseIDs(still), ",") != ids[2] || resp.StatusCode != http.StatusOK {
		t.Errorf("after another team's bulk change the new cases are %v (status %d), want %s", caseIDs(still), resp.StatusCode, ids[2])
	}

	// Nothing ticked, or nothing chosen: refused, nothing changed.
	for what, form := range map[string]url.Values{
		"nothing ticked":   {"status": {"closed"}},
		"no change chosen": {"ids": {ids[2]}},
		"too many":         {"ids": manyIDs(reporting.MaxBulk + 1), "status": {"triage"}},
	} {
		if resp, page := postAs(t, c, e.URL+"/office/cases/bulk", form); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="bulk-error"`) {
			t.Errorf("%s: status %d, error shown %v", what, resp.StatusCode, strings.Contains(page, `id="bulk-error"`))
		}
	}
}

// manyIDs returns n distinct made-up case IDs.
func manyIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	return out
}
