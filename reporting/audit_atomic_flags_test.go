package reporting_test

import (
	"context"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// flagAtomicCases are the failing-audit cases of the working flags (issue
// 13): a list that decrypts a triaged case without flags copies them with
// its own entry, or not at all. (The triage panel and the case page copy
// them inside their own units; their cases are in triageAtomicCases and
// caseAtomicCases, whose dumps include the flag columns.)
func flagAtomicCases() []atomicCase {
	return []atomicCase{
		{action: reporting.AuditCaseList, name: "copy flags", prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			if err := e.cases.Classify(t.Context(), s, id, validClassification()); err != nil {
				t.Fatal(err)
			}
			// As triaged before the flags existed.
			tamper(t, e, `UPDATE reports SET wish = NULL, has_contact = NULL`)
			return func(ctx context.Context) error {
				cases, _, _, err := e.cases.CaseList(ctx, s, reporting.CaseFilter{Wish: "document_only", Page: reporting.Page{Limit: 10}})
				if err == nil && len(cases) != 1 {
					t.Errorf("the filter found %d cases, want the one triaged case", len(cases))
				}
				return err
			}
		}, check: func(t *testing.T, e *env) {
			var n int
			if err := e.rawDB(t).QueryRow(`SELECT count(*) FROM reports WHERE wish IS NOT NULL`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d cases have flags after the list failed (%v), want 0", n, err)
			}
		}},
	}
}

// A list's copy of working flags stands with its entry, or not at all.
func TestFailingAuditFlags(t *testing.T) {
	t.Parallel()
	runAtomicCases(t, flagAtomicCases())
}
