package reporting_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// listAtomicCases are the failing-audit cases of the case list's search
// and bulk changes (issue 13).
func listAtomicCases() []atomicCase {
	return []atomicCase{
		{action: reporting.AuditCaseList, name: "search", prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, _ := caseSetUp(t, e)
			return func(ctx context.Context) error {
				cases, total, _, err := e.cases.CaseList(ctx, s, reporting.CaseFilter{Text: "a", Page: reporting.Page{Limit: 10}})
				if err != nil && (cases != nil || total != 0) {
					// Search results are decrypted content: none without the entry.
					t.Errorf("the search came with its error: %d cases, total %d", len(cases), total)
				}
				return err
			}
		}},
		{action: reporting.AuditStatus, name: "bulk", prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			return func(ctx context.Context) error {
				res, err := e.cases.Bulk(ctx, s, []string{id}, reporting.BulkChange{Status: reporting.StatusTriage})
				if err != nil && len(res.Changed) != 0 {
					t.Errorf("the bulk change reports %v changed although it failed", res.Changed)
				}
				return err
			}
		}},
		{action: reporting.AuditAssign, name: "bulk", prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			return func(ctx context.Context) error {
				_, err := e.cases.Bulk(ctx, s, []string{id}, reporting.BulkChange{Assignee: strconv.FormatInt(s.User.ID, 10)})
				return err
			}
		}},
	}
}

// Bulk changes and the search write their entries with their change, or
// nothing.
func TestFailingAuditLists(t *testing.T) {
	t.Parallel()
	runAtomicCases(t, listAtomicCases())
}
