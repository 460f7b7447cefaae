package browsertest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// blockSVG makes the tab refuse every .svg file, as Tor Browser's safest
// mode (svg.disabled) shows none.
func blockSVG() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetBlockedURLs, network.SetBlockedURLsParams{
			URLPatterns: []*network.BlockPattern{{URLPattern: "*://*:*/*.svg", Block: true}},
		})
		return err
	})
}

// safestLoad reads, on the page in the tab, what safest mode would have
// kept from it: the .svg pictures (all of which must have failed), the
// fonts from @font-face rules and the files loaded from another origin
// (neither of which may exist).
const safestLoad = `(() => ({
  svgImages: [...document.images].filter(i => /\.svg$/.test(i.getAttribute("src") || "")).length,
  svgShown: [...document.images].filter(i => /\.svg$/.test(i.getAttribute("src") || "") && i.naturalWidth > 0).map(i => i.src),
  fonts: document.fonts.size,
  foreign: performance.getEntriesByType("resource").map(e => e.name).filter(n => !n.startsWith(location.origin + "/")),
}))()`

// safestResult is safestLoad's result.
type safestResult struct {
	SVGImages int      `json:"svgImages"`
	SVGShown  []string `json:"svgShown"`
	Fonts     int      `json:"fonts"`
	Foreign   []string `json:"foreign"`
}

// dropInlineSVG removes the inline <svg> elements, which safest mode does
// not draw, and returns how many there were.
const dropInlineSVG = `(() => { const s = document.querySelectorAll("svg"); s.forEach(e => e.remove()); return s.length; })()`

// chartNumbers lists, per statistics table, the numbers its chart writes
// beside its bars; sectionText the table's text once the charts are gone.
const (
	chartNumbers = `[...document.querySelectorAll("section.stats-table")].filter(s => s.querySelector("svg.chart")).map(s => ({id: s.id, values: [...s.querySelectorAll("svg.chart .chart-value")].map(v => v.textContent.trim()).filter(v => v !== "")}))`
	sectionText  = `(() => { const s = document.getElementById(%q); return s ? s.innerText : ""; })()`
)

// chartValues is one entry of chartNumbers.
type chartValues struct {
	ID     string   `json:"id"`
	Values []string `json:"values"`
}

// Tor Browser's safest mode: no JavaScript, no SVG, no remote fonts. With
// scripts off and every .svg file blocked, each public page loads nothing
// from another origin and uses no web font; with the inline SVG charts
// removed as well, every number a chart shows is still on the statistics
// page as text, and a reporter fills in the form and gets a receipt.
func TestSafestModePublicPages(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	webtest.PublishStatsFixture(t, e)
	assertScriptsOff(t, ctx)
	browserDo(t, ctx, "block .svg files", blockSVG())

	for _, path := range []string{"/de/", "/ar/", "/de/privacy", "/de/followup", "/de/statistics?place=bochum", "/de/contact", "/de/imprint"} {
		resp := browserRun(t, ctx, "open "+path, chromedp.NavigateResponse(e.URL+path))
		wantDocStatus(t, path, resp, http.StatusOK)
		got := evalJS[safestResult](t, ctx, "read what "+path+" loaded", safestLoad)
		// The language chooser's globe is an .svg picture on every page:
		// that it did not load shows the blocking works.
		if got.SVGImages == 0 {
			t.Errorf("%s: no .svg picture to test the blocking with", path)
		}
		for _, u := range got.SVGShown {
			t.Errorf("%s: %s shown although .svg files are blocked", path, u)
		}
		if got.Fonts != 0 {
			t.Errorf("%s: %d web fonts (@font-face)", path, got.Fonts)
		}
		for _, u := range got.Foreign {
			t.Errorf("%s: loaded %s from another origin", path, u)
		}

		var charts []chartValues
		if strings.HasPrefix(path, "/de/statistics") {
			charts = evalJS[[]chartValues](t, ctx, "read the charts' numbers", chartNumbers)
		}
		evalJS[int](t, ctx, "drop the inline SVG", dropInlineSVG)
		if h1 := strings.TrimSpace(browserRun(t, ctx, "read the heading of "+path, chromedp.Text(chromedp.CSS("h1")))); h1 == "" {
			t.Errorf("%s: no heading left without SVG", path)
		}
		if path != "/de/statistics?place=bochum" {
			continue
		}
		// The statistics: every number of every chart in the text beside it.
		if len(charts) < 4 {
			t.Fatalf("statistics: %d charts, want 4 to compare with their tables", len(charts))
		}
		for _, c := range charts {
			if len(c.Values) == 0 {
				t.Errorf("statistics %s: the chart shows no numbers", c.ID)
			}
			text := evalJS[string](t, ctx, "read "+c.ID, fmt.Sprintf(sectionText, c.ID))
			for _, v := range c.Values {
				if !strings.Contains(text, v) {
					t.Errorf("statistics %s: the chart's %q is not in the text without SVG:\n%s", c.ID, v, text)
				}
			}
		}
		saveScreenshot(t, ctx, "statistics-safest.png")
	}

	// The report, on a form without pictures.
	resp := browserRun(t, ctx, "open /de/", chromedp.NavigateResponse(e.URL+"/de/"))
	wantDocStatus(t, "GET /de/", resp, http.StatusOK)
	evalJS[int](t, ctx, "drop the inline SVG", dropInlineSVG)
	fillReport(t, ctx, "Im Jobcenter sagte man uns, Leute wie wir bekämen hier nichts.")
	id := pageCaptchaID(t, ctx)
	browserDo(t, ctx, "type the captcha", chromedp.SendKeys(chromedp.ID("captcha_solution"), webtest.Captchas.Solve(id)))
	resp = clickAndLoad(t, ctx, "send", chromedp.ID("submit"), chromedp.ID("receipt"))
	wantDocStatus(t, "POST /de/report", resp, http.StatusOK)
	saveScreenshot(t, ctx, "receipt-safest.png")
	if receipt := browserRun(t, ctx, "read the receipt", chromedp.Text(chromedp.ID("receipt"))); !receiptCodePattern.MatchString(receipt) {
		t.Errorf("receipt %q", receipt)
	}
	if n := webtest.CountReports(t, e); n != 1 {
		t.Errorf("%d reports stored, want 1", n)
	}
}
