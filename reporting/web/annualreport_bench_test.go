package web_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// BenchmarkAnnualReport measures the annual report of a published year
// (the fixture's four tables, three charts) through the handler: "page"
// is the print page, the anchor; "pdf" is the download (the same page
// rendered with its stylesheet inline, a fresh headless Chromium
// printing it). Reported: time, allocations of this process (Chromium's
// memory is its own) and the size of the answer.
func BenchmarkAnnualReport(b *testing.B) {
	printer, _ := machinePrinter(b)
	e := newEnv(b, options{Printer: printer})
	webtest.PublishStatsFixture(b, e)
	cookie := login(b, e)
	year := strconv.Itoa(webtest.StatsYear)
	for _, bm := range []struct{ name, path string }{
		{"page", "/office/statistics/report?year=" + year},
		{"pdf", "/office/statistics/report.pdf?year=" + year},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				req := httptest.NewRequest("GET", bm.path, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				e.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: status %d", bm.name, rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/report")
		})
	}
}
