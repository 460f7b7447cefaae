package browsertest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// statsOverlaps measures, in the page, every chart's labels (each line),
// values and bars by getBoundingClientRect and lists the pairs within one
// chart that overlap; scripts stay off, DevTools evaluates.
const statsOverlaps = `(() => {
  const out = [];
  for (const svg of document.querySelectorAll("svg.chart")) {
    const items = [];
    for (const el of svg.querySelectorAll("tspan, rect")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      items.push({el, r, name: el.tagName + ":" + (el.textContent || el.getAttribute("class"))});
    }
    for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) {
      const a = items[i].r, b = items[j].r;
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
        out.push(svg.id + ": " + items[i].name + " / " + items[j].name);
    }
    const box = svg.getBoundingClientRect();
    for (const it of items) if (it.r.left < box.left - 0.5 || it.r.right > box.right + 0.5)
      out.push(svg.id + ": " + it.name + " outside the chart");
  }
  return out;
})()`

// statsSmallOrder lists every "<k" on the page (HTML and chart) whose
// "<" is drawn right of its digits, which reads "5>".
const statsSmallOrder = `(() => {
  const out = [];
  let checked = 0;
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const i = n.data.indexOf("<");
    if (i < 0 || !/^<\d/.test(n.data.slice(i))) continue;
    const r = document.createRange();
    r.setStart(n, i); r.setEnd(n, i + 1);
    const lt = r.getBoundingClientRect();
    r.setStart(n, i + 1); r.setEnd(n, i + 2);
    const d = r.getBoundingClientRect();
    checked++;
    if (lt.width > 0 && lt.left >= d.left) out.push("reads 5> in " + n.parentElement.tagName + ": " + n.data);
  }
  return {checked, bad: out};
})()`

// smallOrder is statsSmallOrder's result.
type smallOrder struct {
	Checked int      `json:"checked"`
	Bad     []string `json:"bad"`
}

// The public statistics in German, Arabic and Romanian at 390 and 1280 px:
// no chart label overlaps another label or a bar, nothing leaves its
// chart, and the page has no horizontal scroll.
func TestStatisticsChartsNoOverlap(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	webtest.PublishStatsFixture(t, e)
	for _, width := range []int64{390, 1280} {
		browserDo(t, ctx, fmt.Sprintf("emulate %d px", width), chromedp.EmulateViewport(width, 900))
		for _, lang := range []string{"de", "ar", "ro"} {
			path := "/" + lang + "/statistics?place=bochum"
			resp := browserRun(t, ctx, "open "+path, chromedp.NavigateResponse(e.URL+path))
			wantDocStatus(t, path, resp, http.StatusOK)
			if n := evalJS[int](t, ctx, "count charts", `document.querySelectorAll("svg.chart").length`); n != 4 {
				t.Errorf("%s at %d px: %d charts, want 4", lang, width, n)
			}
			for _, o := range evalJS[[]string](t, ctx, "measure the charts", statsOverlaps) {
				t.Errorf("%s at %d px: overlap %s", lang, width, o)
			}
			sw := evalJS[float64](t, ctx, "read the page width", `document.documentElement.scrollWidth`)
			iw := evalJS[float64](t, ctx, "read the window width", `window.innerWidth`)
			if sw > iw {
				t.Errorf("%s at %d px: page scrolls sideways (%.0f > %.0f px)", lang, width, sw, iw)
			}
			// The labels stay readable: a line of at least 9 px text.
			if fs := evalJS[float64](t, ctx, "read the label size", `document.querySelector("svg.chart .chart-label tspan").getBoundingClientRect().height`); fs < 9 {
				t.Errorf("%s at %d px: chart labels only %.1f px high", lang, width, fs)
			}
			// "<5" reads "<5" in every direction: its "<" left of its "5",
			// in the explanation and in the tables.
			order := evalJS[smallOrder](t, ctx, "read the order of <5", statsSmallOrder)
			if order.Checked < 5 {
				t.Errorf("%s at %d px: only %d \"<5\" found", lang, width, order.Checked)
			}
			for _, bad := range order.Bad {
				t.Errorf("%s at %d px: %s", lang, width, bad)
			}
			saveScreenshot(t, ctx, fmt.Sprintf("statistics-%s-%d.png", lang, width))
		}
	}
}
