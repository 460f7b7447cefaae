package reporting

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// TriageForm is the case page's triage panel as typed: the status, the
// assignee and the short part of the classification, saved together.
type TriageForm struct {
	Status        string // the next status; "" keeps the current one
	ClosingReason string // required when Status closes the case
	Assignee      string // a member's user ID; "" or "0" for nobody
	Grounds       []string
	Subgrounds    []string
	Areas         []string
	Municipality  string
	Forms         []string
	AGGRelevant   string
}

// merge puts the panel's fields over the stored record's form. The
// detailed fields stay as stored, except sub-areas of an area no longer
// chosen: they could not stand without it.
func (f TriageForm) merge(base ClassificationForm) ClassificationForm {
	base.Grounds, base.Subgrounds, base.Areas = f.Grounds, f.Subgrounds, f.Areas
	base.Municipality, base.Forms, base.AGGRelevant = f.Municipality, f.Forms, f.AGGRelevant
	base.Subareas = slices.DeleteFunc(slices.Clone(base.Subareas), func(sub string) bool {
		return !slices.ContainsFunc(f.Areas, func(a string) bool { return slices.Contains(SubareasOf[a], sub) })
	})
	return base
}

// mergeDetails puts the detailed classification's fields over the stored
// record's form; the triage panel's fields stay as stored.
func mergeDetails(base, f ClassificationForm) ClassificationForm {
	base.Subareas, base.IncidentType, base.Level, base.ReporterRole = f.Subareas, f.IncidentType, f.Level, f.ReporterRole
	base.IncidentDate, base.IncidentDay, base.Interventions = f.IncidentDate, f.IncidentDay, f.Interventions
	base.ClosingReason = f.ClosingReason
	return base
}

// Triage saves the triage panel: the short classification, the status and
// the assignee. Everything is checked first and every problem comes back
// at once; then only what changed is written, each change with its own
// audit entry, all in one unit of work, so a failure leaves the case as
// it was.
func (cs *Cases) Triage(ctx context.Context, s *OfficeSession, id string, f TriageForm) error {
	r, team, err := openCase(ctx, cs.store, s, id)
	if err != nil {
		return opError("triage", err)
	}
	stored, base, rep, err := cs.storedRecord(team, r)
	if err != nil {
		return opError("triage", err)
	}
	errs := fieldErrors{}
	to := r.Status
	if f.Status != "" && f.Status != r.Status {
		if CanTransition(r.Status, f.Status) {
			to = f.Status
		} else {
			errs.add("status", "error.status.not_allowed")
		}
	}
	cf := f.merge(base)
	var closing *Closing
	switch {
	case to == StatusClosed && r.Status != StatusClosed:
		// The record is validated as closed, so the reason is required
		// and checked with the rest of it.
		cf.ClosingReason = f.ClosingReason
		closing = &Closing{On: cs.now().Format(time.DateOnly), Reason: f.ClosingReason}
	case r.Status == StatusClosed && to != StatusClosed:
		cf.ClosingReason, closing = "", &Closing{} // reopened: no longer closed
	}
	c, err := cf.Validate(to, cs.now())
	for k, v := range FieldErrors(err) {
		errs.add(k, v)
	}
	if err != nil && FieldErrors(err) == nil {
		return opError("triage", err)
	}
	assignee, aerr := cs.triageAssignee(ctx, r, f.Assignee)
	if aerr != nil {
		if FieldErrors(aerr) == nil {
			return opError("triage", aerr)
		}
		errs.add("assignee", "error.assign.not_member")
	}
	if err := errs.err(); err != nil {
		return err
	}
	c.ReportID = id
	detail := "created"
	if stored != nil {
		c.ClosedOn, detail = stored.ClosedOn, "updated"
	}
	classify := stored == nil || !sameRecord(*stored, c)
	var dates CaseDates
	if classify {
		if dates, err = cs.sealDates(team, r, c); err != nil {
			return opError("triage", err)
		}
	}
	return opError("triage", cs.store.Atomically(ctx, func(ctx context.Context) error {
		if classify {
			// The working flags go with the record (the copy is kept once
			// made, so a later save writes nothing more).
			if err := cs.audited(ctx, s, AuditClassify, id, detail, func(ctx context.Context) error {
				if err := cs.copyFlags(ctx, r, rep); err != nil {
					return err
				}
				return cs.store.PutClassification(ctx, c, dates)
			}); err != nil {
				return err
			}
		}
		if to != r.Status {
			ch := StatusChange{ReportID: id, From: r.Status, To: to, UserID: s.User.ID, At: cs.now()}
			if err := cs.audited(ctx, s, AuditStatus, id, r.Status+"→"+to, func(ctx context.Context) error {
				if err := cs.copyFlags(ctx, r, rep); err != nil {
					return err
				}
				return cs.store.ChangeStatus(ctx, ch, closing)
			}); err != nil {
				return err
			}
		}
		if assignee == r.Assignee {
			return nil
		}
		who := "none"
		if assignee != 0 {
			who = "user=" + strconv.FormatInt(assignee, 10)
		}
		return cs.audited(ctx, s, AuditAssign, id, who, func(ctx context.Context) error {
			return cs.store.Assign(ctx, id, r.TeamID, assignee)
		})
	}))
}

