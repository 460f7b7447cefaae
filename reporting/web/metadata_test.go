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
	wantRedirect(t, "classify "+month+"-"+day, resp, body, "/office/cases/"+id+"#classification")
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
	clock := newTestClock(metaToday)
	e := newEnv(t, options{now: clock.Now})
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
	wantAll(t, "the case page", page, `name="incident_day" value="17"`, "2026-12-17", `lang="tr"`)
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
	clock := newTestClock(metaToday)
	e := newEnv(t, options{now: clock.Now})
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
	clock := newTestClock(metaToday) // Tuesday; +14 days: Tuesday 8 December
	e := newEnv(t, options{now: clock.Now})
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
	if !strings.Contains(soon, "<td>2026-12-11</td>") {
		t.Error("the case later in the week is not listed with its plain date (no warning)")
	}

	_, all := getAs(t, c, e.URL+"/office/cases?sort=deadline&dir=desc")
	if got, want := names(caseIDs(all)), []string{"next week", "same week, later", "14 days", "10 days", "passed", "no deadline"}; !slices.Equal(got, want) {
		t.Errorf("all by deadline, descending: %v, want %v", got, want)
	}
}
