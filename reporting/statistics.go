package reporting

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// StatisticsStore keeps counts from the statistical records and published snapshots.
type StatisticsStore interface {
	// StatCounts returns the aggregate counts of the statistical records
	// of the cases received in the years from to to (see StatCount),
	// kept up to date in the same transaction as every write of a
	// record, so that a year's statistics never read the records
	// themselves. Zero counts may be left out.
	StatCounts(ctx context.Context, from, to int) ([]StatCount, error)
	// PublishStatistics stores (or replaces) the frozen snapshot of a year.
	PublishStatistics(ctx context.Context, p PublishedStatistics) error
	// PublishedYears lists the published years, newest first.
	PublishedYears(ctx context.Context) ([]int, error)
	// PublishedStatistics returns the snapshot of a year; ENotFound if the
	// year is not published.
	PublishedStatistics(ctx context.Context, year int) (PublishedStatistics, error)
}

// AuditStatsPublish records that an admin published a year's statistics.
const AuditStatsPublish = "stats_publish"

// StatsK is the default smallest count published as a number; smaller
// counts are published as "<k". MinStatsK is the least k accepted: with
// k = 2, "<2" would simply mean 1.
const (
	StatsK    = 5
	MinStatsK = 3
)

// StatRecord is the part of a statistical record that statistics count.
// Empty single codes (not decided yet) are kept as "".
type StatRecord struct {
	Municipality  string
	Grounds       []string
	Subgrounds    []string
	Areas         []string
	Forms         []string
	IncidentType  string
	ReporterRole  string
	AGGRelevant   string
	Interventions []string
}

// StatCount is one aggregate count of the records received in Year: the
// number of records (Dim "cases"), of records with Code in a
// one-dimensional table (Dim is the table's ID; a multi-valued dimension
// counts every code of a record, a single one "" as Undecided), or of the
// pairs Code × Code2 in a cross table (Dim "ground_area",
// "ground_municipality").
type StatCount struct {
	Year        int
	Dim         string
	Code, Code2 string
	N           int
}

// statCases is the Dim of the number of records in StatCount.
const statCases = "cases"

// Undecided is the code under which statistics count a single-valued
// dimension that a counsellor has not decided yet.
const Undecided = "undecided"

// Cell is one published count. A suppressed cell carries no count and
// no share: only the fact that it is below k ("<k"), or, when Secondary,
// that it is hidden so that a small neighbour cannot be worked out
// ("x": its true value may be 0 or at least k).
type Cell struct {
	Count      int     `json:"count"`
	Suppressed bool    `json:"suppressed,omitempty"`
	Secondary  bool    `json:"secondary,omitempty"`
	Share      float64 `json:"share,omitempty"` // percent of the table's total, from the true counts
}

// StatTable is one published table of one or two dimensions.
type StatTable struct {
	ID     string   `json:"id"`
	RowDim string   `json:"row_dimension"`
	ColDim string   `json:"column_dimension,omitempty"` // "" for a one-dimensional table
	Rows   []string `json:"rows"`
	Cols   []string `json:"columns,omitempty"`
	// PerCase is true when a case can count in several rows (several
	// grounds, areas, ...): the cells then add up to more than the total
	// of cases, and the shares to more than 100 %.
	PerCase   bool     `json:"multiple_per_case,omitempty"`
	Cells     [][]Cell `json:"cells"` // [row][col]; one column in a one-dimensional table
	RowTotals []Cell   `json:"row_totals,omitempty"`
	ColTotals []Cell   `json:"column_totals,omitempty"`
	Total     Cell     `json:"total"`
}

// Statistics are the suppressed tables of one year: cases taken on in
// that year, by the year they were received.
type Statistics struct {
	Year      int         `json:"year"`
	K         int         `json:"k"`
	Cases     int         `json:"cases"`
	PrevCases int         `json:"previous_year_cases"`
	Tables    []StatTable `json:"tables"`
}

// Table returns the table with the given ID.
func (s Statistics) Table(id string) (StatTable, bool) {
	i := slices.IndexFunc(s.Tables, func(t StatTable) bool { return t.ID == id })
	if i < 0 {
		return StatTable{}, false
	}
	return s.Tables[i], true
}

// PublishedStatistics is a frozen snapshot of a year's suppressed tables.
type PublishedStatistics struct {
	Year        int
	PublishedAt time.Time
	JSON        []byte // Statistics as JSON: already suppressed
}

// CheckStatsK refuses a k below MinStatsK.
func CheckStatsK(k int) error {
	if k < MinStatsK {
		return Errorf(EInvalid, "error.stats.k")
	}
	return nil
}

