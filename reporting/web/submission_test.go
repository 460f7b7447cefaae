package web_test

import (
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// subCount counts the rows of a table.
func subCount(t testing.TB, e *env, table string) int {
	t.Helper()
	var n int
	if err := rawDB(t, e).QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Sending the same form again (a reload of the receipt page, back and
// send) never adds a case: within the window it shows the very same
// receipt, afterwards it says the report was received, without a code.
// With the captcha on (whose answer the repeat has used up) and off; a
// form with a photo does not store the photo twice either.
func TestReloadOfReceiptAddsNoCase(t *testing.T) {
	t.Parallel()
	for _, off := range []bool{false, true} {
		name := map[bool]string{false: "captcha", true: "no captcha"}[off]
		t.Run(name, func(t *testing.T) {
			clock := newTestClock(time.Date(2026, 5, 20, 10, 30, 0, 0, time.UTC))
			e := newEnv(t, options{Now: clock.Now, CaptchaOff: off})
			form := subForm(t, e, "en", "Der Vermieter wollte uns nicht.")
			resp, page := post(t, e.URL+"/en/report", form)
			code := subReceipt(page)
			if resp.StatusCode != http.StatusOK || code == "" {
				t.Fatalf("first send: status %d, no receipt:\n%s", resp.StatusCode, page)
			}
			for i := range 2 {
				resp, page = post(t, e.URL+"/en/report", form)
				if got := subReceipt(page); resp.StatusCode != http.StatusOK || got != code {
					t.Fatalf("reload %d: status %d, receipt %q, want the same %q:\n%s", i+1, resp.StatusCode, got, code, page)
				}
			}
			if n := subCount(t, e, "reports"); n != 1 {
				t.Fatalf("%d reports after two reloads, want 1", n)
			}

			// With a photo: the repeat brings it again and it is dropped.
			form = subForm(t, e, "en", "Mit Foto.")
			files := []attFile{{Name: "foto.jpg", Data: attJPEGWithGPS(t)}}
			for i := range 2 {
				body, ct := attBody(t, form, files)
				resp, err := client.Post(e.URL+"/en/report", ct, body)
				if err != nil {
					t.Fatal(err)
				}
				page := readBody(t, resp)
				if resp.StatusCode != http.StatusOK || subReceipt(page) == "" {
					t.Fatalf("send %d with a photo: status %d:\n%s", i+1, resp.StatusCode, page)
				}
			}
			if r, a := subCount(t, e, "reports"), subCount(t, e, "attachments"); r != 2 || a != 1 {
				t.Fatalf("%d reports and %d files after a form with a photo sent twice, want 2 and 1", r, a)
			}

			clock.Advance(reporting.SubmissionWindow + time.Minute)
			resp, page = post(t, e.URL+"/en/report", form)
			if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="received"`) || !strings.Contains(page, "We already have your report") {
				t.Fatalf("after the window: status %d, no \"already received\":\n%s", resp.StatusCode, page)
			}
			if subReceipt(page) != "" || strings.Contains(page, code) {
				t.Error("the code is still shown after the window")
			}
			if n := subCount(t, e, "reports"); n != 2 {
				t.Fatalf("%d reports, want 2", n)
			}
		})
	}
}

// Two sends of one form at the same moment (a double tap) store one
// report, and every answer shows its receipt; without the captcha too,
// where no used-up captcha stops the second.
func TestConcurrentSubmitsStoreOneReport(t *testing.T) {
	t.Parallel()
	for _, off := range []bool{false, true} {
		t.Run(map[bool]string{false: "captcha", true: "no captcha"}[off], func(t *testing.T) {
			e := newEnv(t, options{CaptchaOff: off})
			form := subForm(t, e, "en", "Zweimal getippt.")
			var (
				wg    sync.WaitGroup
				codes [4]string
			)
			for i := range codes {
				wg.Go(func() {
					resp, err := client.PostForm(e.URL+"/en/report", form)
					if err != nil {
						t.Error(err)
						return
					}
					codes[i] = subReceipt(readBody(t, resp))
				})
			}
			wg.Wait()
			if n := subCount(t, e, "reports"); n != 1 {
				t.Fatalf("%d reports from one form sent four times at once, want 1", n)
			}
			for i, c := range codes {
				if c == "" || c != codes[0] {
					t.Errorf("answer %d shows receipt %q, want %q for all", i, c, codes[0])
				}
			}
		})
	}
}

// A token the server did not issue stores nothing: the form comes back
// with everything typed, a new token and a word on what to do.
func TestForgedSubmissionTokenRefused(t *testing.T) {
	t.Parallel()
	for _, off := range []bool{false, true} {
		t.Run(map[bool]string{false: "captcha", true: "no captcha"}[off], func(t *testing.T) {
			e := newEnv(t, options{CaptchaOff: off})
			form := subForm(t, e, "en", "Gefälscht.")
			real := form.Get("submission")
			// Another tag: one character of it changed.
			forged := []byte(real)
			forged[60] = map[bool]byte{true: 'B', false: 'A'}[forged[60] == 'A']
			form.Set("submission", string(forged))
			resp, page := post(t, e.URL+"/en/report", form)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `class="error-summary"`) {
				t.Fatalf("forged token: status %d, want 422 with the error summary:\n%s", resp.StatusCode, page)
			}
			// The notice stands at the captcha, which must be solved again;
			// without a captcha only the summary says something is wrong.
			if !off && !strings.Contains(page, "This form is too old or no longer valid") {
				t.Error("the form does not say why it came back")
			}
			if !strings.Contains(page, "Gefälscht.</textarea>") {
				t.Error("the form came back without what was typed")
			}
			if got := subToken(t, page); got == string(forged) || got == real {
				t.Errorf("the form came back with token %q, want a new one", got)
			}
			if n := subCount(t, e, "reports"); n != 0 {
				t.Fatalf("%d reports from a forged token, want 0", n)
			}
		})
	}
}

// The language switch shows the same form in another language: its token
// stays, so sending it after the switch is still the one form.
func TestLanguageSwitchKeepsSubmissionToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{CaptchaOff: true})
	form := subForm(t, e, "en", "Sprache gewechselt.")
	_, page := post(t, e.URL+"/de/", form)
	if got := subToken(t, page); got != form.Get("submission") {
		t.Fatalf("after the switch the token is %q, want %q", got, form.Get("submission"))
	}
	post(t, e.URL+"/de/report", form)
	post(t, e.URL+"/en/report", form)
	if n := subCount(t, e, "reports"); n != 1 {
		t.Fatalf("%d reports, want 1", n)
	}
}

// The receipt page has a printed view: the code in groups that never
// break and the full address of the follow-up page.
func TestReceiptPrintedView(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	resp, page := post(t, e.URL+"/en/report", subForm(t, e, "en", "Drucken."))
	code := subReceipt(page)
	if resp.StatusCode != http.StatusOK || code == "" {
		t.Fatalf("status %d:\n%s", resp.StatusCode, page)
	}
	groups := strings.Fields(code)
	want := `<span class="group">` + strings.Join(groups, `</span> <span class="group">`) + `</span>`
	for _, s := range []string{`id="print-sheet"`, want, e.URL + "/en/followup", `href="/static/print.css"`} {
		if !strings.Contains(page, s) {
			t.Errorf("the receipt page lacks %q", s)
		}
	}
	// With the office's identity set, the sheet says where the office is.
	setIdentity(t, e, login(t, e), idForm())
	resp, page = post(t, e.URL+"/en/report", subForm(t, e, "en", "Drucken mit Adresse."))
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="print-contact"`) || !strings.Contains(page, template.HTMLEscapeString(idForm().Get("phone"))) {
		t.Errorf("the printed sheet lacks the office's contact: status %d", resp.StatusCode)
	}
	resp, css := get(t, e.URL+"/static/print.css")
	if resp.StatusCode != http.StatusOK || !strings.Contains(css, ".print-code .group { white-space: nowrap; }") || !strings.Contains(css, "@media print") {
		t.Errorf("print.css: status %d:\n%s", resp.StatusCode, css)
	}
}

var subFilePattern = regexp.MustCompile(`name="file" value="([0-9a-f-]{36})"`)

// After the receipt, the follow-up page shows what the person reported
// (description, contact, choices in plain words, the date) and the file
// they sent, which they can download through their token.
func TestFollowupShowsOwnReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	form := subForm(t, e, "en", "Im Amt wurde ich <weggeschickt>.")
	body, ct := attBody(t, form, []attFile{{Name: "beweis.jpg", Data: attJPEGWithGPS(t)}})
	resp, err := client.Post(e.URL+"/en/report", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	receipt := subReceipt(readBody(t, resp))
	if receipt == "" {
		t.Fatal("no receipt")
	}
	resp, page := fuOpen(t, e, "en", receipt)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open: status %d:\n%s", resp.StatusCode, page)
	}
	for _, s := range []string{
		`id="own-report"`,
		"Im Amt wurde ich &lt;weggeschickt&gt;.",
		"Signal &#43;49 170 0000000",
		"2026-03-14",
		"Bochum",
		"because I am Roma or Sinti",
		"Housing (looking for a flat",
		"Please contact me",
		"beweis.jpg",
	} {
		if !strings.Contains(page, s) {
			t.Errorf("the follow-up page lacks %q", s)
		}
	}
	m := subFilePattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no download form for the report's file:\n%s", page)
	}
	resp, file := fuPost(t, e, "/en/followup/file", url.Values{"token": {fuToken(t, page)}, "file": {m[1]}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || !strings.HasPrefix(file, "\xff\xd8") {
		t.Fatalf("download: status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(file, "Exif") {
		t.Error("the reporter's download still carries EXIF")
	}
}

// Every GET of the empty form (pre-rendered) carries its own token, and
// each of them stores its own report: two forms are two reports.
func TestEmptyFormTokensDiffer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{CaptchaOff: true})
	a, b := subForm(t, e, "de", "Erste."), subForm(t, e, "de", "Zweite.")
	if a.Get("submission") == b.Get("submission") {
		t.Fatalf("two GETs got the same token %q", a.Get("submission"))
	}
	ra, rb := subReceipt(func() string { _, p := post(t, e.URL+"/de/report", a); return p }()),
		subReceipt(func() string { _, p := post(t, e.URL+"/de/report", b); return p }())
	if ra == "" || rb == "" || ra == rb || subCount(t, e, "reports") != 2 {
		t.Fatalf("two forms: receipts %q and %q, %d reports; want two", ra, rb, subCount(t, e, "reports"))
	}
}
