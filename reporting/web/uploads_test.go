package web_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/storage"
)

// ---- helpers for the order of parts and the cost of uploads (up) ----

// upPart is one part of a multipart body: a text field, or a file in the
// upload field when file is set.
type upPart struct {
	name, value string
	file        string
	data        []byte
}

// upFields turns form fields into parts, in a fixed order.
func upFields(form url.Values) []upPart {
	var parts []upPart
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range form {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range form[k] {
			parts = append(parts, upPart{name: k, value: v})
		}
	}
	return parts
}

// upFiles turns files into parts of the upload field.
func upFiles(files []attFile) []upPart {
	parts := make([]upPart, len(files))
	for i, f := range files {
		parts[i] = upPart{name: "attachments", file: f.Name, data: f.Data}
	}
	return parts
}

// upPost posts parts in exactly the order given.
func upPost(t testing.TB, u string, parts ...[]upPart) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range slices.Concat(parts...) {
		if p.file == "" {
			mw.WriteField(p.name, p.value)
			continue
		}
		w, err := mw.CreateFormFile(p.name, p.file)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	resp, err := client.Post(u, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// upCaptcha fetches the report form and returns its captcha's ID and
// solution.
func upCaptcha(t testing.TB, e *env) (id, solution string) {
	t.Helper()
	_, page := get(t, e.URL+"/en/")
	id = captchaID(t, page)
	return id, captchas.Solve(id)
}

// upDiskSizes is the size of the database file and of its -wal, as they
// are on disk: no checkpoint, which would change them.
func upDiskSizes(t testing.TB, e *env) [2]int64 {
	t.Helper()
	var s [2]int64
	for i, name := range []string{storage.FileName, storage.FileName + "-wal"} {
		fi, err := os.Stat(filepath.Join(e.Dir, name))
		if err == nil {
			s[i] = fi.Size()
		} else if !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	return s
}

// upNothingStored fails unless no attachment row and no chunk exist.
func upNothingStored(t testing.TB, e *env) {
	t.Helper()
	for _, table := range []string{"attachments", "attachment_chunks"} {
		if n := attCount(t, e, table); n != 0 {
			t.Errorf("%d rows in %s, want 0", n, table)
		}
	}
}

// upPNG16 is a valid PNG of w×h pixels with 16 bits a channel (opaque,
// so stored as 16-bit RGB), a colour gradient that decodes at 8 bytes a
// pixel.
func upPNG16(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA64(x, y, color.NRGBA64{uint16(x * 97), uint16(y * 89), 0x8000, 0xFFFF})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(buf.Bytes())); err != nil || cfg.ColorModel != color.RGBA64Model && cfg.ColorModel != color.NRGBA64Model {
		t.Fatalf("test PNG is not 16 bits a channel: %v", err)
	}
	return buf.Bytes()
}

// upResize rewrites a PNG's IHDR to claim w×h pixels: the header is
// valid, the pixel data does not match (decoding it would fail late).
func upResize(t testing.TB, b []byte, w, h uint32) []byte {
	t.Helper()
	b = bytes.Clone(b)
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	if cfg, err := png.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != int(w) {
		t.Fatalf("PNG header not patched: %v", err)
	}
	return b
}

// upLargeFiles are five large files as an attacker sends them: four
// PDFs of 9 MB and a 16-bit PNG that would be decoded.
func upLargeFiles(t testing.TB) []attFile {
	t.Helper()
	pdf := attPDF(9 << 20)
	return []attFile{{Name: "1.pdf", Data: pdf}, {Name: "2.pdf", Data: pdf}, {Name: "3.pdf", Data: pdf}, {Name: "4.pdf", Data: pdf}, {Name: "deep.png", Data: upPNG16(t, 256, 256)}}
}

// A wrong captcha with five large files is refused before any file work:
// the database and its -wal keep their size, no attachment row or chunk
// exists, no image is decoded; the typed fields come back with the
// captcha error and the request to choose the files again. The same
// holds for a right captcha whose fields come after the files (a body no
// browser sends for this form): its captcha is used up all the same.
func TestUploadsNeedCaptchaFirst(t *testing.T) {
	// Not parallel: it counts image decodes process-wide.
	e := newEnv(t, options{})
	files := upLargeFiles(t)
	check := func(t *testing.T, resp *http.Response, page string, before [2]int64, decodes int64) {
		t.Helper()
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422:\n%.3000s", resp.StatusCode, page)
		}
		if !strings.Contains(page, `id="err-captcha_solution"`) || !strings.Contains(page, "The digits were not right") {
			t.Errorf("no captcha error on the page:\n%s", page)
		}
		if !strings.Contains(page, `id="err-attachments"`) || !strings.Contains(page, "Your files have not been saved yet") {
			t.Errorf("no request to choose the files again:\n%s", page)
		}
		if !strings.Contains(page, "Wohnungsbesichtigung abgesagt") || !strings.Contains(page, "Signal &#43;49 170 0000000") {
			t.Error("the typed fields are lost")
		}
		if after := upDiskSizes(t, e); after != before {
			t.Errorf("database and -wal sizes %v → %v: the refused files were written", before, after)
		}
		upNothingStored(t, e)
		if n := reporting.ImageDecodes() - decodes; n != 0 {
			t.Errorf("%d images decoded for a refused form", n)
		}
	}

	t.Run("wrong captcha", func(t *testing.T) {
		id, _ := upCaptcha(t, e)
		form := validReport("Wohnungsbesichtigung abgesagt")
		form.Set("captcha_id", id)
		form.Set("captcha_solution", "000000000")
		before, decodes := upDiskSizes(t, e), reporting.ImageDecodes()
		resp, page := upPost(t, e.URL+"/en/report", upFields(form), upFiles(files))
		check(t, resp, page, before, decodes)
	})

	t.Run("captcha after the files", func(t *testing.T) {
		id, solution := upCaptcha(t, e)
		form := validReport("Wohnungsbesichtigung abgesagt")
		captchaParts := []upPart{{name: "captcha_id", value: id}, {name: "captcha_solution", value: solution}}
		before, decodes := upDiskSizes(t, e), reporting.ImageDecodes()
		resp, page := upPost(t, e.URL+"/en/report", upFields(form), upFiles(files), captchaParts)
		check(t, resp, page, before, decodes)
		// The captcha was verified once, and so used up: it does not
		// pass a second, well-formed submission.
		resp, page = upPost(t, e.URL+"/en/report", upFields(form), captchaParts)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-captcha_solution"`) {
			t.Errorf("the captcha of the refused body passed again: status %d", resp.StatusCode)
		}
	})

	if n := attCount(t, e, "reports"); n != 0 {
		t.Errorf("%d reports stored, want 0", n)
	}
}