// dimension is a countable part of the record.
type dimension struct {
	id    string
	vocab []string
	multi bool
	codes func(StatRecord) []string
}

func single(code string) []string {
	if code == "" {
		return []string{Undecided}
	}
	return []string{code}
}

var statDims = map[string]dimension{
	"ground":        {"ground", Grounds, true, func(r StatRecord) []string { return r.Grounds }},
	"racism":        {"racism", RacismSubgrounds, true, func(r StatRecord) []string { return r.Subgrounds }},
	"area":          {"area", Areas, true, func(r StatRecord) []string { return r.Areas }},
	"form":          {"form", Forms, true, func(r StatRecord) []string { return r.Forms }},
	"incident_type": {"incident_type", append(slices.Clone(IncidentTypes), Undecided), false, func(r StatRecord) []string { return single(r.IncidentType) }},
	"municipality":  {"municipality", Municipalities, false, func(r StatRecord) []string { return single(r.Municipality) }},
	"reporter_role": {"reporter_role", ReporterRoles, false, func(r StatRecord) []string { return single(r.ReporterRole) }},
	"agg":           {"agg", append(slices.Clone(AGGRelevance), Undecided), false, func(r StatRecord) []string { return single(r.AGGRelevant) }},
	"intervention":  {"intervention", Interventions, true, func(r StatRecord) []string { return r.Interventions }},
}

// OneDimTables are the one-dimensional tables, in report order.
var OneDimTables = []string{"ground", "racism", "area", "form", "incident_type", "municipality", "reporter_role", "agg", "intervention"}

// CrossTables are the two-dimensional tables: ground × area and ground ×
// municipality. No table crosses more than two dimensions.
var CrossTables = [][2]string{{"ground", "area"}, {"ground", "municipality"}}

// counter counts one year's records.
type counter struct {
	cases int
	one   map[string]map[string]int
	cross map[[2]string]map[[2]string]int
}

func newCounter() *counter {
	c := &counter{one: map[string]map[string]int{}, cross: map[[2]string]map[[2]string]int{}}
	for _, d := range OneDimTables {
		c.one[d] = map[string]int{}
	}
	for _, x := range CrossTables {
		c.cross[x] = map[[2]string]int{}
	}
	return c
}

// addCount adds an aggregate count; counts of other dimensions are
// ignored.
func (c *counter) addCount(x StatCount) {
	if x.Dim == statCases {
		c.cases += x.N
		return
	}
	if m, ok := c.one[x.Dim]; ok {
		m[x.Code] += x.N
		return
	}
	for _, t := range CrossTables {
		if x.Dim == t[0]+"_"+t[1] {
			c.cross[t][[2]string{x.Code, x.Code2}] += x.N
			return
		}
	}
}

// YearStatistics counts the statistical records of the cases received in
// year and suppresses small cells with k. It reads the aggregate counts
// of the year and the one before (a few hundred rows), never the records.
func YearStatistics(ctx context.Context, store StatisticsStore, year, k int) (Statistics, error) {
	s, err := yearStatistics(ctx, store, year, k)
	return s, opError("count statistics", err)
}

// yearStatistics is YearStatistics without an operation name on its
// error: each caller names its own, once.
func yearStatistics(ctx context.Context, store StatisticsStore, year, k int) (Statistics, error) {
	if err := CheckStatsK(k); err != nil {
		return Statistics{}, err
	}
	if year < 2000 || year > 9999 {
		return Statistics{}, Errorf(EInvalid, "error.stats.year")
	}
	counts, err := store.StatCounts(ctx, year-1, year)
	if err != nil {
		return Statistics{}, err
	}
	cur, prev := newCounter(), newCounter()
	for _, x := range counts {
		switch x.Year {
		case year:
			cur.addCount(x)
		case year - 1:
			prev.addCount(x)
		}
	}
	// The public page may show the year beside the previous published
	// one: its snapshot is part of what an attacker knows, so the year's
	// cells are protected together with it.
	var before *Statistics
	p, err := store.PublishedStatistics(ctx, year-1)
	switch {
	case err == nil:
		var b Statistics
		if err := json.Unmarshal(p.JSON, &b); err != nil {
			return Statistics{}, fmt.Errorf("previous snapshot: %w", err)
		}
		before = &b
	case ErrorCode(err) != ENotFound:
		return Statistics{}, err
	}
	return yearTables(year, k, cur, prev, before, true), nil
}

