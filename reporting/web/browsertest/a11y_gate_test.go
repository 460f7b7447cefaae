package browsertest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The accessibility gate's machinery: pages are fetched as a client gets
// them, then each is loaded in headless Chromium, where axe-core checks
// it, and all of them are handed to the Nu HTML checker in one run.
// a11y_test.go says which pages; this file says how they are checked.

// a11yTags are the axe-core rule tags the gate runs: WCAG 2.0, 2.1 and
// 2.2, levels A and AA.
var a11yTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// a11yTools are the checkers, found through the environment that .ci/run
// sets: MELDESTELLE_AXE is axe-core's axe.min.js, MELDESTELLE_VNU the Nu
// checker's vnu.jar; java is $MELDESTELLE_JAVA or java on $PATH.
type a11yTools struct {
	axe  string // axe.min.js, read
	vnu  string // path of vnu.jar
	java string // path of java
}

// a11yToolsOrSkip finds the checkers, or skips the test with what is
// missing; with MELDESTELLE_REQUIRE_BROWSER=1 a missing tool fails it, as a
// missing browser does.
func a11yToolsOrSkip(t *testing.T) a11yTools {
	t.Helper()
	var missing []string
	var tools a11yTools
	if p := os.Getenv("MELDESTELLE_AXE"); p == "" {
		missing = append(missing, "MELDESTELLE_AXE is not set (the path of axe-core's axe.min.js)")
	} else if b, err := os.ReadFile(p); err != nil {
		missing = append(missing, fmt.Sprintf("MELDESTELLE_AXE: %v", err))
	} else {
		tools.axe = string(b)
	}
	if p := os.Getenv("MELDESTELLE_VNU"); p == "" {
		missing = append(missing, "MELDESTELLE_VNU is not set (the path of vnu-jar's vnu.jar)")
	} else if _, err := os.Stat(p); err != nil {
		missing = append(missing, fmt.Sprintf("MELDESTELLE_VNU: %v", err))
	} else {
		tools.vnu = p
	}
	java := os.Getenv("MELDESTELLE_JAVA")
	if java == "" {
		java = "java"
	}
	if p, err := exec.LookPath(java); err != nil {
		missing = append(missing, fmt.Sprintf("no java (%q): install default-jre-headless or set MELDESTELLE_JAVA", java))
	} else {
		tools.java = p
	}
	if len(missing) == 0 {
		return tools
	}
	msg := "accessibility checkers missing: " + strings.Join(missing, "; ") +
		". `npm ci` in .ci/a11y installs both; .ci/run sets the variables"
	if os.Getenv("MELDESTELLE_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + ", and MELDESTELLE_REQUIRE_BROWSER=1 requires them")
	}
	t.Skip(msg + "; set MELDESTELLE_REQUIRE_BROWSER=1 to make this a failure")
	return tools
}

// a11yPage is one page as the server sent it.
type a11yPage struct {
	Group  string // the browser it is checked in: "public de", "office en"
	Name   string // what it is, for the report: "de form with errors"
	Header http.Header
	Body   []byte
	Width  int64 // the viewport it is checked at, in CSS pixels
}

// a11yFinding is one thing a checker reports on one page.
type a11yFinding struct {
	Tool   string // "axe" or "vnu"
	Rule   string // axe's rule ID, or the Nu checker's message
	Impact string // axe's impact, or "error" / "warning"
	Where  string // axe's CSS selector, or line:column
	Detail string // the element's HTML, or the Nu checker's extract
	Page   string
}

// a11yResult is what the gate found: violations fail it, warnings are
// listed.
type a11yResult struct {
	Violations []a11yFinding
	Warnings   []a11yFinding
}

// a11yChunk is the most pages one browser checks. A page takes about a
// second on a busy 2-core machine, a third of that on an idle one, so a
// chunk stays well within newBrowser's browserTimeout.
const a11yChunk = 15

// a11yGroup is the pages, by index, that one browser checks.
type a11yGroup struct {
	name  string
	pages []int
}

