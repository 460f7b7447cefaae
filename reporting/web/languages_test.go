package web_test

import (
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/i18n"
)

// germanTexts are the German public messages long enough that finding one
// on a page means the page shows that German sentence.
func germanTexts(t *testing.T) map[string]string {
	t.Helper()
	de, err := i18n.PublicMessages(i18n.Source)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for id, v := range de {
		if len([]rune(v)) >= 16 && !strings.HasPrefix(id, "municipality.") {
			out[id] = v
		}
	}
	return out
}

// ownSays reports whether one of a language's own messages contains v:
// Leichte Sprache says "Sexuelle Identität (wen ein Mensch liebt)".
func ownSays(own map[string]string, v string) bool {
	for _, o := range own {
		if strings.Contains(o, v) {
			return true
		}
	}
	return false
}

var htmlTag = regexp.MustCompile(`<html lang="([^"]+)" dir="([^"]+)"`)

// checkPage fails when a page in language l is not marked as l, shows a
// German message that l has its own text for (a missing translation, or
// German typed into a template), or shows a bare message ID.
func checkPage(t *testing.T, l i18n.Language, name, page string, german, own map[string]string) {
	t.Helper()
	m := htmlTag.FindStringSubmatch(page)
	if m == nil || m[1] != l.HTMLLang() || m[2] != l.Dir() {
		t.Errorf("/%s/ %s: <html lang dir> = %v, want lang=%q dir=%q", l.Code, name, m, l.HTMLLang(), l.Dir())
	}
	for id, v := range german {
		if ownSays(own, v) {
			continue // the same words in this language too (Leichte Sprache)
		}
		if strings.Contains(page, template.HTMLEscapeString(v)) {
			t.Errorf("/%s/ %s shows the German %s: %q", l.Code, name, id, v)
		}
	}
	for id := range own {
		if strings.Contains(page, ">"+id+"<") || strings.Contains(page, `"`+id+`"`) {
			t.Errorf("/%s/ %s shows the message ID %q instead of its text", l.Code, name, id)
		}
	}
}

// Every public page answers in all fourteen languages, with the right lang
// and dir, and with nothing German on a page whose language has its own
// words: the form, its errors, privacy, statistics, the receipt, the
// follow-up form, the reporter's report, the withdrawal step and the
// not-found page.
func TestEveryPublicPageInEveryLanguage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	receipt := fuSubmit(t, e, validReport("Eine Meldung für den Gang durch alle Sprachen."))
	german := germanTexts(t)
	for _, l := range i18n.Languages {
		own, err := i18n.PublicMessages(l.Code)
		if err != nil {
			t.Fatal(err)
		}
		pages := map[string]string{}
		want := func(name string, status int, resp *http.Response, page string) {
			if resp.StatusCode != status {
				t.Errorf("/%s/ %s: status %d, want %d", l.Code, name, resp.StatusCode, status)
			}
			pages[name] = page
		}
		base := e.URL + "/" + l.Code
		resp, page := get(t, base+"/")
		want("form", http.StatusOK, resp, page)
		resp, page = post(t, base+"/report", url.Values{"captcha_id": {captchaID(t, page)}, "captcha_solution": {"0"}})
		want("form with errors", http.StatusUnprocessableEntity, resp, page)
		resp, page = get(t, base+"/privacy")
		want("privacy", http.StatusOK, resp, page)
		resp, page = get(t, base+"/statistics")
		want("statistics", http.StatusOK, resp, page)
		resp, page = get(t, base+"/no-such-page")
		want("not found", http.StatusNotFound, resp, page)
		resp, page = post(t, base+"/receipt", url.Values{"receipt": {receipt}})
		want("receipt", http.StatusOK, resp, page)
		resp, page = get(t, base+"/followup")
		want("follow-up form", http.StatusOK, resp, page)
		resp, page = fuOpen(t, e, l.Code, receipt)
		want("report", http.StatusOK, resp, page)
		token := fuToken(t, page)
		resp, page = post(t, base+"/followup/withdraw", url.Values{"token": {token}})
		want("withdrawal step", http.StatusOK, resp, page)
		for name, page := range pages {
			checkPage(t, l, name, page, german, own)
		}
		if !strings.Contains(pages["receipt"], receipt) {
			t.Errorf("/%s/receipt does not show the code %s", l.Code, receipt)
		}
	}
}