// yearTables builds the suppressed tables of a year from its counts and
// those of the year before: first every table on its own (Suppress),
// then, when across is true, the whole published set together with the
// previous year's snapshot (protectAcross; false only in the test that
// shows the attack works without it).
func yearTables(year, k int, cur, prev *counter, before *Statistics, across bool) Statistics {
	s := yearTablesRaw(year, k, cur, prev)
	if across {
		protectAcross(&s, before)
	}
	scrub(&s, k)
	return s
}

// yearTablesRaw builds the tables with every table's own suppression
// marked but the true counts still in the hidden cells.
func yearTablesRaw(year, k int, cur, prev *counter) Statistics {
	s := Statistics{Year: year, K: k, Cases: cur.cases, PrevCases: prev.cases}
	for _, id := range OneDimTables {
		d := statDims[id]
		counts := make([][]int, len(d.vocab))
		for i, code := range d.vocab {
			counts[i] = []int{cur.one[id][code]}
		}
		t := oneDim(id, d.vocab, counts, cur.cases, k)
		t.PerCase = d.multi
		s.Tables = append(s.Tables, t)
	}
	for _, x := range CrossTables {
		rows, cols := statDims[x[0]].vocab, statDims[x[1]].vocab
		counts := make([][]int, len(rows))
		for i, a := range rows {
			counts[i] = make([]int, len(cols))
			for j, b := range cols {
				counts[i][j] = cur.cross[x][[2]string{a, b}]
			}
		}
		t := twoDim(x[0]+"_"+x[1], x[0], x[1], rows, cols, counts, k)
		t.PerCase = true
		s.Tables = append(s.Tables, t)
	}
	// The year compared with the one before: grounds by year.
	counts := make([][]int, len(Grounds))
	for i, g := range Grounds {
		counts[i] = []int{prev.one["ground"][g], cur.one["ground"][g]}
	}
	t := twoDim("ground_year", "ground", "year", Grounds, []string{itoa(year - 1), itoa(year)}, counts, k)
	t.PerCase = true
	s.Tables = append(s.Tables, t)
	return s
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func share(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return float64(n) * 100 / float64(total)
}

// oneDim builds a one-dimensional table whose total is the number of
// cases (for a multi-valued dimension not the sum of the cells).
func oneDim(id string, rows []string, counts [][]int, cases, k int) StatTable {
	// One row of cells for Suppress: the total is its margin.
	line := make([]int, len(counts))
	for i, c := range counts {
		line[i] = c[0]
	}
	hidden := Suppress([][]int{line}, k, false)[0]
	t := StatTable{ID: id, RowDim: id, Rows: rows, Total: Cell{Count: cases, Share: share(cases, cases)}}
	for i, n := range line {
		t.Cells = append(t.Cells, []Cell{publish(n, hidden[i], cases, k)})
	}
	return t
}

// twoDim builds a cross table. Its margins and total are the sums of its
// cells (pairs of codes), so that the table adds up; small margins are
// suppressed like cells.
func twoDim(id, rowDim, colDim string, rows, cols []string, counts [][]int, k int) StatTable {
	hidden := Suppress(counts, k, true)
	t := StatTable{ID: id, RowDim: rowDim, ColDim: colDim, Rows: rows, Cols: cols}
	colSum := make([]int, len(cols))
	total := 0
	for _, row := range counts {
		for j, n := range row {
			colSum[j] += n
			total += n
		}
	}
	rowSum := make([]int, len(rows))
	for i, row := range counts {
		var cells []Cell
		for j, n := range row {
			rowSum[i] += n
			cells = append(cells, publish(n, hidden[i][j], total, k))
		}
		t.Cells = append(t.Cells, cells)
	}
	// A margin of 1 to k−1 is a small count too. The margins are lines
	// of their own (they add up to the published grand total), so they
	// get the same primary and secondary suppression as a
	// one-dimensional table. The cells were protected as if every margin
	// were published: hiding some only takes information away.
	rowHidden := Suppress([][]int{rowSum}, k, false)[0]
	for i, n := range rowSum {
		t.RowTotals = append(t.RowTotals, publish(n, rowHidden[i], total, k))
	}
	colHidden := Suppress([][]int{colSum}, k, false)[0]
	for j, n := range colSum {
		t.ColTotals = append(t.ColTotals, publish(n, colHidden[j], total, k))
	}
	t.Total = Cell{Count: total, Share: share(total, total)}
	return t
}

// publish turns a true count into its cell, still with its count: scrub
// removes the counts of the hidden ones once every hidden cell is known.
func publish(n int, hidden bool, total, k int) Cell {
	return Cell{Count: n, Share: share(n, total), Suppressed: hidden}
}

// scrub turns every hidden cell into what is published: a suppressed cell
// keeps neither its count nor its share, so that a snapshot or an export
// cannot leak them.
func scrub(s *Statistics, k int) {
	hide := func(c *Cell) {
		if c.Suppressed {
			// Which hidden cells are small is shown ("<k" or "x"), so that
			// no published figure is false; the secondary cells are
			// non-zero where the line allows, so a hidden pair never
			// simply adds up to the small count.
			*c = Cell{Suppressed: true, Secondary: c.Count == 0 || c.Count >= k}
		}
	}
	for ti := range s.Tables {
		t := &s.Tables[ti]
		for i := range t.Cells {
			for j := range t.Cells[i] {
				hide(&t.Cells[i][j])
			}
		}
		for i := range t.RowTotals {
			hide(&t.RowTotals[i])
		}
		for j := range t.ColTotals {
			hide(&t.ColTotals[j])
		}
		hide(&t.Total)
	}
}

// StatsStore is what the Stats service reads and writes: the statistical
// records and published snapshots, and the audit log of publishing.
// storage.DB implements it.
type StatsStore interface {
	AuditStore
	StatisticsStore
}

// Stats is the statistics service: a year's suppressed tables for the
// office, and their published snapshots for the public page. It reads
// plain codes only and holds no key.
type Stats struct {
	auditor
	store StatsStore
	k     int
}

// NewStats returns the statistics service, which suppresses counts below
// k; a k below MinStatsK is refused, so a bad configuration stops the
// start instead of publishing cells that point to one person.
func NewStats(store StatsStore, k int, now func() time.Time) (*Stats, error) {
	if err := CheckStatsK(k); err != nil {
		return nil, err
	}
	return &Stats{auditor: auditor{log: store, now: now}, store: store, k: k}, nil
}

// Statistics returns the suppressed statistics of a year to an admin or a
// statistician (checked again here: defence in depth).
func (st *Stats) Statistics(ctx context.Context, s *OfficeSession, year int) (Statistics, error) {
	if err := allow(s, PermStatistics); err != nil {
		return Statistics{}, err
	}
	out, err := yearStatistics(ctx, st.store, year, st.k)
	return out, opError("statistics", err)
}

// StatsK returns the k this service suppresses with.
func (st *Stats) StatsK() int { return st.k }

// PublishStatistics freezes the suppressed statistics of a year as a
// snapshot for the public page (admins only). Publishing again replaces
// the snapshot.
func (st *Stats) PublishStatistics(ctx context.Context, s *OfficeSession, year int) error {
	if err := allow(s, PermPublishStatistics); err != nil {
		return err
	}
	counted, err := yearStatistics(ctx, st.store, year, st.k)
	if err != nil {
		return opError("publish statistics", err)
	}
	b, err := json.Marshal(counted)
	if err != nil {
		return opError("publish statistics", err)
	}
	// The statistics are counted above, before the unit: it holds the
	// only writer, and nothing of the count needs it.
	err = st.audited(ctx, s, AuditStatsPublish, "", itoa(year), func(ctx context.Context) error {
		return st.store.PublishStatistics(ctx, PublishedStatistics{Year: year, PublishedAt: st.now().UTC(), JSON: b})
	})
	return opError("publish statistics", err)
}

// PublishedYears lists the published years, newest first (public).
func (st *Stats) PublishedYears(ctx context.Context) ([]int, error) {
	years, err := st.store.PublishedYears(ctx)
	return years, opError("published years", err)
}

// Published returns a published year's frozen statistics (public).
func (st *Stats) Published(ctx context.Context, year int) (Statistics, time.Time, error) {
	p, err := st.store.PublishedStatistics(ctx, year)
	if err != nil {
		return Statistics{}, time.Time{}, opError("published statistics", err)
	}
	var out Statistics
	if err := json.Unmarshal(p.JSON, &out); err != nil {
		return Statistics{}, time.Time{}, opError("published statistics", err)
	}
	return out, p.PublishedAt, nil
}

// StatsDimLabel returns the message ID prefix of a dimension's codes in
// the office (cls.*) or on the public pages.
func StatsDimLabel(dim string, public bool) string {
	if public {
		return dim
	}
	switch dim {
	case "municipality":
		return "municipality"
	case "racism":
		return "cls.subground"
	case "reporter_role":
		return "cls.role"
	case "year":
		return ""
	}
	return "cls." + strings.TrimSuffix(dim, "_")
}
