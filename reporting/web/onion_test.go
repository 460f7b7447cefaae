package web_test

import (
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting/web"
	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
	"github.com/planb-ruhr/meldestelle/static"
)

// testOnion is a v3 onion address made for the tests (the ed25519 key of
// the seed of 32 bytes 1), with its checksum.
const (
	testOnionHost = "rkeohxlubhyzl7ks3mwtzos5olfgocn7dwkbeg7toseadnapn5optfad.onion"
	testOnion     = "http://" + testOnionHost
)

// The onion address is checked before reporters are sent to it: only
// http(s), a v3 address whose checksum matches, nothing after the host.
func TestCheckOnionURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{testOnion, testOnion},
		{testOnion + "/", testOnion},
		{"HTTPS://" + strings.ToUpper(testOnionHost), "https://" + testOnionHost},
		{testOnion + ":8080", testOnion + ":8080"},
		// An address that tor 0.4.9 made (from deploy/tor/torrc), and the
		// Tor Project's own: the checksum is Tor's.
		{"http://3ltiecuxef6ejqettjkmlfnvs2pfqyg2ljyze3pngabdptkvycjwz7ad.onion", "http://3ltiecuxef6ejqettjkmlfnvs2pfqyg2ljyze3pngabdptkvycjwz7ad.onion"},
		{"https://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion", "https://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"},
	} {
		got, err := web.CheckOnionURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("CheckOnionURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, says string }{
		{testOnionHost, "scheme"},
		{"ftp://" + testOnionHost, "scheme"},
		{"https://melden.example.org", ".onion"},
		{testOnion + "/de/", "path"},
		{testOnion + "/?x=1", "query"},
		{testOnion + "#top", "fragment"},
		{"http://user@" + testOnionHost, "want http://"},
		{"http://expyuzz4wqqyqhjn.onion", "v3 address has 56"},                                     // a v2 address
		{"http://rkeohxlubiyzl7ks3mwtzos5olfgocn7dwkbeg7toseadnapn5optfad.onion", "checksum"},      // one letter mistyped
		{"http://rkeohxlubhyzl7ks3mwtzos5olfgocn7dwkbeg7toseadnapn5optf0d.onion", "base32"},        // 0 is not base32
		{"http://www.rkeohxlubhyzl7ks3mwtzos5olfgocn7dwkbeg7toseadnapn5optfad.onion", "subdomain"}, // a subdomain
		{"http://qe4xodvipulv6vvdkrtmgtd6ztfy3curwtxdpis56yhvxd6jwokbr4qa.onion", "version"},       // version byte 0
		{"", "scheme"},
	} {
		got, err := web.CheckOnionURL(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("CheckOnionURL(%q) = %q, %v; want an error saying %q", tc.in, got, err, tc.says)
		}
	}
}

