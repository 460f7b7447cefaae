package web

import (
	"html/template"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/chart"
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
	// PrevYear is the previous published year ("" without comparison);
	// PrevTotal its total.
	PrevYear, PrevTotal string
	// Chart is the table drawn as bars (one-dimensional tables only).
	Chart template.HTML
	// UsesSmall and UsesHidden tell whether a cell shows "<k" or "x";
	// ExplainSmall and ExplainHidden are set on the first table that
	// does, which explains the sign next to it.
	UsesSmall, UsesHidden       bool
	ExplainSmall, ExplainHidden bool
	// K and Year are the year's threshold and the year, formatted.
	K, Year string
	// NoShares leaves the share column out.
	NoShares bool
}

type statsRowView struct {
	Label  string
	Cells  []string
	Shares []string // one-dimensional tables
	Prev   string   // the previous year's count, with comparison
	Total  string   // cross tables
}

// statsViews translates the tables; public pages use the public labels.
// With prev (the previous published year, public pages only) the
// one-dimensional tables get a column and a second bar for that year.
func (s *Server) statsViews(lang string, st reporting.Statistics, public bool, prev *reporting.Statistics) []statsTableView {
	t := func(id string, data map[string]any) string { return s.tr.T(lang, id, data) }
	// Counts and shares in the page language's CLDR format: 1.234 and
	// 12,5 % in German, %12,5 in Turkish; "<5" and "x" stay as they are.
	number := func(n int) string { return s.tr.Number(lang, n) }
	cellIn := func(c reporting.Cell, k int) string { return reporting.CellTextIn(c, k, number) }
	cell := func(c reporting.Cell) string { return cellIn(c, st.K) }
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
	l, _ := i18n.Lookup(lang)
	var out []statsTableView
	explainedSmall, explainedHidden := false, false
	for _, tb := range st.Tables {
		v := statsTableView{ID: tb.ID, Title: t(prefix+tb.ID, nil), PerCase: tb.PerCase,
			Total: cell(tb.Total), K: number(st.K), Year: s.tr.Year(lang, st.Year)}
		for _, col := range tb.Cols {
			v.Cols = append(v.Cols, label(tb.ColDim, col))
		}
		for _, c := range tb.ColTotals {
			v.Totals = append(v.Totals, cell(c))
		}
		// The previous year's table, by row code: only a published year,
		// with its own suppression, is ever compared.
		var before map[string]reporting.Cell
		if prev != nil && tb.ColDim == "" {
			if pt, ok := prev.Table(tb.ID); ok {
				before = map[string]reporting.Cell{}
				for i, code := range pt.Rows {
					before[code] = pt.Cells[i][0]
				}
				v.PrevYear, v.PrevTotal = s.tr.Year(lang, prev.Year), cellIn(pt.Total, prev.K)
			}
		}
		ch := chart.Chart{ID: "chart-" + tb.ID, LabelledBy: "caption-" + tb.ID, RTL: l.RTL}
		if before != nil {
			ch.Legend = [2]string{s.tr.Year(lang, st.Year), v.PrevYear}
		}
		for i, code := range tb.Rows {
			r := statsRowView{Label: label(tb.RowDim, code)}
			for _, c := range tb.Cells[i] {
				r.Cells = append(r.Cells, cell(c))
				v.UsesSmall = v.UsesSmall || c.Suppressed && !c.Secondary
				v.UsesHidden = v.UsesHidden || c.Secondary
			}
			if tb.ColDim != "" {
				r.Total = cell(tb.RowTotals[i])
				v.Rows = append(v.Rows, r)
				continue
			}
			c := tb.Cells[i][0]
			r.Shares = append(r.Shares, share(c))
			// A suppressed cell's bar has a fixed length: its length
			// would give the hidden count away.
			bar := chart.Bar{Label: r.Label, Value: r.Cells[0], N: c.Count, Hidden: c.Suppressed || c.Secondary}
			if before != nil {
				p, ok := before[code]
				r.Prev = "–"
				if ok {
					r.Prev = cellIn(p, prev.K)
					v.UsesSmall = v.UsesSmall || p.Suppressed && !p.Secondary
					v.UsesHidden = v.UsesHidden || p.Secondary
				}
				bar.HasPrev, bar.Prev, bar.PrevValue, bar.PrevHidden = true, p.Count, r.Prev, p.Suppressed || p.Secondary
			}
			ch.Bars = append(ch.Bars, bar)
			v.Rows = append(v.Rows, r)
		}
		if tb.ColDim == "" {
			// The SVG is built by package chart, which escapes every
			// text it writes (a label is a translation, never input).
			v.Chart = template.HTML(ch.SVG())
		}
		if v.UsesSmall && !explainedSmall {
			v.ExplainSmall, explainedSmall = true, true
		}
		if v.UsesHidden && !explainedHidden {
			v.ExplainHidden, explainedHidden = true, true
		}
		out = append(out, v)
	}
	return out
}
