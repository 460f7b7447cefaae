package browsertest_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// In Chromium with JavaScript off (issue 13): a counsellor on a Turkish
// case inserts the admin's Turkish reply template, which the picker
// offers first, adds to it, attaches a photo and sends; the reporter
// reads the answer and sees the photo on the Turkish follow-up page.
func TestEndToEndReplyTemplateWithFile(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	assertScriptsOff(t, ctx)

	sub, body := webtest.Submit(t, e, "tr", webtest.ValidReport("Ev sahibi bize daireyi vermedi, çünkü Romanız."))
	receipt := webtest.SubReceipt(body)
	if sub.StatusCode != http.StatusOK || receipt == "" {
		t.Fatalf("submitting in Turkish: status %d, no receipt:\n%s", sub.StatusCode, body)
	}
	admin := webtest.Login(t, e)
	const template = "Merhaba, bildiriminizi aldık. Bir hafta içinde size cevap vereceğiz."
	for _, tpl := range []url.Values{
		{"language": {"de"}, "title": {"Eingang"}, "body": {"Wir haben Ihre Meldung erhalten."}},
		{"language": {"tr"}, "title": {"Alındı"}, "body": {template}},
	} {
		if r, page := webtest.PostAs(t, admin, e.URL+"/office/settings/replies", tpl); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("adding a template: status %d\n%s", r.StatusCode, page)
		}
	}
	_, settings := webtest.GetAs(t, admin, e.URL+"/office/settings/replies")
	m := regexp.MustCompile(`id="template-(\d+)">\s*<strong dir="auto">Alındı<`).FindStringSubmatch(settings)
	if m == nil {
		t.Fatalf("the Turkish template is not listed:\n%s", settings)
	}
	_, list := webtest.GetAs(t, admin, e.URL+"/office/cases")
	ids := webtest.CaseIDs(list)
	if len(ids) != 1 {
		t.Fatalf("%d cases, want 1", len(ids))
	}

	// The counsellor (the admin) logs in in the browser.
	browserRun(t, ctx, "open the login", chromedp.NavigateResponse(e.URL+"/office/login"))
	browserDo(t, ctx, "type name and password",
		chromedp.Click(chromedp.ID("username")), chromedp.SendKeys(chromedp.ID("username"), e.Admin),
		chromedp.Click(chromedp.ID("password")), chromedp.SendKeys(chromedp.ID("password"), e.Pass))
	clickAndLoad(t, ctx, "log in", chromedp.ID("submit"), chromedp.CSS("table.cases"))
	resp := browserRun(t, ctx, "open the case", chromedp.NavigateResponse(e.URL+"/office/cases/"+ids[0]))
	wantDocStatus(t, "GET the case", resp, http.StatusOK)
	if got := browserRun(t, ctx, "read the picker", chromedp.Value(chromedp.ID("reply-template"))); got != m[1] {
		t.Errorf("the picker starts at template %q, want the Turkish one (%s)", got, m[1])
	}
	resp = clickAndLoad(t, ctx, "insert the template", chromedp.ID("reply-template-insert"), chromedp.ID("reply-template-inserted"))
	wantDocStatus(t, "insert the template", resp, http.StatusOK)
	if got := browserRun(t, ctx, "read the composer", chromedp.Value(chromedp.ID("message-body"))); got != template {
		t.Fatalf("the composer holds %q, want the template", got)
	}
	const added = " Fotoğraf ektedir."
	browserDo(t, ctx, "add a sentence",
		chromedp.Click(chromedp.ID("message-body")), chromedp.SendKeys(chromedp.ID("message-body"), added))
	photo := filepath.Join(t.TempDir(), "belge.png")
	if err := os.WriteFile(photo, smallPNG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	browserDo(t, ctx, "choose a photo", chromedp.SetUploadFiles(chromedp.ID("message-files"), []string{photo}))
	clickAndLoad(t, ctx, "send", chromedp.ID("message-submit"), chromedp.CSS("article.message.counsellor"))
	saveScreenshot(t, ctx, "reply-template-sent.png")
	sent := browserRun(t, ctx, "read the sent message", chromedp.Text(chromedp.CSS("article.message.counsellor")))
	if !strings.Contains(sent, "Fotoğraf ektedir.") || !strings.Contains(sent, "belge.png") {
		t.Errorf("the case page shows the message as %q, want the added sentence and the photo", sent)
	}

	// The reporter comes back with the receipt, in Turkish.
	browserRun(t, ctx, "open /tr/followup", chromedp.NavigateResponse(e.URL+"/tr/followup"))
	browserDo(t, ctx, "type the receipt and captcha",
		chromedp.WaitVisible(chromedp.ID("followup-submit")),
		chromedp.Click(chromedp.ID("receipt")), chromedp.SendKeys(chromedp.ID("receipt"), receipt),
		chromedp.SendKeys(chromedp.ID("captcha_solution"), webtest.Captchas.Solve(pageCaptchaID(t, ctx))))
	resp = clickAndLoad(t, ctx, "open the report", chromedp.ID("followup-submit"), chromedp.ID("thread"))
	wantDocStatus(t, "POST /tr/followup", resp, http.StatusOK)
	saveScreenshot(t, ctx, "reply-template-reporter.png")
	thread := browserRun(t, ctx, "read the thread", chromedp.Text(chromedp.ID("thread")))
	for _, want := range []string{"bildiriminizi aldık", "Fotoğraf ektedir.", "belge.png"} {
		if !strings.Contains(thread, want) {
			t.Errorf("the reporter's thread reads %q, want %q in it", thread, want)
		}
	}
}

// smallPNG is a 16×16 PNG.
func smallPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	img.Set(5, 5, color.NRGBA{200, 30, 30, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
