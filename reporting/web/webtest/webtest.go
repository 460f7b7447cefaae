// Package webtest starts a whole Meldestelle for tests, as net/http/httptest
// starts a server: a real SQLite database in a temporary directory, the
// real domain services and the web handler on a loopback HTTP server. It
// also holds the helpers that fill in and send the forms as a person
// would, and the captcha store that lets a test read a captcha's digits.
//
// It is for tests only: the handler tests of package web and the browser
// tests of package browsertest share it. A test binary that uses it must
// install Captchas as dchest/captcha's store in its TestMain, before the
// first captcha is made.
package webtest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/reporting/web"
	"github.com/planb-ruhr/meldestelle/reporting/web/captchaaudio"
	"github.com/planb-ruhr/meldestelle/reporting/web/captchastore"
	"github.com/planb-ruhr/meldestelle/reporting/wiring"
	"github.com/planb-ruhr/meldestelle/storage"
)

// Captchas is the test store for dchest/captcha: the production store,
// so the server checks every captcha as in production, wrapped so that a
// test can read the digits the way a person reads the picture.
var Captchas = &SolvingStore{captchastore.New(captchastore.DefaultMax)}

// SolvingStore is the production captcha store with a way for tests to
// read the answer.
type SolvingStore struct{ *captchastore.Store }

// Solve returns the digits of a captcha as a person would type them, or ""
// for an unknown one.
func (s *SolvingStore) Solve(id string) string {
	var b strings.Builder
	for _, d := range s.Get(id, false) {
		b.WriteByte('0' + d)
	}
	return b.String()
}

// TestParams keep argon2id cheap in tests that run it many times; the
// end-to-end test uses the real parameters.
var TestParams = vault.Params{Time: 1, MemoryKiB: 2 * 1024, Threads: 1}

// Env is a running Meldestelle: a real SQLite file in a temporary
// directory and a real HTTP server on loopback.
type Env struct {
	URL     string
	Handler http.Handler // the server's handler, for benchmarks without the network
	Dir     string
	DB      *storage.DB
	Office  *reporting.Office
	// Services are every domain service of the server (Office among them).
	Services *wiring.Services
	Anchor   *reporting.Anchor // the integrity anchor, from the secret file in Dir
	Logs     *SyncBuffer
	Admin    string // the admin's name
	Pass     string // the admin's password

	SetupToken string              // with Options.Fresh: the one-time setup token
	Notifier   *reporting.Notifier // with Options.Notify

	// Audio is the server's captcha audio mixer, so a test can rebuild
	// what the server speaks.
	Audio *captchaaudio.Mixer
}

// FlushedLogs writes the public lines the server holds until the turn of
// the hour, and returns the whole log.
func (e *Env) FlushedLogs() string {
	e.Handler.(*web.Server).FlushLogs()
	return e.Logs.String()
}

// Options change how New sets up a server; the zero value is the usual
// server with cheap argon2id parameters and the captcha on.
type Options struct {
	Params     vault.Params
	CaptchaOff bool
	Now        func() time.Time // the clock of intake, office and web; time.Now if nil
	// Notify, if set, configures the notifier that intake and web use
	// (without it: mails are queued, none is sent).
	Notify func(logger *slog.Logger) reporting.NotifierConfig
	Fresh  bool // leave the office unset: e.SetupToken holds the link's token
	// Printer makes the case file's PDF (web.Config.Printer); nil: none.
	Printer web.Printer
	// BaseURL, OnionURL and TrustedProxies are web.Config's; "" = none.
	// An https base URL makes cookies Secure and sends HSTS (a server
	// behind a proxy, deploy/proxy_test.go); OnionURL: issue 15, Tor.
	BaseURL, OnionURL string
	TrustedProxies    []string
}

// New starts a server on loopback with the first team and an admin set
// up, and stops it when the test ends.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	if opts.Params == (vault.Params{}) {
		opts.Params = TestParams
	}
	if opts.Now == nil {
		opts.Now = time.Now
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
	logs := &SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	wcfg := wiring.Config{KDF: kdf, Params: opts.Params, Anchor: anchor, Now: opts.Now}
	if opts.Notify != nil {
		wcfg.Notify = opts.Notify(logger)
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
	e := &Env{Dir: dir, DB: db, Office: office, Services: svc, Anchor: anchor, Logs: logs, Admin: "anna", Pass: "ein langes geheimes Passwort"}
	if opts.Fresh {
		e.SetupToken = token
	} else if _, err := office.Setup(ctx, reporting.SetupForm{Token: token, Team: "PLANB", Username: e.Admin, Password: e.Pass, Confirm: e.Pass}); err != nil {
		t.Fatal(err)
	}
	tr, err := Translations()
	if err != nil {
		t.Fatal(err)
	}
	e.Audio = captchaaudio.NewMixer()
	cfg := web.Config{BaseURL: opts.BaseURL, OnionURL: opts.OnionURL, TrustedProxies: opts.TrustedProxies, CaptchaOff: opts.CaptchaOff, Captchas: Captchas, CaptchaAudio: e.Audio, Logger: logger, Now: opts.Now, Printer: opts.Printer, Ready: db.Ready}
	if opts.Notify != nil {
		e.Notifier = svc.Notifier
		cfg.Notifier = e.Notifier
	}
	h, err := web.New(cfg, svc.Web(reporting.NewFollowup(svc.Intake, opts.Now)), tr)
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

// Translations loads the message files once for every test server: a
// bundle is read-only, and servers on one bundle share its parsed
// templates.
var Translations = sync.OnceValues(i18n.Load)

// Clock is a clock the test moves by hand.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that stands at t until it is moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// SyncBuffer is a log sink that tests can read while the server writes.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the log.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FilesHolding returns the names of the database files in dir (the main
// file, its -wal and -shm) that contain needle, for tests that check a
// secret left no trace on disk. It fails the test when there is no
// database file at all, so a wrong directory cannot pass for a clean one.
func FilesHolding(t testing.TB, dir string, needle []byte) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, storage.FileName+"*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	var holding []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, needle) {
			holding = append(holding, filepath.Base(f))
		}
	}
	return holding
}
