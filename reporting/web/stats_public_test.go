package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// section returns the part of page from id="<id>" to its </section>.
func section(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no %s on the page", id)
	}
	s := page[i:]
	return s[:strings.Index(s, "</section>")]
}

// With the year before published, each table has its column and each bar
// a second one; the earliest year, with nothing before it, has neither.
func TestPublicStatisticsComparison(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	webtest.PublishStatsFixture(t, e)
	_, page := get(t, e.URL+"/de/statistics")
	ground := section(t, page, "table-ground")
	prev := strconv.Itoa(webtest.StatsYear - 1)
	for _, want := range []string{`<th scope="col">Vorjahr ` + prev + `</th>`, `<td class="stats-prev"><bdi dir="ltr">900</bdi></td>`,
		`<td class="stats-prev"><bdi dir="ltr">930</bdi></td>`, `class="chart-prev"`, ">" + prev + "</tspan>"} {
		if !strings.Contains(ground, want) {
			t.Errorf("ground table lacks %q:\n%s", want, ground)
		}
	}
	_, page = get(t, e.URL+"/de/statistics?year="+prev)
	if strings.Contains(page, "Vorjahr") || strings.Contains(page, "chart-prev") {
		t.Error("the earliest published year is compared with an unpublished one")
	}
}

// The municipality view lists only places whose total is shown, shows
// one place's grounds as published (small cells stay "<5") and refuses a
// place that is not offered.
func TestPublicStatisticsPlace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	webtest.PublishStatsFixture(t, e)
	_, page := get(t, e.URL+"/de/statistics")
	form := section(t, page, "place")
	if !strings.Contains(form, `<option value="bochum">Bochum</option>`) || !strings.Contains(form, `value="online"`) || strings.Contains(form, `value="herne"`) {
		t.Errorf("selector offers the wrong places:\n%s", form)
	}
	if strings.Contains(page, `id="table-place"`) {
		t.Error("a place is shown before one is chosen")
	}
	resp, page := get(t, e.URL+"/de/statistics?year="+strconv.Itoa(webtest.StatsYear)+"&place=bochum")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("place: %d", resp.StatusCode)
	}
	place := section(t, page, "table-place")
	for _, want := range []string{"Bochum: Worum ging es?", `<bdi dir="ltr">1.180</bdi>`, `<bdi dir="ltr">&lt;5</bdi>`, `<bdi dir="ltr">1.183</bdi>`} {
		if !strings.Contains(place, want) {
			t.Errorf("Bochum's table lacks %q:\n%s", want, place)
		}
	}
	if !strings.Contains(page, `<option value="bochum" selected>`) {
		t.Error("the chosen place is not selected in the form")
	}
	for _, p := range []string{"herne", "nowhere"} {
		if resp, _ := get(t, e.URL+"/de/statistics?place="+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("place %s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// "<5" and "x" are explained once, next to the first table that uses
// them; shares are German on German pages; in Arabic "<5" is kept left to
// right in the table, the explanation and the chart.
func TestPublicStatisticsSignsAndFormats(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	webtest.PublishStatsFixture(t, e)
	_, page := get(t, e.URL+"/de/statistics")
	if n := strings.Count(page, "Die genaue Zahl zeigen wir nicht"); n != 1 {
		t.Errorf("<5 explained %d times, want once", n)
	}
	if n := strings.Count(page, "Diese Zahl ist versteckt"); n != 1 {
		t.Errorf("x explained %d times, want once", n)
	}
	if g := section(t, page, "table-ground"); !strings.Contains(g, `<dt><bdi dir="ltr">&lt;5</bdi></dt>`) || !strings.Contains(g, `<dt><bdi dir="ltr">x</bdi></dt>`) {
		t.Errorf("the first table does not explain the signs:\n%s", g)
	}
	if !strings.Contains(page, "97,9\u00a0%") || strings.Contains(page, "97.9") || strings.Contains(page, "0.0 %") {
		t.Error("shares not in German format (97,9 %)")
	}
	_, ar := get(t, e.URL+"/ar/statistics")
	g := section(t, ar, "table-ground")
	for _, want := range []string{`<dt><bdi dir="ltr">&lt;5</bdi></dt>`, `<td><bdi dir="ltr">&lt;5</bdi></td>`, "أقل من 5",
		`class="chart-value" x="`, `direction="ltr" text-anchor="end"><tspan x="`, `direction="rtl"`} {
		if !strings.Contains(g, want) {
			t.Errorf("Arabic ground table lacks %q", want)
		}
	}
	if strings.Contains(ar, "5&gt;") {
		t.Error("Arabic page writes 5>")
	}
}

// The office page says which counts "<5" stands for in plain numbers
// ("1 bis 4"), not "below 5" or "5 minus 1", and draws its charts with
// labels above the bars.
func TestOfficeStatisticsSignsNote(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	_, page := getAs(t, admin, e.URL+"/office/statistics")
	if !strings.Contains(page, "„&lt;5“ steht für 1 bis 4 Fälle") || strings.Contains(page, "unter 5") {
		t.Errorf("the note does not say 1 to 4:\n%s", page)
	}
	if g := section(t, page, "table-ground"); !strings.Contains(g, `class="chart-label"`) || strings.Contains(g, "style=") {
		t.Errorf("office chart not drawn by package chart:\n%s", g)
	}
}
