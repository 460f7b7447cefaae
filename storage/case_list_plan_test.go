package storage_test

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/storage"
)

// planCase is what the set filters of issue 13 look at, besides listCase.
type planCase struct {
	subgrounds, areas    []string
	unread, wrote, await bool
	due                  string
	// sealed is what the report says (the domain decrypts it); flagged:
	// copied into the row's working flags.
	sealed  reporting.WorkFlags
	flagged bool
}

// Every combination of the list's set filters (sub-ground, area, ground,
// municipality, unread, waiting for us, reminder due), with and without
// a status filter, returns exactly what a naive filter in Go returns, in
// order and across pages, whether the query starts from the smallest
// set or walks the order's index. A case moved to the other team is
// found by its codes there, not here. With a count cap the total stops at
// the cap plus one, whichever way it is counted. The wish and contact
// filters find a case through its working flags or, without flags,
// through the IDs the domain found by decrypting (given here as the
// domain computes them), never both and never one of another team. A
// user of two or three teams gets the same as a naive filter over all
// their teams, in every order, page 2 and a page past the end included
// (the per-team merge).
func TestCaseListEveryFilterCombination(t *testing.T) {
	db, all, teamA, teamB, _ := listFixture(t)
	ctx := t.Context()
	w := db.WriteConn()
	// A third team takes every third case of team A, so that three
	// teams' cases interleave in every order (received days repeat).
	teamC := addTeam(t, db, "Dortmund")
	for i := range all {
		if all[i].team == teamA && i%3 == 1 {
			if _, err := w.ExecContext(ctx, `UPDATE reports SET team_id = ? WHERE id = ?`, teamC, all[i].id); err != nil {
				t.Fatal(err)
			}
			all[i].team = teamC
		}
	}
	rnd := rand.New(rand.NewPCG(13, 2))
	extra := map[string]*planCase{}
	pick := func(from []string) []string {
		var out []string
		for _, c := range from {
			if rnd.IntN(3) == 0 {
				out = append(out, c)
			}
		}
		return out
	}
	for i := range all {
		c := &all[i]
		p := &planCase{}
		extra[c.id] = p
		if c.class != nil {
			c.class.Subgrounds = pick(reporting.RacismSubgrounds[:3])
			if !slices.Contains(c.class.Grounds, "racism") {
				c.class.Subgrounds = nil
			}
			c.class.Areas = pick([]string{"work", "education", "housing"})
			p.subgrounds, p.areas = c.class.Subgrounds, c.class.Areas
			if err := db.PutClassification(ctx, *c.class, reporting.CaseDates{Week: c.deadline}); err != nil {
				t.Fatal(err)
			}
		}
		p.unread, p.wrote = rnd.IntN(3) == 0, rnd.IntN(2) == 0
		p.await = p.wrote && rnd.IntN(2) == 0
		if p.wrote {
			if _, err := w.ExecContext(ctx, `INSERT INTO messages (id, report_id, author, day, body) VALUES (?, ?, 'reporter', '2026-01-01', x'00')`, c.id+"-m", c.id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.ExecContext(ctx, `UPDATE reports SET reporter_unread = ?, awaiting_reporter = ? WHERE id = ?`, p.unread, !p.await && p.wrote, c.id); err != nil {
			t.Fatal(err)
		}
		p.sealed = reporting.WorkFlags{Wish: append([]string{""}, reporting.Wishes...)[rnd.IntN(len(reporting.Wishes)+1)], HasContact: rnd.IntN(2) == 0}
		if p.flagged = rnd.IntN(3) > 0; p.flagged {
			if err := db.SetWorkFlags(ctx, map[string]reporting.WorkFlags{c.id: p.sealed}); err != nil {
				t.Fatal(err)
			}
		}
		if d := rnd.IntN(3); d > 0 {
			p.due = fmt.Sprintf("2026-03-%02d", 10+d*5) // 15 (due) or 20 (not yet)
			if _, err := w.ExecContext(ctx, `INSERT INTO reminders (report_id, team_id, due, user_id, at, reason) VALUES (?, ?, ?, 1, '2026-01-01T00:00:00Z', x'00')`, c.id, c.team, p.due); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A classified case of team A moves to team B (its reminder goes, as
	// the trigger of 0044 says).
	moved := slices.IndexFunc(all, func(c listCase) bool {
		return c.team == teamA && c.class != nil && slices.Contains(c.class.Areas, "education")
	})
	if _, err := w.ExecContext(ctx, `UPDATE reports SET team_id = ? WHERE id = ?`, teamB, all[moved].id); err != nil {
		t.Fatal(err)
	}
	all[moved].team, extra[all[moved].id].due = teamB, ""

	match := func(q reporting.CaseQuery, c listCase) bool {
		p := extra[c.id]
		return (q.Subground == "" || slices.Contains(p.subgrounds, q.Subground)) &&
			(q.Area == "" || slices.Contains(p.areas, q.Area)) &&
			(!q.Unread || p.unread) && (!q.AwaitingUs || p.await) &&
			(q.DueBy == "" || p.due != "" && p.due <= q.DueBy) &&
			(!q.Unflagged || !p.flagged) &&
			(q.Wish == "" || p.sealed.Wish == q.Wish) &&
			(q.Contact == "" || p.sealed.HasContact == (q.Contact == "yes"))
	}
	// sealedIDs are what the domain's scan finds: the cases without flags
	// that the query's other filters select and whose sealed report matches.
	byNo := map[string]string{}
	for _, c := range all {
		byNo[c.caseNo] = c.id
	}
	sealedIDs := func(q reporting.CaseQuery) []string {
		scan := q
		scan.Unflagged = true
		var subset []listCase
		for _, c := range all {
			if match(scan, c) {
				subset = append(subset, c)
			}
		}
		var ids []string
		for _, no := range expect(subset, scan) {
			ids = append(ids, byNo[no])
		}
		return ids
	}
	flagModes := []func(*reporting.CaseQuery){
		func(q *reporting.CaseQuery) {},
		func(q *reporting.CaseQuery) { q.Wish = "counselling" },
		func(q *reporting.CaseQuery) { q.Contact = "yes" },
		func(q *reporting.CaseQuery) { q.Contact = "no" },
		func(q *reporting.CaseQuery) { q.Wish, q.Contact = "", "no" },
		func(q *reporting.CaseQuery) { q.Wish, q.Contact = "document_only", "yes" },
	}
	sets := []func(*reporting.CaseQuery){
		func(q *reporting.CaseQuery) { q.Subground = reporting.RacismSubgrounds[0] },
		func(q *reporting.CaseQuery) { q.Area = "education" },
		func(q *reporting.CaseQuery) { q.Ground = "racism" },
		func(q *reporting.CaseQuery) { q.Municipality = reporting.Municipalities[1] },
		func(q *reporting.CaseQuery) { q.Unread = true },
		func(q *reporting.CaseQuery) { q.AwaitingUs = true },
		func(q *reporting.CaseQuery) { q.DueBy = "2026-03-15" },
	}
	checked := 0
	for _, drive := range []int{5_000, 0} {
		restore := storage.SetDriveMax(drive)
		for combo := 1; combo < len(flagModes)<<len(sets); combo++ {
			mode, mask := combo>>len(sets), combo&(1<<len(sets)-1)
			if mode > 0 && bits.OnesCount(uint(mask)) > 2 {
				continue // the flag filters with up to two set filters
			}
			for _, variant := range []reporting.CaseQuery{
				{Teams: []int64{teamA, teamB}},
				{Teams: []int64{teamA}},
				{Teams: []int64{teamA}, Statuses: []string{"new", "triage", "counselling"}, Sort: reporting.SortDeadline},
				{Teams: []int64{teamB}, Sort: reporting.SortCaseNo, Desc: true},
				// Several teams, each order in turn over the combinations.
				{Teams: []int64{teamA, teamB, teamC}, Sort: reporting.Sorts[mask%4], Desc: mask/4%2 == 1},
				{Teams: []int64{teamC, teamA}, Statuses: []string{"new", "triage", "counselling", "referred"},
					Sort: reporting.Sorts[(mask+1)%4], Desc: mask/4%2 == 0},
			} {
				q := variant
				for i, set := range sets {
					if mask&(1<<i) != 0 {
						set(&q)
					}
				}
				flagModes[mode](&q)
				if q.Wish != "" || q.Contact != "" {
					q.SealedIDs = sealedIDs(q)
				}
				var subset []listCase
				for _, c := range all {
					if match(q, c) {
						subset = append(subset, c)
					}
				}
				want := expect(subset, q)
				var got []string
				total := -1
				for offset := 0; offset < 100; offset += 4 {
					q.Page = reporting.Page{Limit: 4, Offset: offset}
					rows, n, err := db.CaseList(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					total = n
					if len(rows) == 0 {
						break
					}
					for _, r := range rows {
						got = append(got, r.CaseNo)
					}
				}
				if total != len(want) || !slices.Equal(got, want) {
					t.Errorf("driveMax %d, %+v:\ntotal %d, pages %v\nwant %d, %v", drive, q, total, got, len(want), want)
				}
				// Page 2 on its own, and a page past the end: empty, with
				// the same total.
				for _, p := range []reporting.Page{{Limit: 3, Offset: 3}, {Limit: 3, Offset: len(want) + 3}} {
					q.Page = p
					rows, n, err := db.CaseList(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					var page []string
					for _, r := range rows {
						page = append(page, r.CaseNo)
					}
					if wantPage := want[min(p.Offset, len(want)):min(p.Offset+p.Limit, len(want))]; !slices.Equal(page, wantPage) || n != len(want) {
						t.Errorf("driveMax %d, %+v: %v of %d, want %v of %d", drive, q, page, n, wantPage, len(want))
					}
				}
				// Counted with a cap, the total is exact up to the cap and
				// cap+1 ("more than") above it, and the page is the same.
				for _, limit := range []int{2, len(want)} {
					q.Page, q.CountCap = reporting.Page{Limit: 4}, max(limit, 1)
					rows, n, err := db.CaseList(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if wantN := min(len(want), q.CountCap+1); n != wantN || len(rows) != min(4, len(want)) {
						t.Errorf("driveMax %d, %+v: capped total %d and %d rows, want %d and %d", drive, q, n, len(rows), wantN, min(4, len(want)))
					}
				}
				q.CountCap = 0
				if len(want) > 0 {
					checked++
				}
			}
		}
		restore()
	}
	if checked < 100 {
		t.Errorf("only %d combinations found any case: the fixture does not exercise the filters", checked)
	}
}
