package reporting_test

import (
	"context"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// reminderAtomicCases are the failing-audit cases of reminders (issue 13).
func reminderAtomicCases() []atomicCase {
	return []atomicCase{
		{action: reporting.AuditReminder, name: "set", prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			rs := reporting.NewReminders(e.db, e.clock.Now)
			// An open reminder that the new one would replace.
			if err := rs.SetReminder(t.Context(), s, id, reporting.ReminderForm{Due: "2026-05-22", Reason: "Rückruf"}); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
				return rs.SetReminder(ctx, s, id, reporting.ReminderForm{Due: "2026-05-27", Reason: "Antwort des Arbeitgebers prüfen"})
			}
		}},
		{action: reporting.AuditReminder, name: "done", prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			rs := reporting.NewReminders(e.db, e.clock.Now)
			if err := rs.SetReminder(t.Context(), s, id, reporting.ReminderForm{Due: "2026-05-22", Reason: "Rückruf"}); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error { return rs.DoneReminder(ctx, s, id) }
		}},
		{action: reporting.AuditReminderList, prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			rs := reporting.NewReminders(e.db, e.clock.Now)
			if err := rs.SetReminder(t.Context(), s, id, reporting.ReminderForm{Due: today.Format(time.DateOnly), Reason: "Rückruf"}); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
				list, err := rs.DueReminders(ctx, s)
				if err != nil && list != nil {
					// The reasons are case content: none without its entry.
					t.Errorf("the due reminders came with their error: %v", list)
				}
				return err
			}
		}},
	}
}

// A reminder set, replaced, done or listed leaves nothing behind when
// its audit entry cannot be written.
func TestFailingAuditReminders(t *testing.T) {
	runAtomicCases(t, reminderAtomicCases())
}
