package reporting

import (
	"math/big"
	"slices"
)

// Suppress decides which cells of a table of counts are published as "<k"
// instead of their value. The table's published margins (row totals, and
// column totals when cols is true) are the true sums; zero cells are
// published as 0.
//
// Primary suppression hides every cell with 1 to k−1 cases: a small count
// can point to one person. Secondary suppression then makes sure no hidden
// value can be worked out from a published total and the other published
// cells: in every row (and, with cols, every column) that holds exactly
// one hidden cell, the smallest published non-zero cell of that line is
// hidden too (a zero only when the line has no other: a hidden zero
// beside one small count leaves their sum equal to the small count),
// until no line has exactly one. A one-dimensional table with a total is
// one row.
//
// It returns a mask of the same shape; it does not change cells.
func Suppress(cells [][]int, k int, cols bool) [][]bool {
	hidden := make([][]bool, len(cells))
	for i, row := range cells {
		hidden[i] = make([]bool, len(row))
		for j, n := range row {
			hidden[i][j] = n >= 1 && n < k
		}
	}
	// hideSmallest hides the smallest published non-zero cell among the
	// given positions, else a zero; ties go to the first, so the result
	// is deterministic.
	hideSmallest := func(pos [][2]int) {
		best := -1
		less := func(a, b int) bool {
			if (a == 0) != (b == 0) {
				return b == 0 // any non-zero before a zero
			}
			return a < b
		}
		for p, ij := range pos {
			if hidden[ij[0]][ij[1]] {
				continue
			}
			if best < 0 || less(cells[ij[0]][ij[1]], cells[pos[best][0]][pos[best][1]]) {
				best = p
			}
		}
		if best >= 0 {
			hidden[pos[best][0]][pos[best][1]] = true
		}
	}
	width := 0
	for _, row := range cells {
		width = max(width, len(row))
	}
	for changed := true; changed; {
		changed = false
		for i, row := range cells {
			var pos [][2]int
			n := 0
			for j := range row {
				pos = append(pos, [2]int{i, j})
				if hidden[i][j] {
					n++
				}
			}
			if n == 1 && len(row) > 1 {
				hideSmallest(pos)
				changed = true
			}
		}
		if !cols {
			continue
		}
		for j := range width {
			var pos [][2]int
			n := 0
			for i := range cells {
				if j < len(cells[i]) {
					pos = append(pos, [2]int{i, j})
					if hidden[i][j] {
						n++
					}
				}
			}
			if n == 1 && len(pos) > 1 {
				hideSmallest(pos)
				changed = true
			}
		}
	}
	return hidden
}

