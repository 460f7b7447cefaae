package pdfprint_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting/pdfprint"
)

// printer returns a printer on the machine's Chromium, or skips the test
// (fails with MELDESTELLE_REQUIRE_BROWSER=1, as the browser tests do).
func printer(t *testing.T) *pdfprint.Printer {
	t.Helper()
	path, err := pdfprint.Find(os.Getenv("CHROMIUM_PATH"))
	if err != nil {
		if os.Getenv("MELDESTELLE_REQUIRE_BROWSER") == "1" {
			t.Fatalf("headless Chromium not found (%v), and MELDESTELLE_REQUIRE_BROWSER=1 requires it: install the Debian package chromium", err)
		}
		t.Skipf("headless Chromium not found (%v): install the Debian package chromium; set MELDESTELLE_REQUIRE_BROWSER=1 to make this a failure", err)
	}
	return pdfprint.New(path, 1, 0)
}

// PDFText extracts a PDF's text with pdftotext (Debian poppler-utils),
// or skips (fails with MELDESTELLE_REQUIRE_BROWSER=1).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("MELDESTELLE_REQUIRE_BROWSER") == "1" {
			t.Fatal("pdftotext not found, and MELDESTELLE_REQUIRE_BROWSER=1 requires it: install the Debian package poppler-utils")
		}
		t.Skip("pdftotext not found: install the Debian package poppler-utils; set MELDESTELLE_REQUIRE_BROWSER=1 to make this a failure")
	}
	in := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// The sentences are checked as pdftotext gives them: in logical order,
// which it only can when the text was shaped and laid out properly.
const (
	arabic   = "تعرضت للتمييز في مكتب العمل"
	cyrillic = "Меня не пустили в магазин"
	german   = "Der Vermieter lehnte uns ab"
)

func TestPrintKeepsScriptsInLogicalOrder(t *testing.T) {
	p := printer(t)
	doc := fmt.Sprintf(`<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>x</title></head><body>
<h1>2026-0042</h1><p lang="ar" dir="rtl">%s</p><p lang="ru">%s</p><p>%s</p></body></html>`, arabic, cyrillic, german)
	pdf, err := p.Print(context.Background(), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", pdf[:min(len(pdf), 20)])
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"2026-0042", arabic, cyrillic, german} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q; got:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`1\s*/\s*1`).MatchString(text) {
		t.Errorf("PDF text lacks the page number 1 / 1; got:\n%s", text)
	}
}

// A document that asks for an image from loopback gets nothing: the
// printer's browser reaches no server, not even one on this machine.
func TestPrintMakesNoRequest(t *testing.T) {
	p := printer(t)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := strings.Cut(host, ":")
	doc := fmt.Sprintf(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title>
<link rel="stylesheet" href="%[1]s/style.css"></head><body><p>text</p>
<img src="%[1]s/x" alt=""><img src="http://localhost:%[2]s/y" alt=""><iframe src="%[1]s/f"></iframe></body></html>`, srv.URL, port)
	pdf, err := p.Print(context.Background(), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(pdf) == 0 {
		t.Fatal("no PDF")
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the printer's browser made %d requests to a loopback server", n)
	}
}

// A document that waits in line gives up with its context.
func TestPrintWaitsForASlotOnlyAsLongAsAllowed(t *testing.T) {
	p := pdfprint.New("/nonexistent/chromium", 1, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The one slot is free, so the print starts and fails on the missing
	// browser; the error names it rather than hanging.
	if _, err := p.Print(ctx, []byte("<p>x</p>")); err == nil {
		t.Fatal("printing with a cancelled context and no browser succeeded")
	}
}

func TestFindConfiguredPathMustExist(t *testing.T) {
	if _, err := pdfprint.Find("/nonexistent/chromium"); err == nil {
		t.Fatal("Find accepted a configured path that does not exist")
	}
}
