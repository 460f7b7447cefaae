package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// "Reminder due" (due=1) lists the cases of one's teams with a reminder
// due today or overdue (the office's day, Europe/Berlin), not those due
// later or without one; the box is ticked. The "waiting" filter reads as
// "our turn", and the hint says classification filters find triaged
// cases only.
func TestCaseListReminderDueFilter(t *testing.T) {
	t.Parallel()
	// 23:30 UTC on 19 May is 01:30 on 20 May in Berlin, the office's day.
	clock := newTestClock(time.Date(2026, 5, 19, 23, 30, 0, 0, time.UTC))
	e := newEnv(t, options{Now: clock.Now})
	c, ids := submitCases(t, e, "Erster Fall", "Zweiter Fall", "Dritter Fall")
	for i, due := range []string{"2026-05-20", "2026-05-21"} {
		resp, body := postAs(t, c, e.URL+"/office/cases/"+ids[i]+"/reminder", url.Values{"due": {due}, "reason": {"Rückruf"}})
		if resp.StatusCode != 303 {
			t.Fatalf("set reminder for %s: status %d\n%s", due, resp.StatusCode, body)
		}
	}
	_, page := getAs(t, c, e.URL+"/office/cases?due=1")
	if got := caseIDs(page); strings.Join(got, ",") != ids[0] {
		t.Errorf("?due=1 lists %v, want only the case due today (%s)", got, ids[0])
	}
	// A filtered page: the start page's due box is not decrypted again.
	if strings.Contains(page, `id="due"`) {
		t.Errorf("?due=1 shows the start page's due box as well")
	}
	wantAll(t, "?due=1", page, `id="f-due" name="due" value="1" checked`, "Nur Fälle mit fälliger Wiedervorlage",
		"Neue Nachricht – wir sind dran", "Noch nicht eingeordnete Fälle erscheinen dabei nicht")
	// Two days later both are due (one overdue).
	clock.Advance(48 * time.Hour)
	c = login(t, e)
	_, page = getAs(t, c, e.URL+"/office/cases?due=1&sort=received&dir=asc")
	if got := caseIDs(page); strings.Join(got, ",") != ids[0]+","+ids[1] {
		t.Errorf("two days later ?due=1 lists %v, want %v", got, ids[:2])
	}
}