// The same files after a solved captcha, in the form's own order, are
// taken in: the report is stored with all five and the PNG is decoded
// (so the counter the refusals are checked with does count).
func TestUploadsAfterSolvedCaptchaStored(t *testing.T) {
	// Not parallel: it counts image decodes process-wide.
	e := newEnv(t, options{})
	_, form := get(t, e.URL+"/en/")
	captchaAt, fileAt := strings.Index(form, `name="captcha_id"`), strings.Index(form, `type="file" id="attachments"`)
	if captchaAt < 0 || fileAt < captchaAt {
		t.Fatalf("the upload field does not come after the captcha (captcha at %d, files at %d)", captchaAt, fileAt)
	}
	decodes := reporting.ImageDecodes()
	resp, page := attSubmit(t, e, "en", validReport("Fünf Belege"), upLargeFiles(t))
	if resp.StatusCode != http.StatusOK || !receiptPattern.MatchString(page) {
		t.Fatalf("status %d:\n%.3000s", resp.StatusCode, page)
	}
	if n := attCount(t, e, "attachments"); n != 5 {
		t.Errorf("%d attachments stored, want 5", n)
	}
	if n := reporting.ImageDecodes() - decodes; n != 1 {
		t.Errorf("%d images decoded, want 1", n)
	}
}

