package browsertest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// TestEndToEndFollowup walks the reporter's way back in a real browser
// with JavaScript off: submit, note the receipt; a counsellor answers (over
// HTTP); the reporter opens the report with the receipt, solves the
// captcha, reads the answer and the status in plain words, and replies;
// the counsellor reads the reply.
func TestEndToEndFollowup(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	assertScriptsOff(t, ctx)

	// The reporter submits in English.
	resp := browserRun(t, ctx, "open /en/", chromedp.NavigateResponse(e.URL+"/en/"))
	wantDocStatus(t, "GET /en/", resp, http.StatusOK)
	browserDo(t, ctx, "fill in the form",
		chromedp.WaitVisible(chromedp.ID("submit")),
		chromedp.Click(chromedp.CSS(`input[name="role"][value="affected"]`)),
	)
	chooseOption(t, ctx, "municipality", "essen")
	browserDo(t, ctx, "grounds",
		chromedp.Click(chromedp.CSS(`input[name="grounds"][value="antiziganism"]`)))
	chooseOption(t, ctx, "area", "authorities")
	browserDo(t, ctx, "describe, wish, consent, captcha",
		chromedp.Click(chromedp.ID("description")),
		chromedp.SendKeys(chromedp.ID("description"), "At the office they refused to help me."),
		chromedp.Click(chromedp.CSS(`input[name="wish"][value="counselling"]`)),
		chromedp.Click(chromedp.ID("consent")),
		chromedp.SendKeys(chromedp.ID("captcha_solution"), webtest.Captchas.Solve(pageCaptchaID(t, ctx))),
	)
	resp = clickAndLoad(t, ctx, "send the report", chromedp.ID("submit"), chromedp.ID("receipt"))
	wantDocStatus(t, "POST the report", resp, http.StatusOK)
	receipt := browserRun(t, ctx, "read the receipt", chromedp.Text(chromedp.ID("receipt")))

	// A counsellor answers over HTTP.
	admin := webtest.Login(t, e)
	_, list := webtest.GetAs(t, admin, e.URL+"/office/cases")
	ids := webtest.CaseIDs(list)
	if len(ids) != 1 {
		t.Fatalf("%d cases, want 1", len(ids))
	}
	caseURL := e.URL + "/office/cases/" + ids[0]
	answer := "Thank you for telling us. Would you like to talk to us?"
	if r, body := webtest.PostAs(t, admin, caseURL+"/messages", url.Values{"body": {answer}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("counsellor's answer: status %d\n%s", r.StatusCode, body)
	}

	// The reporter comes back with the receipt.
	resp = browserRun(t, ctx, "open /en/followup", chromedp.NavigateResponse(e.URL+"/en/followup"))
	wantDocStatus(t, "GET /en/followup", resp, http.StatusOK)
	browserDo(t, ctx, "type the receipt and captcha",
		chromedp.WaitVisible(chromedp.ID("followup-submit")),
		chromedp.Click(chromedp.ID("receipt")),
		chromedp.SendKeys(chromedp.ID("receipt"), receipt),
		chromedp.SendKeys(chromedp.ID("captcha_solution"), webtest.Captchas.Solve(pageCaptchaID(t, ctx))),
	)
	resp = clickAndLoad(t, ctx, "open the report", chromedp.ID("followup-submit"), chromedp.ID("thread"))
	wantDocStatus(t, "POST /en/followup", resp, http.StatusOK)
	saveScreenshot(t, ctx, "followup-report.png")
	if got := browserRun(t, ctx, "read the status", chromedp.Text(chromedp.ID("followup-status"))); !strings.Contains(got, "We have answered you.") {
		t.Errorf("status reads %q", got)
	}
	if got := browserRun(t, ctx, "read the thread", chromedp.Text(chromedp.ID("thread"))); !strings.Contains(got, answer) {
		t.Errorf("the thread reads %q, want the answer", got)
	}
	if loc := browserRun(t, ctx, "read the location", chromedp.Location()); strings.Contains(loc, "token") || !strings.HasSuffix(loc, "/en/followup") {
		t.Errorf("the report page is at %s", loc)
	}

	reply := "Yes please, mornings are best for me."
	browserDo(t, ctx, "type the reply",
		chromedp.Click(chromedp.ID("message")),
		chromedp.SendKeys(chromedp.ID("message"), reply),
	)
	resp = clickAndLoad(t, ctx, "send the reply", chromedp.ID("message-submit"), chromedp.ID("followup-sent"))
	wantDocStatus(t, "POST the reply", resp, http.StatusOK)
	if got := browserRun(t, ctx, "read the thread again", chromedp.Text(chromedp.ID("thread"))); !strings.Contains(got, reply) {
		t.Errorf("the thread reads %q, want the reply", got)
	}

	// The counsellor sees the reply, marked new in the list.
	_, list = webtest.GetAs(t, admin, e.URL+"/office/cases")
	if !strings.Contains(list, `class="unread"`) {
		t.Error("the list does not mark the reply new")
	}
	_, page := webtest.GetAs(t, admin, caseURL)
	webtest.WantAll(t, "the case page", page, reply)
}
