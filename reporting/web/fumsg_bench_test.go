package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// BenchmarkFollowupLogin measures one follow-up login with the production
// argon2id parameters (vault.DefaultParams): captcha check, receipt
// derivation, lookup, unwrapping the report's key and rendering the
// report page, in-process without the network. Fetching the receipt form
// and solving its captcha are not timed.
func BenchmarkFollowupLogin(b *testing.B) {
	e := newEnv(b, options{Params: vault.DefaultParams})
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, solvedRequest(b, e, validReport("Eine Meldung für den Benchmark.")))
	m := fuReceiptPattern.FindStringSubmatch(rec.Body.String())
	if rec.Code != http.StatusOK || m == nil {
		b.Fatalf("submit: status %d, no receipt", rec.Code)
	}
	receipt := m[1]
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/de/followup", nil))
		id := captchaID(b, rec.Body.String())
		form := url.Values{"receipt": {receipt}, "captcha_id": {id}, "captcha_solution": {captchas.Solve(id)}}
		req := httptest.NewRequest("POST", "/de/followup", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec = httptest.NewRecorder()
		b.StartTimer()
		e.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !fuTokenPattern.MatchString(rec.Body.String()) {
			b.Fatalf("login: status %d, no token", rec.Code)
		}
	}
}
