package reporting_test

import (
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// Every case status maps to words a reporter understands, and an answer
// waiting for the reporter says so whatever the status.
func TestReporterStatus(t *testing.T) {
	want := map[string]string{
		"new": "received", "triage": "reading",
		"counselling": "in_progress", "intervention": "in_progress", "referred": "in_progress",
		"closed": "closed", "documented": "closed", "withdrawn": "closed",
	}
	for _, s := range reporting.Statuses {
		w, ok := want[s]
		if !ok {
			t.Errorf("status %q has no plain words for reporters", s)
			continue
		}
		if got := reporting.ReporterStatus(s, false); got != w {
			t.Errorf("ReporterStatus(%q) = %q, want %q", s, got, w)
		}
		if got := reporting.ReporterStatus(s, true); got != reporting.ReporterAnswered {
			t.Errorf("ReporterStatus(%q, answered) = %q, want %q", s, got, reporting.ReporterAnswered)
		}
	}
}