// Protection across the published set of a year (issue 14).
//
// Suppress protects each table against its own margins. But the tables
// of a year share numbers, and an attacker who reads them all can solve
// the linear relations between them together. These are the relations
// that hold exactly (the published set, on the pages, in the annual
// report, in CSV and JSON, is the tables of Statistics and nothing else):
//
//   - a cross table's row and column totals are the sums of its cells and
//     its total the sum of its row totals;
//   - a one-dimensional table of a single-valued dimension (incident
//     type, municipality, reporter role, AGG relevance) adds up to the
//     cases of the year; one of a multi-valued dimension (grounds,
//     sub-grounds, areas, forms, interventions) does not: a case counts
//     once per code, so its cells only bound each other;
//   - the same number appears in several tables: ground g of the ground
//     table is ground_year's cell (g, year) and, since a case has exactly
//     one municipality code, ground_municipality's row total of g; the
//     ground_year column of a year is that year's sum of the grounds and
//     ground_municipality's total; ground_year's column of the year
//     before is the previous year's ground table, and previous_year_cases
//     its cases, as published in its own snapshot.
//
// Ground × area's margins are not the ground or area tables (areas are
// multi-valued), and ground × municipality's column totals are not the
// municipality table (grounds are). Those give only inequalities.
//
// protectAcross writes these relations as linear equations over one
// unknown per distinct number, with every number published anywhere (in
// this year's tables or the previous year's snapshot) known. A hidden
// number is worked out exactly iff its unit vector lies in the row space
// of the equations restricted to the hidden numbers; Gaussian elimination
// over the rationals finds those, with the combination of equations that
// gives each. Then:
//
//  1. A table's total and the cases are never hidden (every share is a
//     count over its table's total, so a share would give it back). A
//     hidden number that these give away even with every other number
//     hidden is shown: hiding it only pretends (see showGivenAway).
//  2. While a hidden number is determined, a published number of this
//     year is hidden that breaks that derivation: one that weighs in the
//     combination and in no combination of published numbers alone
//     (else the equations give it back), preferring one shown in fewer
//     places, a cell before a margin, the smallest non-zero count; if no
//     single number breaks it, the non-zero one the fewest relations give
//     back. Then everything is solved again.
//  3. A number that one table of the year shows is shown in all of them.
//
// Ties go to the number met first, so the same counts always hide the
// same cells; the per-table rule (Suppress) runs first, unchanged.
//
// The guarantee: nobody who knows every published number of the year and
// of the previous year's snapshot, and every exact linear relation
// between them, can work out any hidden number exactly, and no count
// from 1 to k−1 is shown as a cell (a table's total can be small). Its
// limits: the equations know nothing of non-negativity and of the
// inequalities above, so a hidden cell can be narrowed to an interval (a
// hidden pair with a published sum s lies in [0, s]; Suppress's choice of
// non-zero neighbours keeps such a sum from being the small count
// itself), and no interval of width k is promised. Snapshots of earlier
// years are not considered, and a previous snapshot whose counts have
// since changed is treated as the same numbers: the difference between
// its numbers and this year's column of the year before is not protected.
func protectAcross(s *Statistics, before *Statistics) {
	sys := newLinkedSet()
	if before != nil {
		sys.addStatistics(before, false)
	}
	sys.addStatistics(s, true)
	sys.showGivenAway()
	for {
		det := sys.determined()
		if len(det) == 0 {
			break
		}
		hid := false
		for _, d := range det {
			if v := sys.breaker(d); v >= 0 {
				sys.hide(v)
				hid = true
				break
			}
		}
		if !hid {
			// Only the tables' totals and the cases (never hidden) or the
			// previous snapshot give the number away: hiding it would only
			// pretend. It is published, and stays so.
			sys.show(det[0].v)
			sys.fixed[det[0].v] = true
		}
	}
	// A number that one table of the year shows is known: another table
	// hiding it (as its own secondary cell) protects nothing, so every
	// table shows it. A number only the previous snapshot shows stays
	// hidden: its count may have changed since.
	for v := range sys.keys {
		if sys.shown[v] {
			sys.show(v)
		}
	}
}

// showGivenAway publishes the numbers that the never-hidden ones (the
// tables' totals, the cases, the previous snapshot) give away even with
// everything else hidden: hiding them would only pretend. (In grounds by
// year, the year before's sum of grounds is the grand total minus this
// year's, which ground × municipality's total shows.) Hiding more only
// ever makes fewer numbers determined, so every other disclosed number
// can be protected.
func (l *linkedSet) showGivenAway() {
	saved := slices.Clone(l.known)
	for v := range l.known {
		if l.known[v] && !l.fixed[v] && len(l.own[v]) > 0 && l.rank[v] < 3 {
			l.known[v] = false
		}
	}
	det := l.determined()
	copy(l.known, saved)
	for _, d := range det {
		if !l.known[d.v] {
			l.show(d.v)
		}
		l.fixed[d.v] = true
	}
}

// term is one coefficient of an equation.
type term struct{ v, c int }

// linkedSet is the published set as unknowns and equations.
type linkedSet struct {
	index map[string]int
	keys  []string
	value []int     // true count of this year's numbers
	own   [][]*Cell // where this year's tables show the number
	known []bool    // published somewhere
	fixed []bool    // published in the previous snapshot: cannot be hidden
	shown []bool    // published in this year's tables
	rank  []int     // 0 cell, 1 margin, 3 a table's total or the cases: the order in which to hide
	eqs   [][]term
	byVar [][]int // equations of each number
}

func newLinkedSet() *linkedSet { return &linkedSet{index: map[string]int{}} }

