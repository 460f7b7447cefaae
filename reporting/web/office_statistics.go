package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// statisticsRoutes registers the statistics pages: the office's and the
// published public ones.
//
// The office's statistics are for admins and statisticians only:
// counsellors do case work, and the yearly figures are the statistician's
// job (and an admin's, who publishes them). The figures hold no content,
// but keeping the role groups sharp keeps the matrix simple.
func (s *Server) statisticsRoutes(pub, stats, publish *gin.RouterGroup) {
	stats.GET("/statistics", s.statisticsPage)
	stats.GET("/statistics.csv", s.statisticsCSV)
	stats.GET("/statistics.json", s.statisticsJSON)
	stats.GET("/statistics/report", s.statisticsReport)
	stats.GET("/statistics/report.pdf", s.statisticsReportPDF)
	publish.POST("/statistics/publish", s.publishStatistics)
	// Public: the published snapshots only, never live figures. Nothing
	// about the requester is read or logged.
	pub.GET("/statistics", s.publicStatistics)
}

// statsYear reads ?year=, defaulting to the current year.
func (s *Server) statsYear(c *gin.Context) (int, bool) {
	v := c.Query("year")
	if v == "" {
		return s.cfg.Now().Year(), true
	}
	y, err := strconv.Atoi(v)
	if err != nil || y < 2000 || y > 9999 {
		s.errorPage(c, http.StatusBadRequest, "error.stats.year")
		return 0, false
	}
	return y, true
}

// officeStats computes the year's statistics for the session; a bad
// year is an error page (for the downloads).
func (s *Server) officeStats(c *gin.Context) (reporting.Statistics, bool) {
	year, ok := s.statsYear(c)
	if !ok {
		return reporting.Statistics{}, false
	}
	st, err := s.statistics.Statistics(c.Request.Context(), session(c), year)
	if err != nil {
		s.fail(c, err)
		return reporting.Statistics{}, false
	}
	return st, true
}

// statsPage is the office statistics page and the printable report.
type statsPage struct {
	Year, Prev, Next int
	YearTyped        string // a year that was refused, shown again in the field
	Errors           map[string]string
	Stats            reporting.Statistics
	Tables           []statsTableView
	Admin            bool
	Published        []int
	JustPublished    bool
	AlreadyPublished bool // the shown year has a snapshot
	// SmallMax is the largest count shown as "<k": the note says
	// "1 to 4", not "below 5" or "5 minus 1".
	SmallMax int
}

// statsPageData builds the page. A year that is not a year is shown
// again next to its field, over the current year's figures.
func (s *Server) statsPageData(c *gin.Context) (statsPage, bool) {
	d := statsPage{Year: s.cfg.Now().Year(), Admin: session(c).Can(reporting.PermPublishStatistics),
		JustPublished: c.Query("published") == "1"}
	if v := c.Query("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 2000 || y > 9999 {
			d.YearTyped, d.Errors = v, map[string]string{"year": "error.stats.year"}
		} else {
			d.Year = y
		}
	}
	st, err := s.statistics.Statistics(c.Request.Context(), session(c), d.Year)
	if err != nil {
		s.fail(c, err)
		return statsPage{}, false
	}
	d.Stats, d.Prev, d.Next, d.SmallMax = st, d.Year-1, d.Year+1, st.K-1
	d.Tables = s.statsViews(lang(c), st, false, nil)
	if d.Published, err = s.statistics.PublishedYears(c.Request.Context()); err != nil {
		s.fail(c, err)
		return statsPage{}, false
	}
	d.AlreadyPublished = slices.Contains(d.Published, d.Year)
	return d, true
}

// statisticsPage shows a year's tables with bar charts.
func (s *Server) statisticsPage(c *gin.Context) {
	if d, ok := s.statsPageData(c); ok {
		s.render(c, http.StatusOK, "statistics", view{Title: "stats.title", Data: d})
	}
}

