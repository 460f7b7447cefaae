package web

import (
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/static"
)

// The annual report (issue 14): a cover page with the office, the year
// and the method, then one printed page per table (chart, table, note).
// One template makes the print page (stylesheet linked) and the PDF
// (stylesheet inline, printed by headless Chromium as the case file
// export is: reporting/pdfprint). Statistics hold no case content, and
// their other downloads (CSV, JSON) are not audited, so neither is this.

// annualReportCSS is the file that lays the report out for paper.
const annualReportCSS = "annual-report.css"

// annualReport is the report page's (and the PDF's) data.
type annualReport struct {
	Year  int
	Stats reporting.Statistics
	// Tables are the year's tables, translated, with the comparison
	// year's column and bars when there is one.
	Tables []statsTableView
	// Published: the figures are the published snapshot, as the public
	// saw them, published at PublishedAt. Otherwise they are the live
	// figures, marked as a draft on every page.
	Published   bool
	PublishedAt time.Time
	// Prev is the comparison year; Compared tells whether its figures
	// stand next to the year's.
	Prev     int
	Compared bool
	// SmallMax is the largest count shown as "<k" ("1 to 4").
	SmallMax int
	// PDF: a printer is there, the page links the download.
	PDF bool
	// Style is the stylesheet inline, for the PDF only: Chromium gets
	// the document with no server to load /static from. The PDF's HTML
	// is never served to a browser, so the pages' CSP, which forbids
	// inline style, does not concern it. The print page links the file.
	Style template.CSS
}

// annualReportData builds the report of ?year=. A published year shows
// its snapshot, compared with the previous year's snapshot if that is
// published too: the report then says what the public saw, and live
// figures never mix into it. An unpublished year shows the live figures,
// compared with the previous year's live figures.
func (s *Server) annualReportData(c *gin.Context) (annualReport, bool) {
	year, ok := s.statsYear(c)
	if !ok {
		return annualReport{}, false
	}
	ctx, sess := c.Request.Context(), session(c)
	years, err := s.statistics.PublishedYears(ctx)
	if err != nil {
		s.fail(c, err)
		return annualReport{}, false
	}
	d := annualReport{Year: year, Prev: year - 1, Published: slices.Contains(years, year), PDF: s.cfg.Printer != nil}
	var prev *reporting.Statistics
	if d.Published {
		if d.Stats, d.PublishedAt, err = s.statistics.Published(ctx, year); err != nil {
			s.fail(c, err)
			return annualReport{}, false
		}
		if slices.Contains(years, d.Prev) {
			p, _, err := s.statistics.Published(ctx, d.Prev)
			if err != nil {
				s.fail(c, err)
				return annualReport{}, false
			}
			prev = &p
		}
	} else {
		if d.Stats, err = s.statistics.Statistics(ctx, sess, year); err != nil {
			s.fail(c, err)
			return annualReport{}, false
		}
		// A year without cases is nothing to compare with.
		if d.Stats.PrevCases > 0 {
			p, err := s.statistics.Statistics(ctx, sess, d.Prev)
			if err != nil {
				s.fail(c, err)
				return annualReport{}, false
			}
			prev = &p
		}
	}
	d.Compared, d.SmallMax = prev != nil, d.Stats.K-1
	d.Tables = s.statsViews(lang(c), d.Stats, false, prev)
	return d, true
}

// statisticsReport is the annual report as a page to print.
func (s *Server) statisticsReport(c *gin.Context) {
	if d, ok := s.annualReportData(c); ok {
		s.render(c, http.StatusOK, "statistics_report", view{Title: "annual.title", Data: d})
	}
}

// statisticsReportPDF is the annual report as a PDF download. Without a
// printer it answers 503 with a page naming the way round: the print
// page and the browser's "Save as PDF".
func (s *Server) statisticsReportPDF(c *gin.Context) {
	printer := s.cfg.Printer
	if printer == nil {
		// Refused before any figures are computed: there is nothing to
		// print with.
		s.errorPage(c, http.StatusServiceUnavailable, "annual.error.no_pdf")
		return
	}
	d, ok := s.annualReportData(c)
	if !ok {
		return
	}
	css, err := annualReportStyle()
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Style = css
	ctx := c.Request.Context()
	v := view{Title: "annual.title", Data: d, Office: true, Session: session(c)}
	if v.Zone, err = s.settings.OfficeZone(ctx); err != nil {
		s.log(c).Error("office time zone", "request_id", requestID(c), "err", err)
	}
	l := lang(c)
	html, err := s.execute(l, "statistics_report", v)
	if err != nil {
		s.fail(c, err)
		return
	}
	pdf, err := printer.Print(ctx, html)
	if err != nil {
		s.fail(c, err)
		return
	}
	name := s.tr.T(l, "annual.file", nil) + "-" + strconv.Itoa(d.Year) + ".pdf"
	h := c.Writer.Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": downloadName(name)}))
	h.Set("X-Content-Type-Options", "nosniff")
	// The statistics downloads are never kept by a browser or proxy:
	// a draft's figures are not for the next user of the computer.
	h.Set("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/pdf", pdf)
}

var (
	annualReportStyleOnce sync.Once
	annualReportStyleCSS  template.CSS
	annualReportStyleErr  error
)

// annualReportStyle is the report's stylesheet text, read once from the
// embedded files (our own file: trusted as CSS).
func annualReportStyle() (template.CSS, error) {
	annualReportStyleOnce.Do(func() {
		b, err := static.FS.ReadFile(annualReportCSS)
		if err != nil {
			annualReportStyleErr = fmt.Errorf("annual report style: %w", err)
			return
		}
		annualReportStyleCSS = template.CSS(b)
	})
	return annualReportStyleCSS, annualReportStyleErr
}
