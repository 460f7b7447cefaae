package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// fuzzBoundary is the boundary of every fuzzed body: the fuzzer mutates
// the body, not its header.
const fuzzBoundary = "meldestelle-fuzz-boundary"

// fuzzBody builds a multipart body with the fuzz boundary.
func fuzzBody(f *testing.F, parts [][3]string) []byte {
	f.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary(fuzzBoundary); err != nil {
		f.Fatal(err)
	}
	for _, p := range parts { // name, file name ("" for a text field), content
		var w io.Writer
		var err error
		if p[1] == "" {
			w, err = mw.CreateFormField(p[0])
		} else {
			w, err = mw.CreateFormFile(p[0], p[1])
		}
		if err != nil {
			f.Fatal(err)
		}
		io.WriteString(w, p[2])
	}
	mw.Close()
	return buf.Bytes()
}

// FuzzReadUploads feeds arbitrary multipart bodies to the reader of the
// report and follow-up forms, with a gate that passes only a captcha ID
// "ok" and a fake add that reads each file to the end. Whatever the
// body: the gate is asked at most once; add is never called unless the
// gate passed, nor before it was asked; add gets at most MaxAttachments
// files; the text fields stay within MaxPublicBody.
func FuzzReadUploads(f *testing.F) {
	pdf := "%PDF-1.4\n% test\n%%EOF\n"
	f.Add(fuzzBody(f, [][3]string{{"captcha_id", "", "ok"}, {"captcha_solution", "", "123456"}, {"description", "", "Text"},
		{"attachments", "a.pdf", pdf}, {"attachments", "b.png", "\x89PNG\r\n\x1a\n"}}))
	f.Add(fuzzBody(f, [][3]string{{"attachments", "a.pdf", pdf}, {"captcha_id", "", "ok"}}))
	f.Add(fuzzBody(f, [][3]string{{"captcha_id", "", "wrong"}, {"attachments", "a.pdf", pdf}, {"role", "", "affected"}}))
	f.Add(fuzzBody(f, [][3]string{{"captcha_id", "", "ok"}, {"attachments", "", ""}, {"attachments", "1.pdf", pdf},
		{"attachments", "2.pdf", pdf}, {"attachments", "3.pdf", pdf}, {"attachments", "4.pdf", pdf}, {"attachments", "5.pdf", pdf},
		{"attachments", "6.pdf", pdf}, {"other", "x.txt", "file in a text field"}}))
	f.Add(fuzzBody(f, [][3]string{{"token", "", "ok"}, {"message", "", strings.Repeat("ä", 1000)}, {"attachments", "x\u202Egpj.exe", "X bad"}}))
	f.Fuzz(func(t *testing.T, body []byte) {
		gin.SetMode(gin.TestMode)
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("POST", "/en/report", bytes.NewReader(body))
		c.Request.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		asked, passed, added := 0, false, 0
		pass := func(pf url.Values) bool {
			asked++
			passed = pf.Get("captcha_id") == "ok" || pf.Get("token") == "ok"
			return passed
		}
		add := func(pf url.Values, name string, r io.Reader) (reporting.Attachment, error) {
			if asked != 1 || !passed {
				t.Fatalf("add called with the gate asked %d times, passed %v", asked, passed)
			}
			added++
			b, err := io.ReadAll(r)
			if err != nil {
				return reporting.Attachment{}, err
			}
			if bytes.HasPrefix(b, []byte("X")) { // a refused type
				return reporting.Attachment{}, reporting.Errorf(reporting.EInvalid, "error.attachments.type")
			}
			return reporting.Attachment{ID: name}, nil
		}
		pf, up, err := readUploads(c, pass, add)
		if asked > 1 {
			t.Fatalf("gate asked %d times", asked)
		}
		if added > reporting.MaxAttachments || len(up.files) > reporting.MaxAttachments {
			t.Fatalf("%d files handed to add, %d taken", added, len(up.files))
		}
		if !passed && (added > 0 || len(up.files) > 0) {
			t.Fatal("files taken without the gate")
		}
		if up.refused > 0 && passed {
			t.Fatal("files refused although the gate passed")
		}
		if err != nil {
			return
		}
		size := 0
		for k, vs := range pf {
			for _, v := range vs {
				size += len(k) + len(v)
			}
		}
		if size > MaxPublicBody {
			t.Fatalf("%d bytes of text fields kept", size)
		}
	})
}
