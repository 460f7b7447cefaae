package web_test

import (
	"database/sql"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/anchortest"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

const userPassword = "noch ein langes Passwort"

// addTeamUser creates an office user with the same construction as
// Office.newUser (salt, verifier and key pair from the password) and
// stores it directly in the database: creating users is the accounts
// work's business, not the teams'. It returns the user's ID.
func addTeamUser(t *testing.T, e *env, name, role string) int64 {
	t.Helper()
	ctx := t.Context()
	salt := vault.NewSalt()
	creds, err := vault.NewKDF(0).Password(ctx, userPassword, salt, testParams)
	if err != nil {
		t.Fatal(err)
	}
	pair := vault.NewKeyPair()
	wrapped := creds.KEK.WrapKeyPair(pair, vault.UserKeyAD("user:"+hex.EncodeToString(salt)))
	conn, err := sql.Open("sqlite3", "file:"+e.DB.Path()+"?_foreign_keys=on&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pub := pair.Public()
	res, err := conn.ExecContext(ctx, `INSERT INTO users (name, role, salt, kdf_params, verifier_hash, public_key, private_key_wrapped)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, name, role, salt, testParams.String(), creds.Verifier, pub[:], wrapped)
	if err != nil {
		t.Fatalf("insert user %s: %v", name, err)
	}
	anchortest.SignRows(t, conn, e.Anchor)
	id, _ := res.LastInsertId()
	return id
}

var teamLocation = regexp.MustCompile(`^/office/teams/(\d+)$`)

// createTeamAs creates a team through the form and returns its page's path.
func createTeamAs(t *testing.T, e *env, admin *http.Cookie, name string, munis ...string) string {
	t.Helper()
	resp, body := postAs(t, admin, e.URL+"/office/teams", url.Values{"name": {name}, "municipalities": munis})
	if resp.StatusCode != http.StatusSeeOther || !teamLocation.MatchString(resp.Header.Get("Location")) {
		t.Fatalf("create team %s: status %d to %q:\n%s", name, resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return resp.Header.Get("Location")
}

// addMemberAs adds a user to a team through the form.
func addMemberAs(t *testing.T, e *env, admin *http.Cookie, teamPath string, userID int64) {
	t.Helper()
	resp, body := postAs(t, admin, e.URL+teamPath+"/members", url.Values{"user": {itoa(userID)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add user %d to %s: status %d:\n%s", userID, teamPath, resp.StatusCode, body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// caseLinks returns the case pages linked from a case list.
func caseLinks(page string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`href="(/office/cases/[0-9a-f-]{36})"`).FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// reportFrom is a valid submission from municipality m.
func reportFrom(m, description string) url.Values {
	f := validReport(description)
	f.Set("municipality", m)
	return f
}

// The team pages are for admins: counsellors and statisticians get 403,
// whoever is logged out is sent to the login page, and a refused POST
// changes nothing.
func TestTeamPagesAreForAdmins(t *testing.T) {
	t.Parallel()
	// The routes decide this alone: fake services suffice.
	e := newFakeServer(t, fakeUser{"clara", reporting.RoleCounsellor}, fakeUser{"stella", reporting.RoleStatistician})
	admin := login(t, e)
	if resp, body := getAs(t, admin, e.URL+"/office/teams"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "PLANB") {
		t.Fatalf("admin: status %d", resp.StatusCode)
	}
	if resp, _ := getAs(t, admin, e.URL+"/office/teams/1"); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin, team page: status %d", resp.StatusCode)
	}

	gets := []string{"/office/teams", "/office/teams/1"}
	posts := map[string]url.Values{
		"/office/teams":                    {"name": {"Eigenes Team"}, "municipalities": {"herne"}},
		"/office/teams/1":                  {"name": {"Umbenannt"}},
		"/office/teams/1/members":          {"user": {"2"}},
		"/office/teams/1/members/1/remove": {},
	}
	for _, who := range []string{"clara", "stella"} {
		c := loginAs(t, e, who, fakePassword)
		for _, u := range gets {
			if resp, _ := getAs(t, c, e.URL+u); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s GET %s: status %d, want 403", who, u, resp.StatusCode)
			}
		}
		for u, form := range posts {
			if resp, _ := postAs(t, c, e.URL+u, form); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST %s: status %d, want 403", who, u, resp.StatusCode)
			}
		}
	}
	for _, u := range gets {
		if resp, _ := get(t, e.URL+u); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/login" {
			t.Errorf("logged out GET %s: %d to %q, want 303 to /office/login", u, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for u, form := range posts {
		if resp, _ := postAs(t, nil, e.URL+u, form); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/login" {
			t.Errorf("logged out POST %s: %d to %q, want 303 to /office/login", u, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	_, body := getAs(t, admin, e.URL+"/office/teams")
	if strings.Contains(body, "Eigenes Team") || strings.Contains(body, "Umbenannt") || strings.Contains(body, "clara") {
		t.Errorf("a refused request changed the teams:\n%s", body)
	}
}

// A team form with errors comes back with what was typed and ticked, the
// message next to its field; a valid one creates the team, which the list
// then shows with its place (taken from the first team).
func TestTeamFormsKeepTypedValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)

	resp, body := postAs(t, admin, e.URL+"/office/teams", url.Values{"name": {"planb"}, "municipalities": {"herne", "essen"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("taken name: status %d", resp.StatusCode)
	}
	for _, want := range []string{`value="planb"`, `value="herne" checked`, `value="essen" checked`, "Ein Team mit diesem Namen gibt es schon."} {
		if !strings.Contains(body, want) {
			t.Errorf("the form with a taken name lacks %q", want)
		}
	}
	if strings.Contains(body, `value="bochum" checked`) {
		t.Error("a place the admin did not tick is ticked")
	}

	path := createTeamAs(t, e, admin, "Herne", "herne")
	_, list := getAs(t, admin, e.URL+"/office/teams")
	row := regexp.MustCompile(`(?s)<tr id="team-\d+">\s*<td><a href="` + path + `">Herne</a></td>.*?</tr>`).FindString(list)
	if row == "" || !strings.Contains(row, "<td>Herne</td>") || !strings.Contains(row, e.Admin) {
		t.Errorf("the list shows no row for Herne with its place and its creator:\n%s", list)
	}
	if first := regexp.MustCompile(`(?s)<tr id="team-1">.*?</tr>`).FindString(list); strings.Contains(first, "Herne") {
		t.Errorf("the first team still lists Herne: %s", first)
	}

	// Unticking Herne's only place would leave it without a team.
	resp, body = postAs(t, admin, e.URL+path, url.Values{"name": {"Herne neu"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("uncovering edit: status %d", resp.StatusCode)
	}
	if !strings.Contains(body, `value="Herne neu"`) || strings.Contains(body, `value="herne" checked`) {
		t.Error("the edit form does not show what was typed")
	}
	m := regexp.MustCompile(`(?s)<fieldset class="field invalid" id="municipalities">.*?</fieldset>`).FindString(body)
	if !strings.Contains(m, "Jeder Ort muss zu einem Team gehören") || !strings.Contains(m, `id="uncovered"`) || !strings.Contains(m, "Herne") {
		t.Errorf("no error next to the places naming Herne:\n%s", body)
	}
	if _, page := getAs(t, admin, e.URL+path); !strings.Contains(page, `value="Herne"`) || !strings.Contains(page, `value="herne" checked`) {
		t.Error("the refused edit was saved")
	}
	// A valid edit is saved and redirects back to the team.
	resp, _ = postAs(t, admin, e.URL+path, url.Values{"name": {"Herne und Marl"}, "municipalities": {"herne", "marl"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path {
		t.Fatalf("valid edit: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := getAs(t, admin, e.URL+path); !strings.Contains(page, `value="Herne und Marl"`) || !strings.Contains(page, `value="marl" checked`) {
		t.Error("the edit was not saved")
	}
	if resp, _ := getAs(t, admin, e.URL+"/office/teams/999"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown team: status %d, want 404", resp.StatusCode)
	}
}

// A counsellor of one team gets 404 for another team's case, exactly as
// for a case that does not exist, and does not see it listed; the other
// team's counsellor reads it. Once removed, that counsellor's open session
// gets 404 too.
func TestCrossTeamCaseIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	clara := addTeamUser(t, e, "clara", reporting.RoleCounsellor)
	bob := addTeamUser(t, e, "bob", reporting.RoleCounsellor)
	herne := createTeamAs(t, e, admin, "Herne", "herne")
	addMemberAs(t, e, admin, "/office/teams/1", clara)
	addMemberAs(t, e, admin, herne, bob)

	for _, f := range []url.Values{reportFrom("herne", "Vorfall in Herne"), reportFrom("bochum", "Vorfall in Bochum")} {
		if resp, _ := submit(t, e, "de", f); resp.StatusCode != http.StatusOK {
			t.Fatal("submission failed")
		}
	}
	cc, cb := loginAs(t, e, "clara", userPassword), loginAs(t, e, "bob", userPassword)
	_, listB := getAs(t, cb, e.URL+"/office/cases")
	linksB := caseLinks(listB)
	if len(linksB) != 1 || !strings.Contains(listB, "Vorfall in Herne") || strings.Contains(listB, "Vorfall in Bochum") {
		t.Fatalf("bob's list has %d cases:\n%s", len(linksB), listB)
	}
	_, listC := getAs(t, cc, e.URL+"/office/cases")
	if strings.Contains(listC, "Vorfall in Herne") || !strings.Contains(listC, "Vorfall in Bochum") || len(caseLinks(listC)) != 1 {
		t.Errorf("clara's list shows the wrong cases:\n%s", listC)
	}

	resp, other := getAs(t, cc, e.URL+linksB[0])
	if resp.StatusCode != http.StatusNotFound || strings.Contains(other, "Vorfall in Herne") {
		t.Errorf("clara opens Herne's case: status %d, want 404", resp.StatusCode)
	}
	_, unknown := getAs(t, cc, e.URL+"/office/cases/00000000-0000-4000-8000-000000000000")
	if other != unknown {
		t.Error("another team's case and an unknown case give different pages")
	}
	if resp, page := getAs(t, cb, e.URL+linksB[0]); resp.StatusCode != http.StatusOK || !strings.Contains(page, "Vorfall in Herne") {
		t.Errorf("bob cannot open his team's case: status %d", resp.StatusCode)
	}

	// The admin takes bob out of Herne: his open session loses the key.
	resp, _ = postAs(t, admin, e.URL+herne+"/members/"+itoa(bob)+"/remove", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove bob: status %d", resp.StatusCode)
	}
	if resp, _ := getAs(t, cb, e.URL+linksB[0]); resp.StatusCode != http.StatusNotFound {
		t.Errorf("bob's session still opens Herne's case after removal: status %d", resp.StatusCode)
	}
	if _, list := getAs(t, cb, e.URL+"/office/cases"); strings.Contains(list, "Vorfall in Herne") {
		t.Error("bob's session still lists Herne's case after removal")
	}
}

// Only an admin who holds a team's key can add members; another admin's
// page says why and has no form, and a forged POST is refused. The last
// member cannot be removed.
func TestAddMemberNeedsTheKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	clara := addTeamUser(t, e, "clara", reporting.RoleCounsellor)
	addTeamUser(t, e, "otto", reporting.RoleAdmin)
	addTeamUser(t, e, "stella", reporting.RoleStatistician)
	herne := createTeamAs(t, e, admin, "Herne", "herne")

	_, page := getAs(t, admin, e.URL+herne)
	sel := regexp.MustCompile(`(?s)<select id="user" name="user".*?</select>`).FindString(page)
	if !strings.Contains(sel, ">clara (") || !strings.Contains(sel, ">otto (") || strings.Contains(sel, "stella") {
		t.Errorf("the add form offers the wrong users: %s", sel)
	}

	otto := loginAs(t, e, "otto", userPassword)
	_, page = getAs(t, otto, e.URL+herne)
	if !strings.Contains(page, `id="key-not-held"`) || strings.Contains(page, `name="user"`) {
		t.Errorf("otto's page does not explain that he cannot add members:\n%s", page)
	}
	resp, page := postAs(t, otto, e.URL+herne+"/members", url.Values{"user": {itoa(clara)}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "Sie halten den Schlüssel dieses Teams nicht") {
		t.Errorf("otto adds clara: status %d", resp.StatusCode)
	}
	if _, page := getAs(t, admin, e.URL+herne); strings.Contains(regexp.MustCompile(`(?s)<ul class="members">.*?</ul>`).FindString(page), "clara") {
		t.Error("clara became a member through otto")
	}

	// No user chosen: the form says so.
	resp, page = postAs(t, admin, e.URL+herne+"/members", url.Values{"user": {""}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Bitte wählen Sie eine Person aus.") {
		t.Errorf("no user chosen: status %d", resp.StatusCode)
	}

	// The admin is Herne's only member.
	resp, page = postAs(t, admin, e.URL+herne+"/members/1/remove", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, `id="member-error"`) {
		t.Errorf("removing the last member: status %d", resp.StatusCode)
	}
	if _, page := getAs(t, admin, e.URL+herne); !strings.Contains(regexp.MustCompile(`(?s)<ul class="members">.*?</ul>`).FindString(page), e.Admin) {
		t.Error("the last member was removed")
	}
}
