package web_test

import (
	"database/sql"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/notifytest"
	"github.com/planb-ruhr/meldestelle/reporting/smtpmail"
)

const notifyBaseURL = "https://melden.example.org"

// notifyEnv is newEnv with notifications on: mail goes to the test SMTP
// server srv (no STARTTLS, loopback), and the sender's clock is the
// returned one. The sender goroutine is not started: tests call SendDue.
func notifyEnv(t *testing.T, srv *notifytest.Server) (*env, *reporting.Notifier, *testClock) {
	t.Helper()
	clock := newTestClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	e := notifyEnvClock(t, srv, clock, nil)
	return e, e.Notifier, clock
}

// notifyEnvClock is notifyEnv with the given clock for the sender and the
// mails' Date header, and now for intake, office and web (nil: time.Now).
func notifyEnvClock(t *testing.T, srv *notifytest.Server, clock *testClock, now func() time.Time) *env {
	t.Helper()
	return newEnv(t, options{Now: now, Notify: func(logger *slog.Logger) reporting.NotifierConfig {
		mailer := smtpmail.New(smtpmail.Config{Host: srv.Host, Port: srv.Port, From: "meldestelle@example.org", Now: clock.Now})
		tr, err := i18n.Load()
		if err != nil {
			t.Fatal(err)
		}
		return reporting.NotifierConfig{BaseURL: notifyBaseURL, Mailer: mailer, Texts: tr, Languages: i18n.OfficeLanguages, Now: clock.Now, Logger: logger}
	}})
}

