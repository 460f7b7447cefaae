package web_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// The office navigation asks the same role rule as the routes: each role
// sees the links to exactly the pages it may open, and every link it
// sees opens (no link into a 403).
func TestNavigationFollowsRoleRule(t *testing.T) {
	t.Parallel()
	e := newFakeServer(t, fakeUser{"clara", reporting.RoleCounsellor}, fakeUser{"stefan", reporting.RoleStatistician})
	admin := login(t, e)
	counsellor := loginAs(t, e, "clara", fakePassword)
	statistician := loginAs(t, e, "stefan", fakePassword)

	want := []struct {
		role   string
		cookie *http.Cookie
		links  []string
	}{
		{"admin", admin, []string{"/office/cases", "/office/users", "/office/teams", "/office/audit",
			"/office/settings/retention", "/office/settings/languages", "/office/settings/time", "/office/settings/replies", "/office/settings/identity",
			"/office/statistics", "/office/account"}},
		{"counsellor", counsellor, []string{"/office/cases", "/office/account"}},
		{"statistician", statistician, []string{"/office/statistics", "/office/account"}},
	}
	navRe := regexp.MustCompile(`(?s)<nav aria-label="[^"]*">(.*?)</nav>`)
	linkRe := regexp.MustCompile(`href="([^"]+)"`)
	for _, w := range want {
		resp, body := getAs(t, w.cookie, e.URL+"/office/account")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: account page: status %d", w.role, resp.StatusCode)
		}
		m := navRe.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s: no office navigation on the account page", w.role)
		}
		var links []string
		for _, l := range linkRe.FindAllStringSubmatch(m[1], -1) {
			links = append(links, l[1])
		}
		if !slices.Equal(links, w.links) {
			t.Errorf("%s sees links\n%s\nwant\n%s", w.role, strings.Join(links, "\n"), strings.Join(w.links, "\n"))
		}
		for _, l := range links {
			if resp, _ := getAs(t, w.cookie, e.URL+l); resp.StatusCode != http.StatusOK {
				t.Errorf("%s: nav link %s answers %d", w.role, l, resp.StatusCode)
			}
		}
	}
}
