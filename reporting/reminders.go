package reporting

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Audit actions of reminders (Wiedervorlage, issue 13).
const (
	// AuditReminder: a reminder was set ("set due=…") or marked done ("done").
	AuditReminder = "reminder"
	// AuditReminderList: the due reminders of the session's teams were
	// decrypted for the start page.
	AuditReminderList = "reminder_list"
)

// MaxReminderReason is the longest reason of a reminder, in characters.
const MaxReminderReason = 200

// purposeReminder is the AD purpose of a reminder's reason.
const purposeReminder = "reminder"

// StoredReminder is a case's open reminder as stored: the due day in
// plain, the reason sealed to the team's public key.
type StoredReminder struct {
	ReportID string
	CaseNo   string
	TeamID   int64  // the team the reason is sealed to
	Due      string // a date, YYYY-MM-DD
	UserID   int64  // who set it
	UserName string
	At       time.Time // when it was set
	Reason   []byte
}

// reminderAD binds a reminder's reason to its case, due day, author and
// time: a database writer who moves the date or the author gets a reason
// that no longer opens, shown as altered, not a reminder on another day.
func reminderAD(r StoredReminder) vault.AD {
	return vault.AD{Purpose: purposeReminder, Row: r.ReportID}.Bind(r.Due, strconv.FormatInt(r.UserID, 10), r.At.UTC().Format(time.RFC3339Nano))
}

// Reminder is a case's open reminder, opened with its team's key.
type Reminder struct {
	ReportID string
	CaseNo   string
	Due      string // YYYY-MM-DD
	Author   string
	Reason   string
	Overdue  bool // due before today
	DueToday bool
	// Altered: the reason did not open under the row's case, day, author
	// and time; Reason is empty.
	Altered bool
}

// ReminderForm is the reminder form of the case page.
type ReminderForm struct {
	Due    string // YYYY-MM-DD, as <input type="date"> sends it
	Reason string
}

// ReminderStore is what reminders read and write. storage.DB implements it.
type ReminderStore interface {
	AuditStore
	caseReader
	// SetReminder stores a case's reminder, replacing an open one;
	// EConflict if the case is not (or no longer) with team r.TeamID.
	SetReminder(ctx context.Context, r StoredReminder) error
	// ClearReminder deletes a case's reminder, if any.
	ClearReminder(ctx context.Context, reportID string) error
	// Reminder returns a case's reminder; false if it has none.
	Reminder(ctx context.Context, reportID string) (StoredReminder, bool, error)
	// DueReminders lists the reminders of the teams due on or before the
	// day, oldest due first.
	DueReminders(ctx context.Context, teams []int64, day string) ([]StoredReminder, error)
	// Setting returns a deployment setting (the office's time zone), or
	// an ENotFound error.
	Setting(ctx context.Context, key string) ([]byte, error)
}

// Reminders is the Wiedervorlage: one open reminder per case, with a day
// and a short reason, and the list of those due for the start page. It
// holds no keys: reasons open with the team keys of the *OfficeSession.
type Reminders struct {
	auditor
	store ReminderStore
}

// NewReminders returns the reminders service; now is the office's clock
// (which day is "today").
func NewReminders(store ReminderStore, now func() time.Time) *Reminders {
	return &Reminders{auditor: auditor{log: store, now: now}, store: store}
}

// today is the office's current day, in the office's time zone.
func (rs *Reminders) today(ctx context.Context) (string, error) {
	return officeDay(ctx, rs.store, rs.now())
}

