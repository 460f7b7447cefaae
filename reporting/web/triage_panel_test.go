package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// triagePanel is a full triage as the panel sends it: status, assignee
// and the short classification.
func triagePanel() url.Values {
	return url.Values{
		"status": {"triage"}, "assignee": {"1"}, "grounds": {"racism"}, "subgrounds": {"antiziganism"},
		"areas": {"housing"}, "municipality": {"herne"}, "forms": {"direct"}, "agg_relevant": {"agg_relevant"},
	}
}

// caseActions lists the case's audit actions, oldest first, without the
// openings of the page (every GET writes one).
func caseActions(t *testing.T, e *env, id string) []string {
	t.Helper()
	entries, _, err := e.DB.AuditEntries(t.Context(), id, reporting.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range slices.Backward(entries) {
		if en.Action != reporting.AuditCaseOpen {
			actions = append(actions, en.Action+" "+en.Detail)
		}
	}
	return actions
}

// One POST triages a new case: the page comes back at the panel saying
// "saved" next to its button and shows the new status, the assignee and
// the antiziganism sub-ground; the audit log has one entry for each part
// that changed, and a second save that changes only the assignee adds
// only that entry.
func TestTriagePanelOneSave(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, caseURL := onlyCase(t, e)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")

	_, page := getAs(t, c, caseURL)
	wantAll(t, "the fresh case page", page, `id="glance"`, `id="triage-form"`, `action="/office/cases/`+id+`/triage"`,
		`<details id="cls-details">`, `id="glance-contact"`, `id="glance-messages"`)
	if strings.Contains(page, `role="status" id="saved-`) {
		t.Error("a freshly opened case page says something was saved")
	}

	resp, body := postAs(t, c, caseURL+"/triage", triagePanel())
	wantRedirect(t, "triage", resp, body, "/office/cases/"+id+"?saved=triage#triage")
	_, page = getAs(t, c, e.URL+resp.Header.Get("Location"))
	panel := page[strings.Index(page, `<section id="triage">`):]
	panel = panel[:strings.Index(panel, `</section>`)]
	wantAll(t, "the triage panel after saving", panel,
		`id="triage-submit"`, `role="status" id="saved-triage">Gespeichert.`,
		`name="subgrounds" value="antiziganism" checked`, `name="areas" value="housing" checked`,
		`<option value="herne" selected>`, `<option value="1" selected>anna</option>`)
	wantAll(t, "the case at a glance", page, `<dd id="status">In Sichtung</dd>`, `<dd id="assignee">anna</dd>`)
	want := []string{"classify created", "status new→triage", "assign user=1"}
	if got := caseActions(t, e, id); !slices.Equal(got, want) {
		t.Errorf("audit after one triage: %q, want %q", got, want)
	}

	// The same values again change nothing and log nothing; then only
	// the assignee changes.
	resp, body = postAs(t, c, caseURL+"/triage", triagePanel())
	wantRedirect(t, "the same triage again", resp, body, "/office/cases/"+id+"?saved=triage#triage")
	f := triagePanel()
	f.Set("status", "")
	f.Set("assignee", "0")
	resp, body = postAs(t, c, caseURL+"/triage", f)
	wantRedirect(t, "unassigning", resp, body, "/office/cases/"+id+"?saved=triage#triage")
	want = append(want, "assign none")
	if got := caseActions(t, e, id); !slices.Equal(got, want) {
		t.Errorf("audit after two more saves: %q, want %q", got, want)
	}
	row, err := e.DB.CaseRow(t.Context(), id)
	if err != nil || row.Status != "triage" || row.Assignee != 0 {
		t.Errorf("stored case: status %q, assignee %d, %v", row.Status, row.Assignee, err)
	}
}

// A triage with mistakes in several parts comes back (422) with every
// error next to its field and everything typed still there; nothing of
// it is saved, not even the parts without mistakes.
func TestTriagePanelErrorsKeepInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, caseURL := onlyCase(t, e)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")

	f := triagePanel()
	f.Set("assignee", "9999")                  // not a member
	f.Del("grounds")                           // no ground…
	f["areas"] = []string{"work", "education"} // …but valid areas
	f["forms"] = []string{"direct", "no_such"} // an unknown form
	resp, page := postAs(t, c, caseURL+"/triage", f)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("triage with mistakes: status %d, want 422", resp.StatusCode)
	}
	wantAll(t, "the panel with mistakes", page,
		`id="error-summary"`, `id="err-tp-assignee">Diese Person gehört nicht`, `id="err-tp-grounds">`,
		`id="err-tp-forms">`, `<li><a href="#tp-assignee">`,
		`<option value="triage" selected>`, `name="areas" value="work" checked`, `name="areas" value="education" checked`,
		`name="subgrounds" value="antiziganism" checked`, `<option value="herne" selected>`, `name="forms" value="direct" checked`)
	if strings.Contains(page, `id="saved-triage"`) {
		t.Error("a refused triage says saved")
	}
	row, err := e.DB.CaseRow(t.Context(), id)
	if err != nil || row.Status != "new" || row.Assignee != 0 || row.Classification != nil {
		t.Errorf("a refused triage stored something: status %q, assignee %d, record %+v, %v", row.Status, row.Assignee, row.Classification, err)
	}
	if got := caseActions(t, e, id); len(got) != 0 {
		t.Errorf("a refused triage was audited: %q", got)
	}
}

