package browsertest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// Phone screens of issue 11: a 390 × 844 px phone (CSS pixels), and the
// narrowest phones of 320 px.
const (
	phoneWidth, phoneHeight = 390, 844
	narrowWidth             = 320
)

// onPhone sets the tab's viewport to a phone of width × height.
func onPhone(t *testing.T, ctx context.Context, width, height int64) {
	t.Helper()
	browserDo(t, ctx, fmt.Sprintf("emulate a %d×%d phone", width, height), chromedp.EmulateViewport(width, height, chromedp.EmulateMobile))
}

// evalJS reads a value from the page through DevTools (Runtime.evaluate),
// which works while the page's own scripts are off: the page still runs
// none.
func evalJS[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	return browserRun(t, ctx, what, chromedp.Evaluate[T](expr))
}

// The short path of issue 11 on a 390 px phone with JavaScript off: the
// main button is within two screens of the top, and a report of a few
// words, the consent and the captcha goes through to a receipt.
func TestShortReportOnPhone(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	onPhone(t, ctx, phoneWidth, phoneHeight)

	for _, lang := range []string{"de", "en"} {
		resp := browserRun(t, ctx, "open /"+lang+"/", chromedp.NavigateResponse(e.URL+"/"+lang+"/"))
		wantDocStatus(t, "GET /"+lang+"/", resp, http.StatusOK)
		browserDo(t, ctx, "wait for the form", chromedp.WaitVisible(chromedp.ID("submit")))
		bottom := evalJS[float64](t, ctx, "measure the button",
			`document.getElementById("submit").getBoundingClientRect().bottom + window.scrollY`)
		t.Logf("%s: the main button ends %.0f px from the top (budget %d px, two screens)", lang, bottom, 2*phoneHeight)
		if bottom > 2*phoneHeight {
			t.Errorf("%s: the main button ends %.0f px from the top, more than two %d px screens", lang, bottom, phoneHeight)
		}
		if w := evalJS[float64](t, ctx, "read the page width", `document.documentElement.scrollWidth`); w > phoneWidth {
			t.Errorf("%s: the form is %.0f px wide on a %d px phone", lang, w, phoneWidth)
		}
	}
	saveScreenshot(t, ctx, "form-en-390.png")

	// Only the text, the consent and the captcha.
	id := pageCaptchaID(t, ctx)
	browserDo(t, ctx, "write, consent, captcha",
		chromedp.Click(chromedp.ID("description")),
		chromedp.SendKeys(chromedp.ID("description"), "They shouted at me on the bus."),
		chromedp.Click(chromedp.ID("consent")),
		chromedp.Click(chromedp.ID("captcha_solution")),
		chromedp.SendKeys(chromedp.ID("captcha_solution"), webtest.Captchas.Solve(id)),
	)
	resp := clickAndLoad(t, ctx, "send the short report", chromedp.ID("submit"), chromedp.ID("receipt"))
	wantDocStatus(t, "POST the short report", resp, http.StatusOK)
	if n := webtest.CountReports(t, e); n != 1 {
		t.Errorf("%d reports stored, want 1", n)
	}
}

// A failed submit brings the page back with "Error:" in its title and the
// focus on the error summary, whose links lead to the wrong fields; no
// script does that (the tab runs none): autofocus on the summary.
func TestErrorSummaryTakesFocus(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	onPhone(t, ctx, phoneWidth, phoneHeight)
	browserRun(t, ctx, "open /en/", chromedp.NavigateResponse(e.URL+"/en/"))
	browserDo(t, ctx, "write, consent, wrong captcha, callback without a number",
		chromedp.WaitVisible(chromedp.ID("submit")),
		chromedp.Click(chromedp.ID("description")),
		chromedp.SendKeys(chromedp.ID("description"), "The caretaker called us names."),
		chromedp.Click(chromedp.ID("callback")),
		chromedp.Click(chromedp.ID("consent")),
		chromedp.Click(chromedp.ID("captcha_solution")),
		chromedp.SendKeys(chromedp.ID("captcha_solution"), "12"),
	)
	resp := clickAndLoad(t, ctx, "send with errors", chromedp.ID("submit"), chromedp.ID("error-summary"))
	wantDocStatus(t, "POST with errors", resp, http.StatusUnprocessableEntity)
	saveScreenshot(t, ctx, "form-en-errors-390.png")

	if title := browserRun(t, ctx, "read the title", chromedp.Title()); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("title %q does not start with %q", title, "Error: ")
	}
	if got := evalJS[string](t, ctx, "read the focused element", `document.activeElement ? document.activeElement.id : ""`); got != "error-summary" {
		t.Errorf("after the failed submit the focus is on #%s, want #error-summary", got)
	}
	links := browserRun(t, ctx, "read the summary's links", chromedp.AttributesAll(chromedp.CSSAll("#error-summary a")))
	var targets []string
	for _, l := range links {
		targets = append(targets, l["href"])
	}
	if want := []string{"#contact", "#captcha_solution"}; strings.Join(targets, " ") != strings.Join(want, " ") {
		t.Errorf("summary links %v, want %v", targets, want)
	}
	// Each link leads to a control that exists and says it is wrong.
	for _, target := range targets {
		id := strings.TrimPrefix(target, "#")
		attrs := browserRun(t, ctx, "read "+target, chromedp.Attributes(chromedp.ID(id)))
		if attrs["aria-invalid"] != "true" || !strings.Contains(" "+attrs["aria-describedby"]+" ", " err-"+id+" ") {
			t.Errorf("%s: aria-invalid=%q aria-describedby=%q, want true and err-%s", target, attrs["aria-invalid"], attrs["aria-describedby"], id)
		}
	}
	// Following the first link moves the focus to the contact field.
	browserDo(t, ctx, "follow the first link", chromedp.Click(chromedp.CSS(`#error-summary a[href="#contact"]`)))
	if got := evalJS[string](t, ctx, "read the focused element", `document.activeElement.id`); got != "contact" {
		t.Errorf("after following the link the focus is on #%s, want #contact", got)
	}
}

