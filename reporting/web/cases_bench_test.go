package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// benchRow is one generated case: its report row and its record.
type benchRow struct {
	id, caseNo, received, status, deadline string
	sealedKey, content                     []byte
	assignee                               any
	class                                  reporting.Classification
}

// fillCases stores n cases of the first team straight into the database,
// in one transaction: real ciphertexts (so that any page decrypts), every
// status, a third AGG-relevant work cases with deadlines, a quarter
// assigned, most classified.
func fillCases(b testing.TB, e *env, n int) int64 {
	b.Helper()
	ctx := context.Background()
	teams, err := e.DB.Teams(ctx)
	if err != nil {
		b.Fatal(err)
	}
	team := teams[0]
	rows := make([]benchRow, n)
	// Sealing a data key to the team costs an X25519 operation: spread
	// the 100,000 of them over the CPUs.
	var wg sync.WaitGroup
	workers := runtime.NumCPU()
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				rows[i] = benchCase(i, team.PublicKey)
			}
		})
	}
	wg.Wait()

	db := rawDB(b, e)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	prep := func(q string) func(args ...any) {
		s, err := tx.PrepareContext(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		return func(args ...any) {
			if _, err := s.ExecContext(ctx, args...); err != nil {
				b.Fatal(err)
			}
		}
	}
	report := prep(`INSERT INTO reports (id, case_no, team_id, received_on, lookup_hash, kdf_params, sealed_key, reporter_key,
		content, status, language, assignee, incident_day, deadline_week) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'de', ?, ?, ?)`)
	class := prep(`INSERT INTO classifications (report_id, year, month, municipality, grounds, subgrounds, areas, subareas,
		forms, level, incident_type, reporter_role, agg_relevant, interventions) VALUES (?, ?, ?, ?, ?, ?, ?, '', '', '', '', 'affected', ?, '')`)
	ground := prep(`INSERT INTO classification_grounds (ground, report_id) VALUES (?, ?)`)
	code := prep(`INSERT INTO classification_codes (dim, code, report_id) VALUES (?, ?, ?)`)
	for i, r := range rows {
		var deadline any
		if r.deadline != "" {
			deadline = r.deadline
		}
		report(r.id, r.caseNo, team.ID, r.received, []byte(r.id), testParams.String(), r.sealedKey, []byte{0},
			r.content, r.status, r.assignee, r.class.Day, deadline)
		if i%10 == 9 {
			continue // not classified yet
		}
		c := r.class
		class(r.id, c.Year, c.Month, c.Municipality, strings.Join(c.Grounds, ","), strings.Join(c.Subgrounds, ","), strings.Join(c.Areas, ","), c.AGGRelevant)
		for _, g := range c.Grounds {
			ground(g, r.id)
		}
		for _, s := range c.Subgrounds {
			code("subground", s, r.id)
		}
		for _, a := range c.Areas {
			code("area", a, r.id)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return team.ID
}

// benchCase generates case i.
func benchCase(i int, team vault.PublicKey) benchRow {
	year := 2024 + i/40000
	r := benchRow{
		id:       benchCaseID(i),
		caseNo:   fmt.Sprintf("%d-%04d", year, 1+i%40000),
		received: fmt.Sprintf("%d-%02d-%02d", year, 1+i%12, 1+i%28),
		status:   reporting.Statuses[i%len(reporting.Statuses)],
	}
	if i%4 == 0 {
		r.assignee = int64(1)
	}
	r.class = reporting.Classification{Year: year, Month: 1 + i%12, Day: i % 29,
		Municipality: reporting.Municipalities[i%len(reporting.Municipalities)],
		Grounds:      []string{reporting.Grounds[i%7]}, Areas: []string{reporting.Areas[i%5]}, AGGRelevant: "unclear"}
	if i%3 == 0 {
		r.class.Areas, r.class.AGGRelevant = []string{"work"}, "agg_relevant"
	}
	if subs := reporting.SubgroundsOf[r.class.Grounds[0]]; subs != nil {
		r.class.Subgrounds = []string{subs[i%len(subs)]}
	}
	if i%10 != 9 {
		r.deadline = r.class.DeadlineWeek()
	}
	report, _ := json.Marshal(reporting.Report{Role: "affected", Municipality: r.class.Municipality, Grounds: r.class.Grounds,
		Area: r.class.Areas[0], Description: fmt.Sprintf("Meldung %d: Beim Vorstellungsgespräch hieß es …\nZweite Zeile.", i),
		Wish: benchFlags(i).Wish, Contact: benchContact(i), Language: "de"})
	dk := vault.NewKey()
	r.sealedKey = team.SealKey(dk, vault.AD{Purpose: "report-key", Row: r.id})
	r.content = dk.Seal(report, vault.AD{Purpose: "report-content", Row: r.id})
	return r
}

// benchFlags are case i's working flags as its sealed report has them:
// the three wishes in turn, a contact on every second case.
func benchFlags(i int) reporting.WorkFlags {
	return reporting.WorkFlags{Wish: reporting.Wishes[i%len(reporting.Wishes)], HasContact: benchContact(i) != ""}
}

// benchContact is case i's contact, on every second case.
func benchContact(i int) string {
	if i%2 == 0 {
		return fmt.Sprintf("Telefon 0170 %07d", i)
	}
	return ""
}

// benchCaseID is the ID fillCases gives case i.
func benchCaseID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }

// setBenchFlags sets the working flags of the n cases of fillCases whose
// index keep selects, as a counsellor's triage or opening of the case
// would have copied them; the others have none and are new cases nobody
// has touched (no record, status new), which a list never copies flags of.
func setBenchFlags(b testing.TB, e *env, n int, keep func(i int) bool) {
	b.Helper()
	tx, err := rawDB(b, e).Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	set, err := tx.Prepare(`UPDATE reports SET wish = ?, has_contact = ?, status = CASE WHEN ? THEN status ELSE 'new' END WHERE id = ?`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		var wish, has any // NULL: no flags
		if keep(i) {
			f := benchFlags(i)
			wish, has = f.Wish, f.HasContact
		}
		if !keep(i) && i%10 != 9 {
			b.Fatalf("case %d has a record: a list would copy its flags", i)
		}
		if _, err := set.Exec(wish, has, keep(i), benchCaseID(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCaseList100k measures the case list with 100,000 cases: one
// filtered, sorted page from the store ("query": open racism cases by
// deadline, second page), and the same page through the handler
// ("render": session, query, decrypting 25 reports, the audit entry,
// the template), and the unfiltered first page through the handler.
func BenchmarkCaseList100k(b *testing.B) {
	const n = 100_000
	e := newEnv(b, options{})
	teamID := fillCases(b, e, n)
	cookie := login(b, e)
	ctx := context.Background()
	open := []string{"new", "triage", "counselling", "intervention", "referred"}

	b.Run("query", func(b *testing.B) {
		q := reporting.CaseQuery{Teams: []int64{teamID}, Statuses: open, Ground: "racism", Sort: reporting.SortDeadline,
			Page: reporting.Page{Limit: 25, Offset: 25}}
		for b.Loop() {
			rows, total, err := e.DB.CaseList(ctx, q)
			if err != nil || len(rows) != 25 || total < 5000 {
				b.Fatalf("%d rows of %d, %v", len(rows), total, err)
			}
		}
	})
	render := func(u string) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", u, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				e.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `name="ids" value=`) != 25 {
					b.Fatalf("status %d", rec.Code)
				}
			}
		}
	}
	b.Run("render", render("/office/cases?status=open&ground=racism&sort=deadline&page=2"))
	// For comparison: the list as it opens, newest first, unfiltered.
	b.Run("render-default", render("/office/cases"))
}
