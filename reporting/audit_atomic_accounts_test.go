package reporting_test

import "testing"

// accountAtomicCases are the failing-audit cases of sessions, login, accounts, invitations, recovery.
func accountAtomicCases() []atomicCase {
	return nil
}

// With the audit log down, no change of sessions, login, accounts, invitations, recovery stands.
func TestAuditFailureAccounts(t *testing.T) {
	runAtomicCases(t, accountAtomicCases())
}