// notifySetEmail sets a user's address through their own page.
func notifySetEmail(t *testing.T, e *env, user *http.Cookie, email string) {
	t.Helper()
	resp, body := postAs(t, user, e.URL+"/office/account/notifications", url.Values{"email": {email}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set e-mail %q: status %d:\n%s", email, resp.StatusCode, body)
	}
}

// notifySendDue runs one round of the sender.
func notifySendDue(t *testing.T, n *reporting.Notifier) int {
	t.Helper()
	sent, err := n.SendDue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return sent
}

// notifyOutboxRows counts every row of the outbox table, sent or not.
func notifyOutboxRows(t *testing.T, e *env) int {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+e.DB.Path()+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow(`SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// recipients lists the RCPT TO addresses of the messages, sorted.
func notifyRecipients(msgs []notifytest.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.To...)
	}
	slices.Sort(out)
	return out
}

// notifyTeam sets up: anna (admin, PLANB) and berta (counsellor, PLANB)
// with addresses; carl (PLANB) without; dora (PLANB) with an address but
// disabled; erik with an address in team Nord, which covers only Herne.
func notifyTeam(t *testing.T, e *env) *http.Cookie {
	t.Helper()
	admin := login(t, e)
	notifySetEmail(t, e, admin, "anna@example.org")
	berta, _ := accUser(t, e, admin, "berta", "counsellor", "1")
	notifySetEmail(t, e, berta, "berta@example.org")
	accUser(t, e, admin, "carl", "counsellor", "1")
	dora, _ := accUser(t, e, admin, "dora", "counsellor", "1")
	notifySetEmail(t, e, dora, "dora@example.org")
	u, err := e.DB.UserByName(t.Context(), "dora")
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := postAs(t, admin, e.URL+"/office/users/"+itoa(u.ID)+"/disable", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable dora: %d\n%s", resp.StatusCode, body)
	}
	nord := createTeamAs(t, e, admin, "Nord", "herne")
	erik, _ := accUser(t, e, admin, "erik", "counsellor", strings.TrimPrefix(nord, "/office/teams/"))
	notifySetEmail(t, e, erik, "erik@example.org")
	return admin
}

// A new report brings one mail to each enabled member of its team who has
// an address, and to nobody else; the mail says only that something new
// arrived and links to the office: no report text, no contact, no case
// number, no municipality.
func TestNewReportNotifiesTeamMembers(t *testing.T) {
	t.Parallel()
	srv := notifytest.Start(t)
	e, n, clock := notifyEnv(t, srv)
	notifyTeam(t, e)

	description := "Der Vermieter in der Kastanienallee hat mich beleidigt"
	if resp, body := submit(t, e, "tr", reportFrom("bochum", description)); resp.StatusCode != http.StatusOK {
		t.Fatalf("submit: %d\n%s", resp.StatusCode, body)
	}
	clock.Advance(reporting.DefaultDelayMax) // the batch's delay (see TestNotificationsBatched)
	if sent := notifySendDue(t, n); sent != 2 {
		t.Errorf("sent %d mails, want 2", sent)
	}
	msgs := srv.Messages()
	if got, want := notifyRecipients(msgs), []string{"anna@example.org", "berta@example.org"}; !slices.Equal(got, want) {
		t.Fatalf("recipients %v, want %v", got, want)
	}
	reports, _, err := e.DB.Reports(t.Context(), []int64{1}, reporting.Page{Limit: 10})
	if err != nil || len(reports) != 1 {
		t.Fatalf("reports: %v %v", reports, err)
	}
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Errorf("one mail went to %v: each member gets their own", m.To)
		}
		if !strings.Contains(m.Data, notifyBaseURL+"/office/cases") || !strings.Contains(m.Data, "PLANB") {
			t.Errorf("mail lacks the office link or the team:\n%s", m.Data)
		}
		lower := strings.ToLower(m.Data)
		for _, secret := range []string{"kastanienallee", "vermieter", "signal", "+49 170", reports[0].CaseNo, reports[0].ID, "bochum", "housing", "antiziganism", "türk", "turkish"} {
			if strings.Contains(lower, strings.ToLower(secret)) {
				t.Errorf("mail to %v gives away %q:\n%s", m.To, secret, m.Data)
			}
		}
	}
	if rows := notifyOutboxRows(t, e); rows != 0 {
		t.Errorf("%d outbox rows left after sending: the recipient list is kept", rows)
	}

	// A report for Nord reaches its members: erik, and anna, who created
	// the team and so holds its key; not berta.
	submit(t, e, "de", reportFrom("herne", "Etwas in Herne"))
	clock.Advance(reporting.DefaultDelayMax)
	notifySendDue(t, n)
	if got := notifyRecipients(srv.Messages()[2:]); !slices.Equal(got, []string{"anna@example.org", "erik@example.org"}) {
		t.Errorf("report for Nord went to %v, want anna and erik", got)
	}
}

// While the mail server is down nothing is lost: the mails stay in the
// outbox with growing attempts and a later next attempt, the admin page
// shows them, and once the server is back each goes out exactly once.
func TestOutageLosesNothing(t *testing.T) {
	t.Parallel()
	srv := notifytest.Start(t)
	e, n, clock := notifyEnv(t, srv)
	admin := login(t, e)
	notifySetEmail(t, e, admin, "anna@example.org")
	berta, _ := accUser(t, e, admin, "berta", "counsellor", "1")
	notifySetEmail(t, e, berta, "berta@example.org")

	srv.Fail(421)
	submit(t, e, "de", validReport("Während der Störung"))
	clock.Advance(reporting.DefaultDelayMax) // the batch's delay
	start := clock.Now()
	if sent := notifySendDue(t, n); sent != 0 {
		t.Fatalf("sent %d during the outage", sent)
	}
	pending, err := n.Pending(t.Context())
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending %v, %v: want 2", pending, err)
	}
	for _, m := range pending {
		if m.Attempts != 1 || m.LastErrorCode != "smtp-421" || !m.NextAttemptAt.Equal(start.Add(time.Minute)) {
			t.Errorf("after the first failure: attempts %d, code %q, next %v; want 1, smtp-421, +1m", m.Attempts, m.LastErrorCode, m.NextAttemptAt.Sub(start))
		}
	}

	// The admin page shows them, with the code and the next attempt.
	_, page := getAs(t, admin, e.URL+"/office/notifications")
	for _, want := range []string{"Wartend: 2.", "fehlgeschlagenen Versuchen: 2.", "smtp-421", otBerlin(start.Add(time.Minute)), `id="send-now"`} {
		if !strings.Contains(page, want) {
			t.Errorf("outbox page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "anna@example.org") {
		t.Error("outbox page shows a recipient")
	}

	// Not due yet: no attempt.
	clock.Advance(30 * time.Second)
	notifySendDue(t, n)
	if p, _ := n.Pending(t.Context()); p[0].Attempts != 1 {
		t.Errorf("tried before the mail was due: attempts %d", p[0].Attempts)
	}
	// Refused connections now: attempts grow, the wait doubles.
	srv.Refuse()
	want := start.Add(time.Minute)
	for i, wait := range []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute} {
		clock.Advance(want.Sub(clock.Now()))
		notifySendDue(t, n)
		p, _ := n.Pending(t.Context())
		want = clock.Now().Add(wait)
		if len(p) != 2 || p[0].Attempts != i+2 || p[0].LastErrorCode != "dial" || !p[0].NextAttemptAt.Equal(want) {
			t.Fatalf("retry %d: %+v; want attempts %d, code dial, next %v", i+1, p, i+2, want)
		}
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a message arrived during the outage")
	}

	// Back again: "send now" delivers at once, before the next attempt is due.
	srv.Fail(0)
	srv.Resume(t)
	if resp, body := postAs(t, admin, e.URL+"/office/notifications/send", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send now: %d\n%s", resp.StatusCode, body)
	}
	if got := notifyRecipients(srv.Messages()); !slices.Equal(got, []string{"anna@example.org", "berta@example.org"}) {
		p, _ := n.Pending(t.Context())
		t.Fatalf("after send now: %v; pending %+v", got, p)
	}
	clock.Advance(2 * time.Hour)
	notifySendDue(t, n)
	if len(srv.Messages()) != 2 {
		t.Errorf("%d messages after another round, want each exactly once", len(srv.Messages()))
	}
	if _, page := getAs(t, admin, e.URL+"/office/notifications"); !strings.Contains(page, `id="outbox-empty"`) {
		t.Errorf("outbox page not empty after delivery:\n%s", page)
	}
	if rows := notifyOutboxRows(t, e); rows != 0 {
		t.Errorf("%d outbox rows left", rows)
	}
}

// The retry after an outage delivers by the schedule alone, without
// anyone pressing "send now", and the wait never exceeds an hour.
func TestRetryBySchedule(t *testing.T) {
	t.Parallel()
	srv := notifytest.Start(t)
	e, n, clock := notifyEnv(t, srv)
	admin := login(t, e)
	notifySetEmail(t, e, admin, "anna@example.org")
	srv.Fail(451)
	submit(t, e, "de", validReport("Zeitplan"))
	// A second report while the first mail waits adds no second mail:
	// "something new arrived" is said once.
	submit(t, e, "de", validReport("Noch einer"))
	clock.Advance(reporting.DefaultDelayMax) // the batch's delay
	for range 10 {
		notifySendDue(t, n)
		p, _ := n.Pending(t.Context())
		if wait := p[0].NextAttemptAt.Sub(clock.Now()); wait > time.Hour {
			t.Fatalf("next attempt in %v, more than an hour", wait)
		}
		clock.Advance(p[0].NextAttemptAt.Sub(clock.Now()))
	}
	srv.Fail(0)
	if sent := notifySendDue(t, n); sent != 1 || len(srv.Messages()) != 1 {
		t.Fatalf("after the outage: sent %d, server has %d", sent, len(srv.Messages()))
	}
	clock.Advance(24 * time.Hour)
	notifySendDue(t, n)
	if len(srv.Messages()) != 1 {
		t.Errorf("delivered %d times, want once", len(srv.Messages()))
	}
}

// A user sets, keeps and clears their own address; an invalid one is
// refused next to the field with what was typed still there; the change
// is in the audit log as a code, without the address.
func TestNotificationAddressPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	if _, acc := getAs(t, admin, e.URL+"/office/account"); !strings.Contains(acc, `href="/office/account/notifications"`) || !strings.Contains(acc, `href="/office/notifications"`) {
		t.Error("the account page does not link to the notification pages")
	}
	_, page := getAs(t, admin, e.URL+"/office/account/notifications")
	if !strings.Contains(page, `id="notify-off"`) {
		t.Error("without a mail server the page does not say notifications are off")
	}
	for _, bad := range []string{"keine adresse", "Anna <anna@example.org>", "anna@example.org\r\nBcc: x@example.org"} {
		resp, body := postAs(t, admin, e.URL+"/office/account/notifications", url.Values{"email": {bad}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "name@example.org") {
			t.Errorf("%q: status %d, no error shown", bad, resp.StatusCode)
		}
		if !strings.Contains(body, `value="`+strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(bad), "<", "&lt;"), ">", "&gt;")) && !strings.Contains(bad, "\r") {
			t.Errorf("%q: typed value not kept:\n%s", bad, body)
		}
	}
	notifySetEmail(t, e, admin, " anna@example.org ")
	if _, page := getAs(t, admin, e.URL+"/office/account/notifications?done=saved"); !strings.Contains(page, `value="anna@example.org"`) || !strings.Contains(page, `id="saved-notice"`) {
		t.Errorf("saved address not shown:\n%s", page)
	}
	notifySetEmail(t, e, admin, "")
	if email, _ := e.DB.UserEmail(t.Context(), 1); email != "" {
		t.Errorf("address %q not cleared", email)
	}
	_, audit := getAs(t, admin, e.URL+"/office/audit")
	if !strings.Contains(audit, "Benachrichtigungsadresse geändert") || strings.Contains(audit, "anna@example.org") {
		t.Errorf("audit log: entry missing or shows the address")
	}
}
