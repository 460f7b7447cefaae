package reporting_test

import (
	"context"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// recoverable plays the attacker: knowing the published cells and the
// published row (and column) totals, it repeatedly solves every line with
// exactly one unknown cell, and returns the suppressed cells it learns.
func recoverable(cells [][]int, hidden [][]bool, cols bool) [][2]int {
	unknown := make([][]bool, len(cells))
	for i := range hidden {
		unknown[i] = append([]bool(nil), hidden[i]...)
	}
	var found [][2]int
	for changed := true; changed; {
		changed = false
		for i := range cells {
			n, at := 0, -1
			for j := range cells[i] {
				if unknown[i][j] {
					n, at = n+1, j
				}
			}
			if n == 1 && len(cells[i]) > 0 {
				// total − the known cells gives it
				unknown[i][at], changed = false, true
				found = append(found, [2]int{i, at})
			}
		}
		if !cols || len(cells) == 0 {
			continue
		}
		for j := range cells[0] {
			n, at := 0, -1
			for i := range cells {
				if unknown[i][j] {
					n, at = n+1, i
				}
			}
			if n == 1 {
				unknown[at][j], changed = false, true
				found = append(found, [2]int{at, j})
			}
		}
	}
	return found
}

// For hundreds of random tables, one- and two-dimensional, with many small
// counts: every cell of 1 to k−1 is suppressed, no suppressed cell can be
// recovered from the totals, and large cells stay published.
func TestSuppressionProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 5))
	for n := range 600 {
		k := 3 + rng.IntN(5)
		rows, cols := 1+rng.IntN(10), 1+rng.IntN(11)
		two := n%3 != 0
		if !two {
			rows = 1
		}
		cells := make([][]int, rows)
		for i := range cells {
			cells[i] = make([]int, cols)
			for j := range cells[i] {
				switch rng.IntN(4) {
				case 0:
					cells[i][j] = 0
				case 1:
					cells[i][j] = 1 + rng.IntN(k-1)
				default:
					cells[i][j] = rng.IntN(60)
				}
			}
		}
		hidden := reporting.Suppress(cells, k, two)
		for i := range cells {
			for j, v := range cells[i] {
				if v >= 1 && v < k && !hidden[i][j] {
					t.Fatalf("table %d (k=%d): cell %d,%d = %d published", n, k, i, j, v)
				}
			}
		}
		// A line of one cell is its own total: it cannot be protected
		// without hiding the total, so such tables are not built (every
		// cross table has at least two rows and columns).
		if (two && (rows < 2 || cols < 2)) || cols < 2 {
			continue
		}
		if got := recoverable(cells, hidden, two); len(got) > 0 {
			t.Fatalf("table %d (k=%d) %v: suppressed cells %v recoverable from the totals\nmask %v", n, k, cells, got, hidden)
		}
	}
}

// A simple case by hand: one small cell in a row hides the next smallest
// of that row, and the column of that one in turn.
func TestSuppressSecondary(t *testing.T) {
	cells := [][]int{
		{2, 10, 20},
		{30, 40, 50},
	}
	hidden := reporting.Suppress(cells, 5, true)
	want := [][]bool{{true, true, false}, {true, true, false}}
	for i := range want {
		for j := range want[i] {
			if hidden[i][j] != want[i][j] {
				t.Fatalf("mask %v, want %v", hidden, want)
			}
		}
	}
	// One-dimensional: one small cell takes the smallest other non-zero
	// one (hiding the 0 would leave the hidden pair summing to the 3).
	one := reporting.Suppress([][]int{{7, 0, 3, 9}}, 5, false)[0]
	if !one[0] || one[1] || !one[2] || one[3] {
		t.Errorf("1-D mask %v, want the 7 and the 3 hidden", one)
	}
	// With nothing else, a zero.
	if z := reporting.Suppress([][]int{{3, 0, 0}}, 5, false)[0]; !z[0] || !z[1] || z[2] {
		t.Errorf("1-D mask %v, want the 3 and the first 0 hidden", z)
	}
	if reporting.CheckStatsK(2) == nil || reporting.CheckStatsK(3) != nil {
		t.Error("k below 3 must be refused, 3 accepted")
	}
}

// fakeStats serves random records by year.
type fakeStats struct {
	reporting.StatisticsStore
	byYear    map[int][]reporting.StatRecord
	published map[int][]byte // JSON snapshots by year
}