// / sends a browser to its language, or to a related one its reader
// reads, and shows the chooser when there is none.
func TestNegotiationAndChooser(t *testing.T) {
	t.Parallel()
	e := newFakeServer(t)
	for accept, want := range map[string]string{
		"ar-EG,ar;q=0.9": "/ar/", "tr": "/tr/", "en-GB": "/en/", "ro-RO": "/ro/",
		"prs": "/fa/", "fa-AF": "/fa/", "kmr": "/ku/", "bs": "/sr/", "hr-HR": "/sr/",
		"sr-Cyrl": "/sr/", "rmy": "/rom/", "rmn": "/rom/", "rmc": "/rom/", "mo": "/ro/",
		"uk-UA,ru;q=0.8": "/uk/", "bg": "/bg/", "pl-PL": "/pl/",
		"ckb": "", "fr-FR": "", "": "", "ckb,en;q=0.2": "/en/",
	} {
		req, _ := http.NewRequest("GET", e.URL+"/", nil)
		req.Header.Set("Accept-Language", accept)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		if want == "" {
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="chooser"`) {
				t.Errorf("Accept-Language %q: status %d, want the chooser page", accept, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("Accept-Language %q: %d → %q, want %s", accept, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	// The chooser: every language, in its own name and script, marked up
	// as that language, linking to its form.
	_, page := get(t, e.URL+"/")
	for _, l := range i18n.Languages {
		if !strings.Contains(page, `<li lang="`+l.HTMLLang()+`" dir="`+l.Dir()+`"><a href="/`+l.Code+`/"`) ||
			!strings.Contains(page, template.HTMLEscapeString(l.Name)) {
			t.Errorf("the chooser lacks %s (%s)", l.Code, l.Name)
		}
	}
	if resp, _ := get(t, e.URL+"/fr/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/fr/: status %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, e.URL+"/ar"); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/ar/" {
		t.Errorf("/ar: status %d to %q, want 301 to /ar/", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Leichte Sprache is German to the browser, with its own class.
	if _, page := get(t, e.URL+"/ls/privacy"); !strings.Contains(page, `<html lang="de" dir="ltr" class="easy">`) {
		t.Error(`/ls/ is not marked lang="de" class="easy"`)
	}
}

// An admin switches a language off: its pages answer like an unknown
// language, and it leaves the switcher, the chooser and the negotiation;
// switched on again, it is back. The change is audited.
func TestAdminSwitchesLanguagesOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := loginAs(t, e, e.Admin, e.Pass)
	_, page := getAs(t, admin, e.URL+"/office/settings/languages")
	for _, l := range i18n.Languages {
		if !strings.Contains(page, `id="language-`+l.Code+`" checked`) {
			t.Errorf("settings: %s is not on by default", l.Code)
		}
	}
	on := url.Values{}
	for _, code := range i18n.PublicCodes() {
		if code != "ro" {
			on.Add("languages", code)
		}
	}
	resp, _ := postAs(t, admin, e.URL+"/office/settings/languages", on)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: status %d", resp.StatusCode)
	}
	if resp, _ := get(t, e.URL+"/ro/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/ro/ switched off: status %d, want 404", resp.StatusCode)
	}
	if _, page := get(t, e.URL+"/de/privacy"); strings.Contains(page, `href="/ro/`) || !strings.Contains(page, `href="/bg/privacy"`) {
		t.Error("the switcher still offers ro, or lost bg")
	}
	if _, page := get(t, e.URL+"/de/"); strings.Contains(page, `formaction="/ro/`) || !strings.Contains(page, `formaction="/bg/"`) {
		t.Error("the form's switcher still offers ro, or lost bg")
	}
	req, _ := http.NewRequest("GET", e.URL+"/", nil)
	req.Header.Set("Accept-Language", "ro-RO")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="chooser"`) || strings.Contains(body, `href="/ro/"`) {
		t.Errorf("a Romanian browser: status %d, want the chooser without ro", resp.StatusCode)
	}
	// Not every language may go.
	resp, page = postAs(t, admin, e.URL+"/office/settings/languages", url.Values{})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-languages"`) {
		t.Errorf("switching all off: status %d, want 422 with the error at the field", resp.StatusCode)
	}
	if resp, _ := get(t, e.URL+"/de/"); resp.StatusCode != http.StatusOK {
		t.Errorf("after the refused save /de/: %d", resp.StatusCode)
	}
	on.Add("languages", "ro")
	if resp, _ := postAs(t, admin, e.URL+"/office/settings/languages", on); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: status %d", resp.StatusCode)
	}
	if resp, _ := get(t, e.URL+"/ro/"); resp.StatusCode != http.StatusOK {
		t.Errorf("/ro/ switched on again: status %d", resp.StatusCode)
	}
	if _, audit := getAs(t, admin, e.URL+"/office/audit"); !strings.Contains(audit, "languages_off=ro") {
		t.Error("switching ro off is not in the audit log")
	}
}

