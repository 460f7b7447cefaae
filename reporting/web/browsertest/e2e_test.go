package browsertest_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// arabicDescription is what the reporter types: two lines, Arabic script.
const arabicDescription = "رفض الموظف في مكتب الأجانب مساعدتي لأنني من الروما.\nقال لي: عودي إلى بلدك."

var receiptCodePattern = regexp.MustCompile(`^\d{4} \d{4} \d{4} \d{4}$`)

// TestEndToEndArabicReportReachesCounsellor walks the whole way in a real
// browser with JavaScript off: a person fills the Arabic form, gets a wrong
// captcha back with everything still filled in, solves the next one, gets a
// receipt; a counsellor logs in and reads the description as it was typed.
// It runs with the real argon2id parameters.
func TestEndToEndArabicReportReachesCounsellor(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{Params: vault.DefaultParams})
	start := time.Now()
	defer func() { t.Logf("end-to-end walk took %v", time.Since(start).Round(time.Millisecond)) }()

	// The very tab we use runs no scripts.
	assertScriptsOff(t, ctx)

	// The Arabic form, right to left.
	resp := browserRun(t, ctx, "open /ar/", chromedp.NavigateResponse(e.URL+"/ar/"))
	wantDocStatus(t, "GET /ar/", resp, http.StatusOK)
	browserDo(t, ctx, "wait for the form", chromedp.WaitVisible(chromedp.ID("submit")))
	html := browserRun(t, ctx, "read <html>", chromedp.Attributes(chromedp.CSS("html")))
	if html["lang"] != "ar" || html["dir"] != "rtl" {
		t.Errorf(`<html lang=%q dir=%q>, want lang="ar" dir="rtl"`, html["lang"], html["dir"])
	}
	saveScreenshot(t, ctx, "form-ar.png")

	// Fill it in as a person does: click, pick with the keyboard, type.
	fillReport(t, ctx, arabicDescription)
	if got := normalizeText(browserRun(t, ctx, "read the description", chromedp.Value(chromedp.ID("description")))); got != arabicDescription {
		t.Fatalf("typed description reads %q, want %q", got, arabicDescription)
	}
	assertReportFilledIn(t, ctx, "before sending")

	// First a wrong captcha: the form comes back, filled in, with the error.
	firstID := pageCaptchaID(t, ctx)
	right := webtest.Captchas.Solve(firstID)
	if right == "" {
		t.Fatalf("captcha %q unknown to the test store", firstID)
	}
	wrong := strings.Repeat("0", len(right))
	if wrong == right {
		wrong = strings.Repeat("1", len(right))
	}
	browserDo(t, ctx, "type the wrong captcha", chromedp.SendKeys(chromedp.ID("captcha_solution"), wrong))
	resp = clickAndLoad(t, ctx, "send with a wrong captcha", chromedp.ID("submit"), chromedp.ID("err-captcha_solution"))
	wantDocStatus(t, "POST with a wrong captcha", resp, http.StatusUnprocessableEntity)
	saveScreenshot(t, ctx, "form-ar-wrong-captcha.png")
	if got := normalizeText(browserRun(t, ctx, "read the description again", chromedp.Value(chromedp.ID("description")))); got != arabicDescription {
		t.Errorf("after the wrong captcha the description is %q, want %q", got, arabicDescription)
	}
	assertReportFilledIn(t, ctx, "after the wrong captcha")
	if got := browserRun(t, ctx, "read the captcha field", chromedp.Value(chromedp.ID("captcha_solution"))); got != "" {
		t.Errorf("after the wrong captcha the captcha field holds %q, want it empty", got)
	}
	secondID := pageCaptchaID(t, ctx)
	if secondID == firstID {
		t.Fatalf("the form came back with the used captcha %q", firstID)
	}

	// Then the new captcha, solved: the receipt.
	browserDo(t, ctx, "type the captcha", chromedp.SendKeys(chromedp.ID("captcha_solution"), webtest.Captchas.Solve(secondID)))
	resp = clickAndLoad(t, ctx, "send", chromedp.ID("submit"), chromedp.ID("receipt"))
	wantDocStatus(t, "POST with the right captcha", resp, http.StatusOK)
	saveScreenshot(t, ctx, "receipt-ar.png")
	receipt := browserRun(t, ctx, "read the receipt", chromedp.Text(chromedp.ID("receipt")))
	if !receiptCodePattern.MatchString(receipt) {
		t.Errorf("receipt %q does not match %s", receipt, receiptCodePattern)
	}

	// The counsellor logs in and opens the one case.
	resp = browserRun(t, ctx, "open the login", chromedp.NavigateResponse(e.URL+"/office/login"))
	wantDocStatus(t, "GET /office/login", resp, http.StatusOK)
	browserDo(t, ctx, "fill in the login",
		chromedp.Click(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), e.Admin),
		chromedp.Click(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), e.Pass),
	)
	resp = clickAndLoad(t, ctx, "log in", chromedp.ID("submit"), chromedp.CSS("table.cases"))
	wantDocStatus(t, "log in", resp, http.StatusOK)
	if loc := browserRun(t, ctx, "read the location", chromedp.Location()); !strings.HasSuffix(loc, "/office/cases") {
		t.Errorf("after the login the browser is at %s, want /office/cases", loc)
	}
	rows := browserRun(t, ctx, "list the cases", chromedp.Nodes(chromedp.CSSAll("table.cases tbody tr")))
	if len(rows) != 1 {
		t.Fatalf("the case list has %d rows, want 1", len(rows))
	}
	saveScreenshot(t, ctx, "cases.png")
	resp = clickAndLoad(t, ctx, "open the case", chromedp.CSS("table.cases tbody tr td a"), chromedp.ID("description"))
	wantDocStatus(t, "open the case", resp, http.StatusOK)
	saveScreenshot(t, ctx, "case.png")
	if got := normalizeText(browserRun(t, ctx, "read the case's description", chromedp.TextContent(chromedp.ID("description")))); got != arabicDescription {
		t.Errorf("the counsellor reads %q, want %q", got, arabicDescription)
	}
	if lang := browserRun(t, ctx, "read the description's language", chromedp.AttributeValue(chromedp.ID("description"), "lang")); lang.Value != "ar" {
		t.Errorf(`the case's description has lang=%q, want "ar"`, lang.Value)
	}
}

