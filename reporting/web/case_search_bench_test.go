package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// benchGet requests u through the handler as cookie's session and fails
// unless the page is a list with at least min rows.
func benchGet(b *testing.B, e *env, cookie *http.Cookie, u string, min int) {
	b.Helper()
	req := httptest.NewRequest("GET", u, nil)
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	if n := strings.Count(rec.Body.String(), `name="ids" value=`); rec.Code != http.StatusOK || n < min {
		b.Fatalf("%s: status %d, %d rows, want at least %d", u, rec.Code, n, min)
	}
}

// BenchmarkCaseSearch10k measures the full-text search over 10,000 cases
// of one team through the handler: every case is decrypted in memory
// (team key → data key → content) and searched. "one-hit" looks for the
// text of one case, "no-hit" for a word no case has; both scan all
// 10,000 (the page is shown when the scan is done, so this is also the
// time to the first result). "wish" is the wish filter: every case here
// has a record, so the first list decrypts them and copies their working
// flags, and from then on the filter reads the flags.
func BenchmarkCaseSearch10k(b *testing.B) {
	const n = 10_000
	e := newEnv(b, options{})
	fillCases(b, e, n)
	cookie := login(b, e)
	for _, bc := range []struct {
		name, query string
		min         int
	}{
		{"one-hit", "q=" + url.QueryEscape("Meldung 4242:"), 1},
		{"no-hit", "q=Nadelöhr", 0},
		{"wish", "wish=counselling", 25},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				benchGet(b, e, cookie, "/office/cases?"+bc.query, bc.min)
			}
		})
	}
}

