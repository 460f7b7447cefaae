package reporting

// The tests' oracle for the aggregate counts (issue 14): the statistics
// counted from the records themselves, the way YearStatistics counted
// before the counts were kept in the database.

// add counts one record: every code of a multi-valued dimension, a single
// one's "" as Undecided, every pair of codes of a cross table.
func (c *counter) add(r StatRecord) {
	c.cases++
	for _, d := range OneDimTables {
		m := c.one[d]
		for _, code := range statDims[d].codes(r) {
			m[code]++
		}
	}
	for _, x := range CrossTables {
		m := c.cross[x]
		for _, a := range statDims[x[0]].codes(r) {
			for _, b := range statDims[x[1]].codes(r) {
				m[[2]string{a, b}]++
			}
		}
	}
}

func countRecords(recs []StatRecord) *counter {
	c := newCounter()
	for _, r := range recs {
		c.add(r)
	}
	return c
}

// YearStatisticsFromRecords builds a year's statistics from the records
// of the year and of the year before, counted in Go (tests' oracle).
func YearStatisticsFromRecords(year, k int, cur, prev []StatRecord) Statistics {
	return yearTables(year, k, countRecords(cur), countRecords(prev), nil, true)
}

// StatCountsOf returns the aggregate counts of one year's records, as a
// store keeps them (tests' fakes).
func StatCountsOf(year int, recs []StatRecord) []StatCount {
	c := countRecords(recs)
	out := []StatCount{{Year: year, Dim: statCases, N: c.cases}}
	for dim, m := range c.one {
		for code, n := range m {
			out = append(out, StatCount{Year: year, Dim: dim, Code: code, N: n})
		}
	}
	for x, m := range c.cross {
		for pair, n := range m {
			out = append(out, StatCount{Year: year, Dim: x[0] + "_" + x[1], Code: pair[0], Code2: pair[1], N: n})
		}
	}
	return out
}

// YearStatisticsFromRecordsPerTable is YearStatisticsFromRecords with
// every table protected on its own only, without the protection across
// tables (the attacker test shows what that leaks).
func YearStatisticsFromRecordsPerTable(year, k int, cur, prev []StatRecord) Statistics {
	return yearTables(year, k, countRecords(cur), countRecords(prev), nil, false)
}
