package web_test

import (
	"bytes"
	"html/template"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
)

// idForm is the identity an admin types in the tests: the name carries
// markup, which every page must show as text.
func idForm() url.Values {
	return url.Values{
		"name":              {"PLANB <Ruhr> & Co"},
		"address":           {"Beispielstraße 1\r\n44787 Bochum"},
		"phone":             {"0234 123 456-0"},
		"hours":             {"Mo–Do 9–16 Uhr"},
		"email":             {"beratung@example.org"},
		"responsible":       {"Erika Musterfrau"},
		"legal_form":        {"eingetragener Verein"},
		"register":          {"Amtsgericht Bochum, VR 4711"},
		"dpo_name":          {"Max Datenschutz"},
		"dpo_contact":       {"dsb@example.org"},
		"authority_name":    {"Landesbeauftragte für Datenschutz und Informationsfreiheit Nordrhein-Westfalen"},
		"authority_address": {"Kavalleriestraße 2–4\r\n40213 Düsseldorf"},
		"counselling":       {"Opferberatung Rheinland: 0211 1234\r\nFrauennotruf Bochum: 0234 5678"},
	}
}

// setIdentity saves the identity as the admin and expects the redirect.
func setIdentity(t *testing.T, e *env, admin *http.Cookie, f url.Values) {
	t.Helper()
	resp, body := postAs(t, admin, e.URL+"/office/settings/identity", f)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/settings/identity?done=saved" {
		t.Fatalf("saving the identity: status %d to %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

const escapedName = "PLANB &lt;Ruhr&gt; &amp; Co"

// The footer of every public page shows the admin's name, address, phone
// and e-mail, the pre-rendered empty forms included (they are rendered
// anew); the contact and Impressum pages show the rest, in every
// language, as typed and escaped.
func TestIdentityOnPublicPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	if _, page := get(t, e.URL+"/de/"); strings.Contains(page, "Beispielstraße") {
		t.Fatal("the footer shows an address before any was entered")
	}
	if _, page := get(t, e.URL+"/de/imprint"); !strings.Contains(page, `id="identity-unset"`) {
		t.Fatal("the Impressum does not say that its details are missing")
	}
	setIdentity(t, e, admin, idForm())

	footer := []string{escapedName, "Beispielstraße 1<br>44787 Bochum", `href="tel:02341234560"`, "0234 123 456-0",
		`href="mailto:beratung@example.org"`, `href="/de/contact"`, `href="/de/imprint"`}
	for _, path := range []string{"/de/", "/de/followup", "/de/privacy", "/de/statistics", "/de/no-such-page"} {
		_, page := get(t, e.URL+path)
		for _, want := range footer {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the footer lacks %q", path, want)
			}
		}
		if strings.Contains(page, "PLANB <Ruhr>") {
			t.Errorf("%s shows the name unescaped", path)
		}
	}

	for _, l := range i18n.Languages {
		_, contact := get(t, e.URL+"/"+l.Code+"/contact")
		_, imprint := get(t, e.URL+"/"+l.Code+"/imprint")
		for _, want := range []string{escapedName, "Mo–Do 9–16 Uhr"} {
			if !strings.Contains(contact, want) {
				t.Errorf("/%s/contact lacks %q", l.Code, want)
			}
		}
		for _, want := range []string{escapedName, "Erika Musterfrau", "eingetragener Verein", "Amtsgericht Bochum, VR 4711", "Max Datenschutz", "dsb@example.org"} {
			if !strings.Contains(imprint, want) {
				t.Errorf("/%s/imprint lacks %q", l.Code, want)
			}
		}
	}
	_, en := get(t, e.URL+"/en/imprint")
	_, de := get(t, e.URL+"/de/imprint")
	if !strings.Contains(en, "<h1>Legal notice</h1>") || !strings.Contains(en, "Responsible for the content") ||
		!strings.Contains(de, "<h1>Impressum</h1>") || !strings.Contains(de, "Verantwortlich für den Inhalt") {
		t.Error("the Impressum's labels are not translated")
	}
}

// The report form and the follow-up form, empty or with errors, show the
// emergency line with the admin's local numbers; the privacy page does
// not.
func TestEmergencyLineOnFormPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	setIdentity(t, e, login(t, e), idForm())
	local := []string{"Opferberatung Rheinland: 0211 1234", "Frauennotruf Bochum: 0234 5678"}
	check := func(name, page, now, call string) {
		t.Helper()
		for _, want := range append([]string{`id="emergency"`, now, call}, local...) {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		if strings.Index(page, `id="emergency"`) > strings.Index(page, "<form") {
			t.Errorf("%s: the emergency line comes after the form", name)
		}
	}
	_, page := get(t, e.URL+"/de/")
	check("/de/", page, "Sind Sie jetzt in Gefahr?", "Rufen Sie 110 an (Polizei) oder 112 (Rettungsdienst, Feuerwehr).")
	_, page = get(t, e.URL+"/en/")
	check("/en/", page, "In danger now?", "Call 110 (police) or 112 (ambulance, fire).")
	_, page = post(t, e.URL+"/en/report", url.Values{"captcha_id": {captchaID(t, page)}, "captcha_solution": {"0"}})
	check("/en/ with errors", page, "In danger now?", "Call 110 (police) or 112 (ambulance, fire).")
	_, page = get(t, e.URL+"/en/followup")
	check("/en/followup", page, "In danger now?", "Call 110 (police) or 112 (ambulance, fire).")
	if _, page := get(t, e.URL+"/de/privacy"); strings.Contains(page, `id="emergency"`) {
		t.Error("the privacy page shows the emergency line")
	}
}

