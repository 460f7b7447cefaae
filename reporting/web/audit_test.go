package web_test

import (
	"database/sql"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/storage"
)

// tamper changes the database behind the service's back, as someone with
// the file would.
func tamper(t *testing.T, e *env, query string) {
	t.Helper()
	db, err := sql.Open("sqlite3", filepath.Join(e.Dir, storage.FileName)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), query); err != nil {
		t.Fatal(err)
	}
}

// The admin's audit page lists who logged in and who opened which case,
// never the case's content, and says when the chain has been tampered
// with.
func TestAuditPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	secret := "Geheimnis im Audit"
	submit(t, e, "de", validReport(secret))
	c := login(t, e)
	_, list := getAs(t, c, e.URL+"/office/cases")
	m := regexp.MustCompile(`href="/office/cases/([0-9a-f-]{36})"`).FindStringSubmatch(list)
	if m == nil {
		t.Fatal("no case")
	}
	getAs(t, c, e.URL+"/office/cases/"+m[1])

	resp, page := getAs(t, c, e.URL+"/office/audit")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("audit page: status %d", resp.StatusCode)
	}
	for _, want := range []string{`id="chain-ok"`, "Angemeldet", "Fall geöffnet", `href="/office/audit?case=` + m[1] + `"`, e.Admin} {
		if !strings.Contains(page, want) {
			t.Errorf("the audit page lacks %q", want)
		}
	}
	if strings.Contains(page, secret) {
		t.Error("the audit page shows case content")
	}
	_, filtered := getAs(t, c, e.URL+"/office/audit?case="+m[1])
	if strings.Contains(filtered, "Angemeldet") || !strings.Contains(filtered, "Fall geöffnet") {
		t.Error("the case filter does not filter")
	}

	tamper(t, e, `UPDATE audit SET detail = 'x' WHERE id = 1`)
	if _, page := getAs(t, c, e.URL+"/office/audit"); !strings.Contains(page, `id="chain-broken"`) {
		t.Error("the audit page does not warn about a broken chain")
	}
}
