package web_test

import (
	"strings"
	"testing"
)

// The list counts at most reporting.CountCap (1,000) matches exactly: with
// more, page 1 says "more than 1.000" and offers the next page; the page
// whose end passes the cap counts up to its own end, and the last page
// has the exact number, its rows and no next page.
func TestCaseListCountCapped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	fillCases(t, e, 1_060)
	c := login(t, e)
	for _, p := range []struct {
		url, count, page string
		rows             int
		next             bool
	}{
		{"/office/cases", "Passende Fälle in Ihren Teams: mehr als 1.000", "Seite 1 von mehr als 40", 25, true},
		{"/office/cases?page=41", "Passende Fälle in Ihren Teams: mehr als 1.025", "Seite 41 von mehr als 41", 25, true},
		{"/office/cases?page=43", "Passende Fälle in Ihren Teams: 1060", "Seite 43 von 43", 10, false},
	} {
		resp, page := getAs(t, c, e.URL+p.url)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", p.url, resp.StatusCode)
		}
		wantAll(t, p.url, page, p.count, p.page)
		if n := len(caseIDs(page)); n != p.rows {
			t.Errorf("%s lists %d cases, want %d", p.url, n, p.rows)
		}
		if got := strings.Contains(page, `rel="next"`); got != p.next {
			t.Errorf("%s: next page link %v, want %v", p.url, got, p.next)
		}
	}
}
