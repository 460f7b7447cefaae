package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkCaseExportPDF measures the case file export of a case with 50
// messages (half in Arabic) and 10 notes, every part chosen, through the
// handler: "pdf" is the download (decryption, audit, the print page
// rendered with its stylesheet inline, a fresh headless Chromium printing
// it); "html" is the print page of the same case, the anchor. Reported:
// time, allocations of this process (Chromium's memory is its own) and
// the PDF's size.
func BenchmarkCaseExportPDF(b *testing.B) {
	printer, _ := machinePrinter(b)
	e := newEnv(b, options{Printer: printer})
	if resp, _ := submit(b, e, "de", validReport("Die Vermieterin sagte: „Nicht an Sie.“\nرفض صاحب البيت تأجير الشقة لنا")); resp.StatusCode != http.StatusOK {
		b.Fatal("submission failed")
	}
	cookie := login(b, e)
	_, list := getAs(b, cookie, e.URL+"/office/cases")
	caseURL := e.URL + "/office/cases/" + caseIDs(list)[0]
	for i := range 50 {
		text := "Nachricht " + strconv.Itoa(i) + ": Wir haben mit der Hausverwaltung gesprochen und warten auf Antwort."
		if i%2 == 1 {
			text = "رسالة " + strconv.Itoa(i) + ": تحدثنا مع إدارة المبنى وننتظر الرد."
		}
		if resp, _ := postAs(b, cookie, caseURL+"/messages", url.Values{"body": {text}}); resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("message %d: %d", i, resp.StatusCode)
		}
	}
	for i := range 10 {
		if resp, _ := postAs(b, cookie, caseURL+"/notes", url.Values{"body": {"Notiz " + strconv.Itoa(i) + ": Termin mit der Zeugin vereinbart."}}); resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("note %d: %d", i, resp.StatusCode)
		}
	}
	path := strings.TrimPrefix(caseURL, e.URL) + "/export"
	all := []string{"report", "classification", "history", "messages", "notes", "attachments"}
	export := func(b *testing.B, format, wantType string) int {
		form := url.Values{"format": {format}, "parts": all}
		req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), wantType) {
			b.Fatalf("%s export: status %d, %s", format, rec.Code, rec.Header().Get("Content-Type"))
		}
		return rec.Body.Len()
	}
	for _, bm := range []struct{ format, wantType string }{{"html", "text/html"}, {"pdf", "application/pdf"}} {
		b.Run(bm.format, func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				size = export(b, bm.format, bm.wantType)
			}
			b.ReportMetric(float64(size), "bytes/export")
		})
	}
}
