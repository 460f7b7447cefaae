package reporting_test

import (
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// areaServices are the office's services beside the Office itself, on
// the env's database, clock and anchor.
type areaServices struct {
	teams      *reporting.Teams
	stats      *reporting.Stats
	retention  *reporting.Retention
	settings   *reporting.Settings
	auditTrail *reporting.AuditTrail
	notifier   *reporting.Notifier // no mailer: addresses and the outbox only
}

// newAreaServices builds the area services of e; Teams reaches the live
// sessions through e.office.
func newAreaServices(t *testing.T, e *env) areaServices {
	t.Helper()
	stats, err := reporting.NewStats(e.db, reporting.StatsK, e.clock.Now)
	if err != nil {
		t.Fatalf("NewStats: %v", err)
	}
	return areaServices{
		teams:      reporting.NewTeams(e.db, e.office, e.anchor, e.clock.Now),
		stats:      stats,
		retention:  reporting.NewRetention(e.db, e.anchor, e.clock.Now),
		settings:   reporting.NewSettings(e.db, e.clock.Now),
		auditTrail: reporting.NewAuditTrail(e.db),
		notifier:   reporting.NewNotifier(e.db, reporting.NotifierConfig{Now: e.clock.Now}),
	}
}
