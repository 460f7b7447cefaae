package browsertest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// browserTimeout bounds everything one test does in its browser: start,
// every page and the shutdown. When it runs out, the browser is killed and
// every later action fails with context.DeadlineExceeded.
const browserTimeout = 60 * time.Second

// chromiumCandidates are the browsers newBrowser looks for, after
// $CHROMIUM_PATH, in this order: the first is Debian's path, the others are
// looked up on $PATH.
var chromiumCandidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// debianChromiumBinary is the browser that Debian's launcher script
// /usr/bin/chromium execs.
const debianChromiumBinary = "/usr/lib/chromium/chromium"

// findChromium returns the path of the browser to start, or "" when there
// is none.
//
// $CHROMIUM_PATH is used as it is. Otherwise, Debian's /usr/bin/chromium is
// a shell script that sources /etc/chromium.d/* before it execs the real
// binary: that adds flags (--enable-remote-extensions, --load-extension=,
// --enable-gpu-rasterization, ...) and exports Google API keys, which turn
// on Google services. The browser must run with our flags only, so for that
// launcher we start the binary it would exec.
func findChromium() string {
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
		return ""
	}
	for _, name := range chromiumCandidates {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if isDebianLauncher(path) {
			if _, err := exec.LookPath(debianChromiumBinary); err == nil {
				return debianChromiumBinary
			}
		}
		return path
	}
	return ""
}

// isDebianLauncher tells whether path is Debian's chromium launcher script.
func isDebianLauncher(path string) bool {
	real, err := filepath.EvalSymlinks(path)
	if err != nil || real != "/usr/bin/chromium" {
		return false
	}
	f, err := os.Open(real)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 2)
	n, _ := f.Read(head)
	return string(head[:n]) == "#!"
}

// chromiumFlags are all the flags the browser gets, besides the user data
// directory and what chromedp needs to talk to it (--remote-debugging-pipe
// and the first page, about:blank). chromedp.DefaultExecAllocatorOptions is
// not used: it turns on features of its own.
var chromiumFlags = []string{
	"headless",
	"no-sandbox",
	"disable-gpu",
	"disable-background-networking",
	"disable-component-update",
	"disable-sync",
	"no-first-run",
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// the context of its one tab, in which JavaScript is off: the public pages
// must work without it. Everything stops when the test ends or after
// browserTimeout, whichever comes first.
//
// Without a browser the test is skipped, or fails when
// MELDESTELLE_REQUIRE_BROWSER=1 (set it in CI, so that a missing browser
// cannot pass as green).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := findChromium()
	if path == "" {
		if os.Getenv("MELDESTELLE_REQUIRE_BROWSER") == "1" {
			t.Fatalf("headless Chromium not found (CHROMIUM_PATH=%q, looked for %s on PATH=%q), and MELDESTELLE_REQUIRE_BROWSER=1 requires it: install the Debian packages chromium and chromium-driver, or set CHROMIUM_PATH",
				os.Getenv("CHROMIUM_PATH"), strings.Join(chromiumCandidates, ", "), os.Getenv("PATH"))
		}
		if p := os.Getenv("CHROMIUM_PATH"); p != "" {
			t.Logf("CHROMIUM_PATH=%q is not an executable", p)
		}
		t.Skip("headless Chromium not found: install the Debian packages chromium and chromium-driver, or set CHROMIUM_PATH; set MELDESTELLE_REQUIRE_BROWSER=1 to make this a failure")
	}

	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path)}
	for _, f := range chromiumFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	out := &webtest.SyncBuffer{}
	opts = append(opts,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(out),
	)

	// The first Run binds the browser's life to its context: this one,
	// with the timeout, so that a hanging page cannot hang the test.
	timeoutCtx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeoutCtx, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close the browser gracefully, then make sure it is gone (the
		// allocator's cancel waits for the process) before t.TempDir
		// removes the profile.
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Logf("closing the browser: %v", err)
		}
		cancelTab()
		cancelAlloc()
		cancelTimeout()
		if t.Failed() {
			t.Logf("browser output:\n%s", lastBytes(out.String(), 4000))
		}
	})

	start := time.Now()
	if err := chromedp.Do(ctx, disableScripts(true)); err != nil {
		t.Fatalf("starting %s: %v\nbrowser output:\n%s", path, err, lastBytes(out.String(), 4000))
	}
	t.Logf("browser %s started in %v, JavaScript off", path, time.Since(start).Round(time.Millisecond))
	return ctx
}

// disableScripts switches the scripts of the tab's pages off or on. It is
// DevTools' "Disable JavaScript": it holds for the tab across navigations,
// and the DevTools protocol (which every chromedp query, click and read
// uses) keeps working.
func disableScripts(off bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
		return err
	})
}

// scriptProbe is a page whose inline script, if it runs, changes the text of
// #x from "off" to "on". It has no CSP, unlike Meldestelle's pages, whose CSP
// would block the script even with JavaScript on.
const scriptProbe = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>probe</title></head>` +
	`<body><p id=x>off</p><script>document.getElementById('x').textContent='on'</script></body></html>`

// newScriptProbe serves scriptProbe on loopback.
func newScriptProbe(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, scriptProbe)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// probeText loads the probe page at u in the tab of ctx and returns the text
// of #x: "off" when scripts did not run.
func probeText(t *testing.T, ctx context.Context, u string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitReady(chromedp.ID("x"))); err != nil {
		t.Fatalf("loading %s: %v", u, err)
	}
	text, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("x")))
	if err != nil {
		t.Fatalf("reading #x of %s: %v", u, err)
	}
	return text
}

// assertScriptsOff checks, in the tab of ctx, that a page's inline script
// does not run: on 127.0.0.1 and on localhost, two sites, so that the
// browser also has to switch renderer processes between them.
func assertScriptsOff(t *testing.T, ctx context.Context) {
	t.Helper()
	srv := newScriptProbe(t)
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{srv.URL + "/", "http://localhost:" + port + "/", srv.URL + "/again"} {
		if got := probeText(t, ctx, u); got != "off" {
			t.Fatalf("JavaScript ran in the browser at %s: #x = %q, want %q", u, got, "off")
		}
	}
}

// TestBrowserScriptsDisabled proves that newBrowser's tab runs no scripts,
// and, as a control, that the same page does run its script in a second tab
// of the same browser, where they were not switched off.
func TestBrowserScriptsDisabled(t *testing.T) {
	ctx := newBrowser(t)
	assertScriptsOff(t, ctx)

	// The control: a new tab in the same browser, scripts on.
	on, cancel := chromedp.NewContext(ctx)
	defer cancel()
	srv := newScriptProbe(t)
	if got := probeText(t, on, srv.URL+"/"); got != "on" {
		t.Fatalf("control tab with JavaScript on: #x = %q, want %q; the probe proves nothing", got, "on")
	}
	cancel()

	// And the first tab still has them off after the second one ran.
	if got := probeText(t, ctx, srv.URL+"/after"); got != "off" {
		t.Fatalf("JavaScript ran in the first tab after the control: #x = %q", got)
	}
}

// saveScreenshot writes a full-page PNG of the tab of ctx as name into
// $MELDESTELLE_SCREENSHOTS, when that is set.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("MELDESTELLE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	t.Logf("screenshot: %s", path)
}

// lastBytes returns the last n bytes of s.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		i += j + 1
	}
	return "…\n" + s[i:]
}