// number returns the unknown of a number; c shows it (nil when it is
// published outside a table, like the cases of the year before).
func (l *linkedSet) number(key string, c *Cell, own bool, rank int) int {
	v, ok := l.index[key]
	if !ok {
		v = len(l.keys)
		l.index[key] = v
		l.keys = append(l.keys, key)
		l.value = append(l.value, 0)
		l.own = append(l.own, nil)
		l.known = append(l.known, false)
		l.fixed = append(l.fixed, false)
		l.shown = append(l.shown, false)
		l.rank = append(l.rank, rank)
		l.byVar = append(l.byVar, nil)
	}
	// A table's total and the cases are never hidden, wherever else
	// their number shows.
	if rank == 3 || l.rank[v] == 3 {
		l.rank[v] = 3
	} else {
		l.rank[v] = min(l.rank[v], rank)
	}
	published := c == nil || !c.Suppressed
	if published {
		l.known[v] = true
	}
	if own && published {
		l.shown[v] = true
	}
	if !own && published {
		l.fixed[v] = true
	}
	if own && c != nil {
		l.own[v] = append(l.own[v], c)
		l.value[v] = c.Count
	}
	return v
}

func (l *linkedSet) equation(ts []term) {
	for _, t := range ts {
		l.byVar[t.v] = append(l.byVar[t.v], len(l.eqs))
	}
	l.eqs = append(l.eqs, ts)
}

// numberKey names the number a table shows at row, col ("total" for a
// margin; col "" in a one-dimensional table), so that the same number in
// several tables is one unknown (see protectAcross).
func numberKey(year int, t *StatTable, row, col string) string {
	y := itoa(year)
	switch {
	case t.ColDim == "" && row == "total":
		return y + "|cases"
	case t.ColDim == "":
		return y + "|" + t.ID + "|" + row
	case t.ID == "ground_municipality" && col == "total":
		return y + "|ground|" + row
	case t.ID == "ground_year" && col != "total":
		return col + "|ground|" + row
	}
	return y + "|" + t.ID + "|" + row + "|" + col
}

// addStatistics adds a year's tables: own for the year being protected,
// else a published snapshot.
func (l *linkedSet) addStatistics(s *Statistics, own bool) {
	l.number(itoa(s.Year-1)+"|cases", nil, own, 3)
	for ti := range s.Tables {
		t := &s.Tables[ti]
		if t.ColDim == "" {
			total := l.number(numberKey(s.Year, t, "total", ""), &t.Total, own, 3)
			eq := []term{{total, 1}}
			for i, r := range t.Rows {
				eq = append(eq, term{l.number(numberKey(s.Year, t, r, ""), &t.Cells[i][0], own, 0), -1})
			}
			if !t.PerCase {
				l.equation(eq)
			}
			continue
		}
		if len(t.RowTotals) != len(t.Rows) || len(t.ColTotals) != len(t.Cols) {
			continue
		}
		// A table's total is never hidden: every published share is a
		// count over it, so any share would give it back.
		total := l.number(numberKey(s.Year, t, "total", "total"), &t.Total, own, 3)
		sum := []term{{total, 1}}
		cols := make([][]term, len(t.Cols))
		for j, c := range t.Cols {
			cols[j] = []term{{l.number(numberKey(s.Year, t, "total", c), &t.ColTotals[j], own, 1), 1}}
		}
		for i, r := range t.Rows {
			rt := l.number(numberKey(s.Year, t, r, "total"), &t.RowTotals[i], own, 1)
			sum = append(sum, term{rt, -1})
			row := []term{{rt, 1}}
			for j, c := range t.Cols {
				v := l.number(numberKey(s.Year, t, r, c), &t.Cells[i][j], own, 0)
				row = append(row, term{v, -1})
				cols[j] = append(cols[j], term{v, -1})
			}
			l.equation(row)
		}
		for _, eq := range cols {
			l.equation(eq)
		}
		l.equation(sum)
	}
}

// hide hides a number wherever this year's tables show it.
func (l *linkedSet) hide(v int) {
	for _, c := range l.own[v] {
		c.Suppressed = true
	}
	l.known[v], l.shown[v] = false, false
}