// hostClient sends every request with the given Host header, as Tor
// forwards a request to the onion service; redirects are not followed.
func hostClient(host string) *http.Client {
	return &http.Client{
		Transport:     hostTransport{host},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type hostTransport struct{ host string }

func (h hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = h.host
	return http.DefaultTransport.RoundTrip(r)
}

// With -onion-url, every public page answering a GET names its onion
// twin in Onion-Location (the path only, never the query); the office,
// static files and the answers to POSTs (the receipt, shown once) do
// not; without -onion-url nothing does.
func TestOnionLocationOnPublicPagesOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{OnionURL: testOnion + "/"})
	webtest.PublishStatsFixture(t, e)
	for _, path := range []string{"/", "/de", "/de/", "/ar/", "/de/privacy", "/de/followup", "/de/statistics", "/de/contact", "/de/imprint"} {
		resp, _ := get(t, e.URL+path)
		if got, want := resp.Header.Get("Onion-Location"), testOnion+path; got != want {
			t.Errorf("GET %s (%d): Onion-Location %q, want %q", path, resp.StatusCode, got, want)
		}
	}
	resp, _ := get(t, e.URL+"/de/statistics?year=2024&place=bochum")
	if got, want := resp.Header.Get("Onion-Location"), testOnion+"/de/statistics"; got != want {
		t.Errorf("statistics with a query: Onion-Location %q, want %q (no query string)", got, want)
	}
	for _, path := range []string{"/office/login", "/office/setup", "/office/", "/office", "/static/style.css", "/healthz"} {
		resp, _ := get(t, e.URL+path)
		if got := resp.Header.Get("Onion-Location"); got != "" {
			t.Errorf("GET %s: Onion-Location %q, want none", path, got)
		}
	}
	resp, page := submit(t, e, "de", validReport("Der Vermieter hat uns beleidigt."))
	if resp.StatusCode != http.StatusOK || subReceipt(page) == "" {
		t.Fatalf("report not received: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Onion-Location"); got != "" {
		t.Errorf("receipt page (POST): Onion-Location %q, want none: Tor Browser could leave the page for a GET and lose the code", got)
	}

	plain := newEnv(t, options{})
	if resp, _ := get(t, plain.URL+"/de/"); resp.Header.Get("Onion-Location") != "" {
		t.Errorf("without -onion-url: Onion-Location %q", resp.Header.Get("Onion-Location"))
	}
}

// absoluteRef finds the href, src and action attributes and the
// Location values that name a scheme or a host, i.e. that could lead off
// the host the page was asked from.
var absoluteRef = regexp.MustCompile(`(?i)(?:href|src|action|formaction)\s*=\s*"((?:[a-z][a-z0-9+.-]*:|//)[^"]*)"`)

// A reporter who comes over Tor (Host: the onion name) stays on the
// onion host: every link, picture and form on the public pages is
// relative, redirects too, and the receipt's printed address for coming
// back is the onion address, not the clear-web base URL, which a
// reporter coming over the clear web still gets.
func TestOnionHostStaysOnOnion(t *testing.T) {
	t.Parallel()
	const base = "https://melden.example.org"
	e := newEnv(t, options{BaseURL: base, OnionURL: testOnion})
	webtest.PublishStatsFixture(t, e)
	tor := hostClient(testOnionHost)
	for _, path := range []string{"/", "/de", "/de/", "/fa/", "/de/privacy", "/de/followup", "/de/statistics?place=bochum", "/de/contact", "/de/imprint"} {
		resp, err := tor.Get(e.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		page := readBody(t, resp)
		if loc := resp.Header.Get("Location"); loc != "" && !strings.HasPrefix(loc, "/") {
			t.Errorf("GET %s redirects off the host: %q", path, loc)
		}
		for _, m := range absoluteRef.FindAllStringSubmatch(page, -1) {
			t.Errorf("GET %s over the onion host: absolute reference %q", path, m[1])
		}
		if strings.Contains(page, "melden.example.org") {
			t.Errorf("GET %s over the onion host names the clear-web host", path)
		}
	}

	// The report, sent through the onion host.
	resp, err := tor.Get(e.URL + "/de/")
	if err != nil {
		t.Fatal(err)
	}
	report := validReport("Im Bus wurden wir als Zigeuner beschimpft.")
	id := captchaID(t, readBody(t, resp))
	report.Set("captcha_id", id)
	report.Set("captcha_solution", captchas.Solve(id))
	resp, err = tor.PostForm(e.URL+"/de/report", report)
	if err != nil {
		t.Fatal(err)
	}
	page := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || subReceipt(page) == "" {
		t.Fatalf("report over the onion host: %d, no receipt", resp.StatusCode)
	}
	if want := testOnion + "/de/followup"; !strings.Contains(page, want) {
		t.Errorf("receipt over the onion host lacks %q for coming back", want)
	}
	if strings.Contains(page, "melden.example.org") {
		t.Error("receipt over the onion host names the clear-web host")
	}
	for _, m := range absoluteRef.FindAllStringSubmatch(page, -1) {
		t.Errorf("receipt over the onion host: absolute reference %q", m[1])
	}

	// The control: over the clear web, the base URL.
	_, page = submit(t, e, "de", validReport("Am Amt wurden wir weggeschickt."))
	if want := base + "/de/followup"; !strings.Contains(page, want) {
		t.Errorf("receipt over the clear web lacks %q", want)
	}
	if strings.Contains(page, testOnionHost) {
		t.Error("receipt over the clear web names the onion host")
	}
}

// Tor Browser's safest mode loads no remote fonts: the style sheets hold
// no @font-face, no @import, and no url() that is not a path on this
// host.
func TestStyleSheetsLoadNothingElse(t *testing.T) {
	t.Parallel()
	urlRef := regexp.MustCompile(`(?i)url\(\s*['"]?([^'")\s]*)`)
	sheets, err := fs.Glob(static.FS, "*.css")
	if err != nil || len(sheets) == 0 {
		t.Fatalf("no style sheets: %v", err)
	}
	for _, name := range sheets {
		b, err := fs.ReadFile(static.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		css := strings.ToLower(string(b))
		for _, at := range []string{"@font-face", "@import"} {
			if strings.Contains(css, at) {
				t.Errorf("%s: %s", name, at)
			}
		}
		for _, m := range urlRef.FindAllStringSubmatch(css, -1) {
			if u, err := url.Parse(m[1]); err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(m[1], "//") {
				t.Errorf("%s: url(%s) leads to another origin", name, m[1])
			}
		}
	}
}
