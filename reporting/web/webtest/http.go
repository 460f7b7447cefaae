package webtest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Client is an HTTP client that does not follow redirects, so tests see
// them.
var Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Get fetches a page and returns the response and its body.
func Get(t testing.TB, u string) (*http.Response, string) {
	t.Helper()
	resp, err := Client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp, ReadBody(t, resp)
}

// Post submits a form and returns the response and its body.
func Post(t testing.TB, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := Client.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	return resp, ReadBody(t, resp)
}

// ReadBody reads and closes the body of resp.
func ReadBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// PostAs submits an office form with a session cookie (nil: none).
func PostAs(t testing.TB, cookie *http.Cookie, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, ReadBody(t, resp)
}

// GetAs fetches an office page with a session cookie.
func GetAs(t testing.TB, cookie *http.Cookie, u string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.AddCookie(cookie)
	resp, err := Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, ReadBody(t, resp)
}

// LoginAs logs any user in and returns the session cookie.
func LoginAs(t testing.TB, e *Env, name, password string) *http.Cookie {
	t.Helper()
	resp, body := Post(t, e.URL+"/office/login", url.Values{"username": {name}, "password": {password}})
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "meldestelle_session") && c.Value != "" {
			return c
		}
	}
	t.Fatalf("login of %s: status %d, no cookie:\n%s", name, resp.StatusCode, body)
	return nil
}

// Login logs the admin in and returns the session cookie.
func Login(t testing.TB, e *Env) *http.Cookie {
	t.Helper()
	resp, body := Post(t, e.URL+"/office/login", url.Values{"username": {e.Admin}, "password": {e.Pass}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/cases" {
		t.Fatalf("login: status %d to %q:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "meldestelle_session") {
			return c
		}
	}
	t.Fatal("login set no session cookie")
	return nil
}