// a11yChunks splits the pages by their Group, in order, and each group
// into chunks of at most a11yChunk pages.
func a11yChunks(pages []a11yPage) []a11yGroup {
	var names []string
	byGroup := map[string][]int{}
	for i, p := range pages {
		if _, ok := byGroup[p.Group]; !ok {
			names = append(names, p.Group)
		}
		byGroup[p.Group] = append(byGroup[p.Group], i)
	}
	var out []a11yGroup
	for _, name := range names {
		all := byGroup[name]
		n := (len(all) + a11yChunk - 1) / a11yChunk
		for k := range n {
			g := a11yGroup{name: name, pages: all[k*len(all)/n : (k+1)*len(all)/n]}
			if n > 1 {
				g.name = fmt.Sprintf("%s %d of %d", name, k+1, n)
			}
			out = append(out, g)
		}
	}
	return out
}

// runA11yGate checks pages with axe-core in Chromium and with the Nu
// checker. Pages load from a loopback server that answers with the saved
// page, its headers included (the CSP), and hands every other request
// (style sheets, captcha pictures) to backend, which may be nil.
func runA11yGate(t *testing.T, tools a11yTools, pages []a11yPage, backend http.Handler) a11yResult {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/a11y-page/"); ok {
			i, err := strconv.Atoi(rest)
			if err != nil || i < 0 || i >= len(pages) {
				http.NotFound(w, r)
				return
			}
			p := pages[i]
			for k, v := range p.Header {
				if k != "Content-Length" && k != "Set-Cookie" {
					w.Header()[k] = v
				}
			}
			w.WriteHeader(http.StatusOK) // the saved status is not the check's business
			w.Write(p.Body)
			return
		}
		if backend == nil {
			http.NotFound(w, r)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	defer srv.Close()

	var res a11yResult
	start := time.Now()
	for _, g := range a11yChunks(pages) {
		// One browser per chunk: newBrowser's time limit holds for a
		// chunk, not for the whole gate.
		t.Run(g.name, func(t *testing.T) {
			ctx := newBrowser(t)
			for _, i := range g.pages {
				p := pages[i]
				found, err := axeCheck(ctx, tools, fmt.Sprintf("%s/a11y-page/%d", srv.URL, i), p.Width)
				if err != nil {
					t.Fatalf("axe on %s: %v", p.Name, err)
				}
				for _, f := range found {
					f.Page = p.Name
					res.Violations = append(res.Violations, f)
				}
			}
		})
	}
	t.Logf("axe-core: %d pages in %v", len(pages), time.Since(start).Round(time.Millisecond))

	start = time.Now()
	errs, warns, err := vnuCheck(t, tools, pages)
	if err != nil {
		t.Fatalf("Nu HTML checker: %v", err)
	}
	t.Logf("Nu HTML checker: %d pages in %v", len(pages), time.Since(start).Round(time.Millisecond))
	res.Violations = append(res.Violations, errs...)
	res.Warnings = warns
	return res
}

// axeResult is the part of axe-core's results the gate reads.
type axeResult struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// axeCheck loads u in the tab of ctx at the given width and returns axe's
// violations. The tab runs no page scripts (newBrowser); axe goes in
// through the DevTools protocol (Runtime.evaluate), which neither that
// switch nor the page's CSP stop, so the page is checked exactly as a
// person without JavaScript gets it.
func axeCheck(ctx context.Context, tools a11yTools, u string, width int64) ([]a11yFinding, error) {
	if width == 0 {
		width = 1280
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(width, 800),
		chromedp.Navigate(u),
	); err != nil {
		return nil, fmt.Errorf("loading: %w", err)
	}
	// axe-core waits on timers, which do not fire while the tab's scripts
	// are off: they are on from here, after the page has loaded (its CSP
	// allows no script of its own), until the next page.
	if err := chromedp.Do(ctx, disableScripts(false)); err != nil {
		return nil, fmt.Errorf("scripts on: %w", err)
	}
	defer chromedp.Do(ctx, disableScripts(true))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](tools.axe+"\n;typeof axe === 'object'")); err != nil {
		return nil, fmt.Errorf("injecting axe-core: %w", err)
	}
	tags, _ := json.Marshal(a11yTags)
	run := `axe.run(document, {runOnly: {type: 'tag', values: ` + string(tags) + `}, resultTypes: ['violations']})` +
		`.then(r => JSON.stringify(r.violations))`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("running axe-core: %w", err)
	}
	var results []axeResult
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		return nil, fmt.Errorf("reading axe-core's results: %w", err)
	}
	var found []a11yFinding
	for _, r := range results {
		for _, n := range r.Nodes {
			found = append(found, a11yFinding{Tool: "axe", Rule: r.ID, Impact: r.Impact, Where: axeTarget(n.Target),
				Detail: oneLine(n.HTML, 160) + " — " + oneLine(n.Summary, 200)})
		}
	}
	return found, nil
}

