package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// ---- helpers (lockout) ----

// deviceCookie returns the device cookie a response set, or nil.
func deviceCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "meldestelle_device") && c.Value != "" {
			return c
		}
	}
	return nil
}

// loginFrom posts the login form with the given cookies (a device cookie,
// or none).
func loginFrom(t testing.TB, e *env, name, password string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	form := url.Values{"username": {name}, "password": {password}}
	req, _ := http.NewRequest("POST", e.URL+"/office/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// sharedLock reads a user's shared login counter of unknown clients.
func sharedLock(t testing.TB, e *env, name string) reporting.LoginState {
	t.Helper()
	u, err := e.DB.UserByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.DB.LoginState(t.Context(), reporting.LoginBucket{UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// ---- equal answers ----

// An unknown name, a wrong password and a locked account (with the right
// password) get the same status and the same bytes, so the login form
// tells nobody which names exist or which are locked.
func TestLoginAnswersIdentical(t *testing.T) {
	t.Parallel()
	clock := newTestClock(time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, options{Now: clock.Now})
	admin := login(t, e)

	unknownResp, unknown := loginFrom(t, e, "zora", "das Passwort von zora")
	_, password := accUser(t, e, admin, "zora", "counsellor", "1")
	wrongResp, wrong := loginFrom(t, e, "zora", "falsch falsch falsch")
	for range reporting.FreeLoginAttempts {
		loginFrom(t, e, "zora", "falsch falsch falsch")
	}
	if st := sharedLock(t, e, "zora"); !clock.Now().Before(st.LockedUntil) {
		t.Fatalf("zora is not locked: %+v", st)
	}
	lockedResp, locked := loginFrom(t, e, "zora", password)

	for _, r := range []struct {
		what string
		resp *http.Response
		body string
	}{{"unknown name", unknownResp, unknown}, {"locked", lockedResp, locked}} {
		if r.resp.StatusCode != wrongResp.StatusCode || r.body != wrong {
			t.Errorf("%s: status %d and body differ from a wrong password's (%d):\n%s\n----\n%s", r.what, r.resp.StatusCode, wrongResp.StatusCode, r.body, wrong)
		}
		if deviceCookie(r.resp) != nil || sessionCookie(r.resp) != nil {
			t.Errorf("%s: a refused login set a cookie", r.what)
		}
	}
	if wrongResp.StatusCode != http.StatusUnauthorized || !strings.Contains(wrong, `value="zora"`) {
		t.Errorf("wrong password: status %d, the name typed not kept", wrongResp.StatusCode)
	}
}

// ---- a stranger cannot keep an admin out ----

// A stranger failing 50 times locks out only clients the account does not
// know: the admin's browser, which logged in before and holds its device
// cookie, gets in; a client without it is refused. The admin lifts the
// lock on the users page, which is audited, and then any client gets in.
func TestLoginStrangerCannotKeepAdminOut(t *testing.T) {
	t.Parallel()
	clock := newTestClock(time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, options{Now: clock.Now})
	resp, body := loginFrom(t, e, e.Admin, e.Pass)
	device := deviceCookie(resp)
	if resp.StatusCode != http.StatusSeeOther || device == nil {
		t.Fatalf("first login: status %d, device cookie %v:\n%s", resp.StatusCode, device, body)
	}
	if device.Path != "/office" || !device.HttpOnly || device.SameSite != http.SameSiteStrictMode || device.MaxAge < 30*24*3600 {
		t.Errorf("device cookie %+v: want Path=/office, HttpOnly, SameSite=Strict, long-lived", device)
	}
	if _, page := get(t, e.URL+"/de/"); strings.Contains(page, device.Value) {
		t.Error("the device token reached a public page")
	}

	made := &http.Cookie{Name: device.Name, Value: vault.NewToken()}
	for i := range 50 {
		var cookies []*http.Cookie
		if i%2 == 1 {
			cookies = append(cookies, made) // a made-up device token is no better than none
		}
		if resp, _ := loginFrom(t, e, e.Admin, "rate mal "+strconv.Itoa(i), cookies...); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("stranger's guess %d: status %d", i, resp.StatusCode)
		}
		clock.Advance(5 * time.Second)
	}
	if st := sharedLock(t, e, e.Admin); !clock.Now().Before(st.LockedUntil) {
		t.Fatalf("after 50 failures the shared counter is not locked: %+v", st)
	}
	if resp, _ := loginFrom(t, e, e.Admin, e.Pass); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a client without the device cookie: status %d, want 401 while locked", resp.StatusCode)
	}
	resp, body = loginFrom(t, e, e.Admin, e.Pass, device)
	session := sessionCookie(resp)
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("the admin's own browser is locked out: status %d:\n%s", resp.StatusCode, body)
	}

	_, users := getAs(t, session, e.URL+"/office/users")
	id := userID(t, e, session, e.Admin)
	action := "/office/users/" + strconv.FormatInt(id, 10) + "/unlock"
	if !strings.Contains(users, `action="`+action+`"`) {
		t.Fatalf("no unlock button for the locked admin on the users page:\n%s", users)
	}
	if resp, _ := postAs(t, session, e.URL+action, url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlock: status %d", resp.StatusCode)
	}
	if st := sharedLock(t, e, e.Admin); st.Failures != 0 || !st.LockedUntil.IsZero() {
		t.Errorf("after unlock: %+v", st)
	}
	entries, _, err := e.DB.AuditEntries(t.Context(), "", reporting.Page{Limit: 5})
	if err != nil || entries[0].Action != reporting.AuditLoginUnlock || entries[0].UserName != e.Admin || entries[0].Detail != "user="+strconv.FormatInt(id, 10) {
		t.Errorf("newest audit entry %+v, %v; want the admin's unlock", entries[0], err)
	}
	if resp, _ := loginFrom(t, e, e.Admin, e.Pass); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a new client after unlock: status %d", resp.StatusCode)
	}
}

// Twelve wrong passwords on the two-factor page lock the counter like
// twelve wrong logins: five are checked, the rest refused unchecked, and
// then the right password is refused as well.
func TestTOTPPagePasswordThrottled(t *testing.T) {
	t.Parallel()
	clock := newTestClock(time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, options{Now: clock.Now})
	admin := login(t, e)
	if resp, _ := getAs(t, admin, e.URL+"/office/account/totp"); resp.StatusCode != http.StatusOK {
		t.Fatalf("two-factor page: status %d", resp.StatusCode)
	}
	for range 12 {
		if resp, _ := postAs(t, admin, e.URL+"/office/account/totp", url.Values{"password": {"falsch falsch falsch"}, "code": {"123456"}}); resp.StatusCode == http.StatusOK {
			t.Fatal("a wrong password enabled two-factor")
		}
	}
	if st := sharedLock(t, e, e.Admin); st.Failures != reporting.FreeLoginAttempts || !clock.Now().Before(st.LockedUntil) {
		t.Errorf("after 12 wrong passwords on the two-factor page: %+v, want %d failures and locked", st, reporting.FreeLoginAttempts)
	}
	_, wrong := postAs(t, admin, e.URL+"/office/account/totp", url.Values{"password": {"falsch falsch falsch"}, "code": {"123456"}})
	_, right := postAs(t, admin, e.URL+"/office/account/totp", url.Values{"password": {e.Pass}, "code": {"123456"}})
	if right != wrong {
		t.Error("while locked, the right password gets another page than a wrong one")
	}
}

// ---- timing ----

// BenchmarkLoginAnswers times the login answers that must look alike, with
// the production argon2id parameters: an unknown name, a locked account
// (right password) and a wrong password. They should be within 10 %. The
// three run in turn within each iteration, so that a change in the
// machine's load hits all of them alike, each iteration in another
// order; each is reported as ms/<case>.
func BenchmarkLoginAnswers(b *testing.B) {
	clock := newTestClock(time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC))
	e := newEnv(b, options{Now: clock.Now, Params: vault.DefaultParams})
	admin := login(b, e)
	_, lockedPass := accUser(b, e, admin, "lotte", "counsellor", "1")
	accUser(b, e, admin, "wanda", "counsellor", "1")
	for range reporting.FreeLoginAttempts {
		loginFrom(b, e, "lotte", "falsch falsch falsch")
	}
	wanda, err := e.DB.UserByName(b.Context(), "wanda")
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct{ name, user, password string }{
		{"unknown", "niemand", "falsch falsch falsch"},
		{"locked", "lotte", lockedPass},
		{"wrong", "wanda", "falsch falsch falsch"},
	}
	total := make([]time.Duration, len(cases))
	n := 0
	for b.Loop() {
		// Keep wanda below the lock, so that each of her attempts is checked.
		if err := e.DB.ClearLoginFailures(b.Context(), reporting.LoginBucket{UserID: wanda.ID}, clock.Now()); err != nil {
			b.Fatal(err)
		}
		// Each iteration starts with another case, so that none always
		// runs first or last.
		for j := range cases {
			i := (n + j) % len(cases)
			c := cases[i]
			start := time.Now()
			if resp, _ := loginFrom(b, e, c.user, c.password); resp.StatusCode != http.StatusUnauthorized {
				b.Fatalf("%s: status %d", c.name, resp.StatusCode)
			}
			total[i] += time.Since(start)
		}
		n++
	}
	for i, c := range cases {
		b.ReportMetric(float64(total[i].Microseconds())/1000/float64(n), "ms/"+c.name)
	}
}
