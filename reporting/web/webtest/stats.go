package webtest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// Published statistics of two years for the public page (issue 14):
// long labels, small and hidden cells, a comparison with the year before
// and a ground × municipality table. StatsYear is the later year.
const StatsYear = 2025

// cell builders: a shown count with its share, "<k", and "x".
func shown(n int, share float64) reporting.Cell { return reporting.Cell{Count: n, Share: share} }

var (
	small  = reporting.Cell{Suppressed: true}
	hidden = reporting.Cell{Suppressed: true, Secondary: true}
)

func oneDim(id string, perCase bool, total int, rows []string, cells ...reporting.Cell) reporting.StatTable {
	t := reporting.StatTable{ID: id, RowDim: id, Rows: rows, PerCase: perCase, Total: reporting.Cell{Count: total}}
	for _, c := range cells {
		t.Cells = append(t.Cells, []reporting.Cell{c})
	}
	return t
}

// StatsFixture returns the two years' published tables.
func StatsFixture() (later, earlier reporting.Statistics) {
	grounds := []string{"racism", "social_status", "gender", "religion", "disability", "age"}
	areas := []string{"goods_services", "authorities", "housing", "health", "work"}
	places := []string{"bochum", "herne", "other_nrw", "outside_nrw", "online"}
	later = reporting.Statistics{Year: StatsYear, K: 5, Cases: 1260, Tables: []reporting.StatTable{
		oneDim("ground", true, 1260, grounds, shown(1234, 97.9), small, hidden, shown(12, 1.0), shown(0, 0), shown(7, 0.6)),
		oneDim("area", true, 1260, areas, shown(640, 50.8), small, shown(9, 0.7), hidden, shown(600, 47.6)),
		oneDim("municipality", false, 1260, places, shown(1200, 95.2), small, shown(8, 0.6), hidden, shown(40, 3.2)),
		{ID: "ground_municipality", RowDim: "ground", ColDim: "municipality", PerCase: true,
			Rows: []string{"racism", "gender"}, Cols: []string{"bochum", "herne", "online"},
			Cells: [][]reporting.Cell{
				{shown(1180, 93.6), small, shown(40, 3.2)},
				{small, small, shown(0, 0)},
			},
			RowTotals: []reporting.Cell{shown(1222, 96.9), hidden},
			ColTotals: []reporting.Cell{shown(1183, 93.8), small, shown(40, 3.2)},
			Total:     reporting.Cell{Count: 1226}},
	}}
	earlier = reporting.Statistics{Year: StatsYear - 1, K: 5, Cases: 930, Tables: []reporting.StatTable{
		oneDim("ground", true, 930, grounds, shown(900, 96.8), shown(6, 0.6), small, hidden, shown(20, 2.2), shown(0, 0)),
		oneDim("area", true, 930, areas, shown(500, 53.8), shown(30, 3.2), small, hidden, shown(390, 41.9)),
		oneDim("municipality", false, 930, places, shown(880, 94.6), small, hidden, shown(0, 0), shown(45, 4.8)),
	}}
	return later, earlier
}

// PublishStatsFixture stores the two years of StatsFixture as published
// snapshots, as the office's "publish" would.
func PublishStatsFixture(t testing.TB, e *Env) {
	t.Helper()
	later, earlier := StatsFixture()
	for _, st := range []reporting.Statistics{earlier, later} {
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.DB.PublishStatistics(t.Context(), reporting.PublishedStatistics{Year: st.Year, PublishedAt: time.Now().UTC(), JSON: b}); err != nil {
			t.Fatal(err)
		}
	}
}
