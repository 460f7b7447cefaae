package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// storedReports opens every stored report as the admin would, newest
// first.
func storedReports(t *testing.T, e *env) []reporting.Report {
	t.Helper()
	_, sess, err := e.Office.Login(t.Context(), e.Admin, e.Pass, "")
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := e.DB.Reports(t.Context(), teamIDs(t, e), reporting.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []reporting.Report
	for _, r := range rows {
		c, err := e.Services.Cases.Case(t.Context(), sess, r.ID)
		if err != nil {
			t.Fatalf("case %s: %v", r.ID, err)
		}
		out = append(out, c.Report)
	}
	return out
}

// A report of nothing but what happened and the consent is taken in, and
// every question the reporter skipped is stored as not_stated, which the
// office reads as such.
func TestTextOnlyReportStoredAsNotStated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	resp, body := submit(t, e, "de", url.Values{
		"description": {"Im Bus hat mich ein Mann beschimpft."},
		"consent":     {"yes"},
	})
	if resp.StatusCode != http.StatusOK || !receiptPattern.MatchString(body) {
		t.Fatalf("status %d, no receipt:\n%s", resp.StatusCode, body)
	}
	reports := storedReports(t, e)
	if len(reports) != 1 {
		t.Fatalf("%d reports stored, want 1", len(reports))
	}
	r := reports[0]
	if r.Description != "Im Bus hat mich ein Mann beschimpft." {
		t.Errorf("description %q", r.Description)
	}
	for field, got := range map[string]string{"role": r.Role, "municipality": r.Municipality, "area": r.Area, "wish": r.Wish} {
		if got != reporting.NotStated {
			t.Errorf("%s stored as %q, want %q", field, got, reporting.NotStated)
		}
	}
	if !slices.Equal(r.Grounds, []string{reporting.NotStated}) || r.Subgrounds != nil || r.IncidentDate != "" || r.Contact != "" || r.Callback {
		t.Errorf("stored %+v, want grounds [not_stated] and nothing else", r)
	}

	// The counsellor sees "not stated", not a raw code or a missing label.
	cookie := loginAs(t, e, e.Admin, e.Pass)
	req, _ := http.NewRequest("GET", e.URL+"/office/cases", nil)
	req.AddCookie(cookie)
	list, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, list)
	m := regexp.MustCompile(`href="(/office/cases/[0-9a-f-]{36})"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no case link in the case list:\n%s", page)
	}
	req, _ = http.NewRequest("GET", e.URL+m[1], nil)
	req.AddCookie(cookie)
	cr, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	casePage := readBody(t, cr)
	for _, want := range []string{"<dd>Nicht bekannt</dd>", "<dd>Nicht angegeben</dd>"} {
		if !strings.Contains(casePage, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}
	// A missing label shows the message ID or code as text.
	if m := regexp.MustCompile(`>[^<]*not_stated[^<]*<`).FindString(casePage); m != "" {
		t.Errorf("the case page shows the raw code: %s", m)
	}
}

// "Please call me back" needs a contact: without one, the error stands at
// the contact field; with one, the report is stored with the wish to be
// contacted, and the counsellor sees the callback.
func TestCallbackNeedsContact(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	form := url.Values{"description": {"Ich kann nicht gut schreiben."}, "consent": {"yes"}, "callback": {"yes"}}
	resp, body := submit(t, e, "de", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("callback without contact: status %d, want 422", resp.StatusCode)
	}
	for _, want := range []string{
		`<p class="error" id="err-contact">Für einen Rückruf brauchen wir Ihre Telefonnummer.`,
		`<li><a href="#contact">Für einen Rückruf`,
		`id="callback" name="callback" value="yes" checked`, // kept as ticked
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	if n := countReports(t, e); n != 0 {
		t.Fatalf("%d reports stored without a number to call", n)
	}

	form.Set("contact", " 0234 5678 90 ")
	if resp, body := submit(t, e, "de", form); resp.StatusCode != http.StatusOK {
		t.Fatalf("callback with a number: status %d\n%s", resp.StatusCode, body)
	}
	r := storedReports(t, e)
	if len(r) != 1 || !r[0].Callback || r[0].Contact != "0234 5678 90" || r[0].Wish != "contact_me" {
		t.Fatalf("stored %+v, want a callback to 0234 5678 90 with the wish contact_me", r)
	}
	cookie := loginAs(t, e, e.Admin, e.Pass)
	req, _ := http.NewRequest("GET", e.URL+"/office/cases", nil)
	req.AddCookie(cookie)
	list, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`href="(/office/cases/[0-9a-f-]{36})"`).FindStringSubmatch(readBody(t, list))
	if m == nil {
		t.Fatal("no case link in the case list")
	}
	req, _ = http.NewRequest("GET", e.URL+m[1], nil)
	req.AddCookie(cookie)
	cr, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if page := readBody(t, cr); !strings.Contains(page, `id="callback"><strong>Bitte zurückrufen</strong>`) {
		t.Error("the case page does not show the wish to be called back")
	}
}

// The language switch keeps the ticked callback.
func TestLanguageSwitchKeepsCallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	resp, body := post(t, e.URL+"/en/", url.Values{"description": {"x"}, "contact": {"0234 1"}, "callback": {"yes"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("switch: status %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `id="callback" name="callback" value="yes" checked`) {
		t.Error("the callback tick was lost in the language switch")
	}
}

// A failed submit: "Error:" starts the title, the summary lists a link
// to each wrong field in the order of the form, and each wrong field
// says so to assistive technology, pointing to its message.
func TestErrorSummaryLinksAndAria(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, page := get(t, e.URL+"/en/")
	id := captchaID(t, page)
	form := url.Values{
		"description":      {""},
		"consent":          {"yes"},
		"role":             {"king"},      // not ours: refused
		"grounds":          {"martian"},   // not ours: refused
		"incident_date":    {"2099-01"},   // in the future
		"contact":          {""},          // with callback: missing
		"callback":         {"yes"},       //
		"captcha_id":       {id},          //
		"captcha_solution": {"wrong one"}, // wrong
	}
	resp, body := post(t, e.URL+"/en/report", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	if !regexp.MustCompile(`<title>Error: Report discrimination – `).MatchString(body) {
		t.Errorf("the title does not start with Error:\n%s", body[:min(len(body), 600)])
	}
	summary := regexp.MustCompile(`(?s)<div class="error-summary" id="error-summary" role="alert" tabindex="-1" autofocus[^>]*>(.*?)</div>`).FindStringSubmatch(body)
	if summary == nil {
		t.Fatalf("no focusable error summary:\n%s", body)
	}
	var links []string
	for _, m := range regexp.MustCompile(`<a href="#([^"]+)">`).FindAllStringSubmatch(summary[1], -1) {
		links = append(links, m[1])
	}
	want := []string{"description", "contact", "captcha_solution", "role-affected", "incident_date", "grounds-antiziganism"}
	if !slices.Equal(links, want) {
		t.Errorf("summary links %v, want %v", links, want)
	}
	// Each link's target exists with aria-invalid and its error's id.
	errOf := map[string]string{"description": "err-description", "contact": "err-contact", "captcha_solution": "err-captcha_solution",
		"role-affected": "err-role", "incident_date": "err-incident_date", "grounds-antiziganism": "err-grounds"}
	for target, errID := range errOf {
		tag := regexp.MustCompile(`<(input|textarea|select)[^>]* id="` + target + `"[^>]*>`).FindString(body)
		if tag == "" {
			t.Errorf("no control #%s", target)
			continue
		}
		if !strings.Contains(tag, `aria-invalid="true"`) || !regexp.MustCompile(`aria-describedby="([^"]* )?`+errID+`( [^"]*)?"`).MatchString(tag) {
			t.Errorf("#%s lacks aria-invalid or aria-describedby %s: %s", target, errID, tag)
		}
		if !strings.Contains(body, `id="`+errID+`"`) {
			t.Errorf("no message #%s", errID)
		}
	}
	// Every radio of the wrong group points to the message, not only the first.
	if n := strings.Count(body, `name="role" value=`); n != strings.Count(body, `aria-describedby="err-role"`) {
		t.Errorf("%d role radios, %d with the error", n, strings.Count(body, `aria-describedby="err-role"`))
	}
	// Fields without errors are not marked.
	if tag := regexp.MustCompile(`<select[^>]* id="area"[^>]*>`).FindString(body); strings.Contains(tag, "aria-invalid") {
		t.Errorf("the right field area is marked invalid: %s", tag)
	}
	// A fresh form has neither a summary nor "Error:".
	if _, fresh := get(t, e.URL+"/en/"); strings.Contains(fresh, "error-summary") || strings.Contains(fresh, "<title>Error:") {
		t.Error("the fresh form shows an error summary")
	}
}

