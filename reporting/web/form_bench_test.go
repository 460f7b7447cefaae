package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkRenderFormWithErrors measures the form sent back with errors:
// a url-encoded POST without a description and with a wrong captcha,
// answered 422 through the template (no argon2id runs).
func BenchmarkRenderFormWithErrors(b *testing.B) {
	e := newEnv(b, options{})
	body := url.Values{"contact": {"x"}, "captcha_id": {"nope"}, "captcha_solution": {"1"}}.Encode()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		req := httptest.NewRequest("POST", "/de/report", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnprocessableEntity {
			b.Fatalf("status %d", rec.Code)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "page-bytes")
}

// BenchmarkFormPageSize reports the size of the empty form in German.
func BenchmarkFormPageSize(b *testing.B) {
	e := newEnv(b, options{})
	var size int
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/de/", nil))
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "page-bytes")
}
