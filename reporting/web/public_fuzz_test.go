package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dchest/captcha"
)

// fuzzRoutes are the public POST routes that take a url-encoded body.
// (The multipart reader has fuzz targets of its own.)
var fuzzRoutes = []string{
	"/de/report", "/ar/report", "/de/followup", "/tr/followup/view", "/de/followup/message",
	"/en/followup/file", "/de/followup/withdraw", "/de/followup/withdraw/confirm",
}

// FuzzPublicPost sends arbitrary url-encoded bodies to the public forms,
// with the captcha unsolved or, when solve is set, solved by a fresh
// captcha added to the body (so that the fields behind the captcha are
// reached too). However broken the body, the answer is never a server
// error, never sets a cookie, never shows markup that came in the body,
// and a receipt comes only with a solved captcha.
func FuzzPublicPost(f *testing.F) {
	e := newEnv(f, options{})
	valid := validReport("Der Vermieter hat uns abgewiesen.").Encode()
	f.Add(uint8(0), valid, true)
	f.Add(uint8(0), valid, false)
	f.Add(uint8(1), "role=affected&grounds=racism&grounds=%ZZ&description=<script>alert(1)</script>", true)
	f.Add(uint8(2), "receipt=1234+5678+9012+3456", true)
	f.Add(uint8(2), "receipt=%00%ff&new_captcha=1", false)
	f.Add(uint8(3), "token=abc", false)
	f.Add(uint8(4), "token=&message=hallo", false)
	f.Add(uint8(5), "token=x&file=-1", false)
	f.Add(uint8(7), "token=x;y&&&==", false)
	f.Add(uint8(0), "captcha_id=a&captcha_id=b&captcha_solution=&captcha_solution=1&new_captcha=", false)
	f.Fuzz(func(t *testing.T, route uint8, body string, solve bool) {
		path := fuzzRoutes[int(route)%len(fuzzRoutes)]
		if solve {
			id := captcha.New()
			body += "&captcha_id=" + id + "&captcha_solution=" + captchas.Solve(id)
		}
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: status %d", path, body, rec.Code)
		}
		if c := rec.Header().Values("Set-Cookie"); len(c) > 0 {
			t.Fatalf("POST %s: a public answer set a cookie: %v", path, c)
		}
		page := rec.Body.Bytes()
		if bytes.Contains(bytes.ToLower(page), []byte("<script")) {
			t.Fatalf("POST %s %q: the page has a <script>", path, body)
		}
		if receiptPattern.Match(page) && !(solve && strings.HasSuffix(path, "/report") && rec.Code == http.StatusOK) {
			t.Fatalf("POST %s %q (solved: %t): a receipt, status %d", path, body, solve, rec.Code)
		}
	})
}