// Without captchas (CaptchaOff) files are taken in as before.
func TestUploadsCaptchaOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{CaptchaOff: true})
	resp, page := upPost(t, e.URL+"/en/report", upFields(validReport("Ohne Captcha")), upFiles([]attFile{{Name: "a.pdf", Data: attPDF(5000)}}))
	if resp.StatusCode != http.StatusOK || !receiptPattern.MatchString(page) {
		t.Fatalf("status %d:\n%s", resp.StatusCode, page)
	}
	if n := attCount(t, e, "attachments"); n != 1 {
		t.Errorf("%d attachments stored, want 1", n)
	}
}

// The "new picture" button with files chosen and no digits typed brings
// the form back with a new captcha, everything typed and the request to
// choose the files again; nothing is stored.
func TestUploadsNewCaptchaButton(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	id, _ := upCaptcha(t, e)
	form := validReport("Neues Bild bitte")
	form.Set("captcha_id", id)
	form.Set("captcha_solution", "")
	resp, page := upPost(t, e.URL+"/en/report", upFields(form), upFiles([]attFile{{Name: "a.pdf", Data: attPDF(5000)}}),
		[]upPart{{name: "new_captcha", value: "1"}})
	if resp.StatusCode != http.StatusOK || strings.Contains(page, `id="err-captcha_solution"`) {
		t.Fatalf("status %d, want 200 without a captcha error:\n%s", resp.StatusCode, page)
	}
	if next := captchaID(t, page); next == id {
		t.Error("the same captcha again")
	}
	if !strings.Contains(page, "Neues Bild bitte") || !strings.Contains(page, "Your files have not been saved yet") {
		t.Errorf("fields lost or no request to choose the files again:\n%s", page)
	}
	upNothingStored(t, e)
}

