package reporting_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// randomClassification is a valid triage form with random codes: one to
// a few grounds with some of their sub-grounds, one or two areas, some
// forms and interventions, and the single codes sometimes left undecided.
func randomClassification(rng *rand.Rand) reporting.ClassificationForm {
	f := reporting.ClassificationForm{
		Municipality: reporting.Municipalities[rng.IntN(len(reporting.Municipalities))],
		Grounds:      grounds(rng),
		Areas:        []string{reporting.Areas[rng.IntN(len(reporting.Areas))]},
		Forms:        pick(rng, reporting.Forms, 2),
		ReporterRole: reporting.ReporterRoles[rng.IntN(len(reporting.ReporterRoles))],
	}
	if rng.IntN(3) == 0 {
		f.Areas = append(f.Areas, reporting.Areas[rng.IntN(len(reporting.Areas))])
	}
	for _, g := range f.Grounds {
		f.Subgrounds = append(f.Subgrounds, pick(rng, reporting.SubgroundsOf[g], 2)...)
	}
	if rng.IntN(2) == 0 {
		f.Interventions = pick(rng, reporting.Interventions, 2)
	}
	if rng.IntN(3) > 0 {
		f.IncidentType = reporting.IncidentTypes[rng.IntN(len(reporting.IncidentTypes))]
	}
	if rng.IntN(3) > 0 {
		f.AGGRelevant = reporting.AGGRelevance[rng.IntN(len(reporting.AGGRelevance))]
	}
	if rng.IntN(2) == 0 {
		f.IncidentDate = fmt.Sprintf("%d-%02d", 2023+rng.IntN(3), 1+rng.IntN(12))
	}
	return f
}