// ClassifyDetails saves the detailed classification: its fields are put
// over the stored record (or, before triage, the one prefilled from the
// report), so the triage panel's fields are never wiped by it. Nothing is
// written or audited when nothing changed.
func (cs *Cases) ClassifyDetails(ctx context.Context, s *OfficeSession, id string, f ClassificationForm) error {
	r, team, err := openCase(ctx, cs.store, s, id)
	if err != nil {
		return opError("classify", err)
	}
	stored, base, rep, err := cs.storedRecord(team, r)
	if err != nil {
		return opError("classify", err)
	}
	c, err := mergeDetails(base, f).Validate(r.Status, cs.now())
	if err != nil {
		return err
	}
	c.ReportID = id
	detail := "created"
	if stored != nil {
		c.ClosedOn, detail = stored.ClosedOn, "updated"
		if sameRecord(*stored, c) {
			return nil
		}
	}
	dates, err := cs.sealDates(team, r, c)
	if err != nil {
		return opError("classify", err)
	}
	return opError("classify", cs.audited(ctx, s, AuditClassify, id, detail, func(ctx context.Context) error {
		if err := cs.copyFlags(ctx, r, rep); err != nil {
			return err
		}
		return cs.store.PutClassification(ctx, c, dates)
	}))
}

// storedRecord opens the case's record (with its sealed day) and returns
// it, nil before triage, the form the panels start from (the record, or
// what the reporter chose), and the report (for its working flags).
func (cs *Cases) storedRecord(team *vault.KeyPair, r CaseRow) (*Classification, ClassificationForm, Report, error) {
	c, err := cs.decrypt(team, r)
	if err != nil {
		return nil, ClassificationForm{}, Report{}, err
	}
	if c.Classification == nil {
		return nil, PrefillClassification(c.Report), c.Report, nil
	}
	return c.Classification, c.Classification.Form(), c.Report, nil
}

// sealDates seals the record's day under the case's data key, as Classify
// does; once retention has deleted the content there is no key left, and
// the day is not kept at all.
func (cs *Cases) sealDates(team *vault.KeyPair, r CaseRow, c Classification) (CaseDates, error) {
	if r.ContentDeletedOn != "" {
		return CaseDates{Week: c.DeadlineWeek()}, nil
	}
	dk, err := team.OpenKey(r.SealedKey, vault.AD{Purpose: purposeSealedKey, Row: r.ID})
	if err != nil {
		return CaseDates{}, err
	}
	return sealCaseDates(dk, r.ID, c), nil
}

// triageAssignee checks the panel's assignee: nobody, the current one, or
// a member of the case's team.
func (cs *Cases) triageAssignee(ctx context.Context, r CaseRow, raw string) (int64, error) {
	if raw == "" || raw == "0" {
		return 0, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, fieldErrors{"assignee": "error.assign.not_member"}.err()
	}
	if id == r.Assignee {
		return id, nil
	}
	members, err := cs.store.Assignees(ctx, []int64{r.TeamID})
	if err != nil {
		return 0, err
	}
	if !slices.ContainsFunc(members, func(m Assignee) bool { return m.ID == id }) {
		return 0, fieldErrors{"assignee": "error.assign.not_member"}.err()
	}
	return id, nil
}

// sameRecord reports whether two records hold the same classification
// (an empty and a missing list are the same).
func sameRecord(a, b Classification) bool {
	return a.Year == b.Year && a.Month == b.Month && a.Day == b.Day && a.Municipality == b.Municipality &&
		slices.Equal(a.Grounds, b.Grounds) && slices.Equal(a.Subgrounds, b.Subgrounds) &&
		slices.Equal(a.Areas, b.Areas) && slices.Equal(a.Subareas, b.Subareas) && slices.Equal(a.Forms, b.Forms) &&
		a.Level == b.Level && a.IncidentType == b.IncidentType && a.ReporterRole == b.ReporterRole &&
		a.AGGRelevant == b.AGGRelevant && slices.Equal(a.Interventions, b.Interventions) &&
		a.ClosingReason == b.ClosingReason
}
