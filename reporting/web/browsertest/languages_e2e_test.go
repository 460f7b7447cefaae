package browsertest_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// persianDigits and arabicDigits write ASCII digits as an Iranian or
// Afghan and an Arabic keyboard types them.
var (
	persianDigits = strings.NewReplacer("0", "۰", "1", "۱", "2", "۲", "3", "۳", "4", "۴", "5", "۵", "6", "۶", "7", "۷", "8", "۸", "9", "۹")
	arabicDigits  = strings.NewReplacer("0", "٠", "1", "١", "2", "٢", "3", "٣", "4", "٤", "5", "٥", "6", "٦", "7", "٧", "8", "٨", "9", "٩")
)

// fillReport fills the report form as a person does (click, pick with the
// keyboard, type) and as assertReportFilledIn expects it, with
// description as the text.
func fillReport(t *testing.T, ctx context.Context, description string) {
	t.Helper()
	browserDo(t, ctx, "choose the role", chromedp.Click(chromedp.CSS(`input[name="role"][value="affected"]`)))
	chooseOption(t, ctx, "municipality", "essen")
	browserDo(t, ctx, "tick the grounds",
		chromedp.Click(chromedp.CSS(`input[name="grounds"][value="antiziganism"]`)),
		chromedp.Click(chromedp.CSS(`input[name="grounds"][value="language"]`)),
	)
	chooseOption(t, ctx, "area", "authorities")
	browserDo(t, ctx, "describe, wish, consent",
		chromedp.Click(chromedp.ID("description")),
		chromedp.SendKeys(chromedp.ID("description"), description),
		chromedp.Click(chromedp.CSS(`input[name="wish"][value="counselling"]`)),
		chromedp.Click(chromedp.ID("consent")),
	)
}

// wantLang fails unless the page in the browser is in lang and dir.
func wantLang(t *testing.T, ctx context.Context, lang, dir string) {
	t.Helper()
	html := browserRun(t, ctx, "read <html>", chromedp.Attributes(chromedp.CSS("html")))
	if html["lang"] != lang || html["dir"] != dir {
		t.Fatalf(`<html lang=%q dir=%q>, want lang=%q dir=%q`, html["lang"], html["dir"], lang, dir)
	}
}

// A Farsi reporter, JavaScript off, answers the captcha with the Persian
// digits their keyboard types, and gets a receipt.
func TestBrowserFarsiReporterPersianDigits(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	assertScriptsOff(t, ctx)
	resp := browserRun(t, ctx, "open /fa/", chromedp.NavigateResponse(e.URL+"/fa/"))
	wantDocStatus(t, "GET /fa/", resp, http.StatusOK)
	wantLang(t, ctx, "fa", "rtl")
	const description = "در ادارهٔ اتباع خارجی گفتند: به کشورت برگرد."
	fillReport(t, ctx, description)
	id := pageCaptchaID(t, ctx)
	answer := persianDigits.Replace(webtest.Captchas.Solve(id))
	browserDo(t, ctx, "type the captcha in Persian digits", chromedp.SendKeys(chromedp.ID("captcha_solution"), answer))
	if got := browserRun(t, ctx, "read the captcha field", chromedp.Value(chromedp.ID("captcha_solution"))); got != answer {
		t.Fatalf("the captcha field holds %q, want %q", got, answer)
	}
	resp = clickAndLoad(t, ctx, "send", chromedp.ID("submit"), chromedp.ID("receipt"))
	wantDocStatus(t, "POST /fa/report", resp, http.StatusOK)
	wantLang(t, ctx, "fa", "rtl")
	saveScreenshot(t, ctx, "receipt-fa.png")
	if receipt := browserRun(t, ctx, "read the receipt", chromedp.Text(chromedp.ID("receipt"))); !receiptCodePattern.MatchString(receipt) {
		t.Errorf("receipt %q", receipt)
	}
}

