package web

import (
	"github.com/planb-ruhr/meldestelle/reporting"
)

// statsTableView is a table ready to show: every text translated.
type statsTableView struct {
	ID      string
	Title   string
	PerCase bool
	Cols    []string // column headings of a cross table
	Rows    []statsRowView
	Totals  []string // column totals of a cross table
	Total   string
	Chart   *statsChart // one-dimensional tables only
}

type statsRowView struct {
	Label  string
	Cells  []string
	Shares []string // one-dimensional tables
	Total  string   // cross tables
}

// statsChart is a horizontal bar chart as SVG geometry.
type statsChart struct {
	Title         string
	Width, Height int
	Bars          []statsBar
}

type statsBar struct {
	Label      string
	Value      string
	Y, TextY   int
	BarX, BarW int
	ValueX     int
}

// Chart geometry: labels on the left, bars from labelWidth.
const (
	chartLabelWidth = 360
	chartBarMax     = 220
	chartRow        = 22
)

// statsViews translates the tables; public pages use the public labels.
func (s *Server) statsViews(lang string, st reporting.Statistics, public bool) []statsTableView {
	t := func(id string, data map[string]any) string { return s.tr.T(lang, id, data) }
	// Counts and shares in the page language's CLDR format: 1.234 and
	// 12,5 % in German, %12,5 in Turkish; "<5" and "x" stay as they are.
	number := func(n int) string { return s.tr.Number(lang, n) }
	cell := func(c reporting.Cell) string { return reporting.CellTextIn(c, st.K, number) }
	share := func(c reporting.Cell) string {
		if c.Suppressed || c.Secondary {
			return "–"
		}
		return s.tr.Percent(lang, c.Share)
	}
	label := func(dim, code string) string {
		switch {
		case dim == "year":
			return code
		case code == reporting.Undecided:
			return t("stats.undecided", nil)
		}
		return t(reporting.StatsDimLabel(dim, public)+"."+code, nil)
	}
	prefix := "stats.table."
	if public {
		prefix = "statistics.table."
	}
	var out []statsTableView
	for _, tb := range st.Tables {
		v := statsTableView{ID: tb.ID, Title: t(prefix+tb.ID, nil), PerCase: tb.PerCase,
			Total: cell(tb.Total)}
		for _, col := range tb.Cols {
			v.Cols = append(v.Cols, label(tb.ColDim, col))
		}
		for _, c := range tb.ColTotals {
			v.Totals = append(v.Totals, cell(c))
		}
		maxN := 1
		for i, code := range tb.Rows {
			r := statsRowView{Label: label(tb.RowDim, code)}
			for _, c := range tb.Cells[i] {
				r.Cells = append(r.Cells, cell(c))
				if tb.ColDim == "" {
					r.Shares = append(r.Shares, share(c))
					maxN = max(maxN, c.Count)
				}
			}
			if tb.ColDim != "" {
				r.Total = cell(tb.RowTotals[i])
			}
			v.Rows = append(v.Rows, r)
		}
		if tb.ColDim == "" && !public {
			ch := &statsChart{Title: t("stats.chart", map[string]any{"Table": v.Title}),
				Width: chartLabelWidth + chartBarMax + 50, Height: len(tb.Rows)*chartRow + 4}
			for i, c := range tb.Cells {
				b := statsBar{Label: v.Rows[i].Label, Value: v.Rows[i].Cells[0], Y: i*chartRow + 4, TextY: i*chartRow + 18, BarX: chartLabelWidth}
				if !c[0].Suppressed {
					// Suppressed cells get no bar: its length would give
					// the hidden count away.
					b.BarW = c[0].Count * chartBarMax / maxN
				}
				b.ValueX = chartLabelWidth + b.BarW + 6
				ch.Bars = append(ch.Bars, b)
			}
			v.Chart = ch
		}
		out = append(out, v)
	}
	return out
}
