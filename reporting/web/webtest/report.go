package webtest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

var captchaIDPattern = regexp.MustCompile(`name="captcha_id" value="([^"]+)"`)

// CaptchaID returns the captcha on a rendered form.
func CaptchaID(t testing.TB, page string) string {
	t.Helper()
	m := captchaIDPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no captcha on the page:\n%s", page)
	}
	return m[1]
}

// ValidReport is a complete, valid submission without the captcha.
func ValidReport(description string) url.Values {
	return url.Values{
		"role":          {"affected"},
		"incident_date": {"2026-03"},
		"incident_day":  {"14"},
		"municipality":  {"bochum"},
		"grounds":       {"antiziganism", "gender"},
		"area":          {"housing"},
		"description":   {description},
		"wish":          {"contact_me"},
		"contact":       {"Signal +49 170 0000000"},
		"consent":       {"yes"},
	}
}

// Submit fetches the form in lang, solves its captcha and posts the report.
func Submit(t testing.TB, e *Env, lang string, form url.Values) (*http.Response, string) {
	t.Helper()
	_, page := Get(t, e.URL+"/"+lang+"/")
	id := CaptchaID(t, page)
	form.Set("captcha_id", id)
	form.Set("captcha_solution", Captchas.Solve(id))
	return Post(t, e.URL+"/"+lang+"/report", form)
}

// ReceiptPattern finds the receipt code on the receipt page.
var ReceiptPattern = regexp.MustCompile(`id="receipt"[^>]*>(\d{4} \d{4} \d{4} \d{4})<`)

// SubmissionPattern finds the form's one-time submission token.
var SubmissionPattern = regexp.MustCompile(`name="submission" value="([A-Z2-7]+)"`)

// SubToken returns the submission token of a rendered report form.
func SubToken(t testing.TB, page string) string {
	t.Helper()
	m := SubmissionPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no submission token on the form:\n%s", page)
	}
	return m[1]
}

// SubForm fetches the form in lang and fills in a valid report with its
// token and, with the captcha on, the solved captcha, as a browser would
// send it (and send it again on a reload).
func SubForm(t testing.TB, e *Env, lang, description string) url.Values {
	t.Helper()
	_, page := Get(t, e.URL+"/"+lang+"/")
	form := ValidReport(description)
	form.Set("submission", SubToken(t, page))
	if m := captchaIDPattern.FindStringSubmatch(page); m != nil {
		form.Set("captcha_id", m[1])
		form.Set("captcha_solution", Captchas.Solve(m[1]))
	}
	return form
}

// SubReceipt returns the receipt code of a receipt page, or "".
func SubReceipt(page string) string {
	if m := ReceiptPattern.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return ""
}

// CountReports counts stored reports straight from the database.
func CountReports(t testing.TB, e *Env) int {
	t.Helper()
	_, n, err := e.DB.Reports(t.Context(), TeamIDs(t, e), reporting.Page{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TeamIDs lists the IDs of every team, straight from the database.
func TeamIDs(t testing.TB, e *Env) []int64 {
	t.Helper()
	teams, err := e.DB.Teams(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, team := range teams {
		ids = append(ids, team.ID)
	}
	return ids
}

// AttFile is a file to upload with the report form.
type AttFile struct {
	Name string
	Data []byte
}

// AttBody builds a multipart/form-data body as a browser sends the form:
// the fields, then the files in the "attachments" field.
func AttBody(t testing.TB, form url.Values, files []AttFile) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		w, err := mw.CreateFormFile("attachments", f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.Data)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// AttSubmit fetches the form, solves its captcha and posts the report
// with files, as multipart/form-data.
func AttSubmit(t testing.TB, e *Env, lang string, form url.Values, files []AttFile) (*http.Response, string) {
	t.Helper()
	_, page := Get(t, e.URL+"/"+lang+"/")
	if !strings.Contains(page, `enctype="multipart/form-data"`) || !strings.Contains(page, `type="file" id="attachments" name="attachments" multiple`) {
		t.Fatalf("the form has no multipart upload field:\n%s", page)
	}
	id := CaptchaID(t, page)
	form.Set("captcha_id", id)
	form.Set("captcha_solution", Captchas.Solve(id))
	body, ct := AttBody(t, form, files)
	resp, err := Client.Post(e.URL+"/"+lang+"/report", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, ReadBody(t, resp)
}

// AttJPEGWithGPS builds a JPEG whose APP1 segment carries EXIF with a
// GPS IFD: latitude and a map datum with a recognizable text.
func AttJPEGWithGPS(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for y := range 24 {
		for x := range 32 {
			img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 10), 128, 255})
		}
	}
	var plain bytes.Buffer
	if err := jpeg.Encode(&plain, img, nil); err != nil {
		t.Fatal(err)
	}
	// TIFF, big-endian. IFD0 at 8 with one entry: GPSInfo (0x8825) → 26.
	be := binary.BigEndian
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
	tiff = be.AppendUint16(tiff, 1)
	tiff = append(tiff, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26)
	tiff = be.AppendUint32(tiff, 0) // no next IFD
	// GPS IFD at 26: 3 entries (2+36+4 = 42 bytes), data from 68.
	tiff = be.AppendUint16(tiff, 3)
	tiff = append(tiff, 0, 1, 0, 2, 0, 0, 0, 2, 'N', 0, 0, 0) // GPSLatitudeRef "N"
	tiff = append(tiff, 0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 68)  // GPSLatitude, 3 rationals at 68
	datum := "GPS-SECRET-WGS84\x00"
	tiff = append(tiff, 0, 0x12, 0, 2, 0, 0, 0, byte(len(datum)), 0, 0, 0, 92) // GPSMapDatum at 92
	tiff = be.AppendUint32(tiff, 0)
	for _, r := range [][2]uint32{{51, 1}, {28, 1}, {4242, 100}} {
		tiff = be.AppendUint32(tiff, r[0])
		tiff = be.AppendUint32(tiff, r[1])
	}
	tiff = append(tiff, datum...)
	if len(tiff) != 92+len(datum) {
		t.Fatalf("TIFF layout off: %d", len(tiff))
	}
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = be.AppendUint16(seg, uint16(len(app1)+2))
	seg = append(seg, app1...)
	b := plain.Bytes()
	out := append(append(append([]byte{}, b[:2]...), seg...), b[2:]...) // right after SOI
	// The input really carries EXIF with GPS, and still decodes.
	if !bytes.Contains(out, []byte("Exif\x00\x00MM")) || !bytes.Contains(out, []byte{0x88, 0x25, 0, 4}) || !bytes.Contains(out, []byte("GPS-SECRET")) {
		t.Fatal("test JPEG has no EXIF GPS data")
	}
	if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
		t.Fatalf("test JPEG does not decode: %v", err)
	}
	return out
}

// VoiceBox is an MP4 box.
func VoiceBox(typ string, content ...[]byte) []byte {
	body := bytes.Join(content, nil)
	return append(append(binary.BigEndian.AppendUint32(nil, uint32(8+len(body))), typ...), body...)
}