// An image whose decoding would take more than the budget (here a 16-bit
// PNG of 4200 × 4200, below the pixel limit but 141 MB decoded) is
// refused from its header with a message next to the field, in every
// public language; nothing is stored and nothing decoded.
func TestUploadsImageBudget(t *testing.T) {
	// Not parallel: it counts image decodes process-wide.
	e := newEnv(t, options{})
	deep := upResize(t, upPNG16(t, 16, 16), 4200, 4200)
	if 4200*4200 > reporting.MaxImagePixels || 4200*4200*8 <= reporting.MaxImageMemory {
		t.Fatal("the test image must be within the pixel limit and beyond the budget")
	}
	want := map[string]string{
		"de": "Ein Foto ist zu groß, um es zu öffnen",
		"en": "A photo is too big for us to open",
		"tr": "Bir fotoğraf açılamayacak kadar büyük",
		"ar": "إحدى الصور كبيرة جدًا ولا نستطيع فتحها",
	}
	for lang, msg := range want {
		decodes := reporting.ImageDecodes()
		resp, page := attSubmit(t, e, lang, validReport("Zu viele Farben "+lang), []attFile{{Name: "deep.png", Data: deep}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d, want 422", lang, resp.StatusCode)
		}
		i := strings.Index(page, `id="err-attachments"`)
		if i < 0 || !strings.Contains(page[i:], msg) {
			t.Errorf("%s: no budget message next to the upload field:\n%s", lang, page)
		}
		if !strings.Contains(page, "Zu viele Farben "+lang) {
			t.Errorf("%s: the description is lost", lang)
		}
		if n := reporting.ImageDecodes() - decodes; n != 0 {
			t.Errorf("%s: %d images decoded", lang, n)
		}
	}
	upNothingStored(t, e)
}

// The message form of the follow-up page checks its token before any
// file: files before a live token are drained unread and nothing is
// stored; with no valid token at all the reporter is led back to the
// receipt form.
func TestUploadsFollowupTokenFirst(t *testing.T) {
	// Not parallel: it counts image decodes process-wide.
	e := newEnv(t, options{})
	admin := login(t, e)
	token, _, _ := fumsgCase(t, e, admin, validReport("Nachricht mit Belegen"))
	files := upFiles([]attFile{{Name: "a.pdf", Data: attPDF(2 << 20)}, {Name: "deep.png", Data: upPNG16(t, 64, 64)}})
	typed := "Hier die Belege."

	decodes, before := reporting.ImageDecodes(), upDiskSizes(t, e)
	resp, page := upPost(t, e.URL+"/en/followup/message", files, []upPart{{name: "token", value: token}, {name: "message", value: typed}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, ">"+typed+"</textarea>") || !strings.Contains(page, "Your files have not been saved yet") {
		t.Errorf("token after the files: status %d, want 422 with the text kept and the files asked for again:\n%s", resp.StatusCode, page)
	}
	if strings.Contains(page, `id="followup-sent"`) {
		t.Error("the message was sent although its files were refused")
	}
	if after := upDiskSizes(t, e); after != before {
		t.Errorf("database and -wal sizes %v → %v", before, after)
	}

	resp, page = upPost(t, e.URL+"/en/followup/message", []upPart{{name: "token", value: "invented"}}, files, []upPart{{name: "message", value: typed}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="followup-notice"`) || strings.Contains(page, typed) {
		t.Errorf("invented token: status %d, want the receipt form with a notice:\n%s", resp.StatusCode, page)
	}
	if n := reporting.ImageDecodes() - decodes; n != 0 {
		t.Errorf("%d images decoded", n)
	}
	upNothingStored(t, e)
	if n := attCount(t, e, "messages WHERE author = 'reporter'"); n != 0 {
		t.Errorf("%d reporter messages stored", n)
	}
}

var upCaseNoPattern = regexp.MustCompile(`<h1>[^<]*?(\d{4}-\d{4,})</h1>`)

// upFilename is the file name of a download's Content-Disposition.
func upFilename(t testing.TB, resp *http.Response) string {
	t.Helper()
	disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" {
		t.Fatalf("Content-Disposition %q (%v)", resp.Header.Get("Content-Disposition"), err)
	}
	return params["filename"]
}

// Downloads carry a name the office made, case number, index and the true
// type's extension, whatever the reporter's file was called: a PDF named
// "Beweis.bat" comes as .pdf, a PNG whose name hides ".exe" behind a
// right-to-left override as .png. The original names are shown on the
// page as text, without the override.
func TestUploadsDownloadNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	page, links := attCase(t, e, admin, "Beweise vom Amt", []attFile{{Name: "Beweis.bat", Data: attPDF(3000)}, {Name: "x\u202Egpj.exe", Data: attPNGWithText(t)}})
	if len(links) != 2 {
		t.Fatalf("%d attachments listed, want 2", len(links))
	}
	m := upCaseNoPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no case number on the case page:\n%s", page)
	}
	caseNo := m[1]
	if !strings.Contains(page, "Beweis.bat") || !strings.Contains(page, "xgpj.exe") {
		t.Errorf("the original names are not shown:\n%s", page)
	}
	if strings.ContainsRune(page, '\u202E') || strings.Contains(strings.ToLower(page), "&#x202e;") {
		t.Error("the case page still carries the right-to-left override")
	}
	for i, want := range []string{caseNo + "-1.pdf", caseNo + "-2.png"} {
		resp, _ := attDownload(t, e, admin, links[i])
		if got := upFilename(t, resp); got != want {
			t.Errorf("download %d is named %q, want %q", i+1, got, want)
		}
	}

	// The reporter's own download of a message's file is named the same way.
	token, _, caseURL := fumsgCase(t, e, admin, validReport("Brief als Datei"))
	resp, reply := fumsgReply(t, e, "en", token, "Der Brief.", []attFile{{Name: "Beweis.bat", Data: attPDF(3000)}})
	f := fumsgFilePattern.FindStringSubmatch(reply)
	if resp.StatusCode != http.StatusOK || f == nil {
		t.Fatalf("reply: status %d\n%s", resp.StatusCode, reply)
	}
	if !strings.Contains(reply, "Beweis.bat") {
		t.Error("the reporter's page does not show the file's name")
	}
	_, casePage := getAs(t, admin, caseURL)
	m = upCaseNoPattern.FindStringSubmatch(casePage)
	if m == nil {
		t.Fatal("no case number")
	}
	resp, _ = fuPost(t, e, "/en/followup/file", url.Values{"token": {token}, "file": {f[1]}})
	if got := upFilename(t, resp); got != m[1]+"-1.pdf" {
		t.Errorf("the reporter's download is named %q, want %q", got, m[1]+"-1.pdf")
	}
}