func (f fakeStats) StatisticalRecords(_ context.Context, year int, fn func(reporting.StatRecord) error) error {
	for _, r := range f.byYear[year] {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// PublishedStatistics serves the snapshots in published, if any.
func (f fakeStats) PublishedStatistics(_ context.Context, year int) (reporting.PublishedStatistics, error) {
	if b, ok := f.published[year]; ok {
		return reporting.PublishedStatistics{Year: year, JSON: b}, nil
	}
	return reporting.PublishedStatistics{}, reporting.Errorf(reporting.ENotFound, "error.not_found")
}

// StatCounts serves the records' aggregate counts, as the store keeps them.
func (f fakeStats) StatCounts(_ context.Context, from, to int) ([]reporting.StatCount, error) {
	var out []reporting.StatCount
	for y := from; y <= to; y++ {
		out = append(out, reporting.StatCountsOf(y, f.byYear[y])...)
	}
	return out, nil
}

// grounds picks one to a few distinct grounds, as a record holds them.
func grounds(rng *rand.Rand) []string {
	g := pick(rng, reporting.Grounds, 1)
	if len(g) == 0 {
		g = []string{reporting.Grounds[rng.IntN(3)]}
	}
	return g
}

func pick(rng *rand.Rand, vocab []string, n int) []string {
	var out []string
	for _, c := range vocab {
		if rng.IntN(len(vocab)) < n {
			out = append(out, c)
		}
	}
	return out
}

// For random years of records: every published count and total is the
// true one, every share is the true count over the true total, nothing
// below k is published, and no hidden cell of a cross table can be
// recovered from its published margins.
func TestYearStatisticsConsistent(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 2026))
	for round := range 40 {
		f := fakeStats{byYear: map[int][]reporting.StatRecord{}}
		for _, y := range []int{2025, 2026} {
			for range rng.IntN(120) {
				f.byYear[y] = append(f.byYear[y], reporting.StatRecord{
					Municipality: reporting.Municipalities[rng.IntN(len(reporting.Municipalities))],
					Grounds:      grounds(rng),
					Areas:        []string{reporting.Areas[rng.IntN(len(reporting.Areas))]},
					ReporterRole: reporting.ReporterRoles[rng.IntN(len(reporting.ReporterRoles))],
				})
			}
		}
		k := 3 + round%4
		st, err := reporting.YearStatistics(context.Background(), f, 2026, k)
		if err != nil {
			t.Fatal(err)
		}
		recs := f.byYear[2026]
		if st.Cases != len(recs) {
			t.Fatalf("cases %d, want %d", st.Cases, len(recs))
		}
		// True counts of the municipality table and ground × municipality.
		mun := map[string]int{}
		gm := map[[2]string]int{}
		for _, r := range recs {
			mun[r.Municipality]++
			seen := map[string]bool{}
			for _, g := range r.Grounds {
				if !seen[g] { // a ground counts once per case
					seen[g] = true
					gm[[2]string{g, r.Municipality}]++
				}
			}
		}
		tb, _ := st.Table("municipality")
		for i, code := range tb.Rows {
			c, n := tb.Cells[i][0], mun[code]
			if (n >= 1 && n < k) != c.Suppressed && !c.Suppressed {
				t.Fatalf("municipality %s = %d published", code, n)
			}
			if !c.Suppressed && (c.Count != n || c.Share != float64(n)*100/float64(len(recs))) {
				t.Fatalf("municipality %s: %+v, true %d of %d", code, c, n, len(recs))
			}
		}
		if tb.Total.Count != len(recs) {
			t.Fatalf("total %d, want %d", tb.Total.Count, len(recs))
		}
		x, _ := st.Table("ground_municipality")
		cells := make([][]int, len(x.Rows))
		hidden := make([][]bool, len(x.Rows))
		sum := 0
		for i, g := range x.Rows {
			for j, m := range x.Cols {
				n := gm[[2]string{g, m}]
				cells[i] = append(cells[i], n)
				hidden[i] = append(hidden[i], x.Cells[i][j].Suppressed)
				sum += n
				if c := x.Cells[i][j]; !c.Suppressed && c.Count != n || c.Suppressed && c.Count != 0 || n >= 1 && n < k && !c.Suppressed {
					t.Fatalf("ground × municipality %s/%s: %+v, true %d", g, m, c, n)
				}
			}
		}
		if x.Total.Count != sum {
			t.Fatalf("cross total %d, want %d", x.Total.Count, sum)
		}
		// A margin of the cross table may be hidden now, so the line
		// solver that assumes every margin known no longer fits (issue 14:
		// a margin that is itself disclosed is hidden with a neighbour);
		// the attacker across all tables checks the cells instead.
		a := &attacker{ids: map[string]int{}, known: map[int]*big.Rat{}, hidden: map[int]bool{}}
		a.read(st)
		if got := a.solve(); len(got) > 0 {
			t.Fatalf("round %d: hidden numbers %v worked out\n%v\n%v", round, got, cells, hidden)
		}

	}
}
