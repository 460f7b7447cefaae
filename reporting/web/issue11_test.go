package web_test

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/i18n"
)

// After an admin sets 24 months, the privacy page of every language says
// 24 months, in the plural form that language needs.
func TestPrivacyShowsLiveRetentionInEveryLanguage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	resp, body := postAs(t, admin, e.URL+"/office/settings/retention", url.Values{"closed_months": {"24"}, "new_months": {"3"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retention: status %d\n%s", resp.StatusCode, body)
	}
	tr, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range i18n.Languages {
		_, page := get(t, e.URL+"/"+l.Code+"/privacy")
		for id, n := range map[string]int{"privacy.retention.closed": 24, "privacy.retention.new": 3} {
			want := tr.Plural(l.Code, id, n, nil)
			if !strings.Contains(page, template.HTMLEscapeString(want)) || !strings.Contains(want, tr.Number(l.Code, n)) {
				t.Errorf("/%s/privacy lacks %q", l.Code, want)
			}
		}
		if twelve := tr.Plural(l.Code, "privacy.retention.closed", 12, nil); strings.Contains(page, template.HTMLEscapeString(twelve)) {
			t.Errorf("/%s/privacy still says 12 months", l.Code)
		}
	}
}

// The receipt form, too, tells an expired picture from a wrong answer.
func TestFollowupExpiredCaptchaSaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, page := get(t, e.URL+"/en/followup")
	id := captchaID(t, page)
	answer := captchas.Solve(id)
	captchas.Get(id, true) // forgotten, as after ten minutes
	resp, body := post(t, e.URL+"/en/followup", url.Values{"receipt": {"1234 5678 9012 3456"}, "captcha_id": {id}, "captcha_solution": {answer}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-captcha_solution">The picture was too old`) {
		t.Errorf("status %d, no expired-picture message:\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `value="1234 5678 9012 3456"`) || !strings.Contains(body, `id="error-summary"`) {
		t.Error("the typed code or the error summary is missing")
	}
}
