package web_test

import (
	"bytes"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dchest/captcha"
)

// A complete report with the captcha solved gets a receipt page that no
// browser or proxy may store.
func TestSubmitShowsReceipt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	resp, body := submit(t, e, "en", validReport("The landlord refused to rent to us."))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200:\n%s", resp.StatusCode, body)
	}
	if !receiptPattern.MatchString(body) {
		t.Fatalf("no receipt in the page:\n%s", body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	if !strings.Contains(body, `href="/en/followup"`) {
		t.Error("the receipt page does not lead to the follow-up page")
	}
	if !strings.Contains(body, "cannot restore it") {
		t.Error("the receipt page does not say that the code cannot be recovered")
	}
}

// A form with mistakes comes back with every typed value and a translated
// error next to each wrong field, and with a fresh captcha.
func TestInvalidInputKeepsTypedValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, page := get(t, e.URL+"/tr/")
	oldID := captchaID(t, page)
	form := validReport("Ev sahibi <b>bize</b> \"ev vermedi\" & gitti.\nİkinci satır.")
	form.Set("municipality", "berlin") // unknown: error (missing is not_stated)
	form.Set("area", "spaceship")      // unknown: error
	form.Del("consent")                // missing: error
	form.Set("captcha_id", oldID)
	form.Set("captcha_solution", captchas.Solve(oldID))

	resp, body := post(t, e.URL+"/tr/report", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	for _, want := range []string{
		// The description, escaped once by html/template, line break kept.
		"Ev sahibi &lt;b&gt;bize&lt;/b&gt; &#34;ev vermedi&#34; &amp; gitti.\nİkinci satır.</textarea>",
		`value="affected" checked`,
		`value="antiziganism" checked`,
		`value="gender" checked`,
		`value="contact_me" checked`,
		`value="2026-03"`,
		`value="14" selected`,
		"Signal &#43;49 170 0000000</textarea>",
		`id="err-municipality"`,
		`id="err-area"`,
		`id="err-consent"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the returned form lacks %q", want)
		}
	}
	for _, field := range []string{"role", "description", "grounds", "wish", "captcha_solution"} {
		if strings.Contains(body, `id="err-`+field+`"`) {
			t.Errorf("field %s is marked wrong but was right", field)
		}
	}
	if !strings.Contains(body, `lang="tr"`) || !strings.Contains(body, "Lütfen") {
		t.Error("the errors are not in Turkish")
	}
	if captchaID(t, body) == oldID {
		t.Error("the form came back with the used captcha instead of a fresh one")
	}
}

// A wrong captcha is an error at the captcha field, in the reporter's
// language; everything typed stays and nothing is stored.
func TestWrongCaptchaKeepsForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, page := get(t, e.URL+"/ar/")
	id := captchaID(t, page)
	wrong := "000000"
	if captchas.Solve(id) == wrong {
		wrong = "111111"
	}
	form := validReport("رفض المؤجر أن يؤجرنا الشقة")
	form.Set("captcha_id", id)
	form.Set("captcha_solution", wrong)
	resp, body := post(t, e.URL+"/ar/report", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	if !strings.Contains(body, `id="err-captcha_solution"`) {
		t.Error("no error next to the captcha")
	}
	if !strings.Contains(body, "رفض المؤجر أن يؤجرنا الشقة</textarea>") {
		t.Error("the description was lost")
	}
	if !strings.Contains(body, `dir="rtl"`) {
		t.Error("the Arabic form is not right-to-left")
	}
	if n := countReports(t, e); n != 0 {
		t.Errorf("%d reports stored after a wrong captcha", n)
	}
}

// The "new picture" button brings the same form back with a new captcha
// and no errors, without JavaScript.
func TestNewCaptchaButtonKeepsForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, page := get(t, e.URL+"/de/")
	old := captchaID(t, page)
	form := validReport("Im Bus beschimpft")
	form.Set("captcha_id", old)
	form.Set("new_captcha", "1")
	resp, body := post(t, e.URL+"/de/report", form)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if captchaID(t, body) == old {
		t.Error("no new captcha")
	}
	if !strings.Contains(body, "Im Bus beschimpft</textarea>") {
		t.Error("the description was lost")
	}
	if strings.Contains(body, `class="error"`) {
		t.Error("asking for a new picture shows errors")
	}
}

// A body over the limit is refused with 413 before anything is parsed.
func TestOversizeBodyGets413(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	form := validReport(strings.Repeat("x", 300<<10))
	resp, body := post(t, e.URL+"/en/report", form)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	if !strings.Contains(body, "too large") {
		t.Errorf("the 413 page does not explain itself:\n%s", body)
	}
}

// The longest allowed description in a multi-byte script fits the body
// limit: the limit refuses abuse, not long reports.
func TestLongestDescriptionFits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	resp, body := submit(t, e, "ar", validReport(strings.Repeat("ع", 20000)))
	if resp.StatusCode != http.StatusOK || !receiptPattern.MatchString(body) {
		t.Fatalf("status %d, no receipt for a 20,000-character Arabic report", resp.StatusCode)
	}
}

// No public response sets a cookie.
func TestPublicResponsesSetNoCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, page := get(t, e.URL+"/de/")
	id := captchaID(t, page)
	for _, u := range []string{"/", "/de/", "/ar/", "/en/privacy", "/captcha/" + id + ".png", "/captcha/" + id + ".wav", "/captcha/" + id + ".de.wav",
		"/static/style.css", "/healthz", "/nowhere", "/xx/"} {
		resp, _ := get(t, e.URL+u)
		if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
			t.Errorf("GET %s sets a cookie: %q", u, c)
		}
	}
	resp, _ := submit(t, e, "de", validReport("Keine Kekse"))
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("POST report sets a cookie: %q", c)
	}
	resp, _ = post(t, e.URL+"/de/report", url.Values{"description": {"fehlerhaft"}})
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("POST report with errors sets a cookie: %q", c)
	}
}

// The server's log of a full request cycle holds method, route, status
// and duration, and nothing about the client: no address, user agent,
// referrer, query string or concrete path.
func TestLogsHoldNoClientData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	do := func(method, path string, body url.Values) {
		t.Helper()
		var req *http.Request
		var err error
		if body != nil {
			req, err = http.NewRequest(method, e.URL+path, strings.NewReader(body.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, err = http.NewRequest(method, e.URL+path, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", "SpyAgent/7.3")
		req.Header.Set("Referer", "https://referrer.example/secret-page")
		req.Header.Set("X-Forwarded-For", "198.51.100.23")
		req.Header.Set("Accept-Language", "ar")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, resp)
	}
	do("GET", "/?utm_source=tracker", nil)
	_, page := get(t, e.URL+"/ar/?q=querysecret")
	id := captchaID(t, page)
	form := validReport("سرقة")
	form.Set("captcha_id", id)
	form.Set("captcha_solution", captchas.Solve(id))
	do("POST", "/ar/report?ref=querysecret", form)
	do("GET", "/captcha/"+id+".png?reload=querysecret", nil)
	do("GET", "/office/cases/some-case-id", nil)
	do("GET", "/not/a/page/querysecret", nil)

	logs := e.FlushedLogs()
	if !strings.Contains(logs, "route=/:lang/report") || !strings.Contains(logs, "status=200") {
		t.Fatalf("the access log does not show the requests:\n%s", logs)
	}
	host, port := hostPort(t, e.URL)
	for _, secret := range []string{host, "198.51.100.23", "SpyAgent", "referrer.example", "querysecret", "utm_source", "some-case-id", "سرقة"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs)
		}
	}
	// The client's port: the log must not hold the remote address either.
	if regexp.MustCompile(`127\.0\.0\.1:\d+`).MatchString(logs) {
		t.Errorf("the log contains a client address (server port %s):\n%s", port, logs)
	}
}

func hostPort(t testing.TB, raw string) (string, string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname(), u.Port()
}

// Everything submitted, and the receipt, are unreadable in the database
// files, including the write-ahead log, while the server runs.
func TestDatabaseFilesHoldNoSubmittedText(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	secrets := []string{"Frau Demirović aus der Wohnungsgesellschaft", "Telefon 0171 2345678", "الموظفة قالت لنا اخرجوا"}
	form := validReport(secrets[0] + "\n" + secrets[2])
	form.Set("contact", secrets[1])
	_, body := submit(t, e, "de", form)
	m := receiptPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no receipt")
	}
	secrets = append(secrets, m[1], strings.ReplaceAll(m[1], " ", ""))

	files, err := filepath.Glob(filepath.Join(e.Dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no database files in %s: %v", e.Dir, err)
	}
	sawWAL := false
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, "-wal") && len(b) > 0 {
			sawWAL = true
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains %q", filepath.Base(f), s)
			}
		}
	}
	if !sawWAL {
		t.Error("no -wal file with content: the test did not look where fresh writes are")
	}
}

// Every public response carries the security headers: a CSP without any
// script or inline style, no referrer, no framing, no sniffing.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newFakeServer(t)
	for _, u := range []string{"/de/", "/en/privacy", "/nowhere", "/office/login"} {
		resp, _ := get(t, e.URL+u)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "style-src 'self'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", u, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: CSP %q allows scripts", u, csp)
		}
		if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy = %q", u, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q", u, got)
		}
	}
}

// Pages load nothing from anywhere but this server, and carry no script or
// inline style (which the CSP would block anyway).
func TestPagesLoadNothingFromThirdParties(t *testing.T) {
	t.Parallel()
	e := newFakeServer(t)
	ref := regexp.MustCompile(`(?:src|href|action)="([^"]*)"`)
	for _, u := range []string{"/de/", "/en/", "/tr/", "/ar/", "/ar/privacy", "/office/login"} {
		_, body := get(t, e.URL+u)
		for _, m := range ref.FindAllStringSubmatch(body, -1) {
			if local := strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "#"); !local || strings.HasPrefix(m[1], "//") {
				t.Errorf("%s refers to %q", u, m[1])
			}
		}
		for _, bad := range []string{"<script", " style=", "<style"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q", u, bad)
			}
		}
	}
}

