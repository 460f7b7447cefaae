package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A counsellor marks a case "interpreter needed": a language from the
// list is named at the top of the case page, next to the report's own
// language; a code of their own is shown as typed; a missing or malformed
// code comes back at the field, as typed; the mark can be removed. Every
// change is audited without the language, and the database holds the
// language only sealed.
func TestInterpreterMark(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, caseURL := onlyCase(t, e)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")

	_, page := getAs(t, c, caseURL)
	wantAll(t, "the unmarked case page", page, `<dd id="language">Deutsch</dd>`, `id="interpreter-form"`, `<option value="rom">`)
	if strings.Contains(page, `id="interpreter-mark"`) {
		t.Error("a case nobody marked shows an interpreter mark")
	}

	before := attCount(t, e, "audit WHERE action = 'interpreter'")
	resp, body := postAs(t, c, caseURL+"/interpreter", url.Values{"interpreter": {"1"}, "interpreter_language": {"tr"}})
	wantRedirect(t, "marking", resp, body, "/office/cases/"+id+"?saved=interpreter#interpreter")
	_, page = getAs(t, c, caseURL)
	wantAll(t, "the marked case page", page, `<dd id="interpreter-mark"><strong>Dolmetschung nötig: Türkisch</strong></dd>`,
		`id="int-needed" name="interpreter" value="1" checked`, `name="interpreter_language" value="tr"`)
	if i, j := strings.Index(page, `id="interpreter-mark"`), strings.Index(page, `id="description"`); i < 0 || i > j {
		t.Error("the mark is not at the top, above the report's text")
	}

	// A language the office has no messages in (Vlax Romani), by its code.
	resp, body = postAs(t, c, caseURL+"/interpreter", url.Values{"interpreter": {"1"}, "interpreter_language": {"RMY"}})
	wantRedirect(t, "another code", resp, body, "/office/cases/"+id+"?saved=interpreter#interpreter")
	if _, page = getAs(t, c, caseURL); !strings.Contains(page, `<strong>Dolmetschung nötig: rmy</strong>`) {
		t.Errorf("the typed code is not shown:\n%s", page)
	}
	var raw []byte
	if err := rawDB(t, e).QueryRow(`SELECT interpreter FROM reports WHERE id = ?`, id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 || strings.Contains(string(raw), "rmy") {
		t.Errorf("the mark is stored as %q: not sealed", raw)
	}

	// Mistakes come back at the field, and change nothing.
	for _, typed := range []string{"", "Romanes <b>", "x"} {
		resp, body = postAs(t, c, caseURL+"/interpreter", url.Values{"interpreter": {"1"}, "interpreter_language": {typed}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-int-language"`) ||
			!strings.Contains(body, `name="interpreter_language" value="`+htmlEscape(typed)+`"`) {
			t.Errorf("language %q: status %d, or no error at the field, or the input lost", typed, resp.StatusCode)
		}
		if !strings.Contains(body, "Dolmetschung nötig: rmy") {
			t.Errorf("language %q: the stored mark is no longer shown", typed)
		}
	}

	// Unticked: the mark goes.
	resp, body = postAs(t, c, caseURL+"/interpreter", url.Values{"interpreter_language": {"rom"}})
	wantRedirect(t, "clearing", resp, body, "/office/cases/"+id+"?saved=interpreter#interpreter")
	if _, page = getAs(t, c, caseURL); strings.Contains(page, `id="interpreter-mark"`) {
		t.Error("the mark stayed after it was removed")
	}
	if after := attCount(t, e, "audit WHERE action = 'interpreter'"); after != before+3 {
		t.Errorf("interpreter changes audited: %d → %d, want 3", before, after)
	}
	if n := attCount(t, e, "audit WHERE action = 'interpreter' AND detail NOT IN ('set', 'cleared')"); n != 0 {
		t.Errorf("%d audit entries say more than set or cleared", n)
	}

	// Another team's counsellor cannot mark the case: 404, as for none.
	herne := createTeamAs(t, e, c, "Herne", "herne")
	outsider, _ := accUser(t, e, c, "otto", "counsellor", strings.TrimPrefix(herne, "/office/teams/"))
	if resp, _ := postAs(t, outsider, caseURL+"/interpreter", url.Values{"interpreter": {"1"}, "interpreter_language": {"ar"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another team's counsellor: status %d, want 404", resp.StatusCode)
	}
}

// htmlEscape escapes as html/template does in an attribute, for the
// characters the test types.
func htmlEscape(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
}
