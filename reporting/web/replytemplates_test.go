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

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// ---- helpers for reply templates and files on a counsellor's reply ----

// rtPostFiles posts a multipart office form with files, as the case
// page's composer does.
func rtPostFiles(t testing.TB, cookie *http.Cookie, u string, form url.Values, files []attFile) (*http.Response, string) {
	t.Helper()
	body, ct := attBody(t, form, files)
	req, _ := http.NewRequest("POST", u, body)
	req.Header.Set("Content-Type", ct)
	req.AddCookie(cookie)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// rtCase submits a report in lang and returns its receipt and case ID.
func rtCase(t testing.TB, e *env, admin *http.Cookie, lang, description string) (receipt, id string) {
	t.Helper()
	resp, page := submit(t, e, lang, validReport(description))
	m := fuReceiptPattern.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("submission in %s: status %d, no receipt:\n%s", lang, resp.StatusCode, page)
	}
	_, list := getAs(t, admin, e.URL+"/office/cases")
	i := strings.Index(list, description)
	if i < 0 {
		t.Fatalf("case %q not listed", description)
	}
	ids := regexp.MustCompile(`href="/office/cases/([0-9a-f-]{36})"`).FindAllStringSubmatch(list[:i], -1)
	if ids == nil {
		t.Fatal("no case link")
	}
	return m[1], ids[len(ids)-1][1]
}

var rtOptionPattern = regexp.MustCompile(`<option value="(\d+)"[^>]*>([^<]*)</option>`)

// ---- tests ----

