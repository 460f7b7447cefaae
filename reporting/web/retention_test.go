package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/storage"
)

// retCase submits a report and returns its receipt and case ID.
func retCase(t *testing.T, e *env, admin *http.Cookie, description string) (string, string) {
	t.Helper()
	_, before := getAs(t, admin, e.URL+"/office/cases")
	receipt := fuSubmit(t, e, validReport(description))
	_, after := getAs(t, admin, e.URL+"/office/cases")
	for _, id := range caseIDs(after) {
		if !slices.Contains(caseIDs(before), id) {
			return receipt, id
		}
	}
	t.Fatal("the new case is not in the list")
	return "", ""
}

// retClose triages, notes, answers and closes a case.
func retClose(t *testing.T, e *env, admin *http.Cookie, id, note, answer string) {
	t.Helper()
	u := e.URL + "/office/cases/" + id
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/classification", triage()},
		{"/status", url.Values{"status": {"triage"}}},
		{"/notes", url.Values{"body": {note}}},
		{"/messages", url.Values{"body": {answer}}},
		{"/status", url.Values{"status": {"closed"}, "closing_reason": {"resolved"}}},
	} {
		if resp, body := postAs(t, admin, u+step.path, step.form); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/office/cases/") {
			t.Fatalf("%s: status %d\n%s", step.path, resp.StatusCode, body)
		}
	}
}

// retSecrets collects the stored ciphertexts of a case (their first 32
// bytes are unique enough).
func retSecrets(t *testing.T, e *env, id string) [][]byte {
	t.Helper()
	var out [][]byte
	db := rawDB(t, e)
	for _, q := range []string{
		`SELECT content FROM reports WHERE id = ?`, `SELECT sealed_key FROM reports WHERE id = ?`,
		`SELECT reporter_key FROM reports WHERE id = ?`, `SELECT lookup_hash FROM reports WHERE id = ?`,
		`SELECT body FROM messages WHERE report_id = ?`, `SELECT body FROM notes WHERE report_id = ?`,
		`SELECT wrapped_key FROM attachments WHERE report_id = ?`,
		`SELECT data FROM attachment_chunks WHERE attachment_id IN (SELECT id FROM attachments WHERE report_id = ?)`,
	} {
		rows, err := db.Query(q, id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			if len(b) < 32 {
				t.Fatalf("%s: only %d bytes", q, len(b))
			}
			out = append(out, b[:32])
		}
		rows.Close()
	}
	return out
}

