package browsertest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// TestTOTPEnrolmentInBrowser sets up two-factor in a real browser with
// JavaScript off, as a counsellor does: the QR code really loads under the
// page's CSP (img-src 'self'), the secret is readable for typing, the
// confirmation shows the recovery codes; then a login without the code is
// sent back with the message at the code field and the name kept, and a
// login with it gets in.
func TestTOTPEnrolmentInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	e, clock := webtest.NewTOTPEnv(t)

	logIn := func(code string) {
		t.Helper()
		browserRun(t, ctx, "open the login", chromedp.NavigateResponse(e.URL+"/office/login"))
		browserDo(t, ctx, "fill in the login",
			chromedp.Click(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), e.Admin),
			chromedp.Click(chromedp.ID("password")),
			chromedp.SendKeys(chromedp.ID("password"), e.Pass),
		)
		if code != "" {
			browserDo(t, ctx, "type the code", chromedp.Click(chromedp.ID("totp")), chromedp.SendKeys(chromedp.ID("totp"), code))
		}
	}
	logIn("")
	resp := clickAndLoad(t, ctx, "log in", chromedp.ID("submit"), chromedp.CSS("main h1"))
	wantDocStatus(t, "log in", resp, http.StatusOK)

	resp = browserRun(t, ctx, "open the two-factor page", chromedp.NavigateResponse(e.URL+"/office/account/totp"))
	wantDocStatus(t, "GET /office/account/totp", resp, http.StatusOK)
	browserDo(t, ctx, "wait for the QR code", chromedp.WaitVisible(chromedp.ID("totp-qr")))
	if w := browserRun(t, ctx, "read the QR code's natural width", chromedp.JavascriptAttribute[int](chromedp.ID("totp-qr"), "naturalWidth")); w < 200 {
		t.Errorf("the QR code did not load in the browser (naturalWidth %d): blocked by the CSP?", w)
	}
	saveScreenshot(t, ctx, "totp-enrol.png")
	secret := strings.ReplaceAll(browserRun(t, ctx, "read the secret", chromedp.Text(chromedp.ID("totp-secret"))), " ", "")
	code, err := totp.GenerateCode(secret, clock.Now())
	if err != nil {
		t.Fatalf("the page's secret %q is not a TOTP secret: %v", secret, err)
	}
	browserDo(t, ctx, "confirm with password and code",
		chromedp.Click(chromedp.ID("enable-password")),
		chromedp.SendKeys(chromedp.ID("enable-password"), e.Pass),
		chromedp.Click(chromedp.ID("enable-code")),
		chromedp.SendKeys(chromedp.ID("enable-code"), code),
	)
	resp = clickAndLoad(t, ctx, "turn two-factor on", chromedp.ID("enable-submit"), chromedp.ID("recovery-codes"))
	wantDocStatus(t, "turn two-factor on", resp, http.StatusOK)
	saveScreenshot(t, ctx, "totp-codes.png")
	codes := browserRun(t, ctx, "count the recovery codes", chromedp.Nodes(chromedp.CSSAll("#recovery-codes li")))
	if len(codes) != 10 {
		t.Errorf("%d recovery codes shown, want 10", len(codes))
	}

	browserDo(t, ctx, "log out", chromedp.Click(chromedp.CSS(`form[action="/office/logout"] button`)), chromedp.WaitVisible(chromedp.ID("totp")))
	logIn("")
	resp = clickAndLoad(t, ctx, "log in without code", chromedp.ID("submit"), chromedp.ID("totp-error"))
	wantDocStatus(t, "log in without code", resp, http.StatusUnauthorized)
	saveScreenshot(t, ctx, "totp-login-required.png")
	if name := browserRun(t, ctx, "read the user name", chromedp.Value(chromedp.ID("username"))); name != e.Admin {
		t.Errorf("after the refused login the user name reads %q, want %q", name, e.Admin)
	}

	clock.Advance(30 * time.Second)
	code, _ = totp.GenerateCode(secret, clock.Now())
	logIn(code)
	resp = clickAndLoad(t, ctx, "log in with code", chromedp.ID("submit"), chromedp.CSS("main h1"))
	wantDocStatus(t, "log in with code", resp, http.StatusOK)
	if loc := browserRun(t, ctx, "read the location", chromedp.Location()); !strings.HasSuffix(loc, "/office/cases") {
		t.Errorf("after the login with code the browser is at %s, want /office/cases", loc)
	}
}