// A Ukrainian reporter, JavaScript off, fills half the form, chooses a
// photo, switches to Russian and loses nothing but the photo, which the
// page asks for again; then finishes in Russian.
func TestBrowserUkrainianSwitchesToRussian(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	assertScriptsOff(t, ctx)
	resp := browserRun(t, ctx, "open /uk/", chromedp.NavigateResponse(e.URL+"/uk/"))
	wantDocStatus(t, "GET /uk/", resp, http.StatusOK)
	wantLang(t, ctx, "uk", "ltr")
	const description = "Мене не пустили до автобуса.\nВодій сказав: «Таким, як ви, тут не місце»."
	fillReport(t, ctx, description)
	photo := filepath.Join(t.TempDir(), "bus.jpg")
	if err := os.WriteFile(photo, []byte("\xff\xd8\xff\xe0 not really a photo"), 0o600); err != nil {
		t.Fatal(err)
	}
	browserDo(t, ctx, "choose a photo", chromedp.SetUploadFiles(chromedp.ID("attachments"), []string{photo}))
	id := pageCaptchaID(t, ctx)
	answer := webtest.Captchas.Solve(id)
	browserDo(t, ctx, "type the captcha", chromedp.SendKeys(chromedp.ID("captcha_solution"), answer))

	browserDo(t, ctx, "open the language list", chromedp.Click(chromedp.CSS("nav.languages summary")))
	resp = clickAndLoad(t, ctx, "switch to Russian", chromedp.CSS(`nav.languages button[formaction="/ru/"]`), chromedp.ID("reselect-attachments"))
	wantDocStatus(t, "switch to ru", resp, http.StatusOK)
	wantLang(t, ctx, "ru", "ltr")
	saveScreenshot(t, ctx, "form-uk-to-ru.png")
	assertReportFilledIn(t, ctx, "after the switch to Russian")
	if got := normalizeText(browserRun(t, ctx, "read the description", chromedp.Value(chromedp.ID("description")))); got != description {
		t.Errorf("after the switch the description is %q, want %q", got, description)
	}
	if got := browserRun(t, ctx, "read the captcha field", chromedp.Value(chromedp.ID("captcha_solution"))); got != answer {
		t.Errorf("after the switch the captcha answer is %q, want %q", got, answer)
	}
	if got := pageCaptchaID(t, ctx); got != id {
		t.Errorf("after the switch the captcha is %q, want the same %q", got, id)
	}
	resp = clickAndLoad(t, ctx, "send in Russian", chromedp.ID("submit"), chromedp.ID("receipt"))
	wantDocStatus(t, "POST /ru/report", resp, http.StatusOK)
	wantLang(t, ctx, "ru", "ltr")
	receipt := browserRun(t, ctx, "read the receipt", chromedp.Text(chromedp.ID("receipt")))
	if !receiptCodePattern.MatchString(receipt) {
		t.Fatalf("receipt %q", receipt)
	}
	// On the receipt page the code stays shown in the other language.
	browserDo(t, ctx, "open the language list", chromedp.Click(chromedp.CSS("nav.languages summary")))
	resp = clickAndLoad(t, ctx, "switch the receipt to Ukrainian", chromedp.CSS(`nav.languages button[formaction="/uk/receipt"]`), chromedp.ID("receipt"))
	wantDocStatus(t, "receipt in uk", resp, http.StatusOK)
	wantLang(t, ctx, "uk", "ltr")
	if got := browserRun(t, ctx, "read the receipt again", chromedp.Text(chromedp.ID("receipt"))); got != receipt {
		t.Errorf("after the switch the receipt is %q, want %q", got, receipt)
	}
}

// A Romani reporter, JavaScript off, comes back with the receipt typed
// in Arabic-Indic digits with dashes, and reads the report page.
func TestBrowserRomaniFollowupArabicDigits(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{})
	receipt := webtest.FuSubmit(t, e, webtest.ValidReport("Ando autobuso na mukle man."))
	assertScriptsOff(t, ctx)
	resp := browserRun(t, ctx, "open /rom/followup", chromedp.NavigateResponse(e.URL+"/rom/followup"))
	wantDocStatus(t, "GET /rom/followup", resp, http.StatusOK)
	wantLang(t, ctx, "rom", "ltr")
	typed := arabicDigits.Replace(strings.ReplaceAll(receipt, " ", "-"))
	browserDo(t, ctx, "type the receipt", chromedp.Click(chromedp.ID("receipt")), chromedp.SendKeys(chromedp.ID("receipt"), typed))
	id := pageCaptchaID(t, ctx)
	browserDo(t, ctx, "type the captcha", chromedp.SendKeys(chromedp.ID("captcha_solution"), webtest.Captchas.Solve(id)))
	resp = clickAndLoad(t, ctx, "open the report", chromedp.ID("followup-submit"), chromedp.ID("thread"))
	wantDocStatus(t, "POST /rom/followup", resp, http.StatusOK)
	wantLang(t, ctx, "rom", "ltr")
	saveScreenshot(t, ctx, "followup-rom.png")
}
