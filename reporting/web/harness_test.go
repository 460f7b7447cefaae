package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dchest/captcha"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/reporting/web"
	"github.com/planb-ruhr/meldestelle/reporting/web/captchaaudio"
	"github.com/planb-ruhr/meldestelle/reporting/web/captchastore"
	"github.com/planb-ruhr/meldestelle/reporting/wiring"
	"github.com/planb-ruhr/meldestelle/storage"
)

// captchas is the test store for dchest/captcha: the production store,
// so the server checks every captcha as in production, wrapped so that a
// test can read the digits the way a person reads the picture.
var captchas = &solvingStore{captchastore.New(captchastore.DefaultMax)}

func TestMain(m *testing.M) {
	// dchest/captcha's store is a package global: set it once, before the
	// first captcha is made.
	captcha.SetCustomStore(captchas)
	os.Exit(m.Run())
}

type solvingStore struct{ *captchastore.Store }

// solve returns the digits of a captcha as a person would type them, or ""
// for an unknown one.
func (s *solvingStore) solve(id string) string {
	var b strings.Builder
	for _, d := range s.Get(id, false) {
		b.WriteByte('0' + d)
	}
	return b.String()
}

// testParams keep argon2id cheap in tests that run it many times; the
// end-to-end test uses the real parameters.
var testParams = vault.Params{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}

// env is a running Meldestelle: a real SQLite file in a temporary
// directory and a real HTTP server on loopback.
type env struct {
	URL     string
	Handler http.Handler // the server's handler, for benchmarks without the network
	Dir     string
	DB      *storage.DB
	Office  *reporting.Office
	// Services are every domain service of the server (Office among them).
	Services *wiring.Services
	Anchor   *reporting.Anchor // the integrity anchor, from the secret file in Dir
	Logs     *syncBuffer
	Admin    string // the admin's name
	Pass     string // the admin's password

	SetupToken string              // with options.fresh: the one-time setup token
	Notifier   *reporting.Notifier // with options.notify

	// Audio is the server's captcha audio mixer, so a test can rebuild
	// what the server speaks.
	Audio *captchaaudio.Mixer
}

// testClock is a clock the test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

// Now returns the clock's time.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type options struct {
	params     vault.Params
	captchaOff bool
	now        func() time.Time // the clock of intake, office and web; time.Now if nil
	// notify, if set, configures the notifier that intake and web use
	// (without it: mails are queued, none is sent).
	notify func(logger *slog.Logger) reporting.NotifierConfig
	fresh  bool // leave the office unset: e.SetupToken holds the link's token
}

// newEnv starts a server on loopback with the first team and an admin set
// up, and stops it when the test ends.
func newEnv(t testing.TB, opts options) *env {
	t.Helper()
	if opts.params == (vault.Params{}) {
		opts.params = testParams
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	ctx := context.Background()
	dir := t.TempDir()
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	kdf := vault.NewKDF(0)
	// The server secret lives in its own file next to the database, as
	// in production (cmd/meldestelle's default -secret-file).
	secret, err := vault.CreateSecret(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	anchor := reporting.NewAnchor(secret)
	db.SetAuditKey(anchor.AuditKey())
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	wcfg := wiring.Config{KDF: kdf, Params: opts.params, Anchor: anchor, Now: opts.now}
	if opts.notify != nil {
		wcfg.Notify = opts.notify(logger)
	}
	svc, err := wiring.New(ctx, db, wcfg)
	if err != nil {
		t.Fatal(err)
	}
	office := svc.Office
	token, err := office.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{Dir: dir, DB: db, Office: office, Services: svc, Anchor: anchor, Logs: logs, Admin: "anna", Pass: "ein langes geheimes Passwort"}
	if opts.fresh {
		e.SetupToken = token
	} else if _, err := office.Setup(ctx, reporting.SetupForm{Token: token, Team: "PLANB", Username: e.Admin, Password: e.Pass, Confirm: e.Pass}); err != nil {
		t.Fatal(err)
	}
	tr, err := translations()
	if err != nil {
		t.Fatal(err)
	}
	e.Audio = captchaaudio.NewMixer()
	cfg := web.Config{CaptchaOff: opts.captchaOff, Captchas: captchas, CaptchaAudio: e.Audio, Logger: logger, Now: opts.now}
	if opts.notify != nil {
		e.Notifier = svc.Notifier
		cfg.Notifier = e.Notifier
	}
	h, err := web.New(cfg, svc.Web(reporting.NewFollowup(svc.Intake, opts.now)), tr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = web.ServerErrorLog(logger)
	srv.Start()
	e.URL, e.Handler = srv.URL, h
	t.Cleanup(func() {
		srv.Close()
		office.Close()
		db.Close()
	})
	return e
}

// services is the one place the tests wire the web layer to the real
// domain services: the one Office serves every office area, as in

// translations loads the message files once for every test server: a
// bundle is read-only, and servers on one bundle share its parsed
// templates.
var translations = sync.OnceValues(i18n.Load)

// syncBuffer is a log sink that tests can read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// client is an HTTP client that does not follow redirects, so tests see
// them.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get fetches a page and returns the response and its body.
func get(t testing.TB, u string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// post submits a form and returns the response and its body.
func post(t testing.TB, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := client.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// postAs submits an office form with a session cookie (nil: none).
func postAs(t testing.TB, cookie *http.Cookie, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// loginAs logs any user in and returns the session cookie.
func loginAs(t testing.TB, e *env, name, password string) *http.Cookie {
	t.Helper()
	resp, body := post(t, e.URL+"/office/login", url.Values{"username": {name}, "password": {password}})
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "meldestelle_session") && c.Value != "" {
			return c
		}
	}
	t.Fatalf("login of %s: status %d, no cookie:\n%s", name, resp.StatusCode, body)
	return nil
}
