package reporting_test

import (
	"context"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// officeTimeAtomicCases are the failing-audit cases of the office's time
// zone (issue 13).
func officeTimeAtomicCases() []atomicCase {
	return []atomicCase{
		{
			action: reporting.AuditSettings,
			name:   "office_time_zone",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				return func(ctx context.Context) error {
					_, err := e.settings.SetOfficeZone(ctx, s, "Europe/Lisbon")
					return err
				}
			},
		},
	}
}

func TestFailingAuditOfficeTime(t *testing.T) {
	runAtomicCases(t, officeTimeAtomicCases())
}