// The captcha picture and its audio are served for a live captcha only.
func TestCaptchaMedia(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, page := get(t, e.URL+"/en/")
	id := captchaID(t, page)
	for ext, ctype := range map[string]string{".png": "image/png", ".wav": "audio/wav"} {
		resp, body := get(t, e.URL+"/captcha/"+id+ext)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ctype || len(body) < 1000 {
			t.Errorf("%s: status %d, type %q, %d bytes", ext, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	if resp, _ := get(t, e.URL+"/captcha/unknown.png"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown captcha: status %d, want 404", resp.StatusCode)
	}
	// The picture, encoded with pooled buffers, is the one dchest draws
	// for these digits, pixel for pixel, however often it is fetched.
	var drawn bytes.Buffer
	if _, err := captcha.NewImage(id, captchas.Get(id, false), 240, 80).WriteTo(&drawn); err != nil {
		t.Fatal(err)
	}
	want, err := png.Decode(&drawn)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, body := get(t, e.URL+"/captcha/"+id+".png")
		img, err := png.Decode(strings.NewReader(body))
		if err != nil {
			t.Fatalf("captcha picture: %v", err)
		}
		if img.Bounds() != want.Bounds() {
			t.Fatalf("captcha picture %v, want %v", img.Bounds(), want.Bounds())
		}
		for y := range 80 {
			for x := range 240 {
				r1, g1, b1, a1 := img.At(x, y).RGBA()
				r2, g2, b2, a2 := want.At(x, y).RGBA()
				if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
					t.Fatalf("captcha picture differs from its digits' drawing at %d,%d: %v, want %v", x, y, img.At(x, y), want.At(x, y))
				}
			}
		}
	}
}
