package reporting_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// triageOf is the triage panel's form for the record validClassification
// gives, moving the case to status and assigning it to user.
func triageOf(status string, user int64) reporting.TriageForm {
	c := validClassification()
	return reporting.TriageForm{
		Status: status, Assignee: strconv.FormatInt(user, 10), Grounds: c.Grounds, Subgrounds: c.Subgrounds,
		Areas: c.Areas, Municipality: c.Municipality, Forms: c.Forms, AGGRelevant: c.AGGRelevant,
	}
}

// triageAtomicCases are the failing-audit cases of the triage panel and
// the detailed classification (issue 13): the panel's changes are one
// unit of work, so none of them stands when an entry cannot be written.
func triageAtomicCases() []atomicCase {
	return []atomicCase{
		{action: reporting.AuditClassify, name: "triage", prepare: func(t *testing.T, e *env) func(context.Context) error {
			// Record, status and assignee all change: all three roll back.
			_, s, id := caseSetUp(t, e)
			return func(ctx context.Context) error {
				return e.cases.Triage(ctx, s, id, triageOf(reporting.StatusTriage, s.User.ID))
			}
		}},
		{action: reporting.AuditStatus, name: "triage", prepare: func(t *testing.T, e *env) func(context.Context) error {
			// The record is unchanged: the status change comes first.
			_, s, id := caseSetUp(t, e)
			if err := e.cases.Classify(t.Context(), s, id, validClassification()); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
				return e.cases.Triage(ctx, s, id, triageOf(reporting.StatusTriage, s.User.ID))
			}
		}},
		{action: reporting.AuditStatus, name: "triage closing", prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			if err := e.cases.Triage(t.Context(), s, id, triageOf(reporting.StatusTriage, 0)); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
				f := triageOf(reporting.StatusClosed, 0)
				f.ClosingReason = "resolved"
				return e.cases.Triage(ctx, s, id, f)
			}
		}},
		{action: reporting.AuditAssign, name: "triage", prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			if err := e.cases.Triage(t.Context(), s, id, triageOf(reporting.StatusTriage, 0)); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
				return e.cases.Triage(ctx, s, id, triageOf("", s.User.ID))
			}
		}},
		{action: reporting.AuditClassify, name: "details", prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			if err := e.cases.Classify(t.Context(), s, id, validClassification()); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
				f := validClassification()
				f.Level = "structural"
				return e.cases.ClassifyDetails(ctx, s, id, f)
			}
		}},
	}
}

// A triage or detailed save whose audit entry fails leaves the case as it was.
func TestFailingAuditTriage(t *testing.T) {
	t.Parallel()
	runAtomicCases(t, triageAtomicCases())
}
