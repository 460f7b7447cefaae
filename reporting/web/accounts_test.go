package web_test

import (
	"encoding/hex"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// ---- helpers (accounts) ----

// accInvite invites someone through the form and returns the link shown.
func accInvite(t testing.TB, e *env, admin *http.Cookie, name, role string, teams ...string) string {
	t.Helper()
	resp, body := postAs(t, admin, e.URL+"/office/users/invite", url.Values{"name": {name}, "role": {role}, "teams": teams})
	m := accLinkPattern.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("invite %s: status %d, no link:\n%s", name, resp.StatusCode, body)
	}
	return m[1]
}

// accUser invites, accepts and logs in a user; it returns their cookie and
// password.
func accUser(t testing.TB, e *env, admin *http.Cookie, name, role string, teams ...string) (*http.Cookie, string) {
	t.Helper()
	password := "das Passwort von " + name
	accAccept(t, accInvite(t, e, admin, name, role, teams...), password)
	c, _ := accLogin(t, e, name, password)
	return c, password
}

// accRedirectsToLogin fails unless resp is a 303 to the login page.
func accRedirectsToLogin(t testing.TB, what string, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/login" {
		t.Errorf("%s: status %d to %q, want 303 to /office/login", what, resp.StatusCode, resp.Header.Get("Location"))
	}
}

// ---- tests ----

