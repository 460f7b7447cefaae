// Package pdfprint turns an HTML document into a PDF with headless
// Chromium's print-to-PDF. The case file export uses it (issue 13), the
// printable annual report will (issue 14).
//
// Why Chromium and not a Go PDF library: reports come in Arabic, Farsi,
// Kurdish, Russian, Ukrainian, Bulgarian, Serbian, Romanian, Romani and
// more. The Go PDF libraries (go-pdf/fpdf and its forks, gopdf) do no
// Arabic shaping and no bidi: letters come out disconnected and in the
// wrong order, and a quote in a legal complaint must be right. Chromium
// shapes with HarfBuzz and the system's fonts, and one HTML template
// serves both the print page and the PDF. The cost is Chromium and fonts
// on the server (Debian: chromium, fonts-dejavu-core for Latin, Cyrillic
// and Arabic); without them the office offers the print page only.
//
// The document is the only thing the browser sees: it is set with
// Page.setDocumentContent (no URL, no server), JavaScript is off, and
// every request the document could make is sent to a dead proxy (see
// Flags), so a printed case file cannot call out, not even to loopback.
package pdfprint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Candidates are the browsers Find looks for on PATH, in this order.
var Candidates = []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"}

// ErrNoBrowser: no Chromium was found.
var ErrNoBrowser = errors.New("pdfprint: no Chromium found")

// Find returns the browser to start: configured if set (it must be an
// executable), else the first of Candidates on PATH.
func Find(configured string) (string, error) {
	if configured != "" {
		p, err := exec.LookPath(configured)
		if err != nil {
			return "", fmt.Errorf("pdfprint: chromium %q: %w", configured, err)
		}
		return p, nil
	}
	for _, name := range Candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// Defaults of a Printer.
const (
	// DefaultParallel: each Chromium takes some 150 MB; two at once is
	// what a small server can carry beside the service.
	DefaultParallel = 2
	// DefaultTimeout bounds one document: start, layout, print, exit.
	DefaultTimeout = 60 * time.Second
)

// A4 in inches, as the DevTools protocol measures paper.
const a4Width, a4Height = 8.27, 11.69

// Printer prints HTML documents to PDF, each in a fresh headless
// Chromium, at most Parallel at once. Its zero value is not usable: use
// New.
type Printer struct {
	path    string
	slots   chan struct{}
	timeout time.Duration
	// Footer is the footer template of every page (DevTools' classes
	// pageNumber and totalPages are filled in); the default shows "3 / 7".
	footer string
}

// New returns a printer that starts the browser at path (see Find).
// parallel and timeout ≤ 0 take the defaults.
func New(path string, parallel int, timeout time.Duration) *Printer {
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Printer{path: path, slots: make(chan struct{}, parallel), timeout: timeout,
		footer: `<div style="font-size:8pt;width:100%;text-align:center"><span class="pageNumber"></span> / <span class="totalPages"></span></div>`}
}

// Path is the browser the printer starts.
func (p *Printer) Path() string { return p.path }

// Flags are the browser's command line switches besides the profile
// directory. The network ones keep the document from reaching anything:
// every host name resolves to nothing, and every request, IP literals and
// loopback included (<-loopback> takes loopback off the proxy's bypass
// list), goes to a proxy at 127.0.0.1:9 (discard), where nothing
// answers. Flags rather than request interception: nothing in this
// process has to answer each request in time, and a flag cannot miss an
// event.
func Flags() []string {
	return []string{"headless", "disable-gpu", "disable-background-networking", "disable-component-update",
		"disable-sync", "no-first-run", "disable-extensions", "disable-default-apps", "mute-audio"}
}

// networkFlags are the switches with values that cut the network off.
var networkFlags = map[string]string{
	"host-resolver-rules": "MAP * ~NOTFOUND",
	"proxy-server":        "http://127.0.0.1:9",
	"proxy-bypass-list":   "<-loopback>",
}

// Print renders html (a complete document; everything it needs inline)
// to a PDF on A4, with page numbers in the footer and backgrounds off.
// It waits for a free slot as long as ctx allows.
func (p *Printer) Print(ctx context.Context, html []byte) ([]byte, error) {
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("pdf print: waiting for a browser: %w", ctx.Err())
	}
	dir, err := os.MkdirTemp("", "meldestelle-pdf-")
	if err != nil {
		return nil, fmt.Errorf("pdf print: profile: %w", err)
	}
	// A fresh profile per document: nothing of one case file stays for
	// the next. Removed after the browser has exited, also on error.
	defer os.RemoveAll(dir)
	pdf, err := p.print(ctx, dir, string(html))
	if err != nil {
		return nil, fmt.Errorf("pdf print: %w", err)
	}
	return pdf, nil
}

// print runs one browser in the profile dir and prints the document.
func (p *Printer) print(ctx context.Context, dir, html string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(p.path), chromedp.UserDataDir(dir),
		chromedp.CombinedOutput(io.Discard)}
	for _, f := range Flags() {
		opts = append(opts, chromedp.Flag(f, true))
	}
	for k, v := range networkFlags {
		opts = append(opts, chromedp.Flag(k, v))
	}
	if os.Geteuid() == 0 {
		// Chromium refuses to start its sandbox as root (containers often
		// run so); the document is our own escaped HTML with JavaScript
		// off and no network, which is what the sandbox would guard.
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	// cancelAlloc waits for the browser process to exit, so the profile
	// is no longer in use when Print removes it.
	defer cancelAlloc()
	// chromedp logs protocol hiccups of a set document ("no top-level
	// frame") to the standard logger; they are no errors of the print.
	tab, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(string, ...any) {}))
	defer cancelTab()

	if _, err := chromedp.Call(tab, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.path, err)
	}
	tree, err := chromedp.Call(tab, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return nil, fmt.Errorf("frame tree: %w", err)
	}
	if _, err := chromedp.Call(tab, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: html}); err != nil {
		return nil, fmt.Errorf("set document: %w", err)
	}
	yes, no := true, false
	margin, bottom := 0.6, 0.8 // inches; the footer sits in the bottom margin
	res, err := chromedp.Call(tab, page.PrintToPDF, page.PrintToPDFParams{
		PaperWidth: a4Width, PaperHeight: a4Height,
		MarginTop: &margin, MarginBottom: &bottom, MarginLeft: &margin, MarginRight: &margin,
		PrintBackground:     &no,
		DisplayHeaderFooter: &yes,
		HeaderTemplate:      "<span></span>",
		FooterTemplate:      p.footer,
		GenerateTaggedPDF:   &yes,
	})
	if err != nil {
		return nil, fmt.Errorf("print: %w", err)
	}
	if err := chromedp.Cancel(tab); err != nil && !errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("close browser: %w", err)
	}
	return res.Data, nil
}
