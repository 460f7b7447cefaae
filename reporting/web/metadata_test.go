package web_test

import (
	"bytes"
	"database/sql"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/notifytest"
)

// Tests of issue 9, item 6: less metadata in the database.

// metaToday is the office's today in these tests: Tuesday 24 November
// 2026, so that today+14 days (8 December) falls mid-week.
var metaToday = time.Date(2026, 11, 24, 15, 4, 5, 0, time.UTC)

// metaClassify saves the triage form of a case: AGG-relevant work (so a
// deadline applies) with the incident date given, or not AGG-relevant.
func metaClassify(t *testing.T, e *env, c *http.Cookie, id, month, day string, agg bool) {
	t.Helper()
	form := triage()
	form["areas"] = []string{"work"}
	form.Set("incident_date", month)
	form.Set("incident_day", day)
	if !agg {
		form.Set("agg_relevant", "not_agg_relevant")
	}
	resp, body := postAs(t, c, e.URL+"/office/cases/"+id+"/classification", form)
	wantRedirect(t, "classify "+month+"-"+day, resp, body, "/office/cases/"+id+"?saved=classification#classification")
}

// metaDBFiles returns the bytes of the database file and its -wal.
func metaDBFiles(t *testing.T, e *env) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(e.Dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no database files in %s: %v", e.Dir, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// metaRawDB opens a second connection to the test's database, for reading
// columns (and, to fake a row from before issue 9, writing them).
func metaRawDB(t *testing.T, e *env) *sql.DB {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+e.DB.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// A new report triaged with an exact incident day leaves neither the day,
// nor the AGG deadline (which is the day two months on), nor the report's
// language in the database files in plain; the case page and the list
// still show the exact deadline, the day and the language, decrypted.
func TestNoPlainIncidentDayDeadlineOrLanguage(t *testing.T) {
	t.Parallel()
	clock := newTestClock(metaToday)
	e := newEnv(t, options{Now: clock.Now})
	if resp, _ := submit(t, e, "tr", validReport("Ev sahibi bize kapıyı kapattı.")); resp.StatusCode != http.StatusOK {
		t.Fatal("submission failed")
	}
	c := login(t, e)
	_, list := getAs(t, c, e.URL+"/office/cases")
	ids := caseIDs(list)
	if len(ids) != 1 {
		t.Fatalf("the list links %d cases, want 1", len(ids))
	}
	id := ids[0]
	// Incident on Saturday 17 October 2026: deadline Thursday 17 December.
	metaClassify(t, e, c, id, "2026-10", "17", true)

	_, page := getAs(t, c, e.URL+"/office/cases/"+id)
	wantAll(t, "the case page", page, `name="incident_day" value="17"`, "2026-12-17", `lang="tr"`, `<dd id="language">Türkisch</dd>`)
	_, list = getAs(t, c, e.URL+"/office/cases")
	wantAll(t, "the case list", list, "2026-12-17")

	db := metaRawDB(t, e)
	var language string
	var day, exact sql.NullString
	var week sql.NullString
	var sealed []byte
	if err := db.QueryRow(`SELECT language, incident_day, deadline, deadline_week, dates_sealed FROM reports WHERE id = ?`, id).
		Scan(&language, &day, &exact, &week, &sealed); err != nil {
		t.Fatal(err)
	}
	if language != "" || day.Valid || exact.Valid {
		t.Errorf("plain columns: language %q, incident_day %v, deadline %v; want all empty", language, day, exact)
	}
	if week.String != "2026-12-14" || len(sealed) == 0 || bytes.Contains(sealed, []byte("17")) {
		t.Errorf("deadline_week %v, dates_sealed %x; want the Monday 2026-12-14 and a ciphertext", week, sealed)
	}
	// The bytes: no date string with the day, no day-level deadline. The
	// language is checked by column above: "tr" is two bytes, which random
	// ciphertext contains by chance.
	sawWAL := false
	for name, b := range metaDBFiles(t, e) {
		if strings.HasSuffix(name, "-wal") && len(b) > 0 {
			sawWAL = true
		}
		for _, s := range []string{"2026-12-17", "2026-10-17", "17.12.2026", "17.10.2026"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains %q", name, s)
			}
		}
	}
	if !sawWAL {
		t.Error("no -wal file with content: the test did not look where fresh writes are")
	}

	// A second save keeps it so, and the sealed day is not the same
	// ciphertext twice (a fresh nonce each time).
	metaClassify(t, e, c, id, "2026-10", "17", true)
	var again []byte
	if err := db.QueryRow(`SELECT dates_sealed FROM reports WHERE id = ?`, id).Scan(&again); err != nil || bytes.Equal(again, sealed) {
		t.Errorf("dates_sealed after a second save: %x, %v", again, err)
	}
}

// A case triaged before issue 9 still has its incident day in plain; the
// next time a counsellor opens it, the day is sealed and the plain column
// cleared, and the page shows the same day and deadline as before.
func TestOldPlainIncidentDayMovedOnOpen(t *testing.T) {
	t.Parallel()
	clock := newTestClock(metaToday)
	e := newEnv(t, options{Now: clock.Now})
	c, caseURL := onlyCase(t, e)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")
	metaClassify(t, e, c, id, "2026-10", "17", true)

	// The row as migration 0030 leaves one triaged before it.
	db := metaRawDB(t, e)
	if _, err := db.Exec(`UPDATE reports SET incident_day = 9, dates_sealed = NULL WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	_, list := getAs(t, c, e.URL+"/office/cases")
	wantAll(t, "the list before the move", list, "2026-12-09")
	var day sql.NullInt64
	if err := db.QueryRow(`SELECT incident_day FROM reports WHERE id = ?`, id).Scan(&day); err != nil || day.Int64 != 9 {
		t.Fatalf("incident_day %v, %v: the list alone should not move it", day, err)
	}

	_, page := getAs(t, c, caseURL)
	wantAll(t, "the case page", page, `name="incident_day" value="9"`, "2026-12-09")
	var sealed []byte
	if err := db.QueryRow(`SELECT incident_day, dates_sealed FROM reports WHERE id = ?`, id).Scan(&day, &sealed); err != nil || day.Valid || len(sealed) == 0 {
		t.Fatalf("after opening: incident_day %v, dates_sealed %x, %v; want NULL and a ciphertext", day, sealed, err)
	}
	_, page = getAs(t, c, caseURL)
	wantAll(t, "the case page from the sealed day", page, `name="incident_day" value="9"`, "2026-12-09")
}

// "Deadline soon" finds the open cases whose deadline is at most 14 days
// away or passed, by the deadline's week: a deadline later in the week of
// the 14th day is listed too (without the warning), the next week's is
// not. Sorted by deadline, cases of the same week come in the order of
// their exact dates, though the database knows only the week.
func TestDeadlineFilterByWeek(t *testing.T) {
	t.Parallel()
	clock := newTestClock(metaToday) // Tuesday; +14 days: Tuesday 8 December
	e := newEnv(t, options{Now: clock.Now})
	c := login(t, e)
	cases := []struct {
		name, month, day string
		agg              bool
	}{
		{"same week, later", "2026-10", "11", true}, // Fri 11 Dec: 17 days, in the week of the 14th day
		{"14 days", "2026-10", "8", true},           // Tue 8 Dec
		{"10 days", "2026-10", "4", true},           // Fri 4 Dec
		{"next week", "2026-10", "14", true},        // Mon 14 Dec
		{"passed", "2026-09", "10", true},           // 10 Nov
		{"no deadline", "2026-10", "8", false},
	}
	for range cases {
		if resp, _ := submit(t, e, "de", validReport("Fristfall")); resp.StatusCode != http.StatusOK {
			t.Fatal("submission failed")
		}
	}
	_, list := getAs(t, c, e.URL+"/office/cases?sort=received&dir=asc")
	ids := caseIDs(list)
	if len(ids) != len(cases) {
		t.Fatalf("%d cases listed, want %d", len(ids), len(cases))
	}
	byName := map[string]string{}
	for i, k := range cases {
		metaClassify(t, e, c, ids[i], k.month, k.day, k.agg)
		byName[k.name] = ids[i]
	}
	names := func(ids []string) []string {
		var out []string
		for _, id := range ids {
			for n, v := range byName {
				if v == id {
					out = append(out, n)
				}
			}
		}
		return out
	}

	_, soon := getAs(t, c, e.URL+"/office/cases?"+url.Values{"deadline": {"soon"}, "sort": {"deadline"}}.Encode())
	got := names(caseIDs(soon))
	want := []string{"passed", "10 days", "14 days", "same week, later"}
	if !slices.Equal(got, want) {
		t.Errorf("deadline soon, by deadline: %v, want %v", got, want)
	}
	wantAll(t, "the filtered list", soon, "2026-11-10 – Frist abgelaufen!", "2026-12-04 – Noch 10 Tag(e)!", "2026-12-08 – Noch 14 Tag(e)!")
	if !strings.Contains(soon, `<td class="deadline">2026-12-11</td>`) {
		t.Error("the case later in the week is not listed with its plain date (no warning)")
	}

	_, all := getAs(t, c, e.URL+"/office/cases?sort=deadline&dir=desc")
	if got, want := names(caseIDs(all)), []string{"next week", "same week, later", "14 days", "10 days", "passed", "no deadline"}; !slices.Equal(got, want) {
		t.Errorf("all by deadline, descending: %v, want %v", got, want)
	}
}

// What a reporter does (submit, write, withdraw) is recorded to the day
// only: the audit entries of the case carry 00:00 of the day in the
// office's zone, the message only its day, and the notification mails
// queued for it are not due at the event's time. Office events keep
// their time.
func TestReporterEventsToTheDay(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	srv := notifytest.Start(t)
	event := time.Date(2026, 11, 24, 15, 4, 5, 123456000, berlin) // the audit log keeps microseconds
	clock := newTestClock(event)
	e := notifyEnvClock(t, srv, clock, clock.Now)
	admin := login(t, e)
	notifySetEmail(t, e, admin, "anna@example.org")

	receipt := fuSubmit(t, e, validReport("Im Bus wurde ich beschimpft."))
	_, list := getAs(t, admin, e.URL+"/office/cases")
	ids := caseIDs(list)
	if len(ids) != 1 {
		t.Fatalf("%d cases listed, want 1", len(ids))
	}
	id := ids[0]
	getAs(t, admin, e.URL+"/office/cases/"+id) // an office event: keeps its time

	clock.Advance(2 * time.Hour)
	_, page := fuOpen(t, e, "en", receipt)
	if _, page = fuPost(t, e, "/en/followup/message", url.Values{"token": {fuToken(t, page)}, "message": {"Noch eine Sache."}}); !strings.Contains(page, "Noch eine Sache.") {
		t.Fatalf("the reporter's message was not taken:\n%s", page)
	}
	db := metaRawDB(t, e)
	var day string
	if err := db.QueryRow(`SELECT day FROM messages WHERE report_id = ? AND author = 'reporter'`, id).Scan(&day); err != nil || day != "2026-11-24" {
		t.Errorf("message day %q, %v; want 2026-11-24 and nothing more", day, err)
	}
	// Each mail is due no earlier than the shortest delay after the news.
	rows, err := db.Query(`SELECT next_attempt_at FROM outbox`)
	if err != nil {
		t.Fatal(err)
	}
	var dues []int64
	for rows.Next() {
		var at int64
		rows.Scan(&at)
		dues = append(dues, at)
	}
	rows.Close()
	if len(dues) != 1 || dues[0] < event.Add(reporting.DefaultDelayMin).Unix() {
		t.Errorf("outbox due at %v (unix), want one mail not before %v", dues, event.Add(reporting.DefaultDelayMin))
	}

	clock.Advance(3 * time.Hour)
	_, page = fuOpen(t, e, "en", receipt)
	if resp, _ := fuPost(t, e, "/en/followup/withdraw/confirm", url.Values{"token": {fuToken(t, page)}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("withdraw: status %d", resp.StatusCode)
	}

	entries, err := db.Query(`SELECT action, user_name, at FROM audit WHERE report_id = ? ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer entries.Close()
	var withdrawal, office bool
	for entries.Next() {
		var action, user, raw string
		if err := entries.Scan(&action, &user, &raw); err != nil {
			t.Fatal(err)
		}
		at, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			t.Fatal(err)
		}
		local := at.In(berlin)
		switch {
		case action == reporting.AuditDelete:
			withdrawal = true
			if !local.Equal(time.Date(2026, 11, 24, 0, 0, 0, 0, berlin)) {
				t.Errorf("the withdrawal is audited at %s (%s), want 2026-11-24 00:00 in the office's zone", local, raw)
			}
		case user == "anna":
			office = true
			if !local.Equal(event) {
				t.Errorf("an office event (%s) is audited at %s, want its time %s", action, local, event)
			}
		}
	}
	if !withdrawal || !office {
		t.Errorf("audit entries: withdrawal %v, office %v; want both", withdrawal, office)
	}
}

// Two reports within a minute bring each member one mail, not two: not
// before the shortest delay after the first report, and no later than the
// longest; a member of both teams gets one general mail. The mail's Date
// is the time it is sent.
func TestNotificationsBatched(t *testing.T) {
	t.Parallel()
	srv := notifytest.Start(t)
	clock := newTestClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	e := notifyEnvClock(t, srv, clock, nil)
	notifyTeam(t, e) // anna in PLANB and Nord, berta in PLANB, erik in Nord
	n := e.Notifier
	t0 := clock.Now()
	submit(t, e, "de", reportFrom("bochum", "Erste Meldung"))
	clock.Advance(20 * time.Second)
	submit(t, e, "de", reportFrom("bochum", "Zweite Meldung"))
	clock.Advance(20 * time.Second)
	submit(t, e, "de", reportFrom("herne", "Dritte Meldung, anderes Team"))

	pending, err := n.Pending(t.Context())
	if err != nil || len(pending) != 3 {
		t.Fatalf("pending %d mails, %v; want one per member: anna, berta, erik", len(pending), err)
	}
	for _, m := range pending {
		if wait := m.NextAttemptAt.Sub(t0); wait < reporting.DefaultDelayMin || wait > reporting.DefaultDelayMax+40*time.Second {
			t.Errorf("mail to %s due %v after the first report, want between %v and %v", m.Recipient, wait, reporting.DefaultDelayMin, reporting.DefaultDelayMax)
		}
	}

	clock.Advance(t0.Add(reporting.DefaultDelayMin - time.Second).Sub(clock.Now()))
	if sent := notifySendDue(t, n); sent != 0 || len(srv.Messages()) != 0 {
		t.Fatalf("%d mails sent before the shortest delay", sent)
	}
	// The first two reports' batch (anna, berta) is out by the longest
	// delay after the first; erik's started 40 seconds later.
	clock.Advance(t0.Add(reporting.DefaultDelayMax).Sub(clock.Now()))
	notifySendDue(t, n)
	first := len(srv.Messages()) // sent at t0 + the longest delay
	got := notifyRecipients(srv.Messages())
	if !slices.Contains(got, "anna@example.org") || !slices.Contains(got, "berta@example.org") {
		t.Fatalf("by the longest delay: sent to %v, want anna and berta", got)
	}
	clock.Advance(40 * time.Second)
	notifySendDue(t, n)
	msgs := srv.Messages()
	if got := notifyRecipients(msgs); !slices.Equal(got, []string{"anna@example.org", "berta@example.org", "erik@example.org"}) {
		t.Fatalf("sent to %v, want anna, berta and erik once each", got)
	}
	for i, m := range msgs {
		sentAt := t0.Add(reporting.DefaultDelayMax)
		if i >= first {
			sentAt = sentAt.Add(40 * time.Second)
		}
		if date := "Date: " + sentAt.Format(time.RFC1123Z) + "\r\n"; !strings.Contains(m.Data, date) {
			t.Errorf("mail to %v lacks %q, the time it was sent:\n%s", m.To, date, m.Data)
		}
		switch m.To[0] {
		case "anna@example.org":
			if !strings.Contains(m.Data, "Ihre Teams") || strings.Contains(m.Data, "PLANB") || strings.Contains(m.Data, "Nord") {
				t.Errorf("anna's mail should be the general one:\n%s", m.Data)
			}
		case "berta@example.org":
			if !strings.Contains(m.Data, "PLANB") {
				t.Errorf("berta's mail does not name her team:\n%s", m.Data)
			}
		}
	}
	if rows := notifyOutboxRows(t, e); rows != 0 {
		t.Errorf("%d outbox rows left", rows)
	}
}