// show publishes a number wherever this year's tables show it.
func (l *linkedSet) show(v int) {
	for _, c := range l.own[v] {
		c.Suppressed = false
	}
	l.known[v], l.shown[v] = true, true
}

// breaker returns the published number of this year to hide so that the
// derivation of d (its equations combined with the weights d.y) no longer
// works: one with a non-zero weight in it, preferring a number shown in
// fewer places, a cell before a margin, a table's total last (never the
// cases), then the smallest non-zero count (a zero only when there is no
// other: a hidden zero beside a small count adds up to it); −1 if none.
func (l *linkedSet) breaker(d solved) int {
	weights := func(y []*big.Rat) map[int]*big.Rat {
		w := map[int]*big.Rat{}
		for r, x := range y {
			if x.Sign() == 0 {
				continue
			}
			for _, t := range l.eqs[d.eqs[r]] {
				if !l.known[t.v] {
					continue
				}
				if w[t.v] == nil {
					w[t.v] = new(big.Rat)
				}
				w[t.v].Add(w[t.v], new(big.Rat).Mul(x, big.NewRat(int64(t.c), 1)))
			}
		}
		return w
	}
	weight := weights(d.y)
	// Hiding v breaks every derivation of d (they are d.y plus any
	// combination in d.null) iff v weighs in d.y and in none of d.null:
	// else a combination of the null space cancels v again.
	conflicts := map[int]int{}
	for _, z := range d.null {
		for v, w := range weights(z) {
			if w.Sign() != 0 {
				conflicts[v]++
			}
		}
	}
	if pick := l.best(weight, conflicts, true); pick >= 0 {
		return pick
	}
	// No single number breaks it: hide a non-zero one that the fewest
	// other relations give back, and solve again.
	return l.best(weight, conflicts, false)
}

// best returns the number to hide among those with a non-zero weight:
// with exact, only one without conflicts, else preferring non-zero counts
// and the fewest conflicts; −1 if none.
func (l *linkedSet) best(weight map[int]*big.Rat, conflicts map[int]int, exact bool) int {
	best := -1
	better := func(a, b int) bool {
		if !exact {
			if (l.value[a] == 0) != (l.value[b] == 0) {
				return l.value[b] == 0
			}
			if conflicts[a] != conflicts[b] {
				return conflicts[a] < conflicts[b]
			}
		}
		if len(l.own[a]) != len(l.own[b]) {
			return len(l.own[a]) < len(l.own[b])
		}
		if l.rank[a] != l.rank[b] {
			return l.rank[a] < l.rank[b]
		}
		if (l.value[a] == 0) != (l.value[b] == 0) {
			return l.value[b] == 0
		}
		if l.value[a] != l.value[b] {
			return l.value[a] < l.value[b]
		}
		return a < b
	}
	for v, w := range weight {
		if w.Sign() == 0 || exact && conflicts[v] > 0 || l.fixed[v] || len(l.own[v]) == 0 || l.rank[v] >= 3 {
			continue
		}
		if best < 0 || better(v, best) {
			best = v
		}
	}
	return best
}

// solved is a hidden number the equations give away: the weights y of
// the equations eqs whose combination is that number alone (over the
// hidden ones).
type solved struct {
	v    int
	eqs  []int
	y    []*big.Rat
	null [][]*big.Rat // the combinations of the equations that leave no hidden number
}

// determined returns the hidden numbers the equations give away, in the
// order they were met.
func (l *linkedSet) determined() []solved {
	col := map[int]int{}
	var hidden, eqs []int
	var rows [][]term
	for e, eq := range l.eqs {
		var row []term
		for _, t := range eq {
			if l.known[t.v] {
				continue // a published number is a constant
			}
			c, ok := col[t.v]
			if !ok {
				c = len(hidden)
				col[t.v] = c
				hidden = append(hidden, t.v)
			}
			row = append(row, term{c, t.c})
		}
		// An equation of published numbers only stays: it is what
		// gives a number away as soon as that number alone is hidden.
		rows = append(rows, row)
		eqs = append(eqs, e)
	}
	out := solvedColumns(rows, len(hidden))
	for i := range out {
		out[i].v = hidden[out[i].v]
		out[i].eqs = eqs
	}
	slices.SortFunc(out, func(a, b solved) int { return a.v - b.v })
	return out
}

