package reporting_test

import "testing"

// caseAtomicCases are the failing-audit cases of case work, attachments, follow-up, retention.
func caseAtomicCases() []atomicCase {
	return nil
}

// With the audit log down, no change of case work, attachments, follow-up, retention stands.
func TestAuditFailureCases(t *testing.T) {
	runAtomicCases(t, caseAtomicCases())
}
