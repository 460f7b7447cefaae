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
	"time"

	"github.com/chromedp/chromedp"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// TestEndToEndCounsellorsDay is issue 13's "done when", in Chromium with
// JavaScript off: a new Turkish report is triaged in one save (status,
// assignee, racism with antiziganism, housing) and says "saved"; the list
// filtered by antiziganism finds it and not a second case; a reminder set
// for today shows on the start page; the admin's Turkish reply template,
// which the picker offers first, goes out with a photo and reaches the
// reporter's follow-up page.
func TestEndToEndCounsellorsDay(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	assertScriptsOff(t, ctx)

	// Two reports: the one the day is about (the reporter chose gender and
	// work, the counsellor will see racism and housing), and another that
	// the antiziganism filter must leave out.
	report := webtest.ValidReport("Ev sahibi bize daireyi vermedi, çünkü Romanız.")
	report["grounds"], report["area"] = []string{"gender"}, []string{"work"}
	sub, body := webtest.Submit(t, e, "tr", report)
	receipt := webtest.SubReceipt(body)
	if sub.StatusCode != http.StatusOK || receipt == "" {
		t.Fatalf("submitting in Turkish: status %d, no receipt:\n%s", sub.StatusCode, body)
	}
	other := webtest.ValidReport("Im Bus wurde ich wegen meines Alters beschimpft.")
	other["grounds"], other["area"] = []string{"gender"}, []string{"public_space"}
	if sub, body := webtest.Submit(t, e, "de", other); sub.StatusCode != http.StatusOK {
		t.Fatalf("submitting the second report: status %d\n%s", sub.StatusCode, body)
	}

	// The admin keeps a German and a Turkish reply template.
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

	// The counsellor (the admin) logs in and opens the Turkish case: the
	// older of the two, last in the list.
	browserRun(t, ctx, "open the login", chromedp.NavigateResponse(e.URL+"/office/login"))
	browserDo(t, ctx, "type name and password",
		chromedp.Click(chromedp.ID("username")), chromedp.SendKeys(chromedp.ID("username"), e.Admin),
		chromedp.Click(chromedp.ID("password")), chromedp.SendKeys(chromedp.ID("password"), e.Pass))
	clickAndLoad(t, ctx, "log in", chromedp.ID("submit"), chromedp.CSS("table.cases"))
	links := browserRun(t, ctx, "list the cases", chromedp.Nodes(chromedp.CSSAll("table.cases tbody tr td a")))
	if len(links) != 2 {
		t.Fatalf("the list links %d cases, want 2", len(links))
	}
	caseNo := links[1].Children[0].NodeValue
	resp := clickAndLoad(t, ctx, "open the Turkish case", chromedp.CSS("table.cases tbody tr:last-child td a"), chromedp.ID("triage-form"))
	wantDocStatus(t, "open the case", resp, http.StatusOK)
	caseURL := strings.SplitN(browserRun(t, ctx, "read the case's address", chromedp.Location()), "?", 2)[0]
	caseURL = strings.SplitN(caseURL, "#", 2)[0]
	if got := browserRun(t, ctx, "read the case number", chromedp.Text(chromedp.CSS("h1"))); !strings.Contains(got, caseNo) {
		t.Fatalf("opened %q, want case %s", got, caseNo)
	}

	// Triage in one save: status, assignee, racism with antiziganism
	// instead of gender, housing instead of work.
	chooseOption(t, ctx, "tp-status", "triage")
	assignee := browserRun(t, ctx, "find the admin in the assignee list",
		chromedp.AttributeValue(chromedp.CSS(`#tp-assignee option:not([value="0"])`), "value")).Value
	chooseOption(t, ctx, "tp-assignee", assignee)
	for _, box := range []struct {
		name, value string
		want        bool
	}{
		{"grounds", "racism", true}, {"subgrounds", "antiziganism", true}, {"grounds", "gender", false},
		{"areas", "housing", true}, {"areas", "work", false},
	} {
		sel := `#triage-form input[name="` + box.name + `"][value="` + box.value + `"]`
		if browserRun(t, ctx, "read "+sel, chromedp.JavascriptAttribute[bool](chromedp.CSS(sel), "checked")) != box.want {
			browserDo(t, ctx, "click "+sel, chromedp.Click(chromedp.CSS(sel)))
		}
	}
	resp = clickAndLoad(t, ctx, "save the triage", chromedp.ID("triage-submit"), chromedp.ID("saved-triage"))
	wantDocStatus(t, "save the triage", resp, http.StatusOK)
	saveScreenshot(t, ctx, "day-triaged.png")
	if n := len(browserRun(t, ctx, "count the saved notes", chromedp.Nodes(chromedp.CSSAll(".saved")))); n != 1 {
		t.Errorf("the page shows %d saved notes, want 1 (in the triage panel)", n)
	}
	lang := browserRun(t, ctx, "read the office's language", chromedp.AttributeValue(chromedp.CSS("html"), "lang")).Value
	if got, want := browserRun(t, ctx, "read the status", chromedp.Text(chromedp.ID("status"))), officeLabelsByLang[lang].statusTriage; got != want {
		t.Errorf("after the one save the case's status reads %q, want %q", got, want)
	}
	if got := browserRun(t, ctx, "read the assignee", chromedp.Text(chromedp.ID("assignee"))); !strings.Contains(got, e.Admin) {
		t.Errorf("after the one save the case is assigned to %q, want %s", got, e.Admin)
	}
	_, page := webtest.GetAs(t, admin, caseURL)
	for _, v := range []struct{ name, value string }{{"subgrounds", "antiziganism"}, {"areas", "housing"}} {
		if !regexp.MustCompile(`name="` + v.name + `" value="` + v.value + `" checked`).MatchString(page) {
			t.Errorf("after the one save the panel does not hold %s=%s", v.name, v.value)
		}
	}

	// The list, filtered by antiziganism through its form, finds this
	// case and not the other one.
	browserRun(t, ctx, "open the list", chromedp.NavigateResponse(e.URL+"/office/cases"))
	chooseOption(t, ctx, "f-subground", "antiziganism")
	clickAndLoad(t, ctx, "filter", chromedp.ID("f-submit"), chromedp.CSS("table.cases"))
	rows := tableText(t, ctx, "table.cases tbody")
	if len(rows) != 1 || !strings.Contains(strings.Join(rows[0], " "), caseNo) {
		t.Errorf("the antiziganism filter lists %q, want case %s alone", rows, caseNo)
	}

	// A reminder for today, in the office's time zone, shows on the start
	// page.
	today := time.Now().In(berlin(t)).Format(time.DateOnly)
	browserRun(t, ctx, "open the case again", chromedp.NavigateResponse(caseURL))
	const reason = "Vermieterin anrufen"
	browserDo(t, ctx, "set a reminder for today",
		chromedp.SetValue(chromedp.ID("reminder-due"), today),
		chromedp.Click(chromedp.ID("reminder-reason-input")),
		chromedp.SendKeys(chromedp.ID("reminder-reason-input"), reason))
	clickAndLoad(t, ctx, "save the reminder", chromedp.ID("reminder-submit"), chromedp.ID("reminder-saved"))
	resp = browserRun(t, ctx, "open the start page", chromedp.NavigateResponse(e.URL+"/office/"))
	wantDocStatus(t, "GET /office/", resp, http.StatusOK)
	due := browserRun(t, ctx, "read the due box", chromedp.Text(chromedp.ID("due")))
	if !strings.Contains(due, caseNo) || !strings.Contains(due, reason) {
		t.Errorf("the start page's due box reads %q, want case %s with %q", due, caseNo, reason)
	}

	// The reply: the picker starts at the Turkish template; inserted,
	// added to, sent with a photo.
	browserRun(t, ctx, "open the case for the reply", chromedp.NavigateResponse(caseURL))
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
	clickAndLoad(t, ctx, "send", chromedp.ID("message-submit"), chromedp.ID("saved-messages"))
	saveScreenshot(t, ctx, "day-reply-sent.png")
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
	saveScreenshot(t, ctx, "day-reporter.png")
	thread := browserRun(t, ctx, "read the thread", chromedp.Text(chromedp.ID("thread")))
	for _, want := range []string{"bildiriminizi aldık", "Fotoğraf ektedir.", "belge.png"} {
		if !strings.Contains(thread, want) {
			t.Errorf("the reporter's thread reads %q, want %q in it", thread, want)
		}
	}
}

// berlin is the office's default time zone.
func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
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