// BenchmarkCaseListFilters100k measures the first page of the list with
// each plain filter of issue 13 (and "reminder due"), and with all of them at once, and
// the wish and contact filters with more or fewer cases without working flags, on 100,000
// cases, through the handler (server time: session, query, decrypting
// the page, the audit entry, the template).
func BenchmarkCaseListFilters100k(b *testing.B) {
	const n = 100_000
	e := newEnv(b, options{})
	fillCases(b, e, n)
	// Every 50th case has an unread message from the reporter; every
	// 250th case has a reminder, half of them due (the reason is not
	// read by the list).
	db := rawDB(b, e)
	for _, q := range []string{
		`UPDATE reports SET reporter_unread = 1 WHERE rowid % 50 = 0`,
		`INSERT INTO messages (id, report_id, author, day, body) SELECT id || '-m', id, 'reporter', received_on, x'00' FROM reports WHERE rowid % 50 = 0`,
		`INSERT INTO reminders (report_id, team_id, due, user_id, at, reason) SELECT id, team_id,
			CASE WHEN rowid % 500 = 0 THEN '2020-01-01' ELSE '2999-01-01' END, 1, '2020-01-01T00:00:00Z', x'00' FROM reports WHERE rowid % 250 = 0`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	cookie := login(b, e)
	for _, bc := range []struct {
		name, query string
		min         int
	}{
		{"subground", "subground=antiziganism", 25},
		{"area", "area=education", 25},
		{"unread", "unread=1", 25},
		{"awaiting", "awaiting=1", 25},
		{"status-open", "status=open", 25},
		{"ground", "ground=racism", 25},
		{"municipality", "municipality=herne", 25},
		{"due", "due=1", 25},
		{"every-plain-filter", "status=open&ground=racism&subground=antiziganism&area=work&municipality=herne&unread=1&awaiting=1&deadline=soon&assignee=none", 0},
		{"every-plain-filter-deadline-sort", "status=open&ground=racism&subground=antiziganism&area=work&unread=1&awaiting=1&sort=deadline", 0},
		{"every-plain-filter-and-due", "status=open&ground=racism&subground=antiziganism&area=work&municipality=herne&unread=1&awaiting=1&deadline=soon&assignee=none&due=1", 0},
		{"area-and-status", "area=education&status=open", 25},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				benchGet(b, e, cookie, "/office/cases?"+bc.query, bc.min)
			}
		})
	}
	// The reporter's wish and contact: cases with working flags (copied
	// at triage, when the case page was opened, or by a list that
	// decrypted a triaged case) are a plain filter; new cases nobody has
	// touched yet have none and are decrypted. 100 such cases (every
	// 1,000th), then 5,000 (5 %: every other case without a record).
	for _, mix := range []struct {
		name string
		keep func(i int) bool
	}{
		{"100-unflagged", func(i int) bool { return i%1000 != 9 }},
		{"5pct-unflagged", func(i int) bool { return i%10 != 9 || (i/10)%2 != 0 }},
	} {
		setBenchFlags(b, e, n, mix.keep)
		for _, bc := range []struct{ name, query string }{
			{"wish", "wish=counselling"},
			{"contact", "contact=yes"},
			{"wish-and-status", "wish=counselling&status=open"},
		} {
			b.Run(bc.name+"-"+mix.name, func(b *testing.B) {
				for b.Loop() {
					benchGet(b, e, cookie, "/office/cases?"+bc.query, 25)
				}
			})
		}
	}
	// The database's part alone (storage.CaseList as the handler calls
	// it: page 1 of 50, the count capped at reporting.CountCap), so that
	// a loaded machine's numbers can be told apart from the query's.
	teams, err := e.DB.Teams(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	setBenchFlags(b, e, n, func(int) bool { return true })
	var open []string
	for _, s := range reporting.Statuses {
		if reporting.IsOpen(s) {
			open = append(open, s)
		}
	}
	for _, bc := range []struct {
		name string
		q    reporting.CaseQuery
	}{
		{"subground", reporting.CaseQuery{Subground: "antiziganism"}},
		{"area", reporting.CaseQuery{Area: "education"}},
		{"unread", reporting.CaseQuery{Unread: true}},
		{"awaiting", reporting.CaseQuery{AwaitingUs: true}},
		{"status-open", reporting.CaseQuery{Statuses: open}},
		{"ground", reporting.CaseQuery{Ground: "racism"}},
		{"municipality", reporting.CaseQuery{Municipality: "herne"}},
		{"due", reporting.CaseQuery{DueBy: time.Now().Format(time.DateOnly)}},
		{"area-and-status", reporting.CaseQuery{Area: "education", Statuses: open}},
		{"wish-flags", reporting.CaseQuery{Wish: "counselling"}},
		{"contact-flags", reporting.CaseQuery{Contact: "yes"}},
	} {
		q := bc.q
		q.Teams, q.Page, q.CountCap = []int64{teams[0].ID}, reporting.Page{Limit: 25}, reporting.CountCap
		b.Run("db-"+bc.name, func(b *testing.B) {
			for b.Loop() {
				if rows, _, err := e.DB.CaseList(b.Context(), q); err != nil || len(rows) != 25 {
					b.Fatalf("%d rows, %v", len(rows), err)
				}
			}
		})
	}

	// A user of two or three teams (the database's part): the cases are
	// spread over three teams, a third each in blocks of three rows (so
	// that each team has its share of every area: by rowid % 3 one team
	// had no "education" case at all), and the list asks for the first
	// two or all three. This comes last: the cases moved away from
	// the first team no longer open with its key.
	for _, name := range []string{"Bench Zwei", "Bench Drei"} {
		pub := vault.NewKeyPair().Public()
		if _, err := db.Exec(`INSERT INTO teams (name, public_key, municipalities) VALUES (?, ?, 'herne')`, name, pub[:]); err != nil {
			b.Fatal(err)
		}
	}
	all, err := e.DB.Teams(b.Context())
	if err != nil || len(all) != 3 {
		b.Fatalf("%d teams, %v", len(all), err)
	}
	ids := []int64{teams[0].ID} // the team the cases were filled into first
	for _, t := range all {
		if t.ID != teams[0].ID {
			if _, err := db.Exec(`UPDATE reports SET team_id = ? WHERE (rowid / 3) % 3 = ?`, t.ID, len(ids)); err != nil {
				b.Fatal(err)
			}
			ids = append(ids, t.ID)
		}
	}
	for _, k := range []int{2, 3} {
		ids := ids[:k]
		for _, bc := range []struct {
			name string
			q    reporting.CaseQuery
		}{
			// education: about 13,000 of the 100,000 cases.
			{"area", reporting.CaseQuery{Area: "education"}},
			{"area-page-2", reporting.CaseQuery{Area: "education", Page: reporting.Page{Offset: 25}}},
			{"area-deadline-sort", reporting.CaseQuery{Area: "education", Sort: reporting.SortDeadline}},
			{"default", reporting.CaseQuery{}},
		} {
			q := bc.q
			q.Teams, q.Page.Limit, q.CountCap = ids, 25, reporting.CountCap
			b.Run(fmt.Sprintf("db-%s-teams-%s", map[int]string{2: "two", 3: "three"}[k], bc.name), func(b *testing.B) {
				for b.Loop() {
					if rows, _, err := e.DB.CaseList(b.Context(), q); err != nil || len(rows) != 25 {
						b.Fatalf("%d rows, %v", len(rows), err)
					}
				}
			})
		}
	}
}
