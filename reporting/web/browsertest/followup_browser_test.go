package browsertest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// In Chromium with JavaScript off, a reporter comes back with the code and
// reads what they reported, with the file they sent, which they can
// download again.
func TestBrowserFollowupShowsOwnReport(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	const text = "Der Hausmeister hat uns beschimpft. Zeugin: die Nachbarin."
	form := webtest.SubForm(t, e, "de", text)
	body, ct := webtest.AttBody(t, form, []webtest.AttFile{{Name: "beweis.jpg", Data: webtest.AttJPEGWithGPS(t)}})
	resp, err := webtest.Client.Post(e.URL+"/de/report", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	receipt := webtest.SubReceipt(webtest.ReadBody(t, resp))
	if receipt == "" {
		t.Fatal("no receipt")
	}
	assertScriptsOff(t, ctx)
	browserRun(t, ctx, "open /de/followup", chromedp.NavigateResponse(e.URL+"/de/followup"))
	id := pageCaptchaID(t, ctx)
	browserDo(t, ctx, "type the code and the captcha",
		chromedp.Click(chromedp.ID("receipt")),
		chromedp.SendKeys(chromedp.ID("receipt"), receipt),
		chromedp.SendKeys(chromedp.ID("captcha_solution"), webtest.Captchas.Solve(id)),
	)
	r := clickAndLoad(t, ctx, "open the report", chromedp.ID("followup-submit"), chromedp.ID("own-report"))
	wantDocStatus(t, "POST /de/followup", r, http.StatusOK)
	saveScreenshot(t, ctx, "followup-own-report.png")
	if got := strings.TrimSpace(browserRun(t, ctx, "read the own text", chromedp.Text(chromedp.ID("own-description")))); got != text {
		t.Errorf("own report reads %q, want %q", got, text)
	}
	files := browserRun(t, ctx, "read the own files", chromedp.Text(chromedp.CSS(`ul[aria-labelledby="own-files-title"]`)))
	if !strings.Contains(files, "beweis.jpg") {
		t.Errorf("own files %q lack beweis.jpg", files)
	}
}
