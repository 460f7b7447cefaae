package reporting_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
)

// mailLog records every mail the notifier hands the mail server.
type mailLog struct {
	mu    sync.Mutex
	mails []string // recipient, subject and body, one string each
	to    map[string]int
}

func (m *mailLog) Send(_ context.Context, to, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.to == nil {
		m.to = map[string]int{}
	}
	m.to[to]++
	m.mails = append(m.mails, to+"\n"+subject+"\n"+body)
	return nil
}

// Several due reminders give each member of the team one reminder mail a
// day, and the mail says nothing of the cases: no reason, no case number.
func TestReminderMailOncePerPersonPerDay(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	in := e.intake(t)
	submit(t, in, validForm(), "de")
	submit(t, in, validForm(), "de")
	_, s := e.login(t)
	team := firstTeam(t, e, s)
	member := e.addUser(t, "berater", "ein langes Passwort für Tests", reporting.RoleCounsellor, team)
	db := e.rawDB(t)
	if _, err := db.Exec(`UPDATE users SET email = CASE WHEN id = ? THEN 'berater@example.org' ELSE 'admin@example.org' END`, member); err != nil {
		t.Fatal(err)
	}
	cases, _, err := e.cases.Cases(t.Context(), s, reporting.Page{Limit: 10})
	if err != nil || len(cases) != 2 {
		t.Fatalf("Cases: %d, %v", len(cases), err)
	}
	rs := reporting.NewReminders(e.db, e.clock.Now)
	const reason = "Anwältin wegen Kündigung anrufen"
	for _, c := range cases {
		if err := rs.SetReminder(t.Context(), s, c.ID, reporting.ReminderForm{Due: today.Format(time.DateOnly), Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	var mails mailLog
	n := reporting.NewNotifier(e.db, reporting.NotifierConfig{BaseURL: "https://melden.example.org", Mailer: &mails,
		Texts: tr, Languages: i18n.OfficeLanguages, Now: e.clock.Now})
	remind := func() int {
		t.Helper()
		if _, err := n.RemindDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		sent, err := n.SendDue(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return sent
	}
	if sent := remind(); sent != 2 || mails.to["admin@example.org"] != 1 || mails.to["berater@example.org"] != 1 {
		t.Fatalf("first run: %d mails sent, by recipient %v; want one each for the two members", sent, mails.to)
	}
	// Later the same day, and with one more reminder due: no second mail.
	e.clock.Advance(3 * time.Hour)
	if err := rs.SetReminder(t.Context(), s, cases[0].ID, reporting.ReminderForm{Due: today.Format(time.DateOnly), Reason: "noch einmal"}); err != nil {
		t.Fatal(err)
	}
	if sent := remind(); sent != 0 {
		t.Errorf("a second run on the same day sent %d mails, want none", sent)
	}
	// The next day the reminders, overdue now, are mailed once more.
	e.clock.Advance(24 * time.Hour)
	if sent := remind(); sent != 2 {
		t.Errorf("the next day: %d mails, want 2", sent)
	}
	for _, m := range mails.mails {
		for _, leak := range append([]string{reason, "noch einmal"}, cases[0].CaseNo, cases[1].CaseNo) {
			if strings.Contains(m, leak) {
				t.Errorf("a reminder mail contains %q:\n%s", leak, m)
			}
		}
		if !strings.Contains(m, "https://melden.example.org/office/cases") || !strings.Contains(m, "Wiedervorlagen") {
			t.Errorf("the reminder mail does not say that reminders are due or where to look:\n%s", m)
		}
	}
	// Done: nothing due, no mail on the third day.
	for _, c := range cases {
		if err := rs.DoneReminder(t.Context(), s, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(24 * time.Hour)
	if sent := remind(); sent != 0 {
		t.Errorf("with every reminder done: %d mails, want none", sent)
	}
}

// A reminder's reason is checked: a date, not in the past, a reason of at
// most MaxReminderReason characters.
func TestReminderForm(t *testing.T) {
	e, s, id := caseSetUp(t, newEnv(t))
	rs := reporting.NewReminders(e.db, e.clock.Now)
	for _, c := range []struct {
		f           reporting.ReminderForm
		field, want string
	}{
		{reporting.ReminderForm{Due: "", Reason: "x"}, "due", "reminder.error.date"},
		{reporting.ReminderForm{Due: "2026-05-19", Reason: "x"}, "due", "reminder.error.past"},
		{reporting.ReminderForm{Due: "2026-05-20", Reason: "  "}, "reason", "reminder.error.reason_required"},
		{reporting.ReminderForm{Due: "2026-05-20", Reason: strings.Repeat("ä", reporting.MaxReminderReason+1)}, "reason", "reminder.error.reason_too_long"},
	} {
		err := rs.SetReminder(t.Context(), s, id, c.f)
		if got := reporting.FieldErrors(err)[c.field]; got != c.want {
			t.Errorf("%+v: field %s error %q, want %q (%v)", c.f, c.field, got, c.want, err)
		}
	}
	if err := rs.SetReminder(t.Context(), s, id, reporting.ReminderForm{Due: "2026-05-20", Reason: strings.Repeat("ä", reporting.MaxReminderReason)}); err != nil {
		t.Errorf("a reason of exactly %d characters for today: %v", reporting.MaxReminderReason, err)
	}
}

// A reminder is sealed to the team that held the case: moving the case
// takes it away (the new team could not read it), and the old team's
// start page no longer lists it.
func TestReminderGoesWithTransfer(t *testing.T) {
	e, s, id := caseSetUp(t, newEnv(t))
	rs := reporting.NewReminders(e.db, e.clock.Now)
	if err := rs.SetReminder(t.Context(), s, id, reporting.ReminderForm{Due: today.Format(time.DateOnly), Reason: "Rückruf"}); err != nil {
		t.Fatal(err)
	}
	if due, err := rs.DueReminders(t.Context(), s); err != nil || len(due) != 1 || due[0].Reason != "Rückruf" {
		t.Fatalf("before the move: %+v, %v; want the reminder", due, err)
	}
	other, _ := e.addTeam(t, "Team Herne")
	if _, err := e.cases.Transfer(t.Context(), s, id, other); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.rawDB(t).QueryRow(`SELECT count(*) FROM reminders`).Scan(&n); err != nil || n != 0 {
		t.Errorf("after the move %d reminders are stored (%v), want none", n, err)
	}
	if due, err := rs.DueReminders(t.Context(), s); err != nil || len(due) != 0 {
		t.Errorf("after the move the old team still lists %+v (%v)", due, err)
	}
}