// The users pages are for admins only: logged out they send to the login
// page, counsellors and statisticians get 403 — also for the POSTs, which
// change nothing. Everyone logged in has an account page.
func TestAccountsPagesAccessControl(t *testing.T) {
	t.Parallel()
	// The routes decide this alone: fake services suffice.
	e := newFakeServer(t, fakeUser{"berta", "counsellor"}, fakeUser{"carla", "statistician"})
	admin := login(t, e)
	counsellor, _ := accLogin(t, e, "berta", fakePassword)
	statistician, password := loginAs(t, e, "carla", fakePassword), fakePassword
	if _, home := accLogin(t, e, "carla", password); home != "/office/statistics" {
		t.Errorf("a statistician lands on %q, want /office/statistics", home)
	}

	gets := []string{"/office/users", "/office/users/invite", "/office/account", "/office/account/password"}
	posts := []string{"/office/users/invite", "/office/users/1/disable", "/office/users/1/role", "/office/users/2/withdraw",
		"/office/account/password", "/office/account/sessions/0123456789abcdef/revoke"}
	for _, u := range gets {
		resp, _ := get(t, e.URL+u)
		accRedirectsToLogin(t, "GET "+u+" logged out", resp)
	}
	for _, u := range posts {
		resp, _ := postAs(t, nil, e.URL+u, url.Values{"role": {"counsellor"}, "name": {"mallory"}})
		accRedirectsToLogin(t, "POST "+u+" logged out", resp)
	}

	for who, c := range map[string]*http.Cookie{"counsellor": counsellor, "statistician": statistician} {
		for _, u := range []string{"/office/users", "/office/users/invite"} {
			if resp, _ := getAs(t, c, e.URL+u); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: GET %s: status %d, want 403", who, u, resp.StatusCode)
			}
		}
		for _, u := range []string{"/office/users/invite", "/office/users/1/disable", "/office/users/1/role"} {
			if resp, _ := postAs(t, c, e.URL+u, url.Values{"role": {"statistician"}, "name": {"mallory"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: POST %s: status %d, want 403", who, u, resp.StatusCode)
			}
		}
		if resp, body := getAs(t, c, e.URL+"/office/account"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="account-name">`) {
			t.Errorf("%s: account page: status %d", who, resp.StatusCode)
		}
	}

	// Nothing the refused requests asked for happened.
	resp, body := getAs(t, admin, e.URL+"/office/users")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin: users page: status %d", resp.StatusCode)
	}
	if strings.Contains(body, "mallory") || strings.Contains(body, "gesperrt") {
		t.Error("a refused POST invited or disabled someone")
	}
	login(t, e)
}

// A mistake on the invitation form brings the form back with the name,
// role and teams as typed and the reason next to the field; nobody is
// invited.
func TestAccountsInviteFormKeepsValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	resp, form := getAs(t, admin, e.URL+"/office/users/invite")
	if resp.StatusCode != http.StatusOK || !strings.Contains(form, `name="teams" value="1"`) || !strings.Contains(form, "PLANB") {
		t.Fatalf("invite form: status %d, no PLANB team to choose:\n%s", resp.StatusCode, form)
	}

	resp, body := postAs(t, admin, e.URL+"/office/users/invite", url.Values{"name": {"Statistik Sam"}, "role": {"statistician"}, "teams": {"1"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("statistician with a team: status %d", resp.StatusCode)
	}
	for _, want := range []string{`value="Statistik Sam"`, `value="statistician" checked`, `name="teams" value="1" checked`, "Statistik bekommt keine Teams"} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %q after the error", want)
		}
	}

	resp, body = postAs(t, admin, e.URL+"/office/users/invite", url.Values{"name": {e.Admin}, "role": {"admin"}, "teams": {"1"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("name taken: status %d", resp.StatusCode)
	}
	for _, want := range []string{`value="` + e.Admin + `"`, `value="admin" checked`, `name="teams" value="1" checked`, "Diesen Benutzernamen gibt es schon."} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %q after the error", want)
		}
	}
	_, users := getAs(t, admin, e.URL+"/office/users")
	if strings.Contains(users, "Statistik Sam") || strings.Count(users, `<tr id="user-`) != 1 {
		t.Error("a refused invitation created a user")
	}
}

// The whole invitation in the browser: the admin gets a link once; the
// invitee opens it, a short password brings the form back (without the
// password), a good one lets them log in and read their team's case. The
// link is dead afterwards, and never appears in the logs.
func TestAccountsInvitationFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	if resp, _ := submit(t, e, "de", validReport("Der Hausmeister ließ uns nicht hinein.")); resp.StatusCode != http.StatusOK {
		t.Fatal("submission failed")
	}
	admin := login(t, e)
	resp, body := postAs(t, admin, e.URL+"/office/users/invite", url.Values{"name": {"berta"}, "role": {"counsellor"}, "teams": {"1"}})
	m := accLinkPattern.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("invite: status %d, no link", resp.StatusCode)
	}
	link, token := m[1], m[2]
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("the page with the link may be cached")
	}
	_, users := getAs(t, admin, e.URL+"/office/users")
	if !strings.Contains(users, "berta") || !strings.Contains(users, "eingeladen") {
		t.Error("the users page does not list berta as invited")
	}

	resp, page := get(t, link)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `value="berta"`) {
		t.Fatalf("invitation page: status %d:\n%s", resp.StatusCode, page)
	}
	resp, page = post(t, link, url.Values{"password": {"kurz kurz"}, "confirm": {"kurz kurz"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Das Passwort ist zu kurz.") || !strings.Contains(page, `value="berta"`) {
		t.Fatalf("short password: status %d:\n%s", resp.StatusCode, page)
	}
	if strings.Contains(page, "kurz kurz") {
		t.Error("the password is sent back")
	}
	resp, page = post(t, link, url.Values{"password": {"bertas langes Passwort"}, "confirm": {"bertas langes Passwort?"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "stimmen nicht überein") {
		t.Fatalf("mismatch: status %d", resp.StatusCode)
	}
	accAccept(t, link, "bertas langes Passwort")
	if resp, page := get(t, e.URL+"/office/invite/accepted"); resp.StatusCode != http.StatusOK || !strings.Contains(page, `href="/office/login"`) {
		t.Errorf("accepted page: status %d", resp.StatusCode)
	}

	berta, home := accLogin(t, e, "berta", "bertas langes Passwort")
	if home != "/office/cases" {
		t.Errorf("berta lands on %q", home)
	}
	if _, list := getAs(t, berta, e.URL+"/office/cases"); !strings.Contains(list, "Der Hausmeister ließ uns nicht hinein.") {
		t.Error("berta cannot read her team's case")
	}

	for _, u := range []string{link, e.URL + "/office/invite/" + vault.NewToken(), e.URL + "/office/invite/x"} {
		if resp, _ := get(t, u); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s after use: status %d, want 404", u, resp.StatusCode)
		}
		if resp, _ := post(t, u, url.Values{"password": {"ein anderes Passwort"}, "confirm": {"ein anderes Passwort"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s after use: status %d, want 404", u, resp.StatusCode)
		}
	}
	if strings.Contains(e.FlushedLogs(), token) {
		t.Error("the invitation token is in the log")
	}
}

// Disabling a user from the users page ends their live session at once:
// their very next request is sent to the login page, and logging in again
// gets the same answer as a wrong password. An admin cannot disable
// themselves; enabling lets the user back in.
func TestAccountsDisableInBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	berta, password := accUser(t, e, admin, "berta", "counsellor", "1")
	if resp, _ := getAs(t, berta, e.URL+"/office/cases"); resp.StatusCode != http.StatusOK {
		t.Fatalf("berta's case list: status %d", resp.StatusCode)
	}

	resp, _ := postAs(t, admin, e.URL+"/office/users/2/disable", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/users?saved=1" {
		t.Fatalf("disable: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = getAs(t, berta, e.URL+"/office/cases")
	accRedirectsToLogin(t, "berta's old cookie", resp)

	resp, disabled := post(t, e.URL+"/office/login", url.Values{"username": {"berta"}, "password": {password}})
	_, wrong := post(t, e.URL+"/office/login", url.Values{"username": {"berta"}, "password": {"falsch falsch falsch"}})
	if resp.StatusCode != http.StatusUnauthorized || disabled != wrong {
		t.Errorf("disabled login: status %d; differs from a wrong password: %v", resp.StatusCode, disabled != wrong)
	}
	_, users := getAs(t, admin, e.URL+"/office/users")
	if !strings.Contains(users, "gesperrt") || !strings.Contains(users, `action="/office/users/2/enable"`) {
		t.Error("the users page does not show berta as disabled")
	}
	if strings.Contains(users, `action="/office/users/1/disable"`) {
		t.Error("the admin is offered to disable themselves")
	}

	resp, body := postAs(t, admin, e.URL+"/office/users/1/disable", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "Sie können sich nicht selbst sperren.") {
		t.Errorf("self-disable: status %d", resp.StatusCode)
	}
	if resp, _ := getAs(t, admin, e.URL+"/office/cases"); resp.StatusCode != http.StatusOK {
		t.Errorf("the admin's session after the refused self-disable: status %d", resp.StatusCode)
	}

	if resp, _ := postAs(t, admin, e.URL+"/office/users/2/enable", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("enable: status %d", resp.StatusCode)
	}
	accLogin(t, e, "berta", password)
}

// Roles from the users page: the only admin cannot step down (the reason
// shows on their row); a counsellor made statistician is logged out, comes
// back to the account page and no longer reaches the cases.
func TestAccountsRoleInBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	berta, password := accUser(t, e, admin, "berta", "counsellor", "1")

	resp, body := postAs(t, admin, e.URL+"/office/users/1/role", url.Values{"role": {"counsellor"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "letzte aktive Admin-Konto") {
		t.Errorf("last admin steps down: status %d", resp.StatusCode)
	}
	// The only admin's row offers no other role (issue 13), so the
	// refused change cannot show one either.
	if regexp.MustCompile(`(?s)id="user-1".*?</tr>`).FindString(body) == "" || strings.Contains(body, `action="/office/users/1/role"`) {
		t.Error("the refused role change offers the only admin another role")
	}

	if resp, _ := postAs(t, admin, e.URL+"/office/users/2/role", url.Values{"role": {"statistician"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("role change: status %d", resp.StatusCode)
	}
	resp, _ = getAs(t, berta, e.URL+"/office/cases")
	accRedirectsToLogin(t, "berta's cookie after the role change", resp)
	berta, home := accLogin(t, e, "berta", password)
	if home != "/office/statistics" {
		t.Errorf("the statistician lands on %q", home)
	}
	if resp, _ := getAs(t, berta, e.URL+"/office/cases"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the statistician's case list: status %d, want 403", resp.StatusCode)
	}
	_, users := getAs(t, admin, e.URL+"/office/users")
	if !regexp.MustCompile(`(?s)id="user-2".*?<td>Statistik</td>\s*<td><span class="hint">keine</span></td>`).MatchString(users) {
		t.Error("the users page does not show berta as a statistician without teams")
	}
}

// Changing one's password: mistakes bring the form back (no password in
// it); success keeps this session and access to the cases, ends the other
// session, and only the new password logs in.
func TestAccountsPasswordInBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	if resp, _ := submit(t, e, "de", validReport("Im Bus beschimpft.")); resp.StatusCode != http.StatusOK {
		t.Fatal("submission failed")
	}
	c1 := login(t, e)
	c2 := login(t, e)
	if resp, page := getAs(t, c1, e.URL+"/office/account/password"); resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="old"`) {
		t.Fatalf("password form: status %d", resp.StatusCode)
	}
	const newPassword = "ein ganz neues langes Passwort"
	for _, tc := range []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"old": {"falsch falsch falsch"}, "new": {newPassword}, "confirm": {newPassword}}, "Das bisherige Passwort stimmt nicht."},
		{url.Values{"old": {e.Pass}, "new": {"zu kurz"}, "confirm": {"zu kurz"}}, "Das Passwort ist zu kurz."},
		{url.Values{"old": {e.Pass}, "new": {newPassword}, "confirm": {"etwas anderes"}}, "stimmen nicht überein"},
	} {
		resp, page := postAs(t, c1, e.URL+"/office/account/password", tc.form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, tc.msg) {
			t.Errorf("%v: status %d, want 422 with %q", tc.form, resp.StatusCode, tc.msg)
		}
		for _, v := range tc.form {
			if strings.Contains(page, `value="`+v[0]+`"`) {
				t.Errorf("the password %q is sent back", v[0])
			}
		}
	}

	resp, _ := postAs(t, c1, e.URL+"/office/account/password", url.Values{"old": {e.Pass}, "new": {newPassword}, "confirm": {newPassword}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/account?done=password" {
		t.Fatalf("change: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := getAs(t, c1, e.URL+"/office/account?done=password"); !strings.Contains(page, "Ihr Passwort ist geändert.") {
		t.Error("no confirmation on the account page")
	}
	if _, list := getAs(t, c1, e.URL+"/office/cases"); !strings.Contains(list, "Im Bus beschimpft.") {
		t.Error("the session lost access to the case")
	}
	resp, _ = getAs(t, c2, e.URL+"/office/cases")
	accRedirectsToLogin(t, "the other session", resp)
	if resp, _ := post(t, e.URL+"/office/login", url.Values{"username": {e.Admin}, "password": {e.Pass}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old password: status %d, want 401", resp.StatusCode)
	}
	e.Pass = newPassword
	c3 := login(t, e)
	if _, list := getAs(t, c3, e.URL+"/office/cases"); !strings.Contains(list, "Im Bus beschimpft.") {
		t.Error("with the new password the case does not open")
	}
}

var accRevokePattern = regexp.MustCompile(`action="/office/account/sessions/([0-9a-f]{16})/revoke"`)

// The account page shows name, role, teams, the links to the password and
// two-factor pages and the user's sessions, named by a short ID that is
// neither the cookie nor its hash. Ending the other session there refuses
// its next request; the current one has a logout instead.
func TestAccountsAccountPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c1 := login(t, e)
	c2 := login(t, e)
	resp, page := getAs(t, c1, e.URL+"/office/account")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("account page: status %d", resp.StatusCode)
	}
	for _, want := range []string{`id="account-name">anna<`, "<dd>Admin</dd>", "<dd>PLANB</dd>", `href="/office/account/password"`, `href="/office/account/totp"`, `action="/office/logout"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the account page lacks %q", want)
		}
	}
	for _, c := range []*http.Cookie{c1, c2} {
		if strings.Contains(page, c.Value) || strings.Contains(page, hex.EncodeToString(vault.HashToken(c.Value))) {
			t.Error("the page shows a session token or its full hash")
		}
	}
	ids := accRevokePattern.FindAllStringSubmatch(page, -1)
	if len(ids) != 1 || strings.Count(page, `<tr id="session-`) != 2 {
		t.Fatalf("want two sessions, one revocable; found %d revoke buttons", len(ids))
	}
	// Only c2's session is offered: it is the one that is not current.
	if !strings.HasPrefix(hex.EncodeToString(vault.HashToken(c2.Value)), ids[0][1]) {
		t.Error("the revoke button is not for the other session")
	}

	resp, _ = postAs(t, c1, e.URL+"/office/account/sessions/"+ids[0][1]+"/revoke", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/account?done=revoked" {
		t.Fatalf("revoke: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = getAs(t, c2, e.URL+"/office/cases")
	accRedirectsToLogin(t, "the revoked session", resp)
	resp, page = getAs(t, c1, e.URL+"/office/account?done=revoked")
	if resp.StatusCode != http.StatusOK || strings.Count(page, `<tr id="session-`) != 1 || !strings.Contains(page, "Die Sitzung ist beendet.") {
		t.Errorf("after revoking: status %d", resp.StatusCode)
	}
	// Revoking the current session is refused; an unknown one is 404.
	own := hex.EncodeToString(vault.HashToken(c1.Value))[:16]
	if resp, _ := postAs(t, c1, e.URL+"/office/account/sessions/"+own+"/revoke", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("revoke the current session: status %d, want 400", resp.StatusCode)
	}
	if resp, _ := postAs(t, c1, e.URL+"/office/account/sessions/0123456789abcdef/revoke", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("revoke an unknown session: status %d, want 404", resp.StatusCode)
	}
}

// After five wrong passwords the right one is refused too, with exactly
// the page a wrong password gets.
func TestAccountsLoginSlowdownInBrowser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	var wrong string
	for range 5 {
		var resp *http.Response
		resp, wrong = post(t, e.URL+"/office/login", url.Values{"username": {e.Admin}, "password": {"falsch falsch falsch"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: status %d", resp.StatusCode)
		}
	}
	resp, right := post(t, e.URL+"/office/login", url.Values{"username": {e.Admin}, "password": {e.Pass}})
	if resp.StatusCode != http.StatusUnauthorized || right != wrong {
		t.Errorf("right password while locked: status %d, same page as a wrong one: %v", resp.StatusCode, right == wrong)
	}
	if !strings.Contains(html.UnescapeString(right), "Benutzername oder Passwort ist falsch.") {
		t.Error("the locked answer is not the wrong-password message")
	}
}
