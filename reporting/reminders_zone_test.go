package reporting_test

import (
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
)

// "Today" for reminders is the office's day (Europe/Berlin by default),
// not the server clock's UTC day: at 00:30 in Berlin (22:30 UTC the day
// before, in summer) a reminder for the Berlin day is due today, on the
// start page and in the list's "reminder due" filter, and a reminder for
// the UTC day is already in the past.
func TestReminderDueInOfficeTimeZone(t *testing.T) {
	e, _, id := caseSetUp(t, newEnv(t))
	e.clock.Advance(12 * time.Hour) // 2026-05-20 22:30 UTC = 2026-05-21 00:30 in Berlin
	_, s := e.login(t)
	rs := reporting.NewReminders(e.db, e.clock.Now)
	ctx := t.Context()
	err := rs.SetReminder(ctx, s, id, reporting.ReminderForm{Due: "2026-05-20", Reason: "Rückruf"})
	if got := reporting.FieldErrors(err)["due"]; got != "reminder.error.past" {
		t.Errorf("a reminder for the UTC day, yesterday in Berlin: error %q (%v), want reminder.error.past", got, err)
	}
	if err := rs.SetReminder(ctx, s, id, reporting.ReminderForm{Due: "2026-05-21", Reason: "Rückruf"}); err != nil {
		t.Fatal(err)
	}
	due, err := rs.DueReminders(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || !due[0].DueToday || due[0].Overdue || due[0].Reason != "Rückruf" {
		t.Errorf("start page at 00:30 Berlin time: %+v, want the reminder for 2026-05-21 as due today", due)
	}
	list, total, _, err := e.cases.CaseList(ctx, s, reporting.CaseFilter{Due: true, Page: reporting.Page{Limit: 10}})
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != id {
		t.Errorf("list with reminder due: %d of %d, %v; want the case", len(list), total, err)
	}
	// Tomorrow's reminder is not due yet.
	if err := rs.SetReminder(ctx, s, id, reporting.ReminderForm{Due: "2026-05-22", Reason: "später"}); err != nil {
		t.Fatal(err)
	}
	if due, err := rs.DueReminders(ctx, s); err != nil || len(due) != 0 {
		t.Errorf("a reminder for tomorrow is listed as due: %+v, %v", due, err)
	}
	if _, total, _, err := e.cases.CaseList(ctx, s, reporting.CaseFilter{Due: true, Page: reporting.Page{Limit: 10}}); err != nil || total != 0 {
		t.Errorf("list with reminder due finds %d cases (%v) with a reminder for tomorrow, want none", total, err)
	}
}

// The reminder mail's day is the office's day too: at 00:30 in Berlin a
// reminder for that Berlin day sends its mail, although the UTC day is
// still the one before.
func TestReminderMailOnTheOfficeDay(t *testing.T) {
	e, _, id := caseSetUp(t, newEnv(t))
	e.clock.Advance(12 * time.Hour) // 2026-05-21 00:30 in Berlin
	_, s := e.login(t)
	if _, err := e.rawDB(t).Exec(`UPDATE users SET email = 'admin@example.org'`); err != nil {
		t.Fatal(err)
	}
	rs := reporting.NewReminders(e.db, e.clock.Now)
	if err := rs.SetReminder(t.Context(), s, id, reporting.ReminderForm{Due: "2026-05-21", Reason: "Rückruf"}); err != nil {
		t.Fatal(err)
	}
	tr, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	var mails mailLog
	n := reporting.NewNotifier(e.db, reporting.NotifierConfig{BaseURL: "https://melden.example.org", Mailer: &mails,
		Texts: tr, Languages: i18n.OfficeLanguages, Now: e.clock.Now})
	if queued, err := n.RemindDue(t.Context()); err != nil || queued != 1 {
		t.Errorf("at 00:30 Berlin time with a reminder due that day: %d mails queued (%v), want 1", queued, err)
	}
}
