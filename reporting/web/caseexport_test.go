package web_test

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/pdfprint"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// exportCase submits a report with description, adds a counsellor's
// message and an internal note, and returns the admin's cookie and the
// case page's address.
func exportCase(t *testing.T, e *env, description string) (*http.Cookie, string) {
	t.Helper()
	if resp, _ := submit(t, e, "de", validReport(description)); resp.StatusCode != http.StatusOK {
		t.Fatal("submission failed")
	}
	c := login(t, e)
	_, list := getAs(t, c, e.URL+"/office/cases")
	ids := caseIDs(list)
	if len(ids) != 1 {
		t.Fatalf("the list links %d cases, want 1", len(ids))
	}
	caseURL := e.URL + "/office/cases/" + ids[0]
	if resp, body := postAs(t, c, caseURL+"/messages", url.Values{"body": {"Wir haben Ihre Meldung erhalten und melden uns."}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("message: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := postAs(t, c, caseURL+"/notes", url.Values{"body": {"Interne Einschätzung: Zeugin anrufen"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("note: %d\n%s", resp.StatusCode, body)
	}
	return c, caseURL
}

// exportAudits returns the details of the case's export entries.
func exportAudits(t *testing.T, e *env, id string) []string {
	t.Helper()
	entries, _, err := e.DB.AuditEntries(t.Context(), id, reporting.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		if en.Action == reporting.AuditCaseExport {
			out = append(out, en.Detail)
		}
	}
	return out
}

// The case page links the export; the form offers every part, notes
// unchecked, and without Chromium says how to get a PDF anyway.
func TestCaseExportForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, caseURL := onlyCase(t, e)
	_, page := getAs(t, c, caseURL)
	wantAll(t, "the case page", page, `id="export-link"`, `href="`+strings.TrimPrefix(caseURL, e.URL)+`/export"`)
	resp, form := getAs(t, c, caseURL+"/export")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export form: %d", resp.StatusCode)
	}
	wantAll(t, "the export form", form, `id="export-form"`, `id="part-report" checked`, `id="part-messages" checked`,
		`id="part-attachments" checked`, `id="format-html" checked`, `id="no-pdf"`, "Als PDF speichern")
	if strings.Contains(form, `id="part-notes" checked`) {
		t.Error("the internal notes are chosen by default")
	}
	if strings.Contains(form, `id="format-pdf"`) {
		t.Error("the form offers a PDF without a printer")
	}
	// Nothing chosen: the form comes back with the error, nothing audited.
	resp, body := postAs(t, c, caseURL+"/export", url.Values{"format": {"html"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("export without parts: %d", resp.StatusCode)
	}
	wantAll(t, "the form without parts", body, `id="err-parts"`, `id="error-summary"`)
	// PDF asked for without a printer: refused, nothing audited.
	resp, body = postAs(t, c, caseURL+"/export", url.Values{"format": {"pdf"}, "parts": {"report"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("PDF without a printer: %d\n%s", resp.StatusCode, body)
	}
	if got := exportAudits(t, e, strings.TrimPrefix(caseURL, e.URL+"/office/cases/")); len(got) != 0 {
		t.Errorf("refused exports were audited: %q", got)
	}
}

// The print page holds the parts chosen and nothing else, is never
// stored, and its export is audited with format and parts.
func TestCaseExportHTMLHoldsChosenParts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c, caseURL := exportCase(t, e, "Der Vermieter lehnte uns wegen unserer Herkunft ab.")
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")
	resp, body := postAs(t, c, caseURL+"/export", url.Values{"format": {"html"},
		"parts": {"report", "messages", "history", "attachments"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("html export: %d\n%s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	wantAll(t, "the print page", body, "Der Vermieter lehnte uns wegen unserer Herkunft ab.",
		"Wir haben Ihre Meldung erhalten", `id="export-history"`, "Vertraulich", `href="/static/case-export.css"`, `id="exported-by"`)
	for _, absent := range []string{"Zeugin anrufen", `id="export-notes"`, `id="export-classification"`, `<nav`, `<style`} {
		if strings.Contains(body, absent) {
			t.Errorf("the print page holds %q, which was not chosen or has no place there", absent)
		}
	}
	if got := exportAudits(t, e, id); len(got) != 1 || got[0] != "html report,history,messages,attachments" {
		t.Errorf("export audit entries %q, want one \"html report,history,messages,attachments\"", got)
	}
	// With the notes chosen, they are there.
	_, body = postAs(t, c, caseURL+"/export", url.Values{"format": {"html"}, "parts": {"notes"}})
	wantAll(t, "the print page with notes", body, "Zeugin anrufen", `id="export-notes"`)
	if strings.Contains(body, "Der Vermieter lehnte") {
		t.Error("the report text is in an export of the notes only")
	}
	// The stylesheet the page links is served.
	if resp, _ := getAs(t, c, e.URL+"/static/case-export.css"); resp.StatusCode != http.StatusOK {
		t.Errorf("case-export.css: %d", resp.StatusCode)
	}
}

// A member of another team gets "not found" for the export, as for the
// case page, and nothing is audited as exported.
func TestCaseExportOtherTeam(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	_, caseURL := onlyCase(t, e)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")
	herne, herneKey := addTeam(t, e, "Herne")
	addUser(t, e, "carl", "carl's long password", reporting.RoleCounsellor, map[int64]*vault.KeyPair{herne: herneKey})
	carl := loginAs(t, e, "carl", "carl's long password")
	casePage, _ := getAs(t, carl, caseURL)
	getResp, getBody := getAs(t, carl, caseURL+"/export")
	postResp, postBody := postAs(t, carl, caseURL+"/export", url.Values{"format": {"html"}, "parts": {"report"}})
	for what, r := range map[string]struct {
		resp *http.Response
		body string
	}{"GET export": {getResp, getBody}, "POST export": {postResp, postBody}} {
		if r.resp.StatusCode != casePage.StatusCode || r.resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s by another team: %d, the case page %d, want both 404", what, r.resp.StatusCode, casePage.StatusCode)
		}
		if strings.Contains(r.body, "Vermieterin") {
			t.Errorf("%s by another team shows the report", what)
		}
	}
	if got := exportAudits(t, e, id); len(got) != 0 {
		t.Errorf("another team's attempts were audited as exports: %q", got)
	}
}

// machinePrinter is a printer on this machine's Chromium, or skips (fails
// with MELDESTELLE_REQUIRE_BROWSER=1), and the pdftotext tool.
func machinePrinter(t testing.TB) (*pdfprint.Printer, string) {
	t.Helper()
	require := os.Getenv("MELDESTELLE_REQUIRE_BROWSER") == "1"
	path, err := pdfprint.Find(os.Getenv("CHROMIUM_PATH"))
	if err != nil {
		if require {
			t.Fatalf("headless Chromium not found (%v), and MELDESTELLE_REQUIRE_BROWSER=1 requires it: install the Debian package chromium", err)
		}
		t.Skipf("headless Chromium not found (%v): install the Debian package chromium; set MELDESTELLE_REQUIRE_BROWSER=1 to make this a failure", err)
	}
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if require {
			t.Fatal("pdftotext not found, and MELDESTELLE_REQUIRE_BROWSER=1 requires it: install the Debian package poppler-utils")
		}
		t.Skip("pdftotext not found: install the Debian package poppler-utils; set MELDESTELLE_REQUIRE_BROWSER=1 to make this a failure")
	}
	return pdfprint.New(path, 1, 0), tool
}

// The PDF download holds the case number, the Arabic, Cyrillic and
// German sentences of the report in logical order (pdftotext gives
// logical order only for properly shaped text), the message, and not the
// note that was not chosen.
func TestCaseExportPDF(t *testing.T) {
	t.Parallel()
	printer, tool := machinePrinter(t)
	e := newEnv(t, options{Printer: printer})
	const (
		arabic   = "رفض صاحب البيت تأجير الشقة لنا"
		cyrillic = "Хозяин отказался сдать нам квартиру"
		german   = "Der Vermieter lehnte uns ab"
	)
	// Long enough for several pages: each must carry the running head.
	long := strings.Repeat("Weitere Zeile des Berichts über den Vorfall.\n", 90)
	c, caseURL := exportCase(t, e, arabic+"\n"+cyrillic+"\n"+german+"\n"+long)
	id := strings.TrimPrefix(caseURL, e.URL+"/office/cases/")
	_, form := getAs(t, c, caseURL+"/export")
	wantAll(t, "the export form with a printer", form, `id="format-pdf"`)
	resp, body := postAs(t, c, caseURL+"/export", url.Values{"format": {"pdf"}, "parts": {"report", "messages"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pdf export: %d\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	_, page := getAs(t, c, caseURL)
	no := caseNoOnCasePage(t, page)
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, no+".pdf") {
		t.Errorf("Content-Disposition %q, want an attachment named %s.pdf", cd, no)
	}
	if !strings.HasPrefix(body, "%PDF-") {
		t.Fatalf("not a PDF: %q", body[:min(len(body), 40)])
	}
	in := filepath.Join(t.TempDir(), "case.pdf")
	if err := os.WriteFile(in, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := string(out)
	for _, want := range []string{no, arabic, cyrillic, german, "Wir haben Ihre Meldung erhalten", "VERTRAULICH"} {
		if !strings.Contains(text, want) && !strings.Contains(strings.ToUpper(text), strings.ToUpper(want)) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
	// pdftotext ends each page with a form feed.
	pages := strings.Split(strings.TrimSuffix(text, "\f"), "\f")
	if len(pages) < 2 {
		t.Errorf("the long case file has %d page(s), want several", len(pages))
	}
	for i, p := range pages {
		if !strings.Contains(strings.ToUpper(p), "VERTRAULICH") || !strings.Contains(p, no) {
			t.Errorf("page %d lacks the case number or \"confidential\":\n%s", i+1, p)
		}
	}
	if strings.Contains(text, "Zeugin anrufen") {
		t.Error("the PDF holds the internal note, which was not chosen")
	}
	if got := exportAudits(t, e, id); len(got) != 1 || got[0] != "pdf report,messages" {
		t.Errorf("export audit entries %q, want one \"pdf report,messages\"", got)
	}
}