// A switch of language re-renders the same page in the other language
// with everything typed: the report form (and its captcha and answer),
// the receipt, the receipt form and the reporter's unsent answer.
func TestLanguageSwitchKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, page := get(t, e.URL+"/uk/")
	id := captchaID(t, page)
	form := validReport("Мене не пустили в автобус.\nВодій сказав: «Таким, як ви, тут не місце».")
	form.Set("captcha_id", id)
	form.Set("captcha_solution", "12")
	form.Set("contact", "Signal 0170 0000000, nach 18 Uhr")
	form.Set("attachments", "photo.jpg") // a url-encoded form carries file names only
	resp, page := post(t, e.URL+"/ru/", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<html lang="ru"`) {
		t.Fatalf("switch to ru: status %d", resp.StatusCode)
	}
	for _, want := range []string{
		template.HTMLEscapeString(form.Get("description")),
		`value="affected" checked`, `value="2026-03"`, `value="14" selected`, `value="bochum" selected`,
		`value="antiziganism" checked`, `value="gender" checked`, `value="housing" selected`,
		`value="contact_me" checked`, template.HTMLEscapeString(form.Get("contact")), `name="consent" value="yes" checked`,
		`name="captcha_id" value="` + id + `"`, `value="12"`, `id="reselect-attachments"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("after the switch the form lacks %q", want)
		}
	}
	if strings.Contains(page, `class="error"`) {
		t.Error("a switch shows field errors: it must check nothing")
	}
	// The captcha was not used up: answered now, the report goes in.
	form.Set("captcha_solution", captchas.Solve(id))
	form.Del("attachments")
	resp, page = post(t, e.URL+"/ru/report", form)
	m := fuReceiptPattern.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("report after the switch: status %d, no receipt", resp.StatusCode)
	}
	receipt := m[1]

	// The receipt page in another language still shows the code.
	resp, page = post(t, e.URL+"/uk/receipt", url.Values{"receipt": {receipt}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="receipt" class="receipt" dir="ltr" translate="no">`+receipt+`<`) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("receipt in uk: status %d, code shown: %v", resp.StatusCode, strings.Contains(page, receipt))
	}
	req, _ := http.NewRequest("POST", e.URL+"/uk/receipt", strings.NewReader(url.Values{"receipt": {receipt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a receipt page posted from another site: %v, want 403", resp.Status)
	} else {
		readBody(t, resp)
	}
	if resp, _ := post(t, e.URL+"/uk/receipt", url.Values{"receipt": {"12345"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed code on the receipt page: status %d, want 400", resp.StatusCode)
	}

	// The receipt form keeps the typed code, captcha and answer.
	_, page = get(t, e.URL+"/ru/followup")
	fid := captchaID(t, page)
	resp, page = post(t, e.URL+"/uk/followup/language", url.Values{"receipt": {"1234 5678"}, "captcha_id": {fid}, "captcha_solution": {"77"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `value="1234 5678"`) || !strings.Contains(page, `value="`+fid+`"`) || !strings.Contains(page, `value="77"`) {
		t.Errorf("receipt form after the switch: status %d, typed values lost", resp.StatusCode)
	}

	// The reporter's report page keeps the unsent answer.
	_, page = fuOpen(t, e, "ru", receipt)
	token := fuToken(t, page)
	answer := "Спасибо. Я хочу добавить: это было утром."
	resp, page = post(t, e.URL+"/uk/followup/view", url.Values{"token": {token}, "message": {answer}, "attachments": {"scan.pdf"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<html lang="uk"`) || !strings.Contains(page, ">"+answer+"</textarea>") || !strings.Contains(page, `id="reselect-attachments"`) {
		t.Errorf("report page after the switch: status %d, answer kept: %v", resp.StatusCode, strings.Contains(page, answer))
	}
}

// Digits from any script: a captcha answered in Persian digits and a
// receipt typed in Arabic-Indic digits with dashes work.
func TestDigitsOfAnyScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	persian := strings.NewReplacer("0", "۰", "1", "۱", "2", "۲", "3", "۳", "4", "۴", "5", "۵", "6", "۶", "7", "۷", "8", "۸", "9", "۹")
	arabic := strings.NewReplacer("0", "٠", "1", "١", "2", "٢", "3", "٣", "4", "٤", "5", "٥", "6", "٦", "7", "٧", "8", "٨", "9", "٩", " ", "-")
	_, page := get(t, e.URL+"/fa/")
	id := captchaID(t, page)
	form := validReport("در اداره به من گفتند که به کشورت برگرد.")
	form.Set("captcha_id", id)
	form.Set("captcha_solution", persian.Replace(captchas.Solve(id)))
	resp, page := post(t, e.URL+"/fa/report", form)
	m := fuReceiptPattern.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("Persian digits in the captcha: status %d, no receipt", resp.StatusCode)
	}
	resp, page = fuOpen(t, e, "rom", arabic.Replace(m[1]))
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="thread"`) {
		t.Errorf("receipt in Arabic-Indic digits: status %d, no report page", resp.StatusCode)
	}
	for _, p := range []string{"/fa/", "/fa/followup"} {
		if _, page := get(t, e.URL+p); strings.Contains(page, "pattern=") {
			t.Errorf("%s still has a pattern attribute that refuses other digits", p)
		}
	}
}

// Numbers on a page follow the page's language (CLDR): 20.000 in German,
// 20,000 in English, 20 000 with a no-break space in Polish.
func TestNumbersByLanguage(t *testing.T) {
	t.Parallel()
	e := newFakeServer(t)
	for lang, want := range map[string]string{"de": "20.000", "en": "20,000", "pl": "20\u00a0000", "ar": "20,000"} {
		if _, page := get(t, e.URL+"/"+lang+"/"); !strings.Contains(page, want) {
			t.Errorf("/%s/: the description's limit is not written %q", lang, want)
		}
	}
}
