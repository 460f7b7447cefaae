package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting/web"
)

// emptyForms are the pages a GET serves pre-rendered: the path after the
// language and the page's template.
var emptyForms = []struct{ path, page string }{{"/", "form"}, {"/followup", "followup"}}

// formToken returns the submission token of a page, "" if it has none.
func formToken(page string) string {
	if m := submissionPattern.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return ""
}

// The empty report form and receipt form, served from the parts rendered
// at start, are byte for byte what their template renders for the same
// captcha ID, in every language, and are sent with the same status and
// headers: the two cannot drift apart.
func TestEmptyFormsMatchTheirTemplate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	srv := e.Handler.(*web.Server)
	for _, f := range emptyForms {
		for _, l := range i18n.Languages {
			resp, body := get(t, e.URL+"/"+l.Code+f.path)
			id := captchaID(t, body)
			pre, tmpl, ok := srv.EmptyFormPages(f.page, l.Code, id, formToken(body))
			if !ok {
				t.Fatalf("%s %s: the pre-rendered page refused captcha ID %q", l.Code, f.page, id)
			}
			if body != tmpl.Body.String() {
				t.Errorf("GET /%s%s differs from its template render:\n%s", l.Code, f.path, firstDifference(body, tmpl.Body.String()))
			}
			if !bytes.Equal(pre.Body.Bytes(), tmpl.Body.Bytes()) {
				t.Errorf("%s %s: pre-rendered page differs from its template render:\n%s", l.Code, f.page, firstDifference(pre.Body.String(), tmpl.Body.String()))
			}
			if n := strings.Count(body, id); n < 3 {
				t.Errorf("%s %s: captcha ID %d times on the page, want picture, audio and hidden field", l.Code, f.page, n)
			}
			for _, h := range []string{"Content-Type", "Cache-Control"} {
				if got, want := resp.Header.Get(h), tmpl.Header().Get(h); got != want || want == "" {
					t.Errorf("%s %s: %s %q, the template render sends %q", l.Code, f.page, h, got, want)
				}
			}
			if resp.StatusCode != tmpl.Code || pre.Code != tmpl.Code {
				t.Errorf("%s %s: status %d (pre-rendered %d), template %d", l.Code, f.page, resp.StatusCode, pre.Code, tmpl.Code)
			}
			if resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s %s: no security headers on the pre-rendered page", l.Code, f.page)
			}
		}
	}
}

// An ID that is not purely alphanumeric might need escaping somewhere on
// the page: the pre-rendered page refuses it, and the template, which
// escapes it, answers instead.
func TestPrerenderedFormRefusesIDsThatNeedEscaping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	srv := e.Handler.(*web.Server)
	for _, id := range []string{`a"><script>x</script>`, "ab cd", "äb", "a/b", "a&b"} {
		for _, f := range emptyForms {
			_, tmpl, ok := srv.EmptyFormPages(f.page, "de", id, "")
			if ok {
				t.Errorf("%s: pre-rendered page took captcha ID %q", f.page, id)
			}
			if strings.Contains(tmpl.Body.String(), "<script>") || tmpl.Code != http.StatusOK {
				t.Errorf("%s: captcha ID %q: status %d, or it reached the page unescaped", f.page, id, tmpl.Code)
			}
		}
	}
}

// Every GET of the empty form gets its own captcha, and each of them
// solves a report: the pre-rendered page does not hand out one captcha
// twice, nor one the server does not know.
func TestEmptyFormCaptchasDifferAndVerify(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, first := get(t, e.URL+"/de/")
	_, second := get(t, e.URL+"/de/")
	ids := []string{captchaID(t, first), captchaID(t, second)}
	if ids[0] == ids[1] {
		t.Fatalf("two GETs got the same captcha %q", ids[0])
	}
	// The later one first: an earlier form stays valid while its
	// captcha lives.
	for _, id := range []string{ids[1], ids[0]} {
		form := validReport("Der Vermieter hat uns abgewiesen.")
		form.Set("captcha_id", id)
		form.Set("captcha_solution", captchas.Solve(id))
		resp, body := post(t, e.URL+"/de/report", form)
		if resp.StatusCode != http.StatusOK || !receiptPattern.MatchString(body) {
			t.Errorf("captcha %s: status %d, no receipt", id, resp.StatusCode)
		}
	}
	// The receipt form's captchas as well.
	_, a := get(t, e.URL+"/de/followup")
	_, b := get(t, e.URL+"/de/followup")
	if ida, idb := captchaID(t, a), captchaID(t, b); ida == idb || captchas.Solve(ida) == "" || captchas.Solve(idb) == "" {
		t.Errorf("receipt form captchas %q and %q: not two known captchas", ida, idb)
	}
}

// With the captcha off the pre-rendered form has none, and is still the
// template's page.
func TestEmptyFormWithoutCaptcha(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{CaptchaOff: true})
	srv := e.Handler.(*web.Server)
	for _, f := range emptyForms {
		_, body := get(t, e.URL+"/en"+f.path)
		if strings.Contains(body, "captcha") {
			t.Errorf("%s: captcha on the page with the captcha off", f.page)
		}
		pre, tmpl, ok := srv.EmptyFormPages(f.page, "en", "", formToken(body))
		if !ok || body != tmpl.Body.String() || pre.Body.String() != body {
			t.Errorf("%s: GET, pre-rendered and template pages differ (pre-rendered used: %t):\n%s", f.page, ok, firstDifference(body, tmpl.Body.String()))
		}
	}
}

// The empty form's GET does not run the template: the template render
// takes thousands of allocations, the pre-rendered page a few dozen. (A
// count, not a time, so the test holds on a busy machine.)
func TestEmptyFormSkipsTheTemplate(t *testing.T) {
	// Not parallel: testing.AllocsPerRun counts the whole process.
	e := newEnv(t, options{})
	for _, f := range emptyForms {
		req := httptest.NewRequest("GET", "/de"+f.path, nil)
		allocs := testing.AllocsPerRun(20, func() {
			rec := httptest.NewRecorder()
			e.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: status %d", req.URL.Path, rec.Code)
			}
		})
		if allocs > 300 {
			t.Errorf("GET /de%s: %.0f allocations per request; the template seems to run", f.path, allocs)
		}
	}
}

// firstDifference shows where two pages part.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-80)
	return "…" + a[from:min(len(a), i+80)] + "…\nvs\n…" + b[from:min(len(b), i+80)] + "…"
}
