package webtest

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

// FuReceiptPattern finds the receipt code on the receipt page, as shown
// (with its spaces).
var FuReceiptPattern = regexp.MustCompile(`id="receipt" class="receipt"[^>]*>([0-9 ]+)</p>`)

// FuTokenPattern finds the follow-up token on a report page.
var FuTokenPattern = regexp.MustCompile(`name="token" value="([^"]+)"`)

// FuSubmit submits a report and returns its receipt as shown.
func FuSubmit(t testing.TB, e *Env, form url.Values) string {
	t.Helper()
	resp, page := Submit(t, e, "en", form)
	m := FuReceiptPattern.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("submission: status %d, no receipt:\n%s", resp.StatusCode, page)
	}
	return m[1]
}

// FuNoCookie fails if a follow-up response sets a cookie.
func FuNoCookie(t testing.TB, what string, resp *http.Response) {
	t.Helper()
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("%s sets a cookie: %q", what, c)
	}
}

// FuOpen fetches the receipt form, solves its captcha and posts receipt.
func FuOpen(t testing.TB, e *Env, lang, receipt string) (*http.Response, string) {
	t.Helper()
	resp, page := Get(t, e.URL+"/"+lang+"/followup")
	FuNoCookie(t, "the receipt form", resp)
	id := CaptchaID(t, page)
	resp, page = Post(t, e.URL+"/"+lang+"/followup", url.Values{
		"receipt": {receipt}, "captcha_id": {id}, "captcha_solution": {Captchas.Solve(id)}})
	FuNoCookie(t, "opening a report", resp)
	return resp, page
}

// FuToken returns the follow-up token of a report page.
func FuToken(t testing.TB, page string) string {
	t.Helper()
	m := FuTokenPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no token on the page:\n%s", page)
	}
	return m[1]
}

// FuPost posts a follow-up form with its token.
func FuPost(t testing.TB, e *Env, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, page := Post(t, e.URL+path, form)
	FuNoCookie(t, "POST "+path, resp)
	return resp, page
}

// FumsgCase submits a report, opens it with its receipt and returns the
// follow-up token, the report page and the case URL for the admin.
func FumsgCase(t testing.TB, e *Env, admin *http.Cookie, form url.Values) (token, page, caseURL string) {
	t.Helper()
	receipt := FuSubmit(t, e, form)
	_, list := GetAs(t, admin, e.URL+"/office/cases")
	ids := CaseIDs(list)
	if len(ids) == 0 {
		t.Fatal("no case listed")
	}
	resp, page := FuOpen(t, e, "en", receipt)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("opening with the receipt: status %d\n%s", resp.StatusCode, page)
	}
	return FuToken(t, page), page, e.URL + "/office/cases/" + ids[0]
}