// The privacy page states the retention periods the admin set, in
// singular and plural, and who the controller, the data protection
// officer and the supervisory authority are.
func TestPrivacyFromLiveSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	if _, page := get(t, e.URL+"/de/privacy"); !strings.Contains(page, "spätestens 12 Monate nachdem") || !strings.Contains(page, "6 Monate nach ihrem Eingang") {
		t.Fatalf("/de/privacy does not show the default periods:\n%s", page)
	}
	for _, tc := range []struct {
		closed, fresh string
		want          map[string][]string
	}{
		{"24", "3", map[string][]string{
			"de": {"spätestens 24 Monate nachdem der Fall abgeschlossen ist", "3 Monate nach ihrem Eingang"},
			"en": {"at the latest 24 months after the case is closed", "deleted 3 months after it arrived"}}},
		{"1", "1", map[string][]string{
			"de": {"spätestens 1 Monat nachdem", "1 Monat nach ihrem Eingang"},
			"en": {"at the latest 1 month after", "deleted 1 month after it arrived"}}},
		{"24", "0", map[string][]string{
			"de": {"spätestens 24 Monate nachdem", "bleibt gespeichert, bis wir sie bearbeiten"},
			"en": {"at the latest 24 months after", "stays stored until we work on it"}}},
	} {
		resp, body := postAs(t, admin, e.URL+"/office/settings/retention", url.Values{"closed_months": {tc.closed}, "new_months": {tc.fresh}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("retention %s/%s: status %d\n%s", tc.closed, tc.fresh, resp.StatusCode, body)
		}
		for lang, wants := range tc.want {
			_, page := get(t, e.URL+"/"+lang+"/privacy")
			for _, want := range wants {
				if !strings.Contains(page, want) {
					t.Errorf("retention %s/%s: /%s/privacy lacks %q", tc.closed, tc.fresh, lang, want)
				}
			}
			if strings.Contains(page, " 12 Monate") || strings.Contains(page, " 12 months") {
				t.Errorf("retention %s/%s: /%s/privacy still says 12 months", tc.closed, tc.fresh, lang)
			}
		}
	}

	_, page := get(t, e.URL+"/en/privacy")
	for _, want := range []string{"Article 9(2)(a)", "Article 6(1)(a)", "Landesbeauftragte für Datenschutz", "40213 Düsseldorf"} {
		if !strings.Contains(page, want) {
			t.Errorf("/en/privacy lacks %q before the identity is set", want)
		}
	}
	f := idForm()
	f.Set("authority_name", "Aufsicht Test")
	f.Set("authority_address", "Teststraße 9\n12345 Prüfstadt")
	setIdentity(t, e, admin, f)
	_, page = get(t, e.URL+"/de/privacy")
	for _, want := range []string{escapedName, "Beispielstraße 1", "Max Datenschutz", "dsb@example.org", "Aufsicht Test", "12345 Prüfstadt", "Artikel 9 Absatz 2 Buchstabe a"} {
		if !strings.Contains(page, want) {
			t.Errorf("/de/privacy lacks %q", want)
		}
	}
}