// assertReportFilledIn checks the choices of the test's report in the form.
func assertReportFilledIn(t *testing.T, ctx context.Context, when string) {
	t.Helper()
	for id, want := range map[string]string{"municipality": "essen", "area": "authorities"} {
		if got := browserRun(t, ctx, "read "+id, chromedp.Value(chromedp.ID(id))); got != want {
			t.Errorf("%s: %s is %q, want %q", when, id, got, want)
		}
	}
	for _, c := range []struct {
		sel  string
		want bool
	}{
		{`input[name="role"][value="affected"]`, true},
		{`input[name="grounds"][value="antiziganism"]`, true},
		{`input[name="grounds"][value="language"]`, true},
		{`input[name="grounds"][value="racism"]`, false},
		{`input[name="wish"][value="counselling"]`, true},
		{`#consent`, true},
	} {
		got := browserRun(t, ctx, "read "+c.sel, chromedp.JavascriptAttribute[bool](chromedp.CSS(c.sel), "checked"))
		if got != c.want {
			t.Errorf("%s: %s checked = %v, want %v", when, c.sel, got, c.want)
		}
	}
}

// chooseOption picks the option with the value want in the <select> with the
// id, as a person does with the keyboard: focus it and press the down arrow
// until it is there. It reads the options first, so it does not depend on
// their order.
func chooseOption(t *testing.T, ctx context.Context, id, want string) {
	t.Helper()
	opts := browserRun(t, ctx, "read the options of #"+id, chromedp.AttributesAll(chromedp.CSSAll("#"+id+" option")))
	i := slices.IndexFunc(opts, func(o map[string]string) bool { return o["value"] == want })
	if i < 0 {
		t.Fatalf("select #%s has no option %q", id, want)
	}
	cur := browserRun(t, ctx, "read #"+id, chromedp.Value(chromedp.ID(id)))
	j := slices.IndexFunc(opts, func(o map[string]string) bool { return o["value"] == cur })
	if j < 0 || j > i {
		t.Fatalf("select #%s is at %q, below %q", id, cur, want)
	}
	browserDo(t, ctx, "choose "+want+" in #"+id, chromedp.SendKeys(chromedp.ID(id), strings.Repeat(kb.ArrowDown, i-j)))
	if got := browserRun(t, ctx, "read #"+id, chromedp.Value(chromedp.ID(id))); got != want {
		t.Fatalf("select #%s: %d × ArrowDown gave %q, want %q", id, i-j, got, want)
	}
}

// pageCaptchaID reads the id of the form's captcha from its hidden field.
func pageCaptchaID(t *testing.T, ctx context.Context) string {
	t.Helper()
	id := browserRun(t, ctx, "read the captcha id", chromedp.AttributeValue(chromedp.CSS(`input[name="captcha_id"]`), "value"))
	if id.Value == "" {
		t.Fatal("the form has no captcha id")
	}
	return id.Value
}

// clickAndLoad clicks sel, waits for the page that the click loads and for next
// to be visible on it, and returns the page's response.
func clickAndLoad[S, N chromedp.Selectable](t *testing.T, ctx context.Context, what string, sel S, next N) *network.Response {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	browserDo(t, ctx, what+": wait for "+fmt.Sprint(next), chromedp.WaitVisible(next))
	return resp
}

// browserRun runs one action and fails the test on an error.
func browserRun[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// browserDo runs actions in order and fails the test on an error.
func browserDo(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantDocStatus(t *testing.T, what string, resp *network.Response, want int) {
	t.Helper()
	if resp == nil {
		t.Fatalf("%s: no response", what)
	}
	if resp.Status != int64(want) {
		t.Fatalf("%s: status %d %s, want %d", what, resp.Status, resp.StatusText, want)
	}
}

// normalizeText makes text read from the page comparable with what was typed:
// forms send line breaks as CRLF.
func normalizeText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}
