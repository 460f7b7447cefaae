package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// A reminder set on a case for today shows in the start page's box for
// the case's team, with its case number and reason; one for tomorrow does
// not until tomorrow; a member of another team never sees it; "done"
// clears it. The reason is nowhere in the database files in plain.
func TestReminderOnStartPage(t *testing.T) {
	t.Parallel()
	clock := newTestClock(time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, options{Now: clock.Now})
	c, caseURL := onlyCase(t, e)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")
	herne, herneKey := addTeam(t, e, "Herne")
	addUser(t, e, "carl", "carl's long password", reporting.RoleCounsellor, map[int64]*vault.KeyPair{herne: herneKey})
	carl := loginAs(t, e, "carl", "carl's long password")

	_, page := getAs(t, c, caseURL)
	wantAll(t, "the case page without a reminder", page, `id="reminder-form"`, `id="reminder-none"`)
	_, list := getAs(t, c, e.URL+"/office/cases")
	wantAll(t, "the start page with nothing due", list, `id="due"`, `id="due-empty"`)

	const reason = "Rückruf bei der Vermieterin, Termin 14 Uhr"
	resp, body := postAs(t, c, caseURL+"/reminder", url.Values{"due": {"2026-05-20"}, "reason": {reason}})
	wantRedirect(t, "set reminder", resp, body, "/office/cases/"+id+"?reminder=saved#reminder")
	_, page = getAs(t, c, caseURL+"?reminder=saved")
	wantAll(t, "the case page after saving", page, `id="reminder-saved"`, `id="reminder-today"`, "Rückruf bei der Vermieterin, Termin 14 Uhr", `value="2026-05-20"`)

	_, list = getAs(t, c, e.URL+"/office/cases")
	wantAll(t, "the start page with a reminder due today", list, `id="due-reminder-`+id+`"`, reason, "2026-05-20")
	if no := caseNoOnCasePage(t, page); !strings.Contains(list, ">"+no+"</a>") {
		t.Errorf("the box does not name case %s", no)
	}
	_, other := getAs(t, carl, e.URL+"/office/cases")
	if strings.Contains(other, reason) || strings.Contains(other, `id="due-reminder-`) {
		t.Error("a member of another team sees the reminder")
	}
	wantAll(t, "another team's start page", other, `id="due-empty"`)

	// Sealed to the team: the reason is in no database file in plain.
	for _, f := range webtest.FilesHolding(t, e.Dir, []byte("Vermieterin, Termin")) {
		t.Errorf("%s holds the reminder's reason in plain", f)
	}

	// Replaced by one for tomorrow: not due today.
	resp, body = postAs(t, c, caseURL+"/reminder", url.Values{"due": {"2026-05-21"}, "reason": {"Antwort abwarten"}})
	wantRedirect(t, "replace reminder", resp, body, "/office/cases/"+id+"?reminder=saved#reminder")
	_, list = getAs(t, c, e.URL+"/office/cases")
	if strings.Contains(list, "Antwort abwarten") || strings.Contains(list, reason) {
		t.Error("the start page shows a reminder due tomorrow, or the replaced one")
	}
	// A day later the session has long timed out: log in again.
	clock.Advance(24 * time.Hour)
	c = login(t, e)
	_, list = getAs(t, c, e.URL+"/office/cases")
	wantAll(t, "the start page the next day", list, `id="due-reminder-`+id+`"`, "Antwort abwarten")
	clock.Advance(24 * time.Hour)
	c = login(t, e)
	_, list = getAs(t, c, e.URL+"/office/cases")
	wantAll(t, "the start page a day later", list, "Antwort abwarten", "überfällig")

	resp, body = postAs(t, c, caseURL+"/reminder/done", nil)
	wantRedirect(t, "reminder done", resp, body, "/office/cases/"+id+"?reminder=done#reminder")
	_, page = getAs(t, c, caseURL+"?reminder=done")
	wantAll(t, "the case page after done", page, `id="reminder-cleared"`, `id="reminder-none"`)
	_, list = getAs(t, c, e.URL+"/office/cases")
	wantAll(t, "the start page after done", list, `id="due-empty"`)
}

// A reminder in the past comes back with the error next to the date and
// the reason as typed; nothing is stored.
func TestReminderFormErrors(t *testing.T) {
	t.Parallel()
	clock := newTestClock(time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, options{Now: clock.Now})
	c, caseURL := onlyCase(t, e)
	resp, page := postAs(t, c, caseURL+"/reminder", url.Values{"due": {"2026-05-19"}, "reason": {"Akte prüfen"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a reminder in the past: status %d, want 422", resp.StatusCode)
	}
	wantAll(t, "the refused reminder", page, `id="err-reminder-due"`, "Vergangenheit", `value="Akte prüfen"`, `id="reminder-none"`)
	_, list := getAs(t, c, e.URL+"/office/cases")
	wantAll(t, "the start page", list, `id="due-empty"`)
}

// The AGG deadline warnings are in the same box.
func TestDueBoxShowsDeadlines(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, caseURL := onlyCase(t, e)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")
	resp, body := postAs(t, c, caseURL+"/classification", triage()) // incident in January 2025: passed
	wantRedirect(t, "triage", resp, body, "/office/cases/"+id+"?saved=classification#classification")
	_, list := getAs(t, c, e.URL+"/office/cases")
	wantAll(t, "the start page", list, `id="due-deadline-`+id+`"`, "Frist abgelaufen!")
}

// caseNoOnCasePage reads the case number from a case page's heading.
func caseNoOnCasePage(t *testing.T, page string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, "<h1>")
	head, _, _ := strings.Cut(rest, "</h1>")
	f := strings.Fields(head)
	if !ok || len(f) == 0 {
		t.Fatal("no case heading")
	}
	return f[len(f)-1]
}