// An admin keeps reply templates per language; a counsellor on a Turkish
// case sees the Turkish one first, inserts it without JavaScript, edits
// it and sends it with a photo. The reporter reads the answer on the
// follow-up page with their receipt and downloads the photo, cleaned of
// its metadata, byte for byte as the office has it; their token opens no
// file of another report; the database holds neither the reply nor the
// photo in plain. A counsellor may not touch the templates.
func TestReplyTemplateTurkishWithFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	counsellor, _ := accUser(t, e, admin, "clara", "counsellor", "1")

	// Counsellors get 403 on the settings page and its POSTs.
	for _, r := range []struct{ method, path string }{{"GET", "/office/settings/replies"}, {"POST", "/office/settings/replies"}, {"POST", "/office/settings/replies/delete"}} {
		var resp *http.Response
		if r.method == "GET" {
			resp, _ = getAs(t, counsellor, e.URL+r.path)
		} else {
			resp, _ = postAs(t, counsellor, e.URL+r.path, url.Values{"language": {"tr"}, "title": {"x"}, "body": {"y"}, "id": {"1"}})
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("counsellor %s %s: status %d, want 403", r.method, r.path, resp.StatusCode)
		}
	}

	// Too long a title: the error next to the field, nothing typed lost.
	trBody := "Merhaba, bildiriminizi aldık. Bir hafta içinde size cevap vereceğiz."
	long := strings.Repeat("ş", reporting.MaxTemplateTitle+1)
	resp, page := postAs(t, admin, e.URL+"/office/settings/replies", url.Values{"language": {"tr"}, "title": {long}, "body": {trBody}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-title"`) ||
		!strings.Contains(page, "Der Titel ist zu lang") || !strings.Contains(page, long) || !strings.Contains(page, html.EscapeString(trBody)) {
		t.Fatalf("too long a title: status %d, want 422 with the error and the text kept:\n%s", resp.StatusCode, page)
	}
	for _, tpl := range []url.Values{
		{"language": {"de"}, "title": {"Eingang bestätigen"}, "body": {"Wir haben Ihre Meldung erhalten."}},
		{"language": {"tr"}, "title": {"Alındı"}, "body": {trBody}},
	} {
		if resp, page := postAs(t, admin, e.URL+"/office/settings/replies", tpl); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("adding a template: status %d\n%s", resp.StatusCode, page)
		}
	}
	if _, page := getAs(t, admin, e.URL+"/office/settings/replies?done=saved"); !strings.Contains(page, "Alındı") || !strings.Contains(page, `id="saved"`) {
		t.Errorf("the settings page does not list the new template with a confirmation:\n%s", page)
	}

	receipt, id := rtCase(t, e, admin, "tr", "Ev sahibi kiralık daireyi vermedi")
	caseURL := e.URL + "/office/cases/" + id
	_, page = getAs(t, counsellor, caseURL)
	picker := page[max(strings.Index(page, `id="reply-template"`), 0):]
	opts := rtOptionPattern.FindAllStringSubmatch(picker[:max(strings.Index(picker, "</select>"), 0)], -1)
	if len(opts) != 2 || opts[0][2] != "Alındı" || !strings.Contains(page, `id="reply-template-insert"`) {
		t.Fatalf("the picker does not offer the Turkish template first: %q\n%s", opts, page)
	}
	_, page = getAs(t, counsellor, caseURL+"?reply_template="+opts[0][1])
	if !strings.Contains(page, `name="body"`) || !strings.Contains(page, html.EscapeString(trBody)+"</textarea>") || !strings.Contains(page, `id="reply-template-inserted"`) {
		t.Fatalf("inserting the template does not fill the composer:\n%s", page)
	}

	// An oversize file: refused next to the file field, the text kept, no
	// message sent.
	edited := trBody + " Fotoğrafı ekte bulabilirsiniz: QZX-REPLY-5521."
	big := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, reporting.MaxAttachmentSize)...)
	resp, page = rtPostFiles(t, counsellor, caseURL+"/messages", url.Values{"body": {edited}}, []attFile{{Name: "gross.png", Data: big}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-message-files"`) ||
		!strings.Contains(page, "Eine Datei ist größer als 10 MB") || !strings.Contains(page, html.EscapeString(edited)+"</textarea>") {
		t.Fatalf("oversize file: status %d, want 422 with the error by the file field and the text kept:\n%s", resp.StatusCode, page)
	}
	if strings.Contains(page, `class="message counsellor"`) {
		t.Errorf("a message was sent although its file was refused")
	}

	photo := attPNGWithText(t)
	resp, page = rtPostFiles(t, counsellor, caseURL+"/messages", url.Values{"body": {edited}}, []attFile{{Name: "belge.png", Data: photo}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sending with a photo: status %d\n%s", resp.StatusCode, page)
	}
	_, page = getAs(t, counsellor, caseURL)
	i := strings.Index(page, `class="message counsellor"`)
	links := attLinkPattern.FindAllStringSubmatch(page[max(i, 0):], -1)
	if i < 0 || len(links) == 0 || !strings.Contains(page[i:], "belge.png") {
		t.Fatalf("the case page does not show the photo under the counsellor's message:\n%s", page)
	}
	_, office := attDownload(t, e, counsellor, links[0][1])
	fileID := links[0][1][strings.LastIndex(links[0][1], "/")+1:]

	// The reporter, with the receipt, on the Turkish follow-up page.
	resp, page = fuOpen(t, e, "tr", receipt)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, html.EscapeString(edited)) || !strings.Contains(page, `id="file-`+fileID+`"`) {
		t.Fatalf("the follow-up page lacks the answer or its file: status %d\n%s", resp.StatusCode, page)
	}
	token := fuToken(t, page)
	resp, got := fuPost(t, e, "/tr/followup/file", url.Values{"token": {token}, "file": {fileID}})
	if resp.StatusCode != http.StatusOK || !bytes.Equal([]byte(got), office) {
		t.Fatalf("the reporter's download: status %d, %d bytes; want 200 and the office's %d bytes", resp.StatusCode, len(got), len(office))
	}
	if _, err := png.Decode(strings.NewReader(got)); err != nil || strings.Contains(got, "tEXt") || strings.Contains(got, "PNG-SECRET") {
		t.Errorf("the reporter's download is no clean PNG (err %v)", err)
	}

	// A file of another report does not open with this token.
	_, other := rtCase(t, e, admin, "en", "Another report with a reply")
	if resp, page := rtPostFiles(t, admin, e.URL+"/office/cases/"+other+"/messages", url.Values{"body": {"See the attached scan."}}, []attFile{{Name: "scan.png", Data: photo}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply on the other case: status %d\n%s", resp.StatusCode, page)
	}
	_, page = getAs(t, admin, e.URL+"/office/cases/"+other)
	otherLinks := attLinkPattern.FindAllStringSubmatch(page, -1)
	if len(otherLinks) == 0 {
		t.Fatal("the other case shows no file")
	}
	otherFile := otherLinks[0][1][strings.LastIndex(otherLinks[0][1], "/")+1:]
	if resp, _ := fuPost(t, e, "/tr/followup/file", url.Values{"token": {token}, "file": {otherFile}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another report's file with this token: status %d, want 404", resp.StatusCode)
	}

	// Neither the reply nor the photo is in the database in plain.
	idat := bytes.Index(office, []byte("IDAT"))
	if idat < 0 {
		t.Fatal("the cleaned PNG has no IDAT chunk")
	}
	for _, needle := range [][]byte{[]byte("QZX-REPLY-5521"), office[idat : idat+min(40, len(office)-idat)]} {
		if f := webtest.FilesHolding(t, e.Dir, needle); len(f) > 0 {
			t.Errorf("%v hold %.20q in plain", f, needle)
		}
	}
}
