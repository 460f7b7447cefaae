package web_test

import (
	"html"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// getLang is getAs with the browser's language preference.
func getLang(t *testing.T, c *http.Cookie, u, lang string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", lang)
	req.AddCookie(c)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// reportSections are the IDs of the report's table pages, in order.
var reportSectionPattern = regexp.MustCompile(`<section class="report-page stats-table" id="table-([a-z_]+)"`)

func reportSections(page string) []string {
	var ids []string
	for _, m := range reportSectionPattern.FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// reportTitles are the table pages' headings, as the reader sees them.
var reportTitlePattern = regexp.MustCompile(`<h2 id="title-[a-z_]+">([^<]+)</h2>`)

func reportTitles(page string) []string {
	var out []string
	for _, m := range reportTitlePattern.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// An unpublished year's report: the office's name, the method with the
// year's k, one page per table (a page break before each), every page
// marked as a draft; in German and in English. Without Chromium the
// page offers no PDF link but says how to save a PDF from the browser.
func TestAnnualReportDraft(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	f := idForm()
	f.Set("name", "DINA NRW – PLANB Ruhr")
	setIdentity(t, e, admin, f)
	two := reporting.Classification{Municipality: "bochum", Grounds: []string{"racism", "gender"}, Areas: []string{"housing"}, ReporterRole: "affected"}
	statsCases(t, e, 5, two)
	one := two
	one.Grounds, one.Municipality = []string{"racism"}, "herne"
	statsCases(t, e, 1, one)
	statistician, _ := accUser(t, e, admin, "stefan", "statistician")
	year := strconv.Itoa(time.Now().Year())

	resp, page := getAs(t, statistician, e.URL+"/office/statistics/report?year="+year)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	wantAll(t, "the German draft report", page,
		`<p class="report-office" id="office-name">DINA NRW – PLANB Ruhr</p>`,
		"<h1>Jahresbericht "+year+"</h1>",
		"Gezählt werden die Fälle, die "+year+" bei uns eingegangen sind",
		"Er zählt dann einmal je Merkmal", "mehr als 100 %",
		"„&lt;5“ steht für 1 bis 4 Fälle",
		"Sie ist 0 oder mindestens 5.",
		`id="report-draft"`, "Entwurf – nicht veröffentlicht",
		`<link rel="stylesheet" href="/static/annual-report.css">`,
		`id="report-no-pdf">Ein PDF kann dieser Server nicht erzeugen.`,
		// Herne's single case shows as <5, with Bochum hidden as x.
		"<th scope=\"row\">Herne</th><td><bdi dir=\"ltr\">&lt;5</bdi></td>",
		"<th scope=\"row\">Bochum</th><td><bdi dir=\"ltr\">x</bdi></td>")
	if strings.Contains(page, `id="report-pdf"`) {
		t.Error("the report links a PDF though there is no printer")
	}
	if strings.Contains(page, "<style") || strings.Contains(page, "style=") {
		t.Error("the print page carries inline style, which the CSP forbids")
	}
	_, body := getAs(t, statistician, e.URL+"/office/statistics.json?year="+year)
	var ids []string
	for _, m := range regexp.MustCompile(`"id": "([a-z_]+)"`).FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	if got := reportSections(page); strings.Join(got, ",") != strings.Join(ids, ",") || len(got) < 4 {
		t.Errorf("report pages %v, want one per table %v", got, ids)
	}
	// The cover and every table page are marked: a sheet taken from the
	// pile must not pass for published figures.
	if n, want := strings.Count(page, `<strong class="draft-mark">Entwurf – nicht veröffentlicht</strong>`), len(ids)+1; n != want {
		t.Errorf("%d pages marked as a draft, want %d", n, want)
	}
	_, css := get(t, e.URL+"/static/annual-report.css")
	if !strings.Contains(css, ".report-page + .report-page { break-before: page; }") {
		t.Error("the stylesheet does not start each table on a new page")
	}

	resp, en := getLang(t, statistician, e.URL+"/office/statistics/report?year="+year, "en")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("English report: %d", resp.StatusCode)
	}
	wantAll(t, "the English draft report", en,
		`lang="en"`, "<h1>Annual report "+year+"</h1>",
		"We count the cases we received in "+year,
		"It then counts once per ground", "“&lt;5” stands for 1 to 4 cases",
		"Draft – not published", "“Save as PDF”")
	if strings.Contains(en, "Entwurf") || strings.Contains(en, "Jahresbericht") {
		t.Error("the English report has German text")
	}
}

// A published year's report shows the snapshot (what the public saw),
// compared with the previous published year, and is not marked as a
// draft.
func TestAnnualReportPublished(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	webtest.PublishStatsFixture(t, e)
	// Live records of the year: the report must not show them.
	statsCases(t, e, 3, reporting.Classification{Municipality: "bochum", Grounds: []string{"racism"}, Areas: []string{"housing"}, ReporterRole: "affected"})
	admin := login(t, e)
	year := strconv.Itoa(webtest.StatsYear)
	resp, page := getAs(t, admin, e.URL+"/office/statistics/report?year="+year)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	wantAll(t, "the published report", page,
		`id="report-published">Veröffentlicht am`,
		"1.260 Fälle", "Zum Vergleich stehen die Zahlen des Vorjahres 2024 daneben.",
		`<th scope="col">Vorjahr 2024</th>`,
		`<td><bdi dir="ltr">1.234</bdi></td>`, `<td class="stats-prev"><bdi dir="ltr">900</bdi></td>`)
	if strings.Contains(page, "Entwurf") || strings.Contains(page, "draft-mark") {
		t.Error("a published year's report is marked as a draft")
	}
	if got := reportSections(page); strings.Join(got, ",") != "ground,area,municipality,ground_municipality" {
		t.Errorf("report pages %v, want the snapshot's four tables", got)
	}
	// The first published year has nothing to compare with.
	_, first := getAs(t, admin, e.URL+"/office/statistics/report?year="+strconv.Itoa(webtest.StatsYear-1))
	wantAll(t, "the first published year", first, "Für das Vorjahr 2023 gibt es keine Vergleichszahlen.")
	if strings.Contains(first, "stats-prev") {
		t.Error("the first published year shows a comparison column")
	}
}

// Without Chromium the PDF route answers 503 with a page saying how to
// get a PDF anyway; a counsellor gets neither page nor PDF.
func TestAnnualReportPDFWithoutPrinter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	year := strconv.Itoa(time.Now().Year())
	resp, page := getAs(t, admin, e.URL+"/office/statistics/report.pdf?year="+year)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("PDF without printer: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	wantAll(t, "the no-PDF page", page, "Ein PDF kann dieser Server nicht erzeugen", "„Als PDF speichern“")
	_, en := getLang(t, admin, e.URL+"/office/statistics/report.pdf?year="+year, "en")
	wantAll(t, "the English no-PDF page", en, "This server cannot make a PDF", "“Save as PDF”")
	counsellor, _ := accUser(t, e, admin, "clara", "counsellor", "1")
	for _, u := range []string{"/office/statistics/report", "/office/statistics/report.pdf"} {
		if resp, _ := getAs(t, counsellor, e.URL+u+"?year="+year); resp.StatusCode != http.StatusForbidden {
			t.Errorf("counsellor %s: %d, want 403", u, resp.StatusCode)
		}
	}
}

// The PDF of a published year: office name, year, method, each table's
// title, a page per topic; named jahresbericht-Y.pdf in German and
// annual-report-Y.pdf in English, never cached.
func TestAnnualReportPDF(t *testing.T) {
	t.Parallel()
	printer, tool := machinePrinter(t)
	e := newEnv(t, options{Printer: printer})
	admin := login(t, e)
	f := idForm()
	f.Set("name", "DINA NRW – PLANB Ruhr")
	setIdentity(t, e, admin, f)
	webtest.PublishStatsFixture(t, e)
	year := strconv.Itoa(webtest.StatsYear)
	_, page := getAs(t, admin, e.URL+"/office/statistics/report?year="+year)
	wantAll(t, "the report with a printer", page, `href="/office/statistics/report.pdf?year=`+year+`" id="report-pdf"`)
	titles := reportTitles(page)
	if len(titles) != 4 {
		t.Fatalf("report titles %q, want 4", titles)
	}

	for _, c := range []struct{ lang, file, title, method string }{
		{"de", "jahresbericht-" + year + ".pdf", "Jahresbericht " + year, "Er zählt dann einmal je Merkmal"},
		{"en", "annual-report-" + year + ".pdf", "Annual report " + year, "It then counts once per ground"},
	} {
		resp, body := getLang(t, admin, e.URL+"/office/statistics/report.pdf?year="+year, c.lang)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s PDF: %d\n%s", c.lang, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" {
			t.Errorf("%s: Content-Type %q", c.lang, ct)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", c.lang, cc)
		}
		if cd := resp.Header.Get("Content-Disposition"); cd != "attachment; filename="+c.file {
			t.Errorf("%s: Content-Disposition %q, want an attachment named %s", c.lang, cd, c.file)
		}
		if !strings.HasPrefix(body, "%PDF-") {
			t.Fatalf("%s: not a PDF: %q", c.lang, body[:min(len(body), 40)])
		}
		in := filepath.Join(t.TempDir(), "report.pdf")
		if err := os.WriteFile(in, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tool, "-enc", "UTF-8", in, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		text := strings.Join(strings.Fields(string(out)), " ")
		want := []string{"DINA NRW – PLANB Ruhr", c.title, c.method}
		if c.lang == "de" {
			want = append(want, titles...)
		}
		for _, w := range want {
			if !strings.Contains(text, strings.Join(strings.Fields(w), " ")) {
				t.Errorf("%s: the PDF's text lacks %q:\n%s", c.lang, w, out)
			}
		}
		// pdftotext ends each page with a form feed: the cover and a
		// page per table at least, each table starting a page of its
		// own after the cover (which lists them all).
		pages := strings.Split(strings.TrimSuffix(string(out), "\f"), "\f")
		if len(pages) < len(titles)+1 {
			t.Errorf("%s: the PDF has %d pages, want at least %d", c.lang, len(pages), len(titles)+1)
		}
		t.Logf("%s: %d pages for %d tables", c.lang, len(pages), len(titles))
		if c.lang != "de" {
			continue
		}
		last := 0
		for _, title := range titles {
			at := -1
			for i := last + 1; i < len(pages); i++ {
				if strings.Contains(strings.Join(strings.Fields(pages[i]), " "), title) {
					at = i
					break
				}
			}
			if at < 0 {
				t.Errorf("the table %q does not start a page after the previous table's", title)
				continue
			}
			last = at
		}
	}
}
