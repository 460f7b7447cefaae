package reporting_test

import (
	"context"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// An error from below (here the audit log refusing its entry) leaves the
// case work, follow-up and attachment services named with the operation,
// so the log line an operator reads says what failed; it stays an
// internal error, so the person still sees the plain error page.
func TestCaseServiceErrorsNameTheOperation(t *testing.T) {
	e := newEnv(t)
	_, s, id := caseSetUp(t, e)
	breakAudit(t, e.rawDB(t))
	calls := []namedCall{
		{"case list", func(ctx context.Context) error {
			_, _, err := e.cases.Cases(ctx, s, reporting.Page{Limit: 10})
			return err
		}},
		{"case open", func(ctx context.Context) error { _, err := e.cases.Case(ctx, s, id); return err }},
		{"case file", func(ctx context.Context) error { _, err := e.cases.CaseFile(ctx, s, id); return err }},
		{"classify", func(ctx context.Context) error { return e.cases.Classify(ctx, s, id, validClassification()) }},
		{"change status", func(ctx context.Context) error {
			return e.cases.ChangeStatus(ctx, s, id, reporting.StatusForm{To: reporting.StatusTriage})
		}},
		{"assign", func(ctx context.Context) error { return e.cases.Assign(ctx, s, id, s.User.ID) }},
		{"add note", func(ctx context.Context) error { return e.cases.AddNote(ctx, s, id, "Rückruf vereinbart") }},
		{"send message", func(ctx context.Context) error { return e.replies.SendMessage(ctx, s, id, "Wir melden uns.") }},
	}
	wantOperationNamed(t, calls)
}
