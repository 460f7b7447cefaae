package reporting

// CaseStore keeps case work: the statistical record (classification),
// status history, assignment, internal notes and the filtered case list.
// (Issue 3, triage work fills it in.)
type CaseStore interface{}
