package webtest

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// AccLogin logs a user in and returns the session cookie and where the
// Login sent them.
func AccLogin(t testing.TB, e *Env, name, password string) (*http.Cookie, string) {
	t.Helper()
	resp, body := Post(t, e.URL+"/office/login", url.Values{"username": {name}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: status %d:\n%s", name, resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "meldestelle_session") {
			return c, resp.Header.Get("Location")
		}
	}
	t.Fatal("login set no session cookie")
	return nil, ""
}

// AccLinkPattern finds the invitation link on the page that made it.
var AccLinkPattern = regexp.MustCompile(`id="invite-link"[^>]*>(http://[^<]+/office/invite/([0-9a-f]{64}))<`)

// AccAccept sets the password through the invitation link.
func AccAccept(t testing.TB, link, password string) {
	t.Helper()
	resp, body := Post(t, link, url.Values{"password": {password}, "confirm": {password}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/invite/accepted" {
		t.Fatalf("accept: status %d to %q:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// CaseLink finds the links to case pages on the case list.
var CaseLink = regexp.MustCompile(`href="/office/cases/([0-9a-f-]{36})"`)

// CaseIDs lists the case IDs linked from a case list page, in order.
func CaseIDs(page string) []string {
	var ids []string
	for _, m := range CaseLink.FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// WantAll fails for each string the page lacks.
func WantAll(t *testing.T, what, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// Triage is a complete classification form.
func Triage() url.Values {
	return url.Values{
		"grounds": {"racism"}, "subgrounds": {"antiziganism"}, "areas": {"work", "housing"}, "subareas": {"hiring"},
		"forms": {"direct", "denied_access"}, "level": {"individual"}, "incident_type": {"discrimination"},
		"reporter_role": {"affected"}, "municipality": {"bochum"}, "incident_date": {"2025-01"}, "incident_day": {""},
		"agg_relevant": {"agg_relevant"}, "interventions": {"complaint_letter"},
	}
}

// AttLinkPattern finds the download links of attachments on a case page.
var AttLinkPattern = regexp.MustCompile(`href="(/office/cases/[0-9a-f-]{36}/attachments/[0-9a-f-]{36})"`)

// AttCase submits a report with files and returns the case page as the
// admin sees it and the download links on it.
func AttCase(t testing.TB, e *Env, admin *http.Cookie, description string, files []AttFile) (string, []string) {
	t.Helper()
	resp, body := AttSubmit(t, e, "en", ValidReport(description), files)
	if resp.StatusCode != http.StatusOK || !ReceiptPattern.MatchString(body) {
		t.Fatalf("submit with files: status %d:\n%s", resp.StatusCode, body)
	}
	_, list := GetAs(t, admin, e.URL+"/office/cases")
	i := strings.Index(list, description)
	if i < 0 {
		t.Fatalf("case %q not listed", description)
	}
	m := regexp.MustCompile(`href="/office/cases/([0-9a-f-]{36})"`).FindAllStringSubmatch(list[:i], -1)
	if m == nil {
		t.Fatal("no case link")
	}
	_, page := GetAs(t, admin, e.URL+"/office/cases/"+m[len(m)-1][1])
	var links []string
	for _, l := range AttLinkPattern.FindAllStringSubmatch(page, -1) {
		links = append(links, l[1])
	}
	return page, links
}

// AttDownload fetches an attachment and checks the headers every download
// must carry.
func AttDownload(t testing.TB, e *Env, c *http.Cookie, link string) (*http.Response, []byte) {
	t.Helper()
	resp, body := GetAs(t, c, e.URL+link)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download %s: status %d", link, resp.StatusCode)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	return resp, []byte(body)
}

// VoicePlayerPattern finds the player of a voice message on a case page.
var VoicePlayerPattern = regexp.MustCompile(`<audio controls preload="none" id="play-[0-9a-f-]{36}" src="(/office/cases/[0-9a-f-]{36}/attachments/[0-9a-f-]{36}/preview)"`)

// StatsReport is a valid report as the intake stores it.
func StatsReport(description string) reporting.Report {
	return reporting.Report{Role: "affected", IncidentDate: "2026-03", Municipality: "bochum", Grounds: []string{"racism"},
		Area: "housing", Description: description, Wish: "document_only", Language: "de"}
}

// StatsCases submits n reports through the intake and gives each the
// record made by cl; it returns the report IDs.
func StatsCases(t *testing.T, e *Env, n int, cl reporting.Classification) []string {
	t.Helper()
	ctx := t.Context()
	intake, err := reporting.NewIntake(ctx, e.DB, vault.NewKDF(0), TestParams, e.Anchor, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	teams, _ := e.DB.Teams(ctx)
	before, _, _ := e.DB.Reports(ctx, []int64{teams[0].ID}, reporting.Page{Limit: 10000})
	old := map[string]bool{}
	for _, r := range before {
		old[r.ID] = true
	}
	for range n {
		if _, err := intake.Submit(ctx, StatsReport("Statistik")); err != nil {
			t.Fatal(err)
		}
	}
	all, _, _ := e.DB.Reports(ctx, []int64{teams[0].ID}, reporting.Page{Limit: 10000})
	var ids []string
	for _, r := range all {
		if old[r.ID] {
			continue
		}
		c := cl
		c.ReportID = r.ID
		if err := e.DB.PutClassification(ctx, c, reporting.CaseDates{}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

// SecretPattern finds the two-factor secret on the enrolment page.
var SecretPattern = regexp.MustCompile(`id="totp-secret"[^>]*>([A-Z2-7 ]+)<`)

// NewTOTPEnv is New with a clock the test controls: moving it on by a
// time step (Advance(30 * time.Second)) gives a fresh code without waiting.
func NewTOTPEnv(t *testing.T) (*Env, *Clock) {
	t.Helper()
	clock := NewClock(time.Date(2026, 5, 20, 10, 30, 0, 0, time.UTC))
	return New(t, Options{Now: clock.Now}), clock
}

// TOTPCode returns the code an authenticator app shows for secret at the
// clock's time.
func TOTPCode(t *testing.T, secret string, clock *Clock) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// WrongCode returns a six-digit code that is not c.
func WrongCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}
