package reporting_test

import (
	"context"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// netExportAtomicCases are the failing-audit cases of the network export
// (issue 14): it changes nothing, so the case shows that no rows leave
// when the entry cannot be written.
func netExportAtomicCases() []atomicCase {
	return []atomicCase{
		{
			action: reporting.AuditNetworkExport,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				n, err := reporting.NewNetworkExports(e.db, reporting.StatsK, e.clock.Now)
				if err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error {
					x, err := n.Export(ctx, s, today.Year(), 0, "csv")
					if err != nil && (x.Records != 0 || x.Rows != nil) {
						t.Errorf("a failed export handed back %d records", x.Records)
					}
					return err
				}
			},
		},
	}
}

func TestFailingAuditNetworkExport(t *testing.T) {
	runAtomicCases(t, netExportAtomicCases())
}