// The two forms share the record: the triage panel keeps the detailed
// fields, the detailed classification keeps the panel's fields, and the
// detailed section opens to say it saved.
func TestTriageAndDetailsKeepEachOther(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, caseURL := onlyCase(t, e)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")

	details := url.Values{
		"subareas": {"tenancy"}, "level": {"structural"}, "incident_type": {"discrimination"},
		"reporter_role": {"witness"}, "incident_date": {"2025-02"}, "incident_day": {"3"}, "interventions": {"complaint_letter"},
	}
	resp, body := postAs(t, c, caseURL+"/classification", details)
	wantRedirect(t, "details first", resp, body, "/office/cases/"+id+"?saved=classification#classification")
	_, page := getAs(t, c, e.URL+resp.Header.Get("Location"))
	wantAll(t, "the page after the detailed save", page, `<details id="cls-details" open>`, `role="status" id="saved-classification"`)

	f := triagePanel()
	f["areas"] = []string{"housing", "work"}
	resp, body = postAs(t, c, caseURL+"/triage", f)
	wantRedirect(t, "triage", resp, body, "/office/cases/"+id+"?saved=triage#triage")
	row, err := e.DB.CaseRow(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	k := row.Classification
	if k == nil || k.Level != "structural" || k.ReporterRole != "witness" || k.Year != 2025 || k.Month != 2 ||
		!slices.Equal(k.Subareas, []string{"tenancy"}) || !slices.Equal(k.Interventions, []string{"complaint_letter"}) ||
		!slices.Equal(k.Areas, []string{"work", "housing"}) || k.Municipality != "herne" {
		t.Fatalf("the triage save lost detailed fields: %+v", k)
	}

	details.Set("level", "individual")
	details.Del("interventions")
	resp, body = postAs(t, c, caseURL+"/classification", details)
	wantRedirect(t, "details again", resp, body, "/office/cases/"+id+"?saved=classification#classification")
	row, err = e.DB.CaseRow(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	k = row.Classification
	if k.Level != "individual" || len(k.Interventions) != 0 || !slices.Equal(k.Grounds, []string{"racism"}) ||
		!slices.Equal(k.Subgrounds, []string{"antiziganism"}) || !slices.Equal(k.Forms, []string{"direct"}) ||
		k.AGGRelevant != "agg_relevant" || k.Municipality != "herne" || !slices.Equal(k.Areas, []string{"work", "housing"}) {
		t.Errorf("the detailed save lost the panel's fields: %+v", k)
	}
	// Dropping an area in the panel drops its sub-areas with it.
	f["areas"] = []string{"work"}
	resp, body = postAs(t, c, caseURL+"/triage", f)
	wantRedirect(t, "drop housing", resp, body, "/office/cases/"+id+"?saved=triage#triage")
	if row, err = e.DB.CaseRow(t.Context(), id); err != nil || len(row.Classification.Subareas) != 0 {
		t.Errorf("sub-areas of a dropped area stayed: %+v, %v", row.Classification, err)
	}
}