// A refused identity comes back with everything as typed and each error
// next to its field; nothing is stored, and the public pages keep what
// they showed.
func TestIdentityErrorsKeepTypedValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	setIdentity(t, e, admin, idForm())
	f := idForm()
	f.Set("name", "Neuer Name <neu>")
	f.Set("email", "keine adresse")
	f.Set("authority_name", "")
	f.Set("hours", "Fr 10–12 Uhr")
	resp, page := postAs(t, admin, e.URL+"/office/settings/identity", f)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422\n%s", resp.StatusCode, page)
	}
	for _, want := range []string{
		`value="Neuer Name &lt;neu&gt;"`, `value="keine adresse"`, ">Fr 10–12 Uhr</textarea>",
		`<p class="error" id="err-email">` + template.HTMLEscapeString("Bitte geben Sie nur eine E-Mail-Adresse ein, zum Beispiel beratung@example.org.") + "</p>",
		`<p class="error" id="err-authority_name">Bitte füllen Sie dieses Feld aus.</p>`,
		`id="email" name="email" value="keine adresse" dir="auto" maxlength="200" aria-describedby="err-email" aria-invalid="true"`,
		`href="#email"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the refused form lacks %q", want)
		}
	}
	if strings.Contains(page, `id="err-name"`) {
		t.Error("the name, which was fine, has an error")
	}
	if _, pub := get(t, e.URL+"/de/"); !strings.Contains(pub, escapedName) || strings.Contains(pub, "Neuer Name") {
		t.Error("a refused identity reached the public pages")
	}
	// In English, the office page's messages are English.
	req, _ := http.NewRequest("POST", e.URL+"/office/settings/identity", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "en")
	req.AddCookie(admin)
	r, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if en := readBody(t, r); !strings.Contains(en, "Please fill in this field.") {
		t.Error("the English office page does not show the English error")
	}
}

// Each change of the identity is in the audit log, with the admin's
// name and the fields that changed.
func TestIdentityChangeAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	setIdentity(t, e, admin, idForm())
	f := idForm()
	f.Set("phone", "0234 000")
	setIdentity(t, e, admin, f)
	rows, err := rawDB(t, e).Query(`SELECT user_name, action, detail FROM audit WHERE detail LIKE 'identity:%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var user, action, detail string
		if err := rows.Scan(&user, &action, &detail); err != nil {
			t.Fatal(err)
		}
		got = append(got, user+" "+action+" "+detail)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], e.Admin+" settings identity:name,address,phone") || got[1] != e.Admin+" settings identity:phone" {
		t.Fatalf("audit entries = %q", got)
	}
	if _, page := getAs(t, admin, e.URL+"/office/audit"); !strings.Contains(page, "identity:phone") {
		t.Error("the audit page does not show the change")
	}
}

// postLogo sends the logo form with a file (nil: none) or the remove
// button.
func postLogo(t *testing.T, e *env, admin *http.Cookie, file []byte, remove bool) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if remove {
		mw.WriteField("remove", "1")
	} else {
		mw.WriteField("upload", "1")
	}
	if file != nil {
		w, _ := mw.CreateFormFile("logo", "logo.png")
		w.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", e.URL+"/office/settings/identity/logo", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(admin)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

var logoImg = regexp.MustCompile(`<img class="logo" src="(/logo/[0-9a-f]+)" alt="" width="20" height="10">`)

// The admin's logo is on every public page, served from this site with
// nothing but its pixels; a file that is no PNG or JPEG, or too large,
// is refused next to the field; removed, it is gone.
func TestIdentityLogo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	if _, page := get(t, e.URL+"/de/"); strings.Contains(page, `class="logo"`) {
		t.Fatal("a logo before any was uploaded")
	}
	for name, file := range map[string][]byte{
		"a PDF":       []byte("%PDF-1.4\n" + strings.Repeat("x", 100)),
		"a GIF":       []byte("GIF89a" + strings.Repeat("\x00", 100)),
		"a large PNG": append(attPNGWithText(t), bytes.Repeat([]byte{0}, 70<<10)...),
		"a wide PNG":  widePNG(t),
	} {
		resp, page := postLogo(t, e, admin, file, false)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `<p class="error" id="err-logo">`) || !strings.Contains(page, `href="#logo"`) {
			t.Errorf("%s: status %d, no error at the logo field", name, resp.StatusCode)
		}
	}
	resp, page := postLogo(t, e, admin, attPNGWithText(t), false)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: status %d\n%s", resp.StatusCode, page)
	}
	var src string
	for _, path := range []string{"/de/", "/ar/followup", "/en/privacy"} {
		_, page := get(t, e.URL+path)
		m := logoImg.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s shows no logo", path)
		}
		src = m[1]
	}
	resp, body := get(t, e.URL+src)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("logo: status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(body, "PNG-SECRET") || strings.Contains(body, "tEXt") {
		t.Error("the logo still carries its text chunk")
	}
	if img, err := png.Decode(strings.NewReader(body)); err != nil || img.Bounds().Dx() != 20 {
		t.Errorf("the logo does not decode as the 20×10 image: %v", err)
	}
	if _, page := getAs(t, admin, e.URL+"/office/audit"); !strings.Contains(page, "identity:logo") {
		t.Error("the upload is not in the audit log")
	}

	if resp, page := postLogo(t, e, admin, nil, true); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: status %d\n%s", resp.StatusCode, page)
	}
	if _, page := get(t, e.URL+"/de/"); strings.Contains(page, `class="logo"`) {
		t.Error("the logo is still shown after it was removed")
	}
	if resp, _ := get(t, e.URL+src); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the removed logo: status %d, want 404", resp.StatusCode)
	}
}

// widePNG is a small file of an image wider than a logo may be.
func widePNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, reporting.MaxLogoSide+1, 1))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
