package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting/web"
)

// Who may use an office route.
type access int

const (
	open      access = iota // no session needed (login, setup, invitation)
	anyone                  // any logged-in user
	caseWork                // admins and counsellors: they hold team keys
	adminOnly               // admins
	statsWork               // admins and statisticians (statistics)
)

// officeRoutes is the authorization matrix: every office route and who
// may use it. TestAuthorizationMatrix fails when a route is missing here,
// so a new route cannot slip in without a decision.
var officeRoutes = map[string]access{
	"GET /office":                                   open, // redirect to /office/
	"GET /office/":                                  anyone,
	"GET /office/setup":                             open,
	"POST /office/setup":                            open,
	"GET /office/login":                             open,
	"POST /office/login":                            open,
	"POST /office/logout":                           open,
	"GET /office/invite/accepted":                   open,
	"GET /office/invite/:token":                     open,
	"POST /office/invite/:token":                    open,
	"GET /office/account":                           anyone,
	"GET /office/account/password":                  anyone,
	"POST /office/account/password":                 anyone,
	"POST /office/account/sessions/:id/revoke":      anyone,
	"GET /office/account/totp":                      anyone,
	"GET /office/account/totp/qr.png":               anyone,
	"POST /office/account/totp":                     anyone,
	"POST /office/account/totp/disable":             anyone,
	"POST /office/account/totp/recovery-codes":      anyone,
	"GET /office/cases":                             caseWork,
	"GET /office/cases/:id":                         caseWork,
	"POST /office/cases/:id/classification":         caseWork,
	"POST /office/cases/:id/status":                 caseWork,
	"POST /office/cases/:id/assignee":               caseWork,
	"POST /office/cases/:id/notes":                  caseWork,
	"POST /office/cases/:id/transfer":               caseWork,
	"POST /office/cases/:id/messages":               caseWork,
	"GET /office/cases/:id/attachments/:att":        caseWork,
	"GET /office/audit":                             adminOnly,
	"GET /office/users":                             adminOnly,
	"GET /office/users/invite":                      adminOnly,
	"POST /office/users/invite":                     adminOnly,
	"POST /office/users/:id/disable":                adminOnly,
	"POST /office/users/:id/enable":                 adminOnly,
	"POST /office/users/:id/role":                   adminOnly,
	"POST /office/users/:id/withdraw":               adminOnly,
	"POST /office/users/:id/unlock":                 adminOnly,
	"GET /office/teams":                             adminOnly,
	"POST /office/teams":                            adminOnly,
	"GET /office/teams/:team":                       adminOnly,
	"POST /office/teams/:team":                      adminOnly,
	"POST /office/teams/:team/members":              adminOnly,
	"POST /office/teams/:team/members/:user/remove": adminOnly,
	"GET /office/settings/two-factor":               adminOnly,
	"GET /office/statistics":                        statsWork,
	"GET /office/statistics.csv":                    statsWork,
	"GET /office/statistics.json":                   statsWork,
	"GET /office/statistics/report":                 statsWork,
	"POST /office/statistics/publish":               adminOnly,
	"POST /office/settings/two-factor":              adminOnly,
	"GET /office/account/notifications":             anyone,
	"POST /office/account/notifications":            anyone,
	"GET /office/notifications":                     adminOnly,
	"POST /office/notifications/send":               adminOnly,
	"GET /office/settings/retention":                adminOnly,
	"POST /office/settings/retention":               adminOnly,
	"GET /office/settings/languages":                adminOnly,
	"POST /office/settings/languages":               adminOnly,
	"GET /office/settings/identity":                 adminOnly,
	"POST /office/settings/identity":                adminOnly,
	"POST /office/settings/identity/logo":           adminOnly,

	// Issue 13, the office's time zone.
	"GET /office/settings/time":  adminOnly,
	"POST /office/settings/time": adminOnly,
	// Reminders (Wiedervorlage, issue 13): case work, and for a case of
	// another team "not found" like every case route.
	"POST /office/cases/:id/reminder":      caseWork,
	"POST /office/cases/:id/reminder/done": caseWork,
	// Issue 13, seeing the evidence: photo previews and the voice player.
	"GET /office/cases/:id/attachments/:att/preview": caseWork,
	"POST /office/cases/:id/interpreter":             caseWork,
	// Case list bulk changes (issue 13): case work, each case also
	// checked against the session's team keys (case_list_test.go).
	"POST /office/cases/bulk": caseWork,

	// Reply templates (issue 13): admins keep them; counsellors pick one
	// on the case page (GET /office/cases/:id?reply_template=N, above).
	"GET /office/settings/replies":         adminOnly,
	"POST /office/settings/replies":        adminOnly,
	"POST /office/settings/replies/delete": adminOnly,
	// Case export (issue 13): the form and the export itself, case
	// work of the case's team only; another team gets "not found"
	// (caseexport_test.go).
	"GET /office/cases/:id/export":  caseWork,
	"POST /office/cases/:id/export": caseWork,
	// The case page's triage panel (issue 13): status, assignee and the
	// short classification in one save.
	"POST /office/cases/:id/triage": caseWork,
	// Network export (issue 14): the k-anonymous records of a year
	// leave the office, so admins only (the publishing permission), not
	// statisticians.
	"GET /office/statistics/network-export": adminOnly,
	// Annual report PDF (issue 14): the same figures as the print page
	// (GET /office/statistics/report, above), so the same roles.
	"GET /office/statistics/report.pdf": statsWork,
}

