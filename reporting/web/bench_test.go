package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// BenchmarkRenderForm measures one GET of the Arabic report form: the page
// pre-rendered at start with a new captcha ID written in, without the network.
func BenchmarkRenderForm(b *testing.B) {
	e := newEnv(b, options{})
	req := httptest.NewRequest("GET", "/ar/", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkSubmit measures one accepted report with the production
// argon2id parameters (t=3, 64 MiB): captcha check, validation, receipt
// derivation, encryption and a durable (synchronous=FULL) commit.
func BenchmarkSubmit(b *testing.B) {
	e := newEnv(b, options{Params: vault.DefaultParams})
	form := validReport(strings.Repeat("Der Vermieter hat uns abgewiesen. ", 30))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		req := solvedRequest(b, e, form)
		rec := httptest.NewRecorder()
		b.StartTimer()
		e.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !receiptPattern.MatchString(rec.Body.String()) {
			b.Fatalf("status %d, no receipt", rec.Code)
		}
	}
}

// solvedRequest fetches a form in-process and returns the POST of form
// with its captcha solved.
func solvedRequest(b *testing.B, e *env, form url.Values) *http.Request {
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/de/", nil))
	id := captchaID(b, rec.Body.String())
	form.Set("captcha_id", id)
	form.Set("captcha_solution", captchas.Solve(id))
	req := httptest.NewRequest("POST", "/de/report", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// BenchmarkSubmitParallel measures throughput of accepted reports when
// many arrive at once: the argon2id semaphore and the single writer
// connection queue them.
func BenchmarkSubmitParallel(b *testing.B) {
	e := newEnv(b, options{Params: vault.DefaultParams})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		form := validReport("Parallel eingegangen.")
		for pb.Next() {
			req := solvedRequest(b, e, form)
			rec := httptest.NewRecorder()
			e.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}
