package browsertest_test

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// The accessibility gate (issue 11, item 8): every public page in every
// language and every office page, with data and with errors, goes through
// axe-core (WCAG 2.2 A and AA) in headless Chromium and through the Nu
// HTML checker; any axe violation or Nu error fails the test. The tools
// come from .ci/a11y (npm ci); see a11yToolsOrSkip.

// a11yBrokenPage has the most common form fault: the label's for= names
// an id that the input does not have, so the input has no name for a
// screen reader (axe: label) and the label points at nothing (Nu: error).
const a11yBrokenPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>A form</title></head>
<body><main><h1>A form</h1><form method="post" action="/x">
<label for="name">Your name</label> <input type="text" id="nmae" name="name">
<button type="submit">Send</button>
</form></main></body></html>
`

// The gate is not blind: a page with an unlabelled input fails both
// checkers, at that input; the same page with the label fixed passes both.
func TestA11yGateFindsUnlabelledInput(t *testing.T) {
	tools := a11yToolsOrSkip(t)
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	fixed := strings.Replace(a11yBrokenPage, `id="nmae"`, `id="name"`, 1)
	pages := []a11yPage{
		{Group: "self-test", Name: "broken", Header: html, Body: []byte(a11yBrokenPage)},
		{Group: "self-test", Name: "fixed", Header: html, Body: []byte(fixed)},
	}
	res := runA11yGate(t, tools, pages, nil)

	var axeLabel, vnuLabel bool
	for _, f := range res.Violations {
		switch {
		case f.Page != "broken":
			t.Errorf("the fixed page fails: %+v", f)
		case f.Tool == "axe" && f.Rule == "label" && f.Where == "#nmae":
			axeLabel = true
		case f.Tool == "vnu" && strings.Contains(f.Rule, "“label”"):
			vnuLabel = true
		}
	}
	if !axeLabel {
		t.Errorf("axe-core does not report the unlabelled input #nmae; it found:\n%s", strings.Join(a11ySummary(res.Violations), "\n"))
	}
	if !vnuLabel {
		t.Errorf("the Nu checker does not report the label that points at nothing; it found:\n%s", strings.Join(a11ySummary(res.Violations), "\n"))
	}
}

// a11yCollector fetches pages as a client does and keeps those that are
// HTML, for the gate.
type a11yCollector struct {
	t      *testing.T
	e      *webtest.Env
	group  string
	lang   string // Accept-Language, for the office
	cookie *http.Cookie
	width  int64
	pages  []a11yPage
}

// fetch requests path (GET when form is nil, else POST), keeps the page
// under name and returns its body; a status other than want fails the
// test, since then the page checked is not the page meant.
func (c *a11yCollector) fetch(name, path string, form url.Values, want int) string {
	c.t.Helper()
	method, body := http.MethodGet, io.Reader(nil)
	if form != nil {
		method, body = http.MethodPost, strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	resp, err := webtest.Client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	page := webtest.ReadBody(c.t, resp)
	if resp.StatusCode != want {
		c.t.Errorf("%s %s (%s): status %d, want %d", method, path, name, resp.StatusCode, want)
		return page
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		c.t.Errorf("%s %s (%s): Content-Type %q, want HTML", method, path, name, resp.Header.Get("Content-Type"))
		return page
	}
	c.pages = append(c.pages, a11yPage{Group: c.group, Name: c.group + " " + name, Header: resp.Header, Body: []byte(page), Width: c.width})
	return page
}

// Every public page in every language and every office page in both
// office languages, with data and after a failed form, pass axe-core and
// the Nu HTML checker.
func TestA11yEveryPage(t *testing.T) {
	tools := a11yToolsOrSkip(t)
	clock := webtest.NewClock(time.Now())
	e := webtest.New(t, webtest.Options{Now: clock.Now})
	admin := webtest.Login(t, e)

	// Data: a published year of statistics, a case that the office has
	// triaged, answered and noted, and that the reporter answered.
	year := strconv.Itoa(clock.Now().Year())
	webtest.StatsCases(t, e, 6, reporting.Classification{Municipality: "bochum", Grounds: []string{"racism"}, Areas: []string{"housing"}, ReporterRole: "affected"})
	if resp, body := webtest.PostAs(t, admin, e.URL+"/office/statistics/publish", url.Values{"year": {year}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publishing %s: status %d\n%s", year, resp.StatusCode, body)
	}
	token, _, caseURL := webtest.FumsgCase(t, e, admin, webtest.ValidReport("Der Busfahrer ließ uns nicht einsteigen und sagte: „Ihr nicht.“"))
	casePath := strings.TrimPrefix(caseURL, e.URL)
	for path, form := range map[string]url.Values{
		"/classification": webtest.Triage(),
		"/status":         {"status": {"triage"}},
		"/notes":          {"body": {"Rückruf am Dienstag vereinbart."}},
		"/messages":       {"body": {"Danke für Ihre Meldung. Dürfen wir Sie anrufen?"}},
	} {
		if resp, body := webtest.PostAs(t, admin, caseURL+path, form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("case %s: status %d\n%s", path, resp.StatusCode, body)
		}
	}
	if resp, body := webtest.FuPost(t, e, "/en/followup/message", url.Values{"token": {token}, "message": {"Ja, gern nach 18 Uhr."}}); resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the reporter's answer: status %d\n%s", resp.StatusCode, body)
	}
	receipt := webtest.FuSubmit(t, e, webtest.ValidReport("Eine Meldung, deren Seite in jeder Sprache geprüft wird."))

	// Issue 13, seeing the evidence: a case with a photo preview, a PDF
	// and a voice player, marked "interpreter needed".
	evidencePath := a11yEvidenceCase(t, e, admin)

	var pages []a11yPage
	chooser := &a11yCollector{t: t, e: e, group: "public", width: 390}
	chooser.fetch("chooser", "/", nil, http.StatusOK)
	pages = append(pages, chooser.pages...)
	for _, l := range i18n.Languages {
		pages = append(pages, a11yPublicPages(t, e, l.Code, receipt)...)
	}
	for _, lang := range i18n.OfficeLanguages {
		pages = append(pages, a11yOfficePages(t, e, clock, admin, lang, casePath, evidencePath, year)...)
	}
	pages = append(pages, a11ySetupPages(t)...)
	if t.Failed() {
		t.FailNow()
	}

	start := time.Now()
	res := runA11yGate(t, tools, pages, e.Handler)
	t.Logf("accessibility gate: %d pages checked in %v", len(pages), time.Since(start).Round(time.Millisecond))
	if len(res.Warnings) > 0 {
		t.Logf("Nu checker warnings (allowed):\n%s", strings.Join(a11ySummary(res.Warnings), "\n"))
	}
	if len(res.Violations) > 0 {
		t.Errorf("%d accessibility violations (axe-core) and HTML errors (Nu checker):\n%s",
			len(res.Violations), strings.Join(a11ySummary(res.Violations), "\n"))
	}
}

// a11yPublicPages fetches the public pages of one language: the form,
// with errors, privacy, statistics, not found, a fresh report's receipt,
// the follow-up form (and with errors), the reporter's report (and with
// errors) and the withdrawal of a report, asked and done.
func a11yPublicPages(t *testing.T, e *webtest.Env, lang, receipt string) []a11yPage {
	t.Helper()
	c := &a11yCollector{t: t, e: e, group: "public " + lang, width: 390}
	base := "/" + lang
	form := c.fetch("form", base+"/", nil, http.StatusOK)
	c.fetch("form with errors", base+"/report", url.Values{"captcha_id": {webtest.CaptchaID(t, form)}, "captcha_solution": {"0"}}, http.StatusUnprocessableEntity)
	c.fetch("privacy", base+"/privacy", nil, http.StatusOK)
	c.fetch("statistics", base+"/statistics", nil, http.StatusOK)
	c.fetch("not found", base+"/no-such-page", nil, http.StatusNotFound)

	// A report of its own, to withdraw in this language.
	_, form = webtest.Get(t, e.URL+base+"/")
	report := webtest.ValidReport("Eine Meldung, die zurückgezogen wird.")
	id := webtest.CaptchaID(t, form)
	report.Set("captcha_id", id)
	report.Set("captcha_solution", webtest.Captchas.Solve(id))
	own := webtest.FuReceiptPattern.FindStringSubmatch(c.fetch("receipt", base+"/report", report, http.StatusOK))
	if own == nil {
		t.Fatalf("%s: no receipt on the receipt page", lang)
	}

	fu := c.fetch("follow-up form", base+"/followup", nil, http.StatusOK)
	c.fetch("follow-up form with errors", base+"/followup", url.Values{
		"receipt": {"1234 5678 9012 3456"}, "captcha_id": {webtest.CaptchaID(t, fu)}, "captcha_solution": {"0"}}, http.StatusUnprocessableEntity)
	_, fu = webtest.Get(t, e.URL+base+"/followup")
	id = webtest.CaptchaID(t, fu)
	page := c.fetch("report", base+"/followup", url.Values{"receipt": {receipt}, "captcha_id": {id}, "captcha_solution": {webtest.Captchas.Solve(id)}}, http.StatusOK)
	c.fetch("report with errors", base+"/followup/message", url.Values{"token": {webtest.FuToken(t, page)}, "message": {" "}}, http.StatusUnprocessableEntity)

	_, page = webtest.FuOpen(t, e, lang, own[1])
	token := webtest.FuToken(t, page)
	c.fetch("withdrawal step", base+"/followup/withdraw", url.Values{"token": {token}}, http.StatusOK)
	c.fetch("withdrawn", base+"/followup/withdraw/confirm", url.Values{"token": {token}}, http.StatusOK)
	return c.pages
}

// a11yOfficePages fetches every office page in one office language, as
// the admin with data, and each form once more after a failed POST.
func a11yOfficePages(t *testing.T, e *webtest.Env, clock *webtest.Clock, admin *http.Cookie, lang, casePath, evidencePath, year string) []a11yPage {
	t.Helper()
	c := &a11yCollector{t: t, e: e, group: "office " + lang, lang: lang, width: 1280}
	c.fetch("login", "/office/login", nil, http.StatusOK)
	c.fetch("login with errors", "/office/login", url.Values{"username": {e.Admin}, "password": {"falsch"}}, http.StatusUnauthorized)
	c.fetch("not found", "/office/no-such-page", nil, http.StatusNotFound)

	c.cookie = admin
	c.fetch("cases", "/office/cases", nil, http.StatusOK)
	c.fetch("case", casePath, nil, http.StatusOK)
	c.fetch("case with errors", casePath+"/notes", url.Values{"body": {" "}}, http.StatusUnprocessableEntity)

	// Reminders (issue 13): the form with errors, a reminder due today on
	// the case page with its confirmation, and in the start page's box.
	c.fetch("case with reminder errors", casePath+"/reminder", url.Values{"due": {"gestern"}, "reason": {" "}}, http.StatusUnprocessableEntity)
	if resp, _ := webtest.PostAs(t, admin, e.URL+casePath+"/reminder", url.Values{"due": {clock.Now().Format(time.DateOnly)}, "reason": {"Rückruf " + lang}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("office %s: setting a reminder: status %d", lang, resp.StatusCode)
	}
	c.fetch("case with reminder", casePath+"?reminder=saved", nil, http.StatusOK)
	c.fetch("cases with due reminder", "/office/cases", nil, http.StatusOK)
	// Issue 13, seeing the evidence: previews, player, interpreter mark.
	c.fetch("case with previews", evidencePath, nil, http.StatusOK)
	c.fetch("case with interpreter error", evidencePath+"/interpreter", url.Values{"interpreter": {"1"}}, http.StatusUnprocessableEntity)
	// The triage panel (issue 13): fresh on the evidence case above (not
	// yet triaged), with errors in several parts, and saved (the detailed
	// classification open and saved as well).
	c.fetch("case triage with errors", casePath+"/triage", url.Values{"assignee": {"9999"}, "areas": {"work"}, "subgrounds": {"antiziganism"}}, http.StatusUnprocessableEntity)
	c.fetch("case triage saved", casePath+"?saved=triage", nil, http.StatusOK)
	c.fetch("case details saved", casePath+"?saved=classification", nil, http.StatusOK)
	// Case list filters, search and bulk changes (issue 13).
	caseID := strings.TrimPrefix(casePath, "/office/cases/")
	c.fetch("cases filtered and searched", "/office/cases?subground=antiziganism&area=housing&unread=1&awaiting=1&wish=contact_me&contact=yes&q=Vermieterin", nil, http.StatusOK)
	c.fetch("cases bulk changed", "/office/cases/bulk", url.Values{"ids": {caseID}, "status": {"closed"}}, http.StatusOK) // refused: not from its status
	c.fetch("cases bulk with errors", "/office/cases/bulk", url.Values{"status": {"triage"}}, http.StatusUnprocessableEntity)
	// Case file export (issue 13): the form, the form with errors, and
	// the print page with every part.
	c.fetch("case export", casePath+"/export", nil, http.StatusOK)
	c.fetch("case export with errors", casePath+"/export", url.Values{"format": {"html"}}, http.StatusUnprocessableEntity)
	c.fetch("case export print page", casePath+"/export", url.Values{"format": {"html"}, "parts": {"report", "classification", "history", "messages", "notes", "attachments"}}, http.StatusOK)

	c.fetch("audit", "/office/audit", nil, http.StatusOK)
	c.fetch("statistics", "/office/statistics?year="+year, nil, http.StatusOK)
	c.fetch("statistics report", "/office/statistics/report?year="+year, nil, http.StatusOK)
	// Annual report (issue 14): the published year is the page above; an
	// unpublished year is a draft, and without Chromium the PDF route
	// answers with a page naming the way round.
	c.fetch("annual report draft", "/office/statistics/report?year=2001", nil, http.StatusOK)
	c.fetch("annual report without PDF", "/office/statistics/report.pdf?year="+year, nil, http.StatusServiceUnavailable)
	c.fetch("retention", "/office/settings/retention", nil, http.StatusOK)
	c.fetch("retention with errors", "/office/settings/retention", url.Values{"closed_months": {"0"}, "new_months": {"sechs"}}, http.StatusUnprocessableEntity)
	c.fetch("languages", "/office/settings/languages", nil, http.StatusOK)
	c.fetch("languages with errors", "/office/settings/languages", url.Values{}, http.StatusUnprocessableEntity)
	c.fetch("two-factor settings", "/office/settings/two-factor", nil, http.StatusOK)
	// Issue 13: the office's time zone, and a name that is no zone; the
	// users page with the only admin's row (no role choice, a hint) is
	// the "users" page below.
	c.fetch("time zone", "/office/settings/time", nil, http.StatusOK)
	c.fetch("time zone with errors", "/office/settings/time", url.Values{"zone": {"Mars/Olympus"}}, http.StatusUnprocessableEntity)
	// Reply templates (issue 13): the settings page (empty on the first
	// round), with errors, with a template; the case page with the picker
	// and with a template inserted into the composer.
	c.fetch("reply templates", "/office/settings/replies", nil, http.StatusOK)
	c.fetch("reply templates with errors", "/office/settings/replies", url.Values{"language": {"tr"}, "title": {" "}, "body": {strings.Repeat("ç", 4001)}}, http.StatusUnprocessableEntity)
	if resp, _ := webtest.PostAs(t, admin, e.URL+"/office/settings/replies", url.Values{"language": {"tr"}, "title": {"Alındı " + lang}, "body": {"Bildiriminizi aldık."}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("office %s: adding a reply template: status %d", lang, resp.StatusCode)
	}
	tpl := regexp.MustCompile(`edit=(\d+)`).FindStringSubmatch(c.fetch("reply templates with templates", "/office/settings/replies?done=saved", nil, http.StatusOK))
	if tpl == nil {
		t.Fatalf("office %s: no reply template listed", lang)
	}
	c.fetch("case with reply templates", casePath, nil, http.StatusOK)
	c.fetch("case with a reply template inserted", casePath+"?reply_template="+tpl[1], nil, http.StatusOK)
	c.fetch("notifications outbox", "/office/notifications", nil, http.StatusOK)
	c.fetch("teams", "/office/teams", nil, http.StatusOK)
	c.fetch("teams with errors", "/office/teams", url.Values{"name": {"PLANB"}, "municipalities": {"herne"}}, http.StatusUnprocessableEntity)
	c.fetch("team", "/office/teams/1", nil, http.StatusOK)
	c.fetch("team with errors", "/office/teams/1", url.Values{"name": {""}}, http.StatusUnprocessableEntity)
	c.fetch("account", "/office/account", nil, http.StatusOK)
	c.fetch("password", "/office/account/password", nil, http.StatusOK)
	c.fetch("password with errors", "/office/account/password", url.Values{"old": {"falsch"}, "new": {"kurz"}, "confirm": {"anders"}}, http.StatusUnprocessableEntity)
	c.fetch("notification address", "/office/account/notifications", nil, http.StatusOK)
	c.fetch("notification address with errors", "/office/account/notifications", url.Values{"email": {"keine adresse"}}, http.StatusUnprocessableEntity)

	// The case list that fits the screen (issue 13, list fit): more than
	// a page of cases with sub-grounds, so the pager shows above the list
	// as well as below it.
	if lang == i18n.OfficeLanguages[0] {
		webtest.StatsCases(t, e, 26, reporting.Classification{Municipality: "other_nrw", Grounds: []string{"racism"}, Subgrounds: []string{"antiziganism", "anti_muslim"}, Areas: []string{"housing", "work"}, ReporterRole: "affected"})
	}
	if page := c.fetch("cases with two pages", "/office/cases", nil, http.StatusOK); !strings.Contains(page, `id="pages-top"`) {
		t.Errorf("office %s: the list of more than 25 cases has no pager above it", lang)
	}

	// Users: the list, an invitation with errors and a good one, and the
	// invitation's pages as the invited person sees them.
	c.fetch("users", "/office/users", nil, http.StatusOK)
	c.fetch("invite", "/office/users/invite", nil, http.StatusOK)
	c.fetch("invite with errors", "/office/users/invite", url.Values{"name": {"Statistik Sam " + lang}, "role": {"statistician"}, "teams": {"1"}}, http.StatusUnprocessableEntity)
	name := "tina-" + lang
	page := c.fetch("invited", "/office/users/invite", url.Values{"name": {name}, "role": {"counsellor"}, "teams": {"1"}}, http.StatusOK)
	m := webtest.AccLinkPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("office %s: no invitation link", lang)
	}
	link := strings.TrimPrefix(m[1], e.URL)
	c.cookie = nil
	c.fetch("invitation", link, nil, http.StatusOK)
	c.fetch("invitation with errors", link, url.Values{"password": {"kurz kurz"}, "confirm": {"kurz kurz"}}, http.StatusUnprocessableEntity)
	password := "das lange Passwort von " + name
	webtest.AccAccept(t, e.URL+link, password)
	c.fetch("invitation accepted", "/office/invite/accepted", nil, http.StatusOK)

	// Two-factor, as the new counsellor: enrolment, a wrong code, the
	// recovery codes, the page when it is on, a refused switch-off.
	c.cookie, _ = webtest.AccLogin(t, e, name, password)
	page = c.fetch("two-factor", "/office/account/totp", nil, http.StatusOK)
	sm := webtest.SecretPattern.FindStringSubmatch(page)
	if sm == nil {
		t.Fatalf("office %s: no two-factor secret on the page", lang)
	}
	secret := strings.ReplaceAll(sm[1], " ", "")
	good, err := totp.GenerateCode(secret, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.fetch("two-factor with errors", "/office/account/totp", url.Values{"password": {password}, "code": {webtest.WrongCode(good)}}, http.StatusUnprocessableEntity)
	c.fetch("recovery codes", "/office/account/totp", url.Values{"password": {password}, "code": {good}}, http.StatusOK)
	c.fetch("two-factor on", "/office/account/totp", nil, http.StatusOK)
	c.fetch("two-factor off with errors", "/office/account/totp/disable", url.Values{"password": {"falsch"}, "code": {"000000"}}, http.StatusUnprocessableEntity)
	return c.pages
}

// a11ySetupPages fetches the first-run setup form of a fresh
// installation, alone and with errors, in both office languages, then
// its last page.
func a11ySetupPages(t *testing.T) []a11yPage {
	t.Helper()
	e := webtest.New(t, webtest.Options{Fresh: true})
	var pages []a11yPage
	form := url.Values{"token": {e.SetupToken}, "team": {"Bochum"}, "username": {"berta"}, "password": {"kurz"}, "confirm": {"kurz"}}
	for _, lang := range i18n.OfficeLanguages {
		c := &a11yCollector{t: t, e: e, group: "office " + lang, lang: lang, width: 1280}
		c.fetch("setup", "/office/setup?token="+e.SetupToken, nil, http.StatusOK)
		c.fetch("setup with errors", "/office/setup", form, http.StatusUnprocessableEntity)
		pages = append(pages, c.pages...)
	}
	c := &a11yCollector{t: t, e: e, group: "office " + i18n.Source, lang: i18n.Source, width: 1280}
	form.Set("password", "ein wirklich langes Passwort")
	form.Set("confirm", "ein wirklich langes Passwort")
	c.fetch("setup done", "/office/setup", form, http.StatusOK)
	return append(pages, c.pages...)
}

// a11yEvidenceCase submits a report with a photo, a PDF and a voice
// message, marks it "interpreter needed" and returns its case page's path.
func a11yEvidenceCase(t *testing.T, e *webtest.Env, admin *http.Cookie) string {
	t.Helper()
	var photo bytes.Buffer
	if err := png.Encode(&photo, image.NewGray(image.Rect(0, 0, 40, 30))); err != nil {
		t.Fatal(err)
	}
	// A WAV header with a few samples: the smallest voice message.
	wav := []byte("RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x08\x00\x00\x00\x00\x00\x01\x00\x02\x00\x03\x00")
	page, links := webtest.AttCase(t, e, admin, "Fotos, ein Brief und eine Sprachnachricht vom Amt", []webtest.AttFile{
		{Name: "foto.png", Data: photo.Bytes()}, {Name: "brief.pdf", Data: []byte("%PDF-1.4\n% Brief\n%%EOF\n")}, {Name: "memo.wav", Data: wav}})
	if len(links) != 3 || !strings.Contains(page, `class="preview"`) {
		t.Fatalf("the evidence case lacks its files or preview:\n%s", page)
	}
	casePath := links[0][:strings.Index(links[0], "/attachments/")]
	if resp, body := webtest.PostAs(t, admin, e.URL+casePath+"/interpreter", url.Values{"interpreter": {"1"}, "interpreter_language": {"rom"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("interpreter mark: status %d\n%s", resp.StatusCode, body)
	}
	return casePath
}