// retStats is the year's statistics as JSON, for comparing.
func retStats(t *testing.T, e *env, year int) string {
	t.Helper()
	st, err := reporting.YearStatistics(t.Context(), e.DB, year, reporting.StatsK)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var retDueRow = regexp.MustCompile(`<td class="case-no">([^<]+)</td>`)

// retDue returns the case numbers the admin page lists as due.
func retDue(t *testing.T, e *env, admin *http.Cookie) []string {
	t.Helper()
	resp, page := getAs(t, admin, e.URL+"/office/settings/retention")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("retention page: status %d", resp.StatusCode)
	}
	var out []string
	for _, m := range retDueRow.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func retCaseNo(t *testing.T, e *env, id string) string {
	t.Helper()
	var no string
	if err := rawDB(t, e).QueryRow(`SELECT case_no FROM reports WHERE id = ?`, id).Scan(&no); err != nil {
		t.Fatal(err)
	}
	return no
}

// A year after: the closed case past its period and the never-triaged
// report lose their content — gone from every database file, ciphertexts
// and plaintexts alike — while the statistics of the year stay exactly the
// same; a case closed later and an open case keep everything and still
// decrypt; the swept receipt opens nothing, like an unknown receipt.
func TestRetentionSweep(t *testing.T) {
	t.Parallel()
	e, clock := fuEnvWithClock(t) // 2026-05-20
	ctx := t.Context()
	admin := login(t, e)

	descA, noteA, answerA, replyA := "Retention-A: der Nachbar beleidigte mich.", "Retention-A Notiz intern", "Retention-A Antwort der Beratung", "Retention-A Rückfrage der Person"
	descB := "Retention-B: nie gesichtet, im Bus beschimpft."
	descC, noteC := "Retention-C: später abgeschlossen.", "Retention-C Notiz"
	descD := "Retention-D: noch in Beratung."

	receiptA, idA := retCase(t, e, admin, descA)
	_, idB := retCase(t, e, admin, descB)
	receiptC, idC := retCase(t, e, admin, descC)
	_, idD := retCase(t, e, admin, descD)

	retClose(t, e, admin, idA, noteA, answerA)
	_, page := fuOpen(t, e, "de", receiptA)
	if resp, body := fuPost(t, e, "/de/followup/message", url.Values{"token": {fuToken(t, page)}, "message": {replyA}}); resp.StatusCode >= 400 {
		t.Fatalf("reporter's message: %d\n%s", resp.StatusCode, body)
	}
	// An attachment of A, stored as the store keeps it (sealed bytes).
	att := reporting.StoredAttachment{ID: "att-retention-a", ReportID: idA, WrappedKey: bytes.Repeat([]byte{0xA7}, 48)}
	if err := e.DB.CreateAttachment(ctx, att); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.PutAttachmentChunks(ctx, att.ID, 0, [][]byte{bytes.Repeat([]byte("chunk-of-A-sealed-"), 8)}); err != nil {
		t.Fatal(err)
	}
	if resp, body := postAs(t, admin, e.URL+"/office/cases/"+idD+"/status", url.Values{"status": {"triage"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("triage D: %d\n%s", resp.StatusCode, body)
	}

	clock.Advance(300 * 24 * time.Hour) // 2027-03-16: C is closed now
	admin = login(t, e)                 // the session has expired meanwhile
	retClose(t, e, admin, idC, noteC, "Retention-C Antwort")

	// 2027-05-21: A (closed 2026-05-20, 12 months) and B (new since
	// 2026-05-20, 6 months) are due; C (closed 2027-03-16) and D (open) are not.
	clock.Advance(66 * 24 * time.Hour)
	admin = login(t, e)
	want := []string{retCaseNo(t, e, idA), retCaseNo(t, e, idB)}
	slices.Sort(want)
	if got := retDue(t, e, admin); !slices.Equal(got, want) {
		t.Fatalf("dry run lists %v, want %v", got, want)
	}
	plan, err := e.Services.Retention.RetentionPlan(ctx, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 2 || plan[0].Reason == plan[1].Reason {
		t.Errorf("plan %+v: want one closed and one untriaged", plan)
	}

	statsBefore := retStats(t, e, 2026)
	secrets := append(retSecrets(t, e, idA), retSecrets(t, e, idB)...)
	for _, s := range []string{descA, noteA, answerA, replyA, descB} {
		secrets = append(secrets, []byte(s))
	}
	keptC := retSecrets(t, e, idC)

	n, err := e.Services.Retention.RetentionSweep(ctx, clock.Now())
	if err != nil || n != 2 {
		t.Fatalf("sweep: %d, %v; want 2", n, err)
	}

	files, _ := filepath.Glob(filepath.Join(e.Dir, storage.FileName+"*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
		for i, s := range secrets {
			if bytes.Contains(b, s) {
				t.Errorf("%s still holds secret #%d (%q…)", filepath.Base(f), i, s[:8])
			}
		}
	}
	for i, s := range keptC {
		if !bytes.Contains(all, s) {
			t.Errorf("the not yet due case lost its ciphertext #%d", i)
		}
	}
	if got := retStats(t, e, 2026); got != statsBefore {
		t.Errorf("statistics changed:\nbefore %s\nafter  %s", statsBefore, got)
	}
	for _, tb := range []string{"reports", "classifications", "classification_grounds", "status_history"} {
		if fuCount(t, e, tb, idA) == 0 {
			t.Errorf("the statistical record lost its %s rows", tb)
		}
	}
	for _, tb := range []string{"messages", "notes", "attachments"} {
		if n := fuCount(t, e, tb, idA); n != 0 {
			t.Errorf("%d %s rows left", n, tb)
		}
	}

	// The office copes: the list and the pages say the content is gone.
	resp, list := getAs(t, admin, e.URL+"/office/cases?status=")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("case list: %d", resp.StatusCode)
	}
	wantAll(t, "the case list", list, "Inhalt am 2027-05-21 gelöscht", descC[:20])
	resp, page = getAs(t, admin, e.URL+"/office/cases/"+idA)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("swept case page: %d\n%s", resp.StatusCode, page)
	}
	wantAll(t, "the swept case page", page, `id="content-deleted">Inhalt am 2027-05-21 durch die Aufbewahrungsfrist gelöscht`, "Abgeschlossen")
	if strings.Contains(page, descA) || strings.Contains(page, noteA) {
		t.Error("the swept case page shows content")
	}
	// Writing to the reporter of a swept case says why it cannot be.
	resp, page = postAs(t, admin, e.URL+"/office/cases/"+idA+"/messages", url.Values{"body": {"Noch da?"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Aufbewahrungsfrist gelöscht. Nachrichten") {
		t.Errorf("message to a swept case: status %d, want 400 with the reason\n%s", resp.StatusCode, page)
	}
	if fuCount(t, e, "messages", idA) != 0 {
		t.Error("a message was stored for a swept case")
	}
	_, page = getAs(t, admin, e.URL+"/office/cases/"+idC)
	wantAll(t, "the kept case page", page, descC, noteC)
	_, page = getAs(t, admin, e.URL+"/office/cases/"+idD)
	wantAll(t, "the open case page", page, descD)

	// The receipt: like an unknown one; the kept one still opens.
	resp, page = fuOpen(t, e, "de", receiptA)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Zu diesem Code gibt es keine Meldung.") {
		t.Errorf("swept receipt: status %d, want 422 'no report'\n%s", resp.StatusCode, page)
	}
	if _, page = fuOpen(t, e, "de", receiptC); !strings.Contains(page, "Retention-C Antwort") {
		t.Errorf("the kept receipt no longer opens its report:\n%s", page)
	}

	// One audit entry per swept report, by the system.
	rows, err := rawDB(t, e).Query(`SELECT report_id, user_name FROM audit WHERE action = ? AND detail = 'retention' ORDER BY report_id`, reporting.AuditDelete)
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	for rows.Next() {
		var id, user string
		rows.Scan(&id, &user)
		if user != "system" {
			t.Errorf("audit entry by %q", user)
		}
		audited = append(audited, id)
	}
	rows.Close()
	wantIDs := []string{idA, idB}
	slices.Sort(wantIDs)
	if !slices.Equal(audited, wantIDs) {
		t.Errorf("audited %v, want %v", audited, wantIDs)
	}
	if _, err := e.DB.VerifyAudit(ctx); err != nil {
		t.Errorf("audit chain: %v", err)
	}

	// Nothing is due any more; a second sweep deletes nothing.
	if got := retDue(t, e, admin); len(got) != 0 {
		t.Errorf("still due after the sweep: %v", got)
	}
	if n, err := e.Services.Retention.RetentionSweep(ctx, clock.Now()); n != 0 || err != nil {
		t.Errorf("second sweep: %d, %v", n, err)
	}
}

// The settings: defaults shown, mistakes come back at the field with the
// values as typed, a valid change is stored, audited and used: with 0 the
// never-triaged report is kept.
func TestRetentionSettings(t *testing.T) {
	t.Parallel()
	e, clock := fuEnvWithClock(t)
	admin := login(t, e)
	_, id := retCase(t, e, admin, "Retention-Einstellung: nie gesichtet.")
	_, page := getAs(t, admin, e.URL+"/office/settings/retention")
	wantAll(t, "the settings page", page, `href="/office/settings/retention">Aufbewahrung</a>`, `name="closed_months" value="12"`, `name="new_months" value="6"`, `id="retention-none"`)

	resp, page := postAs(t, admin, e.URL+"/office/settings/retention", url.Values{"closed_months": {"0"}, "new_months": {"sechs"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid settings: status %d", resp.StatusCode)
	}
	wantAll(t, "the page with mistakes", page, `id="err-closed_months"`, `id="err-new_months"`,
		`name="closed_months" value="0"`, `name="new_months" value="sechs"`)
	resp, page = postAs(t, admin, e.URL+"/office/settings/retention", url.Values{"closed_months": {"121"}, "new_months": {"3"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-closed_months"`) || strings.Contains(page, `id="err-new_months"`) {
		t.Errorf("121 months: status %d, want an error at closed_months only", resp.StatusCode)
	}
	if set, _ := e.Services.Retention.RetentionSettings(t.Context()); set.ClosedMonths != 12 || set.NewMonths != 6 {
		t.Errorf("invalid input stored: %+v", set)
	}

	resp, body := postAs(t, admin, e.URL+"/office/settings/retention", url.Values{"closed_months": {"24"}, "new_months": {"0"}})
	wantRedirect(t, "save", resp, body, "/office/settings/retention?done=saved")
	_, page = getAs(t, admin, e.URL+"/office/settings/retention?done=saved")
	wantAll(t, "the saved page", page, `name="closed_months" value="24"`, `name="new_months" value="0"`, `id="saved-notice"`)
	var n int
	rawDB(t, e).QueryRow(`SELECT count(*) FROM audit WHERE action = ? AND detail = 'retention:24,0'`, reporting.AuditSettings).Scan(&n)
	if n != 1 {
		t.Errorf("%d audit entries for the change, want 1", n)
	}

	// Ten years on, 0 keeps the never-triaged report.
	clock.Advance(3650 * 24 * time.Hour)
	admin = login(t, e)
	if n, err := e.Services.Retention.RetentionSweep(t.Context(), clock.Now()); n != 0 || err != nil {
		t.Errorf("sweep with 0: %d, %v", n, err)
	}
	_, page = getAs(t, admin, e.URL+"/office/cases/"+id)
	wantAll(t, "the kept report", page, "Retention-Einstellung: nie gesichtet.")
}