// solvedColumns returns the columns whose unit vector lies in the row
// space of the sparse integer rows over n columns (the unknowns these
// equations fix, v a column here), each with the weights of the rows
// that give it. It reduces the rows, with the identity beside them to
// keep the weights, to reduced row echelon form exactly: in int64 while
// the numbers stay small (they do for sums of counts), in math/big
// otherwise.
func solvedColumns(rows [][]term, n int) []solved {
	if out, ok := solvedColumnsInt(rows, n); ok {
		return out
	}
	return solvedColumnsBig(rows, n)
}

func solvedColumnsInt(rows [][]term, n int) ([]solved, bool) {
	w := n + len(rows)
	m := make([][]int64, len(rows))
	for i, r := range rows {
		m[i] = make([]int64, w)
		for _, t := range r {
			m[i][t.v] += int64(t.c)
		}
		m[i][n+i] = 1
	}
	const limit = 1 << 30
	pivots := map[int]int{} // row → column
	pr := 0
	for c := 0; c < n && pr < len(m); c++ {
		r := pr
		for r < len(m) && m[r][c] == 0 {
			r++
		}
		if r == len(m) {
			continue
		}
		m[pr], m[r] = m[r], m[pr]
		p := m[pr][c]
		for i := range m {
			a := m[i][c]
			if i == pr || a == 0 {
				continue
			}
			var g int64
			for j := range m[i] {
				x := m[i][j]*p - m[pr][j]*a
				if x > limit || x < -limit {
					return nil, false
				}
				m[i][j] = x
				g = gcd(g, x)
			}
			if g > 1 {
				for j := range m[i] {
					m[i][j] /= g
				}
			}
		}
		pivots[pr] = c
		pr++
	}
	var out []solved
	for r := range pr {
		nz := 0
		for _, x := range m[r][:n] {
			if x != 0 {
				nz++
			}
		}
		if nz == 1 {
			c := pivots[r]
			y := make([]*big.Rat, len(rows))
			for e := range y {
				y[e] = big.NewRat(m[r][n+e], m[r][c])
			}
			out = append(out, solved{v: c, y: y})
		}
	}
	var null [][]*big.Rat
	for r := pr; r < len(m); r++ {
		z := make([]*big.Rat, len(rows))
		for e := range z {
			z[e] = big.NewRat(m[r][n+e], 1)
		}
		null = append(null, z)
	}
	for i := range out {
		out[i].null = null
	}
	return out, true
}

func gcd(a, b int64) int64 {
	if a < 0 {
		a = -a
	}
	if b < 0 {
		b = -b
	}
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func solvedColumnsBig(rows [][]term, n int) []solved {
	w := n + len(rows)
	m := make([][]*big.Rat, len(rows))
	for i, r := range rows {
		m[i] = make([]*big.Rat, w)
		for j := range m[i] {
			m[i][j] = new(big.Rat)
		}
		for _, t := range r {
			m[i][t.v].Add(m[i][t.v], big.NewRat(int64(t.c), 1))
		}
		m[i][n+i].SetInt64(1)
	}
	pivots := map[int]int{}
	pr := 0
	f, x := new(big.Rat), new(big.Rat)
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
			if i == pr || m[i][c].Sign() == 0 {
				continue
			}
			f.Quo(m[i][c], m[pr][c])
			for j := range m[i] {
				m[i][j].Sub(m[i][j], x.Mul(f, m[pr][j]))
			}
		}
		pivots[pr] = c
		pr++
	}
	var out []solved
	for r := range pr {
		nz := 0
		for _, v := range m[r][:n] {
			if v.Sign() != 0 {
				nz++
			}
		}
		if nz == 1 {
			c := pivots[r]
			y := make([]*big.Rat, len(rows))
			for e := range y {
				y[e] = new(big.Rat).Quo(m[r][n+e], m[r][c])
			}
			out = append(out, solved{v: c, y: y})
		}
	}
	var null [][]*big.Rat
	for r := pr; r < len(m); r++ {
		null = append(null, m[r][n:])
	}
	for i := range out {
		out[i].null = null
	}
	return out
}
