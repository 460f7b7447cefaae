package reporting

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Retention (issue 5): a case's content is deleted on a schedule while its
// statistical record survives. Content means everything a person wrote or
// could be recognised by: the sealed report, its keys, messages, notes and
// attachments. The report row stays with case number, team, received_on
// and status; the record, its grounds and the status history stay too.
//
// Never-triaged reports (still "new") are deleted after their own period,
// counted from the day they were received: nobody has looked at them, so
// nobody needs them, and keeping unread content forever would be the
// opposite of data minimisation. 0 keeps them (until they are triaged).

const settingRetention = "retention"

// Retention periods: the defaults and the allowed ranges.
const (
	DefaultRetentionClosedMonths = 12
	DefaultRetentionNewMonths    = 6
	MinRetentionClosedMonths     = 1
	MaxRetentionClosedMonths     = 120
	MaxRetentionNewMonths        = 120
)

// Reasons a case is due for deletion.
const (
	RetentionReasonClosed    = "closed"    // closed or documented longer than the period
	RetentionReasonUntriaged = "untriaged" // still new longer than its period
)

// RetentionSettings are the retention periods, in months.
type RetentionSettings struct {
	// ClosedMonths: content is kept this long after a case was closed or
	// documented (1–120).
	ClosedMonths int `json:"closed_months"`
	// NewMonths: content of a report still "new" is kept this long after it
	// was received (0 = kept, 1–120).
	NewMonths int `json:"new_months"`
}

// RetentionForm is the settings form as typed.
type RetentionForm struct {
	ClosedMonths string
	NewMonths    string
}

// RetentionCandidate is a report whose content could be due: closed,
// documented or still new, content not yet deleted. Since is the day it
// was closed or documented (or received, for new reports): a date, or an
// RFC 3339 time in UTC from the status history.
type RetentionCandidate struct {
	ReportID string
	CaseNo   string
	Status   string
	Since    string
}

// RetentionDue is a case whose content is due for deletion.
type RetentionDue struct {
	ReportID string
	CaseNo   string
	Status   string
	Reason   string // RetentionReasonClosed or RetentionReasonUntriaged
	Since    string // the day the period started
	DueOn    string // the day the content became due
}

// RetentionStore is what the sweep needs from the store; storage.DB
// implements it.
type RetentionStore interface {
	// RetentionCandidates lists the reports with content that are closed
	// or documented, and the new ones received on or before newBefore
	// (none when newBefore is "").
	RetentionCandidates(ctx context.Context, newBefore string) ([]RetentionCandidate, error)
	// DeleteReportContents deletes the content of the given reports
	// (leaving their rows, records and histories), marks them deleted on
	// the day, and appends the audit entries, all in one transaction. It
	// gives the freed space back after the commit, so it never runs in a
	// unit of work.
	DeleteReportContents(ctx context.Context, ids []string, on string, entries []*AuditEntry) error
	// Checkpoint empties the WAL so that deleted bytes leave the files.
	Checkpoint(ctx context.Context) error
}

// RetentionServiceStore is what the Retention service reads and writes:
// the sweep's part of the store, the retention setting with its MAC
// (and the count of users that tells a deleted row from one never set),
// and the audit log. storage.DB implements it.
type RetentionServiceStore interface {
	AuditStore
	RetentionStore
	// SettingMAC returns a setting and its MAC (nil when none is
	// stored), or an ENotFound error.
	SettingMAC(ctx context.Context, key string) (value, mac []byte, err error)
	// PutSettingMAC stores or replaces a setting with its MAC.
	PutSettingMAC(ctx context.Context, key string, value, mac []byte) error
	// CountUsers returns how many office users exist.
	CountUsers(ctx context.Context) (int, error)
}

// Retention keeps the retention periods and deletes case content when
// they run out. It holds no key: deleting needs none.
type Retention struct {
	auditor
	store  RetentionServiceStore
	anchor *Anchor // the periods are a MACed security setting
	now    func() time.Time
}

// NewRetention returns the retention service; anchor checks the stored
// periods.
func NewRetention(store RetentionServiceStore, anchor *Anchor, now func() time.Time) *Retention {
	return &Retention{auditor: auditor{log: store, now: now}, store: store, anchor: anchor, now: now}
}

// RetentionSettings returns the retention periods; the defaults before
// setup, the integrity error when the row was deleted after it.
func (r *Retention) RetentionSettings(ctx context.Context) (RetentionSettings, error) {
	set := RetentionSettings{ClosedMonths: DefaultRetentionClosedMonths, NewMonths: DefaultRetentionNewMonths}
	// MACed and required once set up: a database writer must not be able
	// to stretch or shorten how long case content is kept, by changing
	// the row or by deleting it (which would restore the defaults).
	raw, err := r.anchor.requiredSetting(ctx, r.store, r.now(), settingRetention)
	if ErrorCode(err) == ENotFound {
		return set, nil
	}
	if err != nil {
		return set, opError("retention settings", err)
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return set, opError("retention settings", err)
	}
	return set, nil
}

// Form returns the settings as the form shows them.
func (r RetentionSettings) Form() RetentionForm {
	return RetentionForm{ClosedMonths: strconv.Itoa(r.ClosedMonths), NewMonths: strconv.Itoa(r.NewMonths)}
}

