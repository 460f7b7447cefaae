package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// With the audit log unable to take an entry, a counsellor's change is
// not saved, and the page says in plain words that something went wrong
// on our side (never the database's text).
func TestChangeRefusedWhenAuditLogDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, caseURL := onlyCase(t, e)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")
	raw := rawDB(t, e)
	if _, err := raw.Exec(`CREATE TRIGGER audit_down BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END`); err != nil {
		t.Fatal(err)
	}
	resp, page := postAs(t, c, caseURL+"/classification", triage())
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("classification with the audit log down: status %d, want 500", resp.StatusCode)
	}
	wantAll(t, "the error page", page, "Auf unserer Seite ist ein Fehler passiert.")
	if strings.Contains(page, "audit log unavailable") || strings.Contains(page, "storage:") {
		t.Error("the error page shows internal error text")
	}
	if row, err := e.DB.CaseRow(t.Context(), id); err != nil || row.Classification != nil {
		t.Errorf("the classification was stored without its audit entry: %+v, %v", row.Classification, err)
	}
	if _, err := raw.Exec(`DROP TRIGGER audit_down`); err != nil {
		t.Fatal(err)
	}
	if resp, _ := postAs(t, c, caseURL+"/classification", triage()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("classification with the audit log back: status %d, want 303", resp.StatusCode)
	}
	if row, err := e.DB.CaseRow(t.Context(), id); err != nil || row.Classification == nil {
		t.Errorf("the classification was not stored with the log back: %v", err)
	}
}
