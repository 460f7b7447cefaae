package reporting_test

import (
	"context"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// caseExportAtomicCases are the failing-audit cases of the case file
// export (issue 13).
func caseExportAtomicCases() []atomicCase {
	return []atomicCase{
		{action: reporting.AuditCaseExport, prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			ce := reporting.NewCaseExports(e.db, e.clock.Now)
			if err := e.cases.AddNote(t.Context(), s, id, "Rückruf vereinbart"); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
				f, err := ce.ExportCase(ctx, s, id, reporting.CaseExportForm{Format: reporting.ExportPDF, Parts: reporting.ExportParts})
				if err != nil && f.Report.Description != "" {
					// The export's content never comes without its entry.
					t.Errorf("the case file came with its error")
				}
				return err
			}
		}},
	}
}

// An export whose audit entry cannot be written hands out nothing.
func TestFailingAuditCaseExport(t *testing.T) {
	runAtomicCases(t, caseExportAtomicCases())
}