// axeTarget writes axe's node target (selectors, one per frame) as one
// string.
func axeTarget(target []any) string {
	var parts []string
	for _, s := range target {
		parts = append(parts, fmt.Sprint(s))
	}
	return strings.Join(parts, " ")
}

// vnuMessage is one message of the Nu checker's JSON output.
type vnuMessage struct {
	Type    string `json:"type"`    // "error", "info", "non-document-error"
	SubType string `json:"subType"` // with info: "warning"
	URL     string `json:"url"`
	Line    int    `json:"lastLine"`
	Column  int    `json:"firstColumn"`
	Message string `json:"message"`
	Extract string `json:"extract"`
}

// vnuCheck saves every page and runs the Nu checker once on all of them
// (the JVM's start costs seconds, a page milliseconds). It returns the
// errors and the warnings; plain information is dropped.
func vnuCheck(t *testing.T, tools a11yTools, pages []a11yPage) (errs, warns []a11yFinding, err error) {
	t.Helper()
	dir := t.TempDir()
	names := map[string]string{}
	var files []string
	for i, p := range pages {
		f := filepath.Join(dir, fmt.Sprintf("page-%03d.html", i))
		if err := os.WriteFile(f, p.Body, 0o600); err != nil {
			return nil, nil, fmt.Errorf("saving %s: %w", p.Name, err)
		}
		files = append(files, f)
		names[f] = p.Name
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tools.java, append([]string{"-jar", tools.vnu, "--format", "json", "--stdout"}, files...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// vnu exits 1 when it found errors; its JSON says which.
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || stdout.Len() == 0 {
			return nil, nil, fmt.Errorf("%s: %w\n%s", cmd, err, lastBytes(stderr.String(), 2000))
		}
	}
	var out struct {
		Messages []vnuMessage `json:"messages"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, nil, fmt.Errorf("reading its output: %w\n%s", err, lastBytes(stdout.String(), 2000))
	}
	for _, m := range out.Messages {
		f := a11yFinding{Tool: "vnu", Rule: m.Message, Where: fmt.Sprintf("line %d:%d", m.Line, m.Column),
			Detail: oneLine(m.Extract, 160), Page: names[strings.TrimPrefix(m.URL, "file:")]}
		if f.Page == "" {
			f.Page = m.URL
		}
		switch {
		case m.Type == "error" || m.Type == "non-document-error":
			f.Impact = "error"
			errs = append(errs, f)
		case m.Type == "info" && m.SubType == "warning":
			f.Impact = "warning"
			warns = append(warns, f)
		}
	}
	return errs, warns, nil
}

// a11ySummary groups findings by tool, rule and element, so that the same
// fault on fourteen languages of a page is one line with its pages.
func a11ySummary(found []a11yFinding) []string {
	type key struct{ tool, rule, impact, where, detail string }
	pages := map[key][]string{}
	var order []key
	for _, f := range found {
		k := key{f.Tool, f.Rule, f.Impact, f.Where, f.Detail}
		if f.Tool == "vnu" {
			k.where, k.detail = "", "" // lines differ between languages
		}
		if _, ok := pages[k]; !ok {
			order = append(order, k)
		}
		if !slices.Contains(pages[k], f.Page) {
			pages[k] = append(pages[k], f.Page)
		}
	}
	var lines []string
	for _, k := range order {
		lines = append(lines, fmt.Sprintf("%s %s [%s] %s %s\n    on %d page(s): %s",
			k.tool, k.rule, k.impact, k.where, k.detail, len(pages[k]), strings.Join(pages[k], ", ")))
	}
	return lines
}

// oneLine squeezes s onto one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
