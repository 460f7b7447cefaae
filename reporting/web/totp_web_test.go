package web_test

import (
	"bytes"
	"html"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// sessionCookie returns the session cookie a response set, or nil.
func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "meldestelle_session") && c.Value != "" {
			return c
		}
	}
	return nil
}

// loginTOTP posts the login form with a code and returns the response.
func loginTOTP(t *testing.T, e *env, password, code string) (*http.Response, string) {
	t.Helper()
	return post(t, e.URL+"/office/login", url.Values{"username": {e.Admin}, "password": {password}, "totp": {code}})
}

// wantLoggedIn fails unless a login response started a session and went
// to want.
func wantLoggedIn(t *testing.T, what string, resp *http.Response, body, want string) *http.Cookie {
	t.Helper()
	c := sessionCookie(resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want || c == nil {
		t.Fatalf("%s: status %d to %q (cookie %v), want 303 to %s with a session:\n%s", what, resp.StatusCode, resp.Header.Get("Location"), c != nil, want, body)
	}
	return c
}

var codesPattern = regexp.MustCompile(`<li><code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code></li>`)

// enrolHTTP sets up two-factor through the pages, as a person would, and
// returns the secret their app holds and the recovery codes shown. The
// clock then moves on a step, so the confirming code is not current.
func enrolHTTP(t *testing.T, e *env, clock *testClock, cookie *http.Cookie) (string, []string) {
	t.Helper()
	resp, page := getAs(t, cookie, e.URL+"/office/account/totp")
	m := secretPattern.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("enrolment page: status %d, secret found: %v\n%s", resp.StatusCode, m != nil, page)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	code, err := totp.GenerateCode(secret, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, page = postAs(t, cookie, e.URL+"/office/account/totp", url.Values{"password": {e.Pass}, "code": {code}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirming the enrolment: status %d\n%s", resp.StatusCode, page)
	}
	var codes []string
	for _, m := range codesPattern.FindAllStringSubmatch(page, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != reporting.RecoveryCodeCount {
		t.Fatalf("%d recovery codes on the page, want %d:\n%s", len(codes), reporting.RecoveryCodeCount, page)
	}
	clock.Advance(30 * time.Second)
	return secret, codes
}

// totpError returns the error shown next to the login form's totp field.
func totpError(page string) string {
	m := regexp.MustCompile(`<p class="error" id="totp-error"[^>]*>([^<]*)</p>`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// The login form always has the totp field, with a hint that it is only
// needed with two-factor; with two-factor off, a login needs no code.
func TestTOTPLoginFormHasField(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, page := get(t, e.URL+"/office/login")
	if !regexp.MustCompile(`<input type="text" id="totp" name="totp"[^>]*autocomplete="one-time-code"`).MatchString(page) {
		t.Errorf("login form has no totp field:\n%s", page)
	}
	if !strings.Contains(page, "Nur nötig, wenn Sie die Zwei-Faktor-Anmeldung eingerichtet haben.") {
		t.Error("login form lacks the hint that the code is only needed with two-factor")
	}
	resp, body := post(t, e.URL+"/office/login", url.Values{"username": {e.Admin}, "password": {e.Pass}, "totp": {"123456"}})
	wantLoggedIn(t, "two-factor off, any code", resp, body, "/office/cases")
}

// Through the pages: enrol with password and code, get recovery codes
// once; from then on a login needs a valid, unused code or recovery code.
// Each refusal re-renders the form with the message at the totp field
// and the user name kept; a wrong password says only that.
func TestTOTPEnrolAndLoginOverHTTP(t *testing.T) {
	t.Parallel()
	e, clock := newTOTPEnv(t)
	cookie := login(t, e)

	resp, page := getAs(t, cookie, e.URL+"/office/account/totp")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `src="/office/account/totp/qr.png"`) {
		t.Fatalf("enrolment page: %d, want 200 with the QR code from our origin\n%s", resp.StatusCode, page)
	}
	secret := strings.ReplaceAll(secretPattern.FindStringSubmatch(page)[1], " ", "")

	// A wrong code re-renders the page with the error at the code field;
	// the password is not sent back.
	good := code(t, secret, clock)
	resp, page = postAs(t, cookie, e.URL+"/office/account/totp", url.Values{"password": {e.Pass}, "code": {wrongCode(good)}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("wrong code: status %d, want 422", resp.StatusCode)
	}
	if !regexp.MustCompile(`(?s)<label for="enable-code">.*?<p class="error"[^>]*>Dieser Code stimmt nicht`).MatchString(page) {
		t.Errorf("wrong code: no message at the code field:\n%s", page)
	}
	if strings.Contains(page, e.Pass) {
		t.Error("the password is sent back")
	}
	if m := secretPattern.FindStringSubmatch(page); m == nil || strings.ReplaceAll(m[1], " ", "") != secret {
		t.Error("after a wrong code the page shows another secret than the one being scanned")
	}
	secret2, codes := enrolHTTP(t, e, clock, cookie)
	if secret2 != secret {
		t.Fatal("the enrolment confirmed another secret")
	}
	_, page = getAs(t, cookie, e.URL+"/office/account/totp")
	if !strings.Contains(page, `id="totp-on"`) || secretPattern.MatchString(page) {
		t.Errorf("after enrolment the page does not say two-factor is on, or still shows a secret:\n%s", page)
	}

	// Logins from now on.
	resp, page = loginTOTP(t, e, e.Pass, "")
	if resp.StatusCode != http.StatusUnauthorized || sessionCookie(resp) != nil {
		t.Errorf("no code: status %d, want 401 and no session", resp.StatusCode)
	}
	if got := totpError(page); !strings.Contains(got, "Zwei-Faktor-Anmeldung eingerichtet") {
		t.Errorf("no code: message at the totp field = %q", got)
	}
	if !strings.Contains(page, `value="anna"`) || strings.Contains(page, e.Pass) {
		t.Error("no code: the user name is lost or the password sent back")
	}

	resp, page = loginTOTP(t, e, e.Pass, wrongCode(code(t, secret, clock)))
	if got := totpError(page); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(got, "Dieser Code stimmt nicht") {
		t.Errorf("wrong code: status %d, message %q", resp.StatusCode, got)
	}

	resp, page = loginTOTP(t, e, "falsch falsch falsch", code(t, secret, clock))
	if resp.StatusCode != http.StatusUnauthorized || totpError(page) != "" || !strings.Contains(page, "Benutzername oder Passwort ist falsch.") {
		t.Errorf("wrong password with a valid code: status %d, totp message %q; want only the password message", resp.StatusCode, totpError(page))
	}

	now := code(t, secret, clock)
	resp, page = loginTOTP(t, e, e.Pass, now[:3]+" "+now[3:])
	wantLoggedIn(t, "valid code", resp, page, "/office/cases")
	resp, page = loginTOTP(t, e, e.Pass, now)
	if got := totpError(page); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(got, "schon benutzt") {
		t.Errorf("replayed code: status %d, message %q", resp.StatusCode, got)
	}

	resp, page = loginTOTP(t, e, e.Pass, strings.ToLower(codes[0]))
	wantLoggedIn(t, "recovery code", resp, page, "/office/cases")
	resp, page = loginTOTP(t, e, e.Pass, codes[0])
	if got := totpError(page); resp.StatusCode != http.StatusUnauthorized || got == "" {
		t.Errorf("recovery code twice: status %d, message %q", resp.StatusCode, got)
	}

	// English office: the message is translated.
	req, _ := http.NewRequest("POST", e.URL+"/office/login", strings.NewReader(url.Values{"username": {e.Admin}, "password": {e.Pass}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "en")
	r, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := totpError(readBody(t, r)); !strings.Contains(got, "Your account uses two-factor login") {
		t.Errorf("English message at the totp field = %q", got)
	}

	entries, _, err := e.DB.AuditEntries(t.Context(), "", reporting.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var enabled, failed int
	for _, a := range entries {
		switch {
		case a.Action == reporting.AuditTOTPEnable:
			enabled++
		case a.Action == reporting.AuditLoginFailed && a.Detail == "totp":
			failed++
		}
	}
	if enabled != 1 || failed != 5 {
		t.Errorf("audit: %d enablings and %d failed second factors, want 1 and 5", enabled, failed)
	}
}

// The QR code is a real PNG from our own origin, large enough to scan,
// never cached, and only there while an enrolment is pending in this
// session.
func TestTOTPQRCodeIsPNG(t *testing.T) {
	t.Parallel()
	e, clock := newTOTPEnv(t)
	if resp, _ := get(t, e.URL+"/office/account/totp/qr.png"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/login" {
		t.Errorf("QR code without session: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie := login(t, e)
	if resp, _ := getAs(t, cookie, e.URL+"/office/account/totp/qr.png"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("QR code before the enrolment page was opened: status %d, want 404", resp.StatusCode)
	}
	getAs(t, cookie, e.URL+"/office/account/totp")
	resp, body := getAs(t, cookie, e.URL+"/office/account/totp/qr.png")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("QR code: status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("QR code Cache-Control = %q, want no-store: it is the secret", resp.Header.Get("Cache-Control"))
	}
	img, err := png.Decode(bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("QR code does not decode as PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 200 || b.Dy() < 200 {
		t.Errorf("QR code is %dx%d, too small to scan", b.Dx(), b.Dy())
	}
	// Not a blank picture: both dark and light modules.
	dark, light := 0, 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 4 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 4 {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				dark++
			} else {
				light++
			}
		}
	}
	if dark < 100 || light < 100 {
		t.Errorf("QR code has %d dark and %d light samples: not a QR code", dark, light)
	}

	other := login(t, e)
	if resp, _ := getAs(t, other, e.URL+"/office/account/totp/qr.png"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another session gets the pending QR code: status %d", resp.StatusCode)
	}
	enrolHTTP(t, e, clock, cookie)
	if resp, _ := getAs(t, cookie, e.URL+"/office/account/totp/qr.png"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("QR code after enrolment: status %d, want 404", resp.StatusCode)
	}
}

// Turning two-factor off over the pages needs the password and a code;
// afterwards the login needs none.
func TestTOTPDisableOverHTTP(t *testing.T) {
	t.Parallel()
	e, clock := newTOTPEnv(t)
	cookie := login(t, e)
	secret, _ := enrolHTTP(t, e, clock, cookie)

	resp, page := postAs(t, cookie, e.URL+"/office/account/totp/disable", url.Values{"password": {"falsch falsch falsch"}, "code": {code(t, secret, clock)}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !regexp.MustCompile(`(?s)<label for="disable-password">.*?<p class="error"[^>]*>Das Passwort stimmt nicht`).MatchString(page) {
		t.Errorf("wrong password: status %d, no message at the password field", resp.StatusCode)
	}
	resp, page = postAs(t, cookie, e.URL+"/office/account/totp/disable", url.Values{"password": {e.Pass}, "code": {wrongCode(code(t, secret, clock))}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !regexp.MustCompile(`(?s)<label for="disable-code">.*?<p class="error"[^>]*>Dieser Code stimmt nicht`).MatchString(page) {
		t.Errorf("wrong code: status %d, no message at the code field", resp.StatusCode)
	}
	resp, _ = postAs(t, cookie, e.URL+"/office/account/totp/disable", url.Values{"password": {e.Pass}, "code": {code(t, secret, clock)}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/account/totp?done=off" {
		t.Fatalf("disable: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = getAs(t, cookie, e.URL+"/office/account/totp?done=off")
	if !strings.Contains(page, `id="totp-notice"`) || !secretPattern.MatchString(page) {
		t.Error("after disabling, the page neither says so nor offers a new enrolment")
	}
	resp, body := loginTOTP(t, e, e.Pass, "")
	wantLoggedIn(t, "after disabling, without code", resp, body, "/office/cases")
}

// New recovery codes over the pages: shown once, the old ones dead.
func TestTOTPNewRecoveryCodesOverHTTP(t *testing.T) {
	t.Parallel()
	e, clock := newTOTPEnv(t)
	cookie := login(t, e)
	_, old := enrolHTTP(t, e, clock, cookie)
	_, page := getAs(t, cookie, e.URL+"/office/account/totp")
	if !strings.Contains(page, "Unbenutzte Wiederherstellungscodes: 10") {
		t.Error("the page does not say how many recovery codes are left")
	}
	resp, page := postAs(t, cookie, e.URL+"/office/account/totp/recovery-codes", url.Values{"password": {e.Pass}, "code": {old[3]}})
	fresh := codesPattern.FindAllStringSubmatch(page, -1)
	if resp.StatusCode != http.StatusOK || len(fresh) != reporting.RecoveryCodeCount {
		t.Fatalf("new recovery codes: status %d, %d codes", resp.StatusCode, len(fresh))
	}
	if resp, _ := loginTOTP(t, e, e.Pass, old[0]); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old recovery code after renewal: status %d, want 401", resp.StatusCode)
	}
	resp, body := loginTOTP(t, e, e.Pass, fresh[0][1])
	wantLoggedIn(t, "new recovery code", resp, body, "/office/cases")
}

// When the admin makes two-factor mandatory for their role, every office
// page but enrolment (and logout) sends them to enrol, from this session
// and after a new login; once enrolled, the office is open again.
func TestTOTPRequiredRoleRedirectsToEnrolment(t *testing.T) {
	t.Parallel()
	e, clock := newTOTPEnv(t)
	cookie := login(t, e)
	resp, page := getAs(t, cookie, e.URL+"/office/settings/two-factor")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="role" value="counsellor"`) {
		t.Fatalf("settings page: status %d\n%s", resp.StatusCode, page)
	}
	resp, _ = postAs(t, cookie, e.URL+"/office/settings/two-factor", url.Values{"role": {"admin", "counsellor"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/settings/two-factor?saved=1" {
		t.Fatalf("saving the setting: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	restricted := []string{"/office/cases", "/office/audit", "/office/settings/two-factor", "/office/cases/00000000-0000-4000-8000-000000000000"}
	check := func(c *http.Cookie, when string) {
		for _, u := range restricted {
			if resp, _ := getAs(t, c, e.URL+u); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/account/totp" {
				t.Errorf("%s: %s: status %d to %q, want 303 to the enrolment", when, u, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		if resp, _ := postAs(t, c, e.URL+"/office/settings/two-factor", url.Values{}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/account/totp" {
			t.Errorf("%s: POST to the settings: status %d to %q, want 303 to the enrolment", when, resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, page := getAs(t, c, e.URL+"/office/account/totp")
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="totp-required"`) {
			t.Errorf("%s: enrolment page: status %d, required notice shown: %v", when, resp.StatusCode, strings.Contains(page, `id="totp-required"`))
		}
		if strings.Contains(page, `id="totp-settings-link"`) {
			t.Errorf("%s: the restricted page links to a page that only redirects back", when)
		}
		if resp, _ := getAs(t, c, e.URL+"/office/account/totp/qr.png"); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: QR code: status %d", when, resp.StatusCode)
		}
	}
	check(cookie, "same session")
	resp, body := loginTOTP(t, e, e.Pass, "")
	fresh := wantLoggedIn(t, "new login without two-factor", resp, body, "/office/cases")
	check(fresh, "new login")

	// Logout still works from the restricted session.
	req, _ := http.NewRequest("POST", e.URL+"/office/logout", nil)
	req.AddCookie(fresh)
	if r, err := client.Do(req); err != nil || r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/office/login" {
		t.Errorf("logout from a restricted session: %v %v", r.StatusCode, err)
	}

	enrolHTTP(t, e, clock, cookie)
	for _, u := range []string{"/office/cases", "/office/audit", "/office/settings/two-factor"} {
		if resp, _ := getAs(t, cookie, e.URL+u); resp.StatusCode != http.StatusOK {
			t.Errorf("after enrolment %s: status %d, want 200", u, resp.StatusCode)
		}
	}
	_, page = getAs(t, cookie, e.URL+"/office/settings/two-factor")
	for role, want := range map[string]bool{"admin": true, "counsellor": true, "statistician": false} {
		checked := regexp.MustCompile(`value="` + role + `" id="role-` + role + `" checked`).MatchString(page)
		if checked != want {
			t.Errorf("settings page: %s checked = %v, want %v", role, checked, want)
		}
	}
	_, page = getAs(t, cookie, e.URL+"/office/account/totp")
	if strings.Contains(page, `action="/office/account/totp/disable"`) {
		t.Error("the page offers to turn off two-factor that the role requires")
	}
	if !strings.Contains(page, `id="totp-settings-link"`) {
		t.Error("the admin's two-factor page has no link to the settings")
	}

	entries, _, _ := e.DB.AuditEntries(t.Context(), "", reporting.Page{Limit: 100})
	found := false
	for _, a := range entries {
		found = found || (a.Action == reporting.AuditSettings && a.Detail == "two_factor=admin,counsellor")
	}
	if !found {
		t.Error("the settings change is not in the audit log")
	}
}