// A captcha the store forgot (dchest drops one after ten minutes) is told
// as an old picture with a new one, not as a wrong answer; a wrong answer
// to a known captcha still says "wrong".
func TestExpiredCaptchaSaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, page := get(t, e.URL+"/en/")
	id := captchaID(t, page)
	answer := captchas.Solve(id)
	captchas.Get(id, true) // forgotten, as after ten minutes
	form := url.Values{"description": {"Old tab."}, "consent": {"yes"}, "captcha_id": {id}, "captcha_solution": {answer}}
	resp, body := post(t, e.URL+"/en/report", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", resp.StatusCode)
	}
	if !strings.Contains(body, `<p class="error" id="err-captcha_solution">The picture was too old`) {
		t.Errorf("no expired-picture message at the captcha:\n%s", body)
	}
	if strings.Contains(body, "The digits were not right") {
		t.Error("an expired captcha is called wrong")
	}
	if newID := captchaID(t, body); newID == id || captchas.Solve(newID) == "" {
		t.Error("no new, known picture with the message")
	}
	if !strings.Contains(body, "Old tab.</textarea>") {
		t.Error("the description was lost")
	}

	// The control: a wrong answer to a picture the store knows.
	_, page = get(t, e.URL+"/en/")
	id = captchaID(t, page)
	wrong := "000000"
	if captchas.Solve(id) == wrong {
		wrong = "111111"
	}
	form.Set("captcha_id", id)
	form.Set("captcha_solution", wrong)
	if _, body := post(t, e.URL+"/en/report", form); !strings.Contains(body, "The digits were not right") || strings.Contains(body, "too old") {
		t.Error("a wrong answer is not told as wrong")
	}
}

