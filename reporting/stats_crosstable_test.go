package reporting_test

import (
	"context"
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// attacker knows every published number of a year's statistics and of the
// previous year's snapshot, and the exact linear relations between them:
// each cross table adds up, a one-dimensional table of a single-valued
// dimension adds up to the cases, and the same number appears in several
// tables (ground g = ground_year's (g, year) = ground_municipality's row
// total). It solves them all at once by Gaussian elimination over the
// rationals and returns the hidden numbers it works out, with their
// values.
type attacker struct {
	ids    map[string]int
	names  []string
	known  map[int]*big.Rat
	eqs    [][]int // +1 for the first (the sum), −1 for its parts
	hidden map[int]bool
}

func (a *attacker) id(name string) int {
	if i, ok := a.ids[name]; ok {
		return i
	}
	a.ids[name] = len(a.names)
	a.names = append(a.names, name)
	return len(a.names) - 1
}

// see records one published cell under the name of the number it shows.
func (a *attacker) see(name string, c reporting.Cell) int {
	i := a.id(name)
	if c.Suppressed {
		if a.known[i] == nil {
			a.hidden[i] = true
		}
	} else {
		a.known[i] = big.NewRat(int64(c.Count), 1)
		delete(a.hidden, i)
	}
	return i
}

func (a *attacker) read(s reporting.Statistics) {
	y := strconv.Itoa(s.Year)
	a.known[a.id(strconv.Itoa(s.Year-1)+" cases")] = big.NewRat(int64(s.PrevCases), 1)
	for _, t := range s.Tables {
		name := func(r, c string) string {
			switch {
			case t.ColDim == "" && r == "total":
				return y + " cases"
			case t.ColDim == "" && t.ID == "ground":
				return y + " ground " + r
			case t.ColDim == "":
				return y + " " + t.ID + " " + r
			case t.ID == "ground_municipality" && c == "total":
				return y + " ground " + r
			case t.ID == "ground_year" && c != "total":
				return c + " ground " + r
			}
			return y + " " + t.ID + " " + r + " " + c
		}
		if t.ColDim == "" {
			eq := []int{a.see(name("total", ""), t.Total)}
			for i, r := range t.Rows {
				eq = append(eq, a.see(name(r, ""), t.Cells[i][0]))
			}
			if !t.PerCase {
				a.eqs = append(a.eqs, eq)
			}
			continue
		}
		all := []int{a.see(name("total", "total"), t.Total)}
		for i, r := range t.Rows {
			row := []int{a.see(name(r, "total"), t.RowTotals[i])}
			for j, c := range t.Cols {
				row = append(row, a.see(name(r, c), t.Cells[i][j]))
			}
			a.eqs = append(a.eqs, row)
			all = append(all, row[0])
		}
		a.eqs = append(a.eqs, all)
		for j, c := range t.Cols {
			col := []int{a.see(name("total", c), t.ColTotals[j])}
			for _, r := range t.Rows {
				col = append(col, a.id(name(r, c)))
			}
			a.eqs = append(a.eqs, col)
		}
	}
}

// solve returns the hidden numbers the equations fix, with their values.
func (a *attacker) solve() map[string]*big.Rat {
	var unknown []int
	col := map[int]int{}
	for i := range a.names {
		if a.known[i] == nil {
			col[i] = len(unknown)
			unknown = append(unknown, i)
		}
	}
	n := len(unknown)
	var m [][]*big.Rat // n coefficients and the right-hand side
	for _, eq := range a.eqs {
		row := make([]*big.Rat, n+1)
		for j := range row {
			row[j] = new(big.Rat)
		}
		for p, v := range eq {
			sign := big.NewRat(-1, 1)
			if p == 0 {
				sign = big.NewRat(1, 1)
			}
			if c, ok := col[v]; ok {
				row[c].Add(row[c], sign)
			} else {
				row[n].Sub(row[n], new(big.Rat).Mul(sign, a.known[v]))
			}
		}
		m = append(m, row)
	}
	pr := 0
	pivot := map[int]int{}
	for c := 0; c < n && pr < len(m); c++ {
		r := pr
		for r < len(m) && m[r][c].Sign() == 0 {
			r++
		}
		if r == len(m) {
			continue
		}
		m[pr], m[r] = m[r], m[pr]
		for i := range m {
			if i != pr && m[i][c].Sign() != 0 {
				f := new(big.Rat).Quo(m[i][c], m[pr][c])
				for j := range m[i] {
					m[i][j].Sub(m[i][j], new(big.Rat).Mul(f, m[pr][j]))
				}
			}
		}
		pivot[pr] = c
		pr++
	}
	out := map[string]*big.Rat{}
	for r := range pr {
		nz := 0
		for _, x := range m[r][:n] {
			if x.Sign() != 0 {
				nz++
			}
		}
		if v := unknown[pivot[r]]; nz == 1 && a.hidden[v] {
			out[a.names[v]] = new(big.Rat).Quo(m[r][n], m[r][pivot[r]])
		}
	}
	return out
}

// randomYear is a skewed year of records: a few big municipalities and
// grounds, many small ones.
func randomYear(rng *rand.Rand) []reporting.StatRecord {
	skew := func(vocab []string) string {
		i := int(rng.ExpFloat64() * float64(len(vocab)) / 4)
		return vocab[min(i, len(vocab)-1)]
	}
	var out []reporting.StatRecord
	for range 10 + rng.IntN(300) {
		r := reporting.StatRecord{
			Municipality: skew(reporting.Municipalities),
			Grounds:      []string{skew(reporting.Grounds)},
			Areas:        []string{skew(reporting.Areas)},
			ReporterRole: skew(reporting.ReporterRoles),
			IncidentType: skew(reporting.IncidentTypes),
		}
		if rng.IntN(4) == 0 {
			if g := skew(reporting.Grounds); g != r.Grounds[0] {
				r.Grounds = append(r.Grounds, g)
			}
		}
		out = append(out, r)
	}
	return out
}

// The cross-table attacker (issue 14): for many random years, published
// beside the previous year's snapshot, no hidden number of the year can
// be worked out from all published numbers together; without the
// protection across tables (each table protected on its own, as before),
// the same attacker works out hidden cells, so the test can fail.
func TestCrossTableAttacker(t *testing.T) {
	t.Parallel()
	disclosedWithout, checked := 0, 0
	for seed := range 60 {
		rng := rand.New(rand.NewPCG(uint64(seed), 14))
		k := 3 + seed%4
		recs := map[int][]reporting.StatRecord{}
		for y := 2024; y <= 2026; y++ {
			recs[y] = randomYear(rng)
		}
		f := fakeStats{byYear: recs, published: map[int][]byte{}}
		prev, err := reporting.YearStatistics(context.Background(), f, 2025, k)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(prev)
		f.published[2025] = b
		for _, protect := range []bool{true, false} {
			var st reporting.Statistics
			if protect {
				st, err = reporting.YearStatistics(context.Background(), f, 2026, k)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				st = reporting.YearStatisticsFromRecordsPerTable(2026, k, recs[2026], recs[2025])
			}
			a := &attacker{ids: map[string]int{}, known: map[int]*big.Rat{}, hidden: map[int]bool{}}
			a.read(prev)
			a.read(st)
			got := a.solve()
			if protect {
				// Showing a number in every table, or what the totals give
				// away, must never show a small cell.
				for _, tb := range st.Tables {
					for i := range tb.Cells {
						for j, c := range tb.Cells[i] {
							if !c.Suppressed && c.Count >= 1 && c.Count < k {
								t.Fatalf("seed %d (k=%d): %s cell %d,%d = %d shown", seed, k, tb.ID, i, j, c.Count)
							}
						}
					}
				}
			}
			if protect && len(got) > 0 {
				t.Fatalf("seed %d (k=%d): hidden numbers worked out across the tables: %v", seed, k, got)
			}
			if !protect {
				disclosedWithout += len(got)
				// What the attacker works out is the true count: the
				// leak is real, not an artefact of the equations.
				truth := trueCells(recs)
				for name, v := range got {
					if n, ok := truth[name]; ok {
						checked++
						if v.Cmp(big.NewRat(int64(n), 1)) != 0 {
							t.Fatalf("seed %d: attacker says %s = %v, true %d: its equations are wrong", seed, name, v, n)
						}
					}
				}
			}
		}
	}
	if disclosedWithout == 0 || checked == 0 {
		t.Fatal("without the protection across tables the attacker found nothing: the test cannot fail")
	}
	t.Logf("without the protection: %d hidden numbers worked out, %d of them non-zero cells checked against the records", disclosedWithout, checked)
}

// trueCells returns the true count of every cell the attacker names
// ("2026 ground racism", "2026 ground_municipality racism essen", ...),
// counted from the records.
func trueCells(recs map[int][]reporting.StatRecord) map[string]int {
	out := map[string]int{}
	for y, rs := range recs {
		for _, c := range reporting.StatCountsOf(y, rs) {
			name := strconv.Itoa(y) + " " + c.Dim + " " + c.Code
			if c.Dim == "cases" {
				name = strconv.Itoa(y) + " cases"
			}
			if c.Code2 != "" {
				name += " " + c.Code2
			}
			out[name] = c.N
		}
	}
	return out
}
