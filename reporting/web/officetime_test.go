package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Times stored in UTC show in the office's time zone with the zone named,
// on the audit log and the case history; a changed zone changes what is
// shown; a name the zone database does not know is refused next to the
// field and changes nothing.
func TestOfficeTimesInTheOfficeZone(t *testing.T) {
	t.Parallel()
	clock := newTestClock(time.Date(2026, 5, 20, 10, 30, 0, 0, time.UTC))
	e := newEnv(t, options{Now: clock.Now})
	admin := login(t, e)

	// The login's audit entry, written at 10:30 UTC: 12:30 summer time.
	_, audit := getAs(t, admin, e.URL+"/office/audit")
	wantAll(t, "the audit log in Berlin", audit, "20.05.2026, 12:30:00 MESZ")
	if strings.Contains(audit, "10:30") {
		t.Error("the audit log shows the UTC time")
	}

	// A status change at the same instant, in the case history.
	if resp, body := submit(t, e, "de", validReport("Die Zeit im Verlauf")); resp.StatusCode != http.StatusOK || !receiptPattern.MatchString(body) {
		t.Fatalf("submit: status %d", resp.StatusCode)
	}
	caseURL := e.URL + "/office/cases/" + otCaseID(t, e, admin)
	if resp, _ := postAs(t, admin, caseURL+"/status", url.Values{"status": {"triage"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status change: status %d", resp.StatusCode)
	}
	history := regexp.MustCompile(`(?s)<table class="cases history">.*?</table>`)
	_, page := getAs(t, admin, caseURL)
	wantAll(t, "the case history in Berlin", history.FindString(page), "<td>20.05.2026, 12:30 MESZ</td>")

	// The settings page shows the zone in use and the time in it.
	_, settings := getAs(t, admin, e.URL+"/office/settings/time")
	wantAll(t, "the time zone page", settings, `id="zone" name="zone" value="Europe/Berlin"`, "20.05.2026, 12:30 MESZ")

	// A name that is no zone: refused at the field, with what was typed.
	resp, body := postAs(t, admin, e.URL+"/office/settings/time", url.Values{"zone": {"Mars/Olympus"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a zone that does not exist: status %d", resp.StatusCode)
	}
	wantAll(t, "the refused zone", body, `<p class="error" id="err-zone">Diese Zeitzone gibt es nicht.`,
		`value="Mars/Olympus"`, `aria-invalid="true"`, `href="#zone"`)
	_, page = getAs(t, admin, caseURL)
	wantAll(t, "the case history after a refused zone", history.FindString(page), "20.05.2026, 12:30 MESZ")

	// Another zone: the same stored instants, shown anew.
	resp, _ = postAs(t, admin, e.URL+"/office/settings/time", url.Values{"zone": {"America/New_York"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/settings/time?done=saved" {
		t.Fatalf("saving a zone: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = getAs(t, admin, caseURL)
	wantAll(t, "the case history in New York", history.FindString(page), "<td>20.05.2026, 06:30 EDT</td>")
	_, audit = getAs(t, admin, e.URL+"/office/audit")
	wantAll(t, "the audit log in New York", audit, "20.05.2026, 06:30:00 EDT", "office_time_zone=America/New_York")

	// Back in Berlin, in winter: the abbreviation follows the instant.
	postAs(t, admin, e.URL+"/office/settings/time", url.Values{"zone": {"Europe/Berlin"}})
	clock.Advance(200 * 24 * time.Hour)
	admin = login(t, e)
	_, audit = getAs(t, admin, e.URL+"/office/audit")
	wantAll(t, "the audit log in a Berlin winter", audit, "06.12.2026, 11:30:00 MEZ", "20.05.2026, 12:30:00 MESZ")
}

// otCaseID is the ID of the newest case in the admin's list.
func otCaseID(t *testing.T, e *env, admin *http.Cookie) string {
	t.Helper()
	_, list := getAs(t, admin, e.URL+"/office/cases")
	m := regexp.MustCompile(`href="/office/cases/([0-9a-f-]{36})"`).FindStringSubmatch(list)
	if m == nil {
		t.Fatal("no case in the list")
	}
	return m[1]
}

// The only active admin is offered neither another role nor disabling on
// their own row; a POST anyway is refused with the reason on the row.
// With a second admin the role choice is back.
func TestLastAdminNotOffered(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)

	_, users := getAs(t, admin, e.URL+"/office/users")
	row := regexp.MustCompile(`(?s)<tr id="user-1">.*?</tr>`)
	own := row.FindString(users)
	if strings.Contains(own, `action="/office/users/1/role"`) || strings.Contains(own, `action="/office/users/1/disable"`) {
		t.Error("the only admin is offered to change their role or disable themselves")
	}
	wantAll(t, "the only admin's row", own, `id="last-admin-1"`, "Das einzige aktive Admin-Konto.")

	resp, body := postAs(t, admin, e.URL+"/office/users/1/role", url.Values{"role": {"statistician"}})
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("the last admin steps down: status %d", resp.StatusCode)
	}
	wantAll(t, "the refused step down", body, `href="#err-user-1"`,
		`<p class="error" id="err-user-1">Das ist das letzte aktive Admin-Konto.`)
	if resp, _ := getAs(t, admin, e.URL+"/office/users"); resp.StatusCode != http.StatusOK {
		t.Errorf("the admin's session after the refusal: status %d", resp.StatusCode)
	}

	accUser(t, e, admin, "berta", "admin", "1")
	_, users = getAs(t, admin, e.URL+"/office/users")
	own = row.FindString(users)
	if !strings.Contains(own, `action="/office/users/1/role"`) || strings.Contains(own, `id="last-admin-1"`) {
		t.Error("with a second admin the own row offers no role change")
	}
}

// otBerlin is how the office shows an instant with seconds in its default
// zone, in German: "24.11.2026, 14:31:00 MEZ".
func otBerlin(at time.Time) string {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	at = at.In(berlin)
	zone := map[bool]string{false: "MEZ", true: "MESZ"}[at.IsDST()]
	return at.Format("02.01.2006, 15:04:05") + " " + zone
}