// SetReminder sets the case's reminder, replacing the open one.
func (rs *Reminders) SetReminder(ctx context.Context, s *OfficeSession, id string, f ReminderForm) error {
	r, team, err := openCase(ctx, rs.store, s, id)
	if err != nil {
		return opError("set reminder", err)
	}
	if err := contentGone(r); err != nil {
		return err
	}
	today, err := rs.today(ctx)
	if err != nil {
		return opError("set reminder", err)
	}
	errs := fieldErrors{}
	due, perr := time.Parse(time.DateOnly, strings.TrimSpace(f.Due))
	switch {
	case perr != nil:
		errs.add("due", "reminder.error.date")
	case due.Format(time.DateOnly) < today:
		errs.add("due", "reminder.error.past")
	}
	reason := strings.TrimSpace(f.Reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		errs.add("reason", "reminder.error.reason_required")
	case n > MaxReminderReason || !utf8.ValidString(reason):
		errs.add("reason", "reminder.error.reason_too_long")
	}
	if err := errs.err(); err != nil {
		return err
	}
	sr := StoredReminder{ReportID: id, TeamID: r.TeamID, Due: due.Format(time.DateOnly), UserID: s.User.ID, At: rs.now()}
	// Sealed to the team's public key like a note, never under the data
	// key: the reporter's receipt opens the data key, and the office's
	// reasons are not for them. Sealed before the unit: it holds the writer.
	sr.Reason = team.Public().Seal([]byte(reason), reminderAD(sr))
	return opError("set reminder", rs.audited(ctx, s, AuditReminder, id, "set due="+sr.Due, func(ctx context.Context) error {
		return rs.store.SetReminder(ctx, sr)
	}))
}

// DoneReminder clears the case's reminder.
func (rs *Reminders) DoneReminder(ctx context.Context, s *OfficeSession, id string) error {
	if _, _, err := openCase(ctx, rs.store, s, id); err != nil {
		return opError("reminder done", err)
	}
	return opError("reminder done", rs.audited(ctx, s, AuditReminder, id, "done", func(ctx context.Context) error {
		return rs.store.ClearReminder(ctx, id)
	}))
}

// CaseReminder returns the case's open reminder, opened; nil if it has
// none. The case page calls it after CaseFile, whose opening is audited.
func (rs *Reminders) CaseReminder(ctx context.Context, s *OfficeSession, id string) (*Reminder, error) {
	r, team, err := openCase(ctx, rs.store, s, id)
	if err != nil {
		return nil, opError("case reminder", err)
	}
	sr, ok, err := rs.store.Reminder(ctx, id)
	if err != nil {
		return nil, opError("case reminder", err)
	}
	if !ok || sr.TeamID != r.TeamID {
		return nil, nil
	}
	sr.CaseNo = r.CaseNo
	today, err := rs.today(ctx)
	if err != nil {
		return nil, opError("case reminder", err)
	}
	rem := rs.open(team, sr, today)
	return &rem, nil
}

// DueReminders lists the reminders due today or earlier on the cases of
// the session's teams, opened, oldest due first.
func (rs *Reminders) DueReminders(ctx context.Context, s *OfficeSession) ([]Reminder, error) {
	teams := s.Keys.Teams()
	if len(teams) == 0 || !s.Can(PermCaseWork) {
		return nil, nil
	}
	today, err := rs.today(ctx)
	if err != nil {
		return nil, opError("due reminders", err)
	}
	stored, err := rs.store.DueReminders(ctx, teams, today)
	if err != nil || len(stored) == 0 {
		return nil, opError("due reminders", err)
	}
	list := make([]Reminder, 0, len(stored))
	for _, sr := range stored {
		team, ok := s.Keys.Team(sr.TeamID)
		if !ok { // the query asked for the session's teams only
			return nil, Errorf(ENotFound, "error.case.not_found")
		}
		list = append(list, rs.open(team, sr, today))
	}
	// The reasons are case content: none shown without its entry.
	if err := rs.audit(ctx, s, AuditReminderList, "", fmt.Sprintf("count=%d", len(list))); err != nil {
		return nil, opError("due reminders", err)
	}
	return list, nil
}

// open opens a stored reminder's reason; one that does not open is
// shown as altered, with its day but no text. today is the office's day.
func (rs *Reminders) open(team *vault.KeyPair, sr StoredReminder, today string) Reminder {
	rem := Reminder{ReportID: sr.ReportID, CaseNo: sr.CaseNo, Due: sr.Due, Author: sr.UserName,
		Overdue: sr.Due < today, DueToday: sr.Due == today}
	plain, err := team.Open(sr.Reason, reminderAD(sr))
	if err != nil {
		rem.Altered = true
		return rem
	}
	rem.Reason = string(plain)
	return rem
}
