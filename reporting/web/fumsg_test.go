package web_test

import (
	"bytes"
	"image/jpeg"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/notifytest"
	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// ---- helpers for files with follow-up messages (fumsg) ----

// fumsgReply posts the reporter's message form with files as a browser
// does: multipart, the hidden token first, then the text, then the files.
func fumsgReply(t testing.TB, e *env, lang, token, message string, files []attFile) (*http.Response, string) {
	t.Helper()
	body, ct := attBody(t, url.Values{"token": {token}, "message": {message}}, files)
	resp, err := client.Post(e.URL+"/"+lang+"/followup/message", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	fuNoCookie(t, "a message with files", resp)
	return resp, readBody(t, resp)
}

// A reporter's message brings one mail to each team member with an
// address, like a new report: it says only that something is new, never
// the text or the case. A message refused for its form sends nothing.
func TestFumsgReplyNotifiesTeam(t *testing.T) {
	t.Parallel()
	srv := notifytest.Start(t)
	e, n, clock := notifyEnv(t, srv)
	admin := notifyTeam(t, e)
	token, _, _ := fumsgCase(t, e, admin, reportFrom("bochum", "Beleidigung im Treppenhaus"))
	clock.Advance(reporting.DefaultDelayMax) // the batch's delay (TestNotificationsBatched)
	if sent := notifySendDue(t, n); sent != 2 {
		t.Fatalf("the new report sent %d mails, want 2", sent)
	}

	if resp, page := fuPost(t, e, "/en/followup/message", url.Values{"token": {token}, "message": {"  "}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("empty message: status %d\n%s", resp.StatusCode, page)
	}
	if sent := notifySendDue(t, n); sent != 0 {
		t.Errorf("a refused message sent %d mails", sent)
	}

	reply := "Der Nachbar Herr Zylinski war auch dabei."
	resp, page := fuPost(t, e, "/en/followup/message", url.Values{"token": {token}, "message": {reply}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="followup-sent"`) {
		t.Fatalf("reply: status %d\n%s", resp.StatusCode, page)
	}
	clock.Advance(reporting.DefaultDelayMax)
	if sent := notifySendDue(t, n); sent != 2 {
		t.Fatalf("the reply sent %d mails, want 2", sent)
	}
	msgs := srv.Messages()[2:]
	if got := notifyRecipients(msgs); len(got) != 2 || got[0] != "anna@example.org" || got[1] != "berta@example.org" {
		t.Errorf("reply went to %v, want anna and berta", got)
	}
	for _, m := range msgs {
		if !strings.Contains(m.Data, notifyBaseURL+"/office/cases") {
			t.Errorf("mail lacks the office link:\n%s", m.Data)
		}
		for _, secret := range []string{"Zylinski", "Nachbar", "Treppenhaus", "bochum"} {
			if strings.Contains(strings.ToLower(m.Data), strings.ToLower(secret)) {
				t.Errorf("mail gives away %q:\n%s", secret, m.Data)
			}
		}
	}
}

// A JPEG with GPS EXIF sent with a reporter's message reaches the
// counsellor in the thread, downloadable, without EXIF; the reporter sees
// its name under their message.
func TestFumsgReplyJPEGLosesEXIF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	token, page, caseURL := fumsgCase(t, e, admin, validReport("Ein Aushang im Hausflur"))
	if !strings.Contains(page, `enctype="multipart/form-data"`) || !strings.Contains(page, `type="file" id="attachments" name="attachments" multiple`) {
		t.Fatalf("the message form has no upload field:\n%s", page)
	}
	if ti, fi := strings.Index(page, `action="/en/followup/message"`), strings.Index(page, `id="attachments"`); ti < 0 || !strings.Contains(page[ti:fi], `name="token"`) {
		t.Error("the token does not come before the file field in the message form")
	}

	reply := "Hier ein Foto vom Aushang."
	resp, page := fumsgReply(t, e, "en", token, reply, []attFile{{Name: "aushang.jpg", Data: attJPEGWithGPS(t)}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="followup-sent"`) {
		t.Fatalf("reply with a photo: status %d\n%s", resp.StatusCode, page)
	}
	wantAll(t, "the reporter's page after sending", page, reply, "aushang.jpg", "Files you sent:")

	_, cpage := getAs(t, admin, caseURL)
	i := strings.Index(cpage, `id="messages"`)
	if i < 0 {
		t.Fatalf("no thread on the case page:\n%s", cpage)
	}
	links := attLinkPattern.FindAllStringSubmatch(cpage[i:], -1)
	if len(links) != 1 || !strings.Contains(cpage[i:], "aushang.jpg") {
		t.Fatalf("the thread shows %d files, want aushang.jpg:\n%s", len(links), cpage[i:])
	}
	if strings.Contains(cpage, `<section id="attachments">`) {
		t.Error("the message's photo is listed among the report's own files")
	}
	_, got := attDownload(t, e, admin, links[0][1])
	if _, err := jpeg.Decode(bytes.NewReader(got)); err != nil {
		t.Fatalf("download is no JPEG: %v", err)
	}
	for _, m := range attSegments(got) {
		if m == 0xE1 {
			t.Error("download still has an APP1 (EXIF) segment")
		}
	}
	if bytes.Contains(got, []byte("Exif")) || bytes.Contains(got, []byte("GPS-SECRET")) {
		t.Error("download still carries EXIF or GPS bytes")
	}
}

// A file of a refused type brings the page back with the error next to
// the upload field and the typed message still in its box; nothing is
// stored.
func TestFumsgRefusedFileKeepsMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	token, _, caseURL := fumsgCase(t, e, admin, validReport("Beschimpfung an der Kasse"))
	typed := "Meine Notizen dazu schicke ich mit."
	resp, page := fumsgReply(t, e, "de", token, typed, []attFile{{Name: "notizen.txt", Data: []byte("Notizen: Kasse 3, Dienstag")}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("refused file: status %d, want 422\n%s", resp.StatusCode, page)
	}
	fi := strings.Index(page, `id="err-attachments"`)
	if fi < 0 || !strings.Contains(page[fi:], "Diese Datei können wir nicht annehmen") {
		t.Fatalf("no error at the upload field:\n%s", page)
	}
	if !strings.Contains(page, ">"+typed+"</textarea>") {
		t.Errorf("the typed message is gone:\n%s", page)
	}
	if strings.Contains(page, `id="followup-sent"`) {
		t.Error("the page says the message was sent")
	}
	caseID := caseURL[strings.LastIndex(caseURL, "/")+1:]
	if n := fuCount(t, e, "messages", caseID); n != 0 {
		t.Errorf("%d messages stored", n)
	}
	if n := attCount(t, e, "attachments"); n != 0 {
		t.Errorf("%d attachment rows left behind", n)
	}
	// Six files are refused too, with the text kept.
	six := make([]attFile, 6)
	for i := range six {
		six[i] = attFile{Name: "p.pdf", Data: attPDF(2 << 10)}
	}
	resp, page = fumsgReply(t, e, "de", token, typed, six)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-attachments"`) || !strings.Contains(page, ">"+typed+"</textarea>") {
		t.Errorf("six files: status %d, want 422 with the error at the field and the text kept", resp.StatusCode)
	}
	if n := attCount(t, e, "attachments"); n != 0 {
		t.Errorf("%d attachment rows left behind after six files", n)
	}
}

// A withdrawal after a message with a file leaves no attachment row and
// none of the file's sealed bytes in the database files.
func TestFumsgWithdrawRemovesMessageFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	token, _, caseURL := fumsgCase(t, e, admin, validReport("Brief vom Vermieter"))
	resp, page := fumsgReply(t, e, "en", token, "Der Brief als PDF.", []attFile{{Name: "brief.pdf", Data: attPDF(200 << 10)}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="pdf-warning"`) {
		t.Fatalf("reply with a PDF: status %d, want the PDF warning\n%s", resp.StatusCode, page)
	}
	caseID := caseURL[strings.LastIndex(caseURL, "/")+1:]
	db := rawDB(t, e)
	var withMessage int
	db.QueryRow(`SELECT count(*) FROM attachments WHERE report_id = ? AND message_id IS NOT NULL`, caseID).Scan(&withMessage)
	if withMessage != 1 {
		t.Fatalf("%d attachments tied to a message, want 1", withMessage)
	}
	var secrets [][]byte
	rows, err := db.Query(`SELECT data FROM attachment_chunks UNION ALL SELECT meta FROM attachments UNION ALL SELECT wrapped_key FROM attachments`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var b []byte
		rows.Scan(&b)
		secrets = append(secrets, b[:32])
	}
	rows.Close()
	if len(secrets) < 4 {
		t.Fatalf("setup: only %d ciphertexts", len(secrets))
	}

	if resp, page := fuPost(t, e, "/en/followup/withdraw/confirm", url.Values{"token": {token}}); resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="withdrawn"`) {
		t.Fatalf("withdraw: status %d\n%s", resp.StatusCode, page)
	}
	for _, tb := range []string{"attachments", "attachment_chunks", "messages"} {
		if n := attCount(t, e, tb); n != 0 {
			t.Errorf("%d %s rows left", n, tb)
		}
	}
	for _, s := range secrets {
		for _, f := range webtest.FilesHolding(t, e.Dir, s) {
			t.Errorf("%s still holds a ciphertext of the file", f)
		}
	}
}

// Reloading the page after a message with a file sends the same form
// again: the message is taken once and the second copy of the file is
// not kept either.
func TestFumsgReloadKeepsOneFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	token, _, caseURL := fumsgCase(t, e, admin, validReport("Ein Foto vom Schild"))
	files := []attFile{{Name: "schild.png", Data: attPNGWithText(t)}}
	for range 2 {
		if resp, page := fumsgReply(t, e, "en", token, "Das Schild.", files); resp.StatusCode != http.StatusOK {
			t.Fatalf("reply: status %d\n%s", resp.StatusCode, page)
		}
	}
	caseID := caseURL[strings.LastIndex(caseURL, "/")+1:]
	if n := fuCount(t, e, "messages", caseID); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}
	if n := attCount(t, e, "attachments"); n != 1 {
		t.Errorf("%d attachment rows, want 1", n)
	}
	_, page := getAs(t, admin, caseURL)
	if got := strings.Count(page, "schild.png"); got != 1 {
		t.Errorf("the case page shows schild.png %d times, want 1", got)
	}
}

var fumsgFilePattern = regexp.MustCompile(`name="file" value="([0-9a-f-]{36})"`)

// The reporter downloads a file they sent through the token in a POST;
// the token of another report does not open it, and a GET does nothing.
func TestFumsgReporterDownloadsOwnFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	token, _, _ := fumsgCase(t, e, admin, validReport("Das Foto vom Zettel"))
	resp, page := fumsgReply(t, e, "en", token, "Der Zettel.", []attFile{{Name: "zettel.jpg", Data: attJPEGWithGPS(t)}})
	m := fumsgFilePattern.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("reply: status %d, no download form\n%s", resp.StatusCode, page)
	}
	if strings.Contains(page, "/followup/file?") || strings.Contains(page, "token="+token) {
		t.Error("the token appears in a URL")
	}
	resp, body := fuPost(t, e, "/en/followup/file", url.Values{"token": {token}, "file": {m[1]}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download: status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := jpeg.Decode(strings.NewReader(body)); err != nil || strings.Contains(body, "GPS-SECRET") {
		t.Errorf("the reporter's copy is no clean JPEG (%v)", err)
	}
	other, _, _ := fumsgCase(t, e, admin, validReport("Eine andere Meldung"))
	if resp, _ := fuPost(t, e, "/en/followup/file", url.Values{"token": {other}, "file": {m[1]}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another report's token: status %d, want 404", resp.StatusCode)
	}
	if resp, _ := fuPost(t, e, "/en/followup/file", url.Values{"token": {"wrong"}, "file": {m[1]}}); resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Type") == "image/jpeg" {
		t.Error("a wrong token downloads the file")
	}
	if resp, _ := get(t, e.URL+"/en/followup/file?token="+token+"&file="+m[1]); resp.StatusCode == http.StatusOK {
		t.Error("a GET with the token in the URL downloads the file")
	}
}