// SetRetention validates and stores the retention periods (admins only).
func (r *Retention) SetRetention(ctx context.Context, s *OfficeSession, f RetentionForm) error {
	if err := allow(s, PermSettings); err != nil {
		return err
	}
	errs := fieldErrors{}
	closed, err := strconv.Atoi(strings.TrimSpace(f.ClosedMonths))
	if err != nil || closed < MinRetentionClosedMonths || closed > MaxRetentionClosedMonths {
		errs.add("closed_months", "retention.error.closed_months")
	}
	fresh, err := strconv.Atoi(strings.TrimSpace(f.NewMonths))
	if err != nil || fresh < 0 || fresh > MaxRetentionNewMonths {
		errs.add("new_months", "retention.error.new_months")
	}
	if err := errs.err(); err != nil {
		return err
	}
	raw, _ := json.Marshal(RetentionSettings{ClosedMonths: closed, NewMonths: fresh})
	mac := r.anchor.SettingMAC(settingRetention, raw)
	err = r.audited(ctx, s, AuditSettings, "", "retention:"+strconv.Itoa(closed)+","+strconv.Itoa(fresh), func(ctx context.Context) error {
		return r.store.PutSettingMAC(ctx, settingRetention, raw, mac)
	})
	return opError("set retention", err)
}

// RetentionDueList is the dry run for the admin page: the cases whose
// content is due today.
func (r *Retention) RetentionDueList(ctx context.Context, s *OfficeSession) ([]RetentionDue, error) {
	if err := allow(s, PermSettings); err != nil {
		return nil, err
	}
	return r.RetentionPlan(ctx, r.now())
}

// RetentionPlan lists the cases whose content is due at now, by case
// number. It changes nothing (the dry run of `meldestelle retention`).
func (r *Retention) RetentionPlan(ctx context.Context, now time.Time) ([]RetentionDue, error) {
	set, err := r.RetentionSettings(ctx)
	if err != nil {
		return nil, opError("retention plan", err)
	}
	today := now.Format(time.DateOnly)
	newBefore := ""
	if set.NewMonths > 0 {
		// Loose bound for the query; the exact due day is decided below.
		newBefore = now.AddDate(0, -set.NewMonths, 1).Format(time.DateOnly)
	}
	cands, err := r.store.RetentionCandidates(ctx, newBefore)
	if err != nil {
		return nil, opError("retention plan", err)
	}
	var due []RetentionDue
	for _, c := range cands {
		since, ok := retentionDay(c.Since, now.Location())
		if !ok {
			continue // an unreadable date deletes nothing
		}
		d := RetentionDue{ReportID: c.ReportID, CaseNo: c.CaseNo, Status: c.Status, Since: since.Format(time.DateOnly)}
		switch {
		case c.Status == StatusClosed || c.Status == StatusDocumented:
			d.Reason = RetentionReasonClosed
			d.DueOn = since.AddDate(0, set.ClosedMonths, 0).Format(time.DateOnly)
		case c.Status == StatusNew && set.NewMonths > 0:
			d.Reason = RetentionReasonUntriaged
			d.DueOn = since.AddDate(0, set.NewMonths, 0).Format(time.DateOnly)
		default:
			continue
		}
		if d.DueOn <= today {
			due = append(due, d)
		}
	}
	return due, nil
}

// retentionDay reads a date or an RFC 3339 time as a day in loc.
func retentionDay(s string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t = t.In(loc)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc), true
	}
	t, err := time.ParseInLocation(time.DateOnly, s, loc)
	return t, err == nil
}

// retentionBatch is how many reports one transaction deletes: large
// enough to be quick, small enough not to hold the writer for long.
const retentionBatch = 500

// RetentionSweep deletes the content of every case due at now and keeps
// its statistical record. Each deletion commits with its audit entry
// (system user, detail "retention"); afterwards the WAL is checkpointed so
// that, with secure_delete, the bytes are gone from the files. It returns
// how many reports were swept.
func (r *Retention) RetentionSweep(ctx context.Context, now time.Time) (int, error) {
	due, err := r.RetentionPlan(ctx, now)
	if err != nil {
		return 0, opError("retention sweep", err)
	}
	today := now.Format(time.DateOnly)
	done := 0
	for start := 0; start < len(due); start += retentionBatch {
		batch := due[start:min(start+retentionBatch, len(due))]
		ids := make([]string, len(batch))
		entries := make([]*AuditEntry, len(batch))
		for i, d := range batch {
			ids[i] = d.ReportID
			entries[i] = &AuditEntry{At: now, UserName: "system", Action: AuditDelete, ReportID: d.ReportID, Detail: "retention"}
		}
		if err := r.store.DeleteReportContents(ctx, ids, today, entries); err != nil {
			return done, opError("retention sweep", err)
		}
		done += len(batch)
	}
	if done == 0 {
		return 0, nil
	}
	// Why: without the checkpoint the old pages would stay in the -wal file.
	return done, opError("retention sweep", r.store.Checkpoint(ctx))
}

// RunRetention sweeps at once and then every interval until ctx ends;
// errors are logged and the next run tries again.
func (r *Retention) RunRetention(ctx context.Context, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := r.RetentionSweep(ctx, r.now())
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("retention: sweep", "err", err, "deleted", n)
		case n > 0:
			logger.Info("retention: content deleted", "reports", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// contentGone refuses work that needs a case's data key once retention
// has deleted it: a clear message instead of a failed decryption.
func contentGone(r CaseRow) error {
	if r.ContentDeletedOn != "" {
		return Errorf(EConflict, "retention.error.deleted")
	}
	return nil
}