// Every office form sent back with errors has the same summary as the
// public form: "Fehler:" in the title, focus on the summary, a link to
// each wrong control, and the control marked with its message.
func TestOfficeFormsErrorSummary(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := loginAs(t, e, e.Admin, e.Pass)
	for _, tc := range []struct {
		name, path string
		form       url.Values
		target     string // the control the summary leads to
		errID      string // its message
	}{
		{"password: wrong old one", "/office/account/password", url.Values{"old": {"falsch"}, "new": {"ein neues langes Passwort"}, "confirm": {"ein neues langes Passwort"}}, "old", "err-old"},
		{"retention: not a number", "/office/settings/retention", url.Values{"closed_months": {"viele"}, "new_months": {"6"}}, "closed_months", "err-closed_months"},
		{"invite: no name", "/office/users/invite", url.Values{"name": {""}, "role": {"counsellor"}}, "name", "err-name"},
		{"team: no name", "/office/teams", url.Values{"name": {""}}, "name", "err-name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := postAs(t, c, e.URL+tc.path, tc.form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			if !strings.Contains(page, "<title>Fehler: ") {
				t.Error("the title does not start with Fehler:")
			}
			if !regexp.MustCompile(`<div class="error-summary" id="error-summary" role="alert" tabindex="-1" autofocus[^>]*>(?s:.*?)<li><a href="#` + tc.target + `">`).MatchString(page) {
				t.Errorf("no summary link to #%s:\n%s", tc.target, page)
			}
			tag := regexp.MustCompile(`<(input|select|textarea)[^>]* id="` + tc.target + `"[^>]*>`).FindString(page)
			if !strings.Contains(tag, `aria-invalid="true"`) || !strings.Contains(tag, `aria-describedby="`+tc.errID+`"`) {
				t.Errorf("#%s is not marked with its message %s: %s", tc.target, tc.errID, tag)
			}
			if !strings.Contains(page, `<p class="error" id="`+tc.errID+`">`) {
				t.Errorf("no message #%s", tc.errID)
			}
		})
	}

	// The login: name or password wrong marks both, and leads to the name.
	resp, page := post(t, e.URL+"/office/login", url.Values{"username": {e.Admin}, "password": {"falsch"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d, want 401", resp.StatusCode)
	}
	if !strings.Contains(page, "<title>Fehler: ") || !strings.Contains(page, `<li><a href="#username">`) ||
		strings.Count(page, `aria-invalid="true" aria-describedby="err-login"`) != 2 {
		t.Errorf("the failed login has no summary or unmarked fields:\n%s", page)
	}
}