// Tap targets on the public form: every control, every label of a choice
// and every link that stands alone is at least 44 × 44 px on a phone
// (WCAG 2.5.8; links in running text are exempt).
func TestFormTapTargets(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	onPhone(t, ctx, phoneWidth, phoneHeight)
	for _, path := range []string{"/de/", "/en/privacy", "/en/followup"} {
		browserRun(t, ctx, "open "+path, chromedp.NavigateResponse(e.URL+path))
		small := evalJS[[]string](t, ctx, "measure the targets on "+path, `(() => {
			const out = [];
			const sel = 'button, select, textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), label.choice, '
				+ 'footer a, nav a, .brand a, p > a:only-child, .error-summary a';
			for (const el of document.querySelectorAll(sel)) {
				const r = el.getBoundingClientRect();
				if (r.width === 0 && r.height === 0) continue; // not shown
				if (r.width < 44 || r.height < 44) out.push((el.id || el.tagName + ' ' + (el.getAttribute('href') || el.textContent.trim().slice(0, 20))) + ' ' + Math.round(r.width) + '×' + Math.round(r.height));
			}
			return out;
		})()`)
		if len(small) > 0 {
			t.Errorf("%s: tap targets under 44×44 px: %v", path, small)
		}
	}
}

// No page scrolls sideways on a 320 px phone: the public form, a case
// list with data and a case page (wide tables scroll in their own box).
func TestNoSideScrollingAt320(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	for i := range 3 {
		form := webtest.ValidReport(fmt.Sprintf("Bericht %d: %s", i, strings.Repeat("Ein langer Satz ohne Ende, der die Zusammenfassung füllt. ", 8)))
		if resp, body := webtest.Submit(t, e, "de", form); resp.StatusCode != http.StatusOK {
			t.Fatalf("report %d: status %d\n%s", i, resp.StatusCode, body)
		}
	}
	onPhone(t, ctx, narrowWidth, 640)
	wide := func(what string) {
		t.Helper()
		w := evalJS[float64](t, ctx, "read the page width of "+what, `document.documentElement.scrollWidth`)
		t.Logf("%s at %d px: page %.0f px wide", what, narrowWidth, w)
		if w > narrowWidth {
			t.Errorf("%s scrolls sideways at %d px: the page is %.0f px wide", what, narrowWidth, w)
		}
	}
	for _, path := range []string{"/de/", "/ar/", "/de/privacy", "/de/followup", "/de/statistics"} {
		browserRun(t, ctx, "open "+path, chromedp.NavigateResponse(e.URL+path))
		wide(path)
	}

	browserRun(t, ctx, "open the login", chromedp.NavigateResponse(e.URL+"/office/login"))
	wide("/office/login")
	browserDo(t, ctx, "log in",
		chromedp.Click(chromedp.ID("username")), chromedp.SendKeys(chromedp.ID("username"), e.Admin),
		chromedp.Click(chromedp.ID("password")), chromedp.SendKeys(chromedp.ID("password"), e.Pass),
	)
	clickAndLoad(t, ctx, "log in", chromedp.ID("submit"), chromedp.CSS("table.cases"))
	if rows := browserRun(t, ctx, "list the cases", chromedp.Nodes(chromedp.CSSAll("table.cases tbody tr"))); len(rows) != 3 {
		t.Fatalf("the case list has %d rows, want 3", len(rows))
	}
	wide("the case list")
	saveScreenshot(t, ctx, "cases-320.png")
	clickAndLoad(t, ctx, "open a case", chromedp.CSS("table.cases tbody tr td a"), chromedp.ID("description"))
	wide("a case page")
	saveScreenshot(t, ctx, "case-320.png")
	for _, path := range []string{"/office/users", "/office/teams", "/office/audit", "/office/settings/retention", "/office/account", "/office/statistics"} {
		browserRun(t, ctx, "open "+path, chromedp.NavigateResponse(e.URL+path))
		wide(path)
	}
}

// Enter in a field sends the report: the language buttons of the header,
// which belong to the form too and come before its own buttons, must not
// be the one Enter presses.
func TestEnterSendsTheReport(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	browserRun(t, ctx, "open /uk/", chromedp.NavigateResponse(e.URL+"/uk/"))
	id := pageCaptchaID(t, ctx)
	browserDo(t, ctx, "write, consent, captcha and Enter",
		chromedp.WaitVisible(chromedp.ID("submit")),
		chromedp.Click(chromedp.ID("description")),
		chromedp.SendKeys(chromedp.ID("description"), "Мене образили в автобусі."),
		chromedp.Click(chromedp.ID("consent")),
		chromedp.Click(chromedp.ID("captcha_solution")),
	)
	resp, err := chromedp.RunResponse(ctx, chromedp.SendKeys(chromedp.ID("captcha_solution"), webtest.Captchas.Solve(id)+kb.Enter))
	if err != nil {
		t.Fatalf("Enter: %v", err)
	}
	browserDo(t, ctx, "wait for the receipt", chromedp.WaitVisible(chromedp.ID("receipt")))
	wantDocStatus(t, "Enter in the captcha field", resp, http.StatusOK)
	if loc := browserRun(t, ctx, "read the location", chromedp.Location()); !strings.HasSuffix(loc, "/uk/report") {
		t.Errorf("Enter went to %s, want /uk/report", loc)
	}
	if n := webtest.CountReports(t, e); n != 1 {
		t.Errorf("%d reports stored, want 1", n)
	}
}