// wantCountsMatchRecords recomputes the statistics of every year from
// the records themselves (the old way: reporting.YearStatisticsFromRecords)
// and compares them with what the aggregate counts give: the raw counts
// of every dimension and pair, and every published table cell by cell,
// at the smallest k (most cells shown) and the default one.
func wantCountsMatchRecords(t *testing.T, e *env, raw *sql.DB, step string) {
	t.Helper()
	ctx := t.Context()
	records := map[int][]reporting.StatRecord{}
	for y := 2023; y <= 2027; y++ {
		if err := e.db.StatisticalRecords(ctx, y, func(r reporting.StatRecord) error {
			records[y] = append(records[y], r)
			return nil
		}); err != nil {
			t.Fatalf("%s: StatisticalRecords(%d): %v", step, y, err)
		}
	}
	// A count back at 0 must go: a withdrawn report leaves no row saying
	// that a case with its codes existed.
	var zeros int
	if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM stat_counts WHERE n <= 0`).Scan(&zeros); err != nil || zeros != 0 {
		t.Fatalf("%s: %d counts of 0 or less left in stat_counts (%v)", step, zeros, err)
	}
	for y := 2024; y <= 2027; y++ {
		kept, err := e.db.StatCounts(ctx, y, y)
		if err != nil {
			t.Fatalf("%s: StatCounts(%d): %v", step, y, err)
		}
		if got, want := countMap(kept), countMap(reporting.StatCountsOf(y, records[y])); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the counts kept for %d differ from the records':\n%s", step, y, countDiff(got, want))
		}
		for _, k := range []int{reporting.MinStatsK, reporting.StatsK} {
			got, err := reporting.YearStatistics(ctx, e.db, y, k)
			if err != nil {
				t.Fatalf("%s: YearStatistics(%d): %v", step, y, err)
			}
			want := reporting.YearStatisticsFromRecords(y, k, records[y], records[y-1])
			wantSameStatistics(t, fmt.Sprintf("%s, %d, k=%d", step, y, k), got, want)
		}
	}
}

// countMap keys the non-zero counts by year, dimension and codes.
func countMap(counts []reporting.StatCount) map[string]int {
	m := map[string]int{}
	for _, c := range counts {
		if c.N != 0 {
			m[fmt.Sprintf("%d/%s/%s/%s", c.Year, c.Dim, c.Code, c.Code2)] += c.N
		}
	}
	return m
}

func countDiff(got, want map[string]int) string {
	var b strings.Builder
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range got {
			if !yield(k) {
				return
			}
		}
		for k := range want {
			if _, dup := got[k]; !dup && !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		if got[k] != want[k] {
			fmt.Fprintf(&b, "  %s: kept %d, records %d\n", k, got[k], want[k])
		}
	}
	return b.String()
}

// wantSameStatistics compares two years' statistics table by table and
// cell by cell, naming the first cell that differs.
func wantSameStatistics(t *testing.T, what string, got, want reporting.Statistics) {
	t.Helper()
	if got.Year != want.Year || got.K != want.K || got.Cases != want.Cases || got.PrevCases != want.PrevCases || len(got.Tables) != len(want.Tables) {
		t.Fatalf("%s: year %d k %d cases %d prev %d, %d tables; the records give %d %d %d %d, %d tables", what,
			got.Year, got.K, got.Cases, got.PrevCases, len(got.Tables), want.Year, want.K, want.Cases, want.PrevCases, len(want.Tables))
	}
	for i, gt := range got.Tables {
		wt := want.Tables[i]
		for r := range wt.Cells {
			for c := range wt.Cells[r] {
				if r >= len(gt.Cells) || c >= len(gt.Cells[r]) || gt.Cells[r][c] != wt.Cells[r][c] {
					t.Fatalf("%s: table %s cell %s/%d differs from the records'", what, wt.ID, wt.Rows[r], c)
				}
			}
		}
		if !reflect.DeepEqual(gt, wt) {
			t.Fatalf("%s: table %s (totals, margins, labels) differs from the records':\n%+v\n%+v", what, wt.ID, gt, wt)
		}
	}
}

// The aggregate counts agree with the records, cell by cell, after
// random triage across three years of reports, re-classifications,
// closings, transfers, withdrawals and the retention sweep, each made
// through the real services on a real database.
func TestStatCountsFollowEveryChange(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	in := e.intake(t)
	other, _ := e.addTeam(t, "Zweites Team")
	raw := e.rawDB(t)
	rng := rand.New(rand.NewPCG(14, 3))
	ctx := t.Context()

	// Reports received over three years, so that each year has a year
	// before it to compare with.
	var receipts []string
	for range 45 {
		e.clock.t = time.Date(2024+rng.IntN(3), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 9, 0, 0, 0, time.UTC)
		if e.clock.t.After(today) {
			e.clock.t = today
		}
		_, rc := submit(t, in, validForm(), "de")
		receipts = append(receipts, rc.Code.String())
	}
	e.clock.t = today
	_, s := e.login(t)
	cases, _, err := e.cases.Cases(ctx, s, reporting.Page{Limit: 1000})
	if err != nil || len(cases) != len(receipts) {
		t.Fatalf("Cases: %d, %v", len(cases), err)
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = c.ID
	}
	wantCountsMatchRecords(t, e, raw, "intake (no record yet)")

	classify := func(id, step string) {
		t.Helper()
		if err := e.cases.Classify(ctx, s, id, randomClassification(rng)); err != nil {
			t.Fatalf("%s: Classify: %v", step, err)
		}
		wantCountsMatchRecords(t, e, raw, step)
	}
	for i, id := range ids {
		if i%6 != 5 { // some stay untriaged
			classify(id, fmt.Sprintf("triage %d", i))
		}
	}
	for n := range 15 {
		classify(ids[rng.IntN(len(ids))], fmt.Sprintf("re-classification %d", n))
	}
	// The same codes again: nothing may count twice.
	c0, err := e.cases.CaseFile(ctx, s, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if c0.Classification != nil {
		if err := e.cases.Classify(ctx, s, ids[0], c0.Form); err != nil {
			t.Fatalf("unchanged re-save: %v", err)
		}
		wantCountsMatchRecords(t, e, raw, "unchanged re-save")
	}

	// Closing writes the record's closing columns, which are not counted.
	closed := 0
	for _, id := range ids[:12] {
		if c, err := e.cases.Case(ctx, s, id); err != nil || c.Classification == nil {
			continue // closing needs a record
		}
		for _, to := range []string{reporting.StatusTriage, reporting.StatusClosed} {
			if err := e.cases.ChangeStatus(ctx, s, id, reporting.StatusForm{To: to, ClosingReason: "resolved"}); err != nil {
				t.Fatalf("ChangeStatus to %s: %v", to, err)
			}
		}
		closed++
	}
	if closed == 0 {
		t.Fatal("no case closed")
	}
	wantCountsMatchRecords(t, e, raw, fmt.Sprintf("closing %d cases", closed))

	// Transfers move the case to another team; the statistics do not
	// depend on the team.
	for _, id := range ids[12:18] {
		if _, err := e.cases.Transfer(ctx, s, id, other); err != nil {
			t.Fatalf("Transfer: %v", err)
		}
	}
	wantCountsMatchRecords(t, e, raw, "transfers")

	// Withdrawals delete the report with its record.
	f := reporting.NewFollowup(in, e.clock.Now)
	for n, i := range rng.Perm(len(receipts))[:8] {
		token, err := f.Open(ctx, receipts[i])
		if err != nil {
			t.Fatalf("Followup.Open: %v", err)
		}
		if err := f.Withdraw(ctx, token); err != nil {
			t.Fatalf("Withdraw: %v", err)
		}
		wantCountsMatchRecords(t, e, raw, fmt.Sprintf("withdrawal %d", n))
	}
	before, err := reporting.YearStatistics(ctx, e.db, today.Year(), reporting.MinStatsK)
	if err != nil {
		t.Fatal(err)
	}

	// The retention sweep deletes the content of the cases still new and
	// keeps their records: the statistics stay as they were.
	swept, err := e.retention.RetentionSweep(ctx, today.AddDate(0, reporting.DefaultRetentionNewMonths, 1))
	if err != nil || swept == 0 {
		t.Fatalf("RetentionSweep: %d swept, %v", swept, err)
	}
	wantCountsMatchRecords(t, e, raw, "retention sweep")
	after, err := reporting.YearStatistics(ctx, e.db, today.Year(), reporting.MinStatsK)
	if err != nil {
		t.Fatal(err)
	}
	wantSameStatistics(t, "before and after the retention sweep", after, before)
	if before.Cases == 0 {
		t.Fatal("no case of this year counted at all: the comparison above proves nothing")
	}
}

// Stats.Statistics names its operation once: "statistics: storage: …",
// not "statistics: count statistics: …".
func TestStatisticsErrorNamesOneOperation(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, s := e.login(t)
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := e.stats.Statistics(context.Background(), s, today.Year())
	if err == nil || !strings.HasPrefix(err.Error(), "statistics: storage: ") {
		t.Errorf("error %q, want one operation name before the store's", err)
	}
	err = e.stats.PublishStatistics(context.Background(), s, today.Year())
	if err == nil || !strings.HasPrefix(err.Error(), "publish statistics: storage: ") {
		t.Errorf("error %q, want one operation name before the store's", err)
	}
}