// Every office route × every role (and logged out) gets the expected
// answer: logged out → 303 to the login page; a role without access →
// 403; a role with access → anything but those two. A counsellor of
// another team gets 404 for a case, as for one that does not exist.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	submit(t, e, "de", validReport("Matrix"))
	admin := login(t, e)
	_, list := getAs(t, admin, e.URL+"/office/cases")
	m := regexp.MustCompile(`href="/office/cases/([0-9a-f-]{36})"`).FindStringSubmatch(list)
	if m == nil {
		t.Fatal("no case to test with")
	}
	caseID := m[1]
	counsellor, _ := accUser(t, e, admin, "clara", "counsellor", "1")
	statistician, _ := accUser(t, e, admin, "stefan", "statistician")
	// A counsellor of another team: a second team covering Herne, with
	// the report's municipality (Bochum) still with the first.
	herne := createTeamAs(t, e, admin, "Herne", "herne")
	outsider, _ := accUser(t, e, admin, "otto", "counsellor", strings.TrimPrefix(herne, "/office/teams/"))
	// A throwaway user for the admin's own POSTs to act on.
	accInvite(t, e, admin, "wegwerf", "counsellor")
	throwaway := userID(t, e, admin, "wegwerf")

	fill := strings.NewReplacer(":id/revoke", "0000000000000000/revoke", ":token", strings.Repeat("ab", 32),
		"/users/:id", "/users/"+strconv.FormatInt(throwaway, 10), "/cases/:id", "/cases/"+caseID,
		":team", "1", ":user", strconv.FormatInt(throwaway, 10))

	routes := e.Handler.(*web.Server).RouteList()
	seen := map[string]bool{}
	for _, r := range routes {
		if !strings.HasPrefix(r.Path, "/office") {
			continue
		}
		key := r.Method + " " + r.Path
		seen[key] = true
		want, ok := officeRoutes[key]
		if !ok {
			t.Errorf("route %s is not in the authorization matrix: decide who may use it", key)
			continue
		}
		if want == open || key == "POST /office/logout" {
			continue
		}
		u := e.URL + fill.Replace(r.Path)
		do := func(c *http.Cookie) *http.Response {
			t.Helper()
			if r.Method == "GET" {
				if c == nil {
					resp, _ := get(t, u)
					return resp
				}
				resp, _ := getAs(t, c, u)
				return resp
			}
			resp, _ := postAs(t, c, u, url.Values{})
			return resp
		}
		if resp := do(nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/login" {
			t.Errorf("%s logged out: %d to %q, want 303 to /office/login", key, resp.StatusCode, resp.Header.Get("Location"))
		}
		for _, who := range []struct {
			name    string
			cookie  *http.Cookie
			allowed bool
		}{
			{"statistician", statistician, want == anyone || want == statsWork},
			{"counsellor", counsellor, want == anyone || want == caseWork},
			{"admin", admin, true},
		} {
			resp := do(who.cookie)
			switch {
			case !who.allowed && resp.StatusCode != http.StatusForbidden:
				t.Errorf("%s as %s: status %d, want 403", key, who.name, resp.StatusCode)
			case who.allowed && (resp.StatusCode == http.StatusForbidden || resp.Header.Get("Location") == "/office/login"):
				t.Errorf("%s as %s: refused (%d to %q)", key, who.name, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	}
	for key := range officeRoutes {
		if !seen[key] {
			t.Errorf("the matrix lists %s, which is not a route", key)
		}
	}

	// Cross-team: the counsellor of the other team is refused the case
	// like a case that does not exist, and does not see it listed.
	resp, page := getAs(t, outsider, e.URL+"/office/cases/"+caseID)
	_, unknown := getAs(t, outsider, e.URL+"/office/cases/00000000-0000-4000-8000-000000000000")
	if resp.StatusCode != http.StatusNotFound || page != unknown {
		t.Errorf("another team's case: status %d, or a page unlike an unknown case's", resp.StatusCode)
	}
	if _, list := getAs(t, outsider, e.URL+"/office/cases"); strings.Contains(list, caseID) {
		t.Error("another team's case is listed")
	}
	if _, list := getAs(t, counsellor, e.URL+"/office/cases"); !strings.Contains(list, caseID) {
		t.Error("the case's own team does not see it")
	}
}

var userRowPattern = regexp.MustCompile(`/office/users/(\d+)/`)

// userID finds a user's ID on the users page.
func userID(t *testing.T, e *env, admin *http.Cookie, name string) int64 {
	t.Helper()
	_, page := getAs(t, admin, e.URL+"/office/users")
	i := strings.Index(page, ">"+name+"<")
	if i < 0 {
		t.Fatalf("user %s not on the users page", name)
	}
	m := userRowPattern.FindStringSubmatch(page[i:])
	if m == nil {
		t.Fatalf("no action for user %s", name)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}