// statisticsCSV downloads the tables (or one, ?table=) as CSV.
func (s *Server) statisticsCSV(c *gin.Context) {
	st, ok := s.officeStats(c)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := reporting.WriteStatsCSV(&buf, st, c.Query("table")); err != nil {
		s.fail(c, err)
		return
	}
	name := "statistics-" + strconv.Itoa(st.Year)
	if t := c.Query("table"); t != "" {
		name += "-" + t // a known table ID: WriteStatsCSV refused others
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// statisticsJSON downloads all tables as JSON.
func (s *Server) statisticsJSON(c *gin.Context) {
	st, ok := s.officeStats(c)
	if !ok {
		return
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="statistics-`+strconv.Itoa(st.Year)+`.json"`)
	c.Data(http.StatusOK, "application/json", b)
}

// publishStatistics freezes a year's suppressed tables for the public page.
func (s *Server) publishStatistics(c *gin.Context) {
	year, err := strconv.Atoi(c.PostForm("year"))
	if err != nil || year < 2000 || year > 9999 {
		s.errorPage(c, http.StatusBadRequest, "error.stats.year")
		return
	}
	if err := s.statistics.PublishStatistics(c.Request.Context(), session(c), year); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/statistics?year="+strconv.Itoa(year)+"&published=1")
}

// publicStatsPage is the public statistics page.
type publicStatsPage struct {
	Years  []int
	Year   int // 0: none chosen or none published
	Stats  reporting.Statistics
	Tables []statsTableView
	// Places are the municipalities that can be shown one by one; Place
	// is the chosen one ("" for none) and PlaceTable its grounds.
	Places     []placeOption
	Place      string
	PlaceTable *statsTableView
}

// placeOption is one municipality in the selector.
type placeOption struct{ Code, Label string }

// publicTables are the tables shown to the public: labels for them exist
// in every public language.
var publicTables = []string{"ground", "area", "municipality"}

// publicStatistics lists the published years and shows one, compared
// with the year before when that year is published too, and, on request
// (?place=), the grounds of one municipality.
func (s *Server) publicStatistics(c *gin.Context) {
	ctx := c.Request.Context()
	var d publicStatsPage
	var err error
	if d.Years, err = s.statistics.PublishedYears(ctx); err != nil {
		s.fail(c, err)
		return
	}
	if len(d.Years) > 0 {
		d.Year = d.Years[0]
	}
	if v := c.Query("year"); v != "" {
		if d.Year, err = strconv.Atoi(v); err != nil {
			s.errorPage(c, http.StatusNotFound, "error.not_found")
			return
		}
	}
	if d.Year != 0 {
		st, _, err := s.statistics.Published(ctx, d.Year)
		if err != nil {
			s.fail(c, err)
			return
		}
		d.Stats = st
		// Only a published year is compared: its snapshot carries its
		// own suppression, and an unpublished year's figures are not
		// public.
		var prev *reporting.Statistics
		if slices.Contains(d.Years, d.Year-1) {
			p, _, err := s.statistics.Published(ctx, d.Year-1)
			if err != nil {
				s.fail(c, err)
				return
			}
			p = publicSubset(p, publicTables)
			prev = &p
		}
		d.Tables = s.statsViews(lang(c), publicSubset(st, publicTables), true, prev)
		if !s.publicPlace(c, &d, st) {
			return
		}
	}
	s.render(c, http.StatusOK, "statistics_public", view{Title: "statistics.title", Path: "/statistics", Data: d})
}

// publicSubset keeps the tables named by ids, in that order.
func publicSubset(st reporting.Statistics, ids []string) reporting.Statistics {
	shown := reporting.Statistics{Year: st.Year, K: st.K, Cases: st.Cases}
	for _, id := range ids {
		if t, ok := st.Table(id); ok {
			shown.Tables = append(shown.Tables, t)
		}
	}
	return shown
}

// publicPlace fills the municipality view from the published ground ×
// municipality table: only municipalities whose own total is shown (a
// hidden total means too few cases to say anything about the place), and
// their cells exactly as published, suppressed ones still suppressed.
// An unknown ?place= is a 404.
func (s *Server) publicPlace(c *gin.Context, d *publicStatsPage, st reporting.Statistics) bool {
	tb, ok := st.Table("ground_municipality")
	if !ok {
		return true
	}
	l := lang(c)
	col := -1
	want := c.Query("place")
	for i, code := range tb.Cols {
		if tot := tb.ColTotals[i]; tot.Suppressed || tot.Secondary || tot.Count == 0 || code == reporting.Undecided {
			continue
		}
		d.Places = append(d.Places, placeOption{Code: code, Label: s.tr.T(l, "municipality."+code, nil)})
		if code == want {
			col = i
		}
	}
	if want == "" {
		return true
	}
	if col < 0 {
		s.errorPage(c, http.StatusNotFound, "error.not_found")
		return false
	}
	one := reporting.StatTable{ID: "place", RowDim: tb.RowDim, Rows: tb.Rows, PerCase: tb.PerCase, Total: tb.ColTotals[col]}
	for i := range tb.Rows {
		one.Cells = append(one.Cells, []reporting.Cell{tb.Cells[i][col]})
	}
	views := s.statsViews(l, reporting.Statistics{Year: st.Year, K: st.K, Tables: []reporting.StatTable{one}}, true, nil)
	d.Place, d.PlaceTable = want, &views[0]
	// Shares of the cross table are of all its pairs, not of this
	// place's cases: they would mislead here.
	d.PlaceTable.NoShares = true
	// The signs are explained once, at the first table above that uses
	// them.
	for _, t := range d.Tables {
		d.PlaceTable.ExplainSmall = d.PlaceTable.ExplainSmall && !t.ExplainSmall
		d.PlaceTable.ExplainHidden = d.PlaceTable.ExplainHidden && !t.ExplainHidden
	}
	d.PlaceTable.Title = s.tr.T(l, "statistics.place.title", map[string]any{"Place": s.tr.T(l, "municipality."+want, nil)})
	return true
}
