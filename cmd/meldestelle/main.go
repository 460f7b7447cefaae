// Command meldestelle runs the anonymous reporting service.
//
//	meldestelle [serve]              run the server (default)
//	meldestelle setup -admin NAME -password-stdin
//	                                 create the first team and admin without a browser
//	meldestelle audit verify         check the audit log's hash chain (exit 1 if broken)
//	meldestelle recover -admin NAME -recovery-key-stdin
//	                                 create a new admin with the recovery key
//	meldestelle stats -year Y -format csv|json
//	                                 a year's statistics on standard output
//	meldestelle export-records -year Y [-format csv|json] [-k K] [-o FILE]
//	                                 a year's k-anonymous records for the reporting network
//	meldestelle backup PATH          a consistent copy of the database while it runs
//	meldestelle backup verify FILE   a backup's integrity, schema version and counts
//	meldestelle restore FILE         a verified backup into an empty data directory
//	meldestelle check                the configuration and environment serve would start with
//	meldestelle version              the version this binary was built from (also -version)
//
// Flags fall back to MELDESTELLE_* environment variables; see README.md.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // received_on is a Berlin date even on hosts without zoneinfo

	"github.com/dchest/captcha"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/pdfprint"
	"github.com/planb-ruhr/meldestelle/reporting/smtpmail"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/reporting/web"
	"github.com/planb-ruhr/meldestelle/reporting/web/captchastore"
	"github.com/planb-ruhr/meldestelle/reporting/wiring"
	"github.com/planb-ruhr/meldestelle/storage"
)

// version is set at build time by scripts/build
// (-ldflags "-X main.version=$(git describe …)").
var version string

// versionString is the build's version: the one scripts/build stamped in,
// else the one the go command recorded (a module version or a VCS
// pseudo-version), else "devel".
func versionString() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs one command until it ends or ctx is cancelled, and returns the
// exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || args[0] == "-version" || args[0] == "--version") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "meldestelle %s (%s)\n", versionString(), runtime.Version())
		return 0
	case "serve":
		err = serve(ctx, args, stderr)
	case "setup":
		err = setup(ctx, args, stdin, stdout, stderr)
	case "audit":
		err = audit(ctx, args, stdout, stderr)
	case "recover":
		err = recoverAdmin(ctx, args, stdin, stdout, stderr)
	case "stats":
		err = stats(ctx, args, stdout, stderr)
	case "export-records":
		err = exportRecords(ctx, args, stdout, stderr)
	case "backup":
		err = backup(ctx, args, stdout, stderr)
	case "retention":
		err = retention(ctx, args, stdout, stderr)
	case "restore":
		err = restore(ctx, args, stdout, stderr)
	case "check":
		err = check(ctx, args, stdout, stderr)
	case "unlock":
		err = unlock(ctx, args, stdout, stderr)
	case "secret":
		err = secretCmd(ctx, args, stdin, stdout, stderr)
	case "kdf":
		err = kdfCmd(ctx, args, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "meldestelle: unknown command %q (serve, version, setup, audit, recover, stats, export-records, backup, restore, check, retention, unlock, secret, kdf)\n", cmd)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "meldestelle:", err)
		return 1
	}
	return 0
}

// berlin is the office's time zone: the day a report is received is the
// day in Germany, whatever the server's zone.
var berlin, _ = time.LoadLocation("Europe/Berlin")

func now() time.Time { return time.Now().In(berlin) }

// domain is the domain's services on their database.
type domain struct {
	*wiring.Services
	db *storage.DB
}

// Close ends the sessions (wiping their keys) and closes the database.
func (d *domain) Close() {
	d.Services.Close()
	d.db.Close()
}

// services opens the database and builds the domain services. notify
// configures the notification mails (serve); the other commands send none
// and pass the zero value.
func (c *config) services(ctx context.Context, notify reporting.NotifierConfig) (*domain, error) {
	db, err := storage.Open(c.data)
	if err != nil {
		return nil, err
	}
	secret, err := c.secret(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	anchor := reporting.NewAnchor(secret)
	db.SetAuditKey(anchor.AuditKey())
	svc, err := wiring.New(ctx, db, wiring.Config{KDF: vault.NewKDF(c.kdfConcurrency), Params: vault.DefaultParams,
		Anchor: anchor, Now: now, StatsK: c.statsK, Notify: notify})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &domain{Services: svc, db: db}, nil
}

// secretPath is the server secret's file: -secret-file, or secret.key in
// the data directory (outside the database file, so `meldestelle backup`
// never copies it).
func (c *config) secretPath() string {
	if c.secretFile != "" {
		return c.secretFile
	}
	return filepath.Join(c.data, "secret.key")
}

// secret loads the server secret, or creates it on a database without
// users (first run: nothing is MACed yet, so nothing can be lost). A
// database with users but no secret file refuses to start: either the
// file was lost (restore it from where the recovery key is kept) or the
// deployment predates it (`meldestelle secret init`, see README).
func (c *config) secret(ctx context.Context, db *storage.DB) (*vault.Secret, error) {
	path := c.secretPath()
	s, err := vault.LoadSecret(path)
	if !errors.Is(err, vault.ErrNoSecret) {
		return s, err
	}
	n, err := db.CountUsers(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, fmt.Errorf("no server secret at %s, but the database has users: restore the file from your backup of it, or, for a deployment from before the secret existed, run `meldestelle secret init` (README, section \"Server secret\")", path)
	}
	return vault.CreateSecret(path)
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := loadServe(args, stderr, os.LookupEnv)
	if err != nil {
		return err
	}

	// Before any key is unlocked: no core file may ever hold one.
	restoreDumps, err := noCoreDumps()
	if err != nil {
		return err
	}
	defer restoreDumps()
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if c.memoryLimit > 0 {
		// Restored on return, so that tests running serve in-process
		// leave the test binary as they found it.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(c.memoryLimit))
	}
	logger.Info("memory limit", "limit", c.memoryLimitHow)
	// dchest/captcha's store is a package global: set once, before the
	// first captcha. The default store grows with every form view.
	captchas := captchastore.New(captchastore.DefaultMax)
	captcha.SetCustomStore(captchas)

	tr, err := i18n.Load()
	if err != nil {
		return err
	}
	notifierCfg := reporting.NotifierConfig{BaseURL: c.baseURL, Now: now, Logger: logger, Delay: reporting.RandomDelay(c.notifyDelayMin, c.notifyDelayMax)}
	if c.mailOn {
		// The SMTP adapter is wired here: the domain only knows reporting.Mailer.
		notifierCfg.Mailer = smtpmail.New(c.smtp)
		notifierCfg.Texts, notifierCfg.Languages = tr, i18n.OfficeLanguages
	} else {
		logger.Info("notifications off: no SMTP host set (-smtp-host / MELDESTELLE_SMTP_HOST)")
	}
	d, err := c.services(ctx, notifierCfg)
	if err != nil {
		return err
	}
	defer d.Close()
	db, office, notifier := d.db, d.Office, d.Notifier
	token, err := office.Start(ctx)
	if err != nil {
		return err
	}
	if token != "" {
		fmt.Fprintf(stderr, "First start: open %s/office/setup?token=%s to create the first team and admin (the link works once).\n", c.baseURL, token)
	}
	if c.captchaOff {
		logger.Warn("CAPTCHA IS OFF (MELDESTELLE_CAPTCHA=off): anyone can submit reports automatically; use this only for load tests or a closed intranet")
	}
	senderCtx, stopSender := context.WithCancel(context.Background())
	senderDone := make(chan struct{})
	go func() { defer close(senderDone); notifier.Run(senderCtx, time.Minute) }()
	defer func() { stopSender(); <-senderDone }()
	// Retention (issue 5): delete due case content at start, then daily.
	retentionCtx, stopRetention := context.WithCancel(context.Background())
	retentionDone := make(chan struct{})
	go func() { defer close(retentionDone); d.Retention.RunRetention(retentionCtx, 24*time.Hour, logger) }()
	defer func() { stopRetention(); <-retentionDone }()
	// Scheduled backups (issue 15).
	if c.backupEvery > 0 {
		backupCtx, stopBackups := context.WithCancel(context.Background())
		backupsDone := make(chan struct{})
		sched := &backupSchedule{db: db, dir: c.backupDir, every: c.backupEvery, keep: c.backupKeep, now: time.Now, logger: logger, firstDelay: backupFirstDelay}
		go func() { defer close(backupsDone); sched.Run(backupCtx) }()
		defer func() { stopBackups(); <-backupsDone }()
		logger.Info("scheduled backups", "dir", c.backupDir, "every", c.backupEvery, "keep", c.backupKeep)
	} else {
		logger.Warn("scheduled backups off: set -backup-dir and -backup-every (README, section \"Backups\")")
	}
	// The follow-up holds the reporters' tokens, which the reaper ends.
	followup := reporting.NewFollowup(d.Intake, now)
	handler, err := web.New(web.Config{BaseURL: c.baseURL, OnionURL: c.onionURL, CaptchaOff: c.captchaOff, Captchas: captchas, TrustedProxies: c.trustedProxies, Logger: logger, Now: now, Notifier: notifier,
		Printer: casePrinter(c.chromium, logger), Ready: db.Ready},
		d.Web(followup), tr)
	if err != nil {
		return err
	}
	// Public requests' log lines wait for the turn of the hour (see
	// web.Server.FlushLogs); write the ones still held before exiting.
	defer handler.FlushLogs()
	// A withdrawal is a reporter's request: its log line must not date it.
	db.SetLogger(handler.PublicLogger())
	// Expired sessions and follow-up tokens take their keys with them
	// (issue 9): every minute, not only when someone comes back.
	reaperCtx, stopReaper := context.WithCancel(context.Background())
	reaperDone := make(chan struct{})
	reaper := reporting.NewReaper(office, d.Accounts, followup, logger)
	go func() { defer close(reaperDone); reaper.Run(reaperCtx, reporting.ReapEvery) }()
	defer func() { stopReaper(); <-reaperDone; followup.Close() }()
	srv := &http.Server{
		Addr:              c.addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          handler.HTTPErrorLog(),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("listening", "addr", c.addr, "data", c.data)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// memoryLimit decides serve's Go memory limit from the -memory-limit value
// (or MELDESTELLE_MEMORY_LIMIT), the GOMEMLIMIT variable and the KDF
// concurrency n. It returns the limit to set (0: leave the runtime's) and
// how it was chosen, for the log.
func memoryLimit(value, gomemlimit string, n int) (int64, string, error) {
	auto := vault.MemoryLimit(n, vault.DefaultParams)
	var limit int64
	switch v := strings.TrimSpace(value); strings.ToLower(v) {
	case "", "auto":
		limit = auto
	case "off":
		limit = 0
	default:
		var err error
		if limit, err = parseSize(v); err != nil {
			return 0, "", fmt.Errorf("-memory-limit / MELDESTELLE_MEMORY_LIMIT %q: %w (e.g. 256MiB, 1GiB, auto or off)", value, err)
		}
		// Below this the collector would run all the time and the
		// server would still not fit: refuse rather than crawl.
		if limit < 64<<20 {
			return 0, "", fmt.Errorf("-memory-limit / MELDESTELLE_MEMORY_LIMIT %q: at least 64MiB (e.g. 256MiB, 1GiB, auto or off)", value)
		}
	}
	if gomemlimit != "" {
		// The runtime has applied GOMEMLIMIT already; an operator who set
		// Go's own variable means it.
		return 0, "GOMEMLIMIT=" + gomemlimit + " (wins over -memory-limit)", nil
	}
	if limit == 0 {
		return 0, "off", nil
	}
	if limit == auto {
		slots := n
		if slots < 1 {
			slots = runtime.NumCPU()
		}
		return limit, fmt.Sprintf("%dMiB (auto: %d argon2id slots of %dMiB + %dMiB headroom)",
			limit>>20, slots, vault.DefaultParams.MemoryKiB>>10, vault.MemoryHeadroom>>20), nil
	}
	return limit, fmt.Sprintf("%dMiB", limit>>20), nil
}

// parseSize reads a byte count with an optional binary unit: 268435456,
// 256MiB, 1GiB (the notation of GOMEMLIMIT).
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	shift := uint(0)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, shift = strings.TrimSuffix(s, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>shift {
		return 0, errors.New("not a size")
	}
	return n << shift, nil
}

func setup(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c config
	fs := c.sharedFlags("setup", stderr, os.LookupEnv)
	admin := fs.String("admin", "", "name of the first admin (required)")
	team := fs.String("team", "PLANB", "name of the first team")
	passwordStdin := fs.Bool("password-stdin", false, "read the admin's password from the first line of standard input (required)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *admin == "" || !*passwordStdin {
		return errors.New("setup needs -admin NAME and -password-stdin")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	password := strings.TrimRight(line, "\r\n")

	d, err := c.services(ctx, reporting.NotifierConfig{})
	if err != nil {
		return err
	}
	defer d.Close()
	token, err := d.Office.PrepareSetup(ctx)
	if err != nil {
		return err
	}
	if token == "" {
		return errors.New("already set up: users exist")
	}
	tr, err := i18n.Load()
	if err != nil {
		return err
	}
	recovery, err := d.Office.Setup(ctx, reporting.SetupForm{Token: token, Team: *team, Username: *admin, Password: password, Confirm: password})
	if errs := reporting.FieldErrors(err); errs != nil {
		for field, id := range errs {
			fmt.Fprintf(stderr, "%s: %s\n", field, tr.T("en", id, nil))
		}
		return errors.New("setup refused")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Team %q and admin %q created.\n\nRecovery key (shown once; print it and keep it offline):\n\n  %s\n\n", *team, *admin, recovery)
	return nil
}

// casePrinter finds the Chromium that prints the case file's PDF
// (reporting/pdfprint says why Chromium). Without one the export offers
// the print page only, and the start log says so once. nil is returned
// as a nil interface, not a nil *Printer.
func casePrinter(configured string, logger *slog.Logger) web.Printer {
	path, err := pdfprint.Find(configured)
	if err != nil {
		logger.Warn("case file PDF export off: no Chromium found; the export offers the print page (the browser's \"Save as PDF\"). Install the Debian packages chromium and fonts-dejavu-core, or set -chromium / MELDESTELLE_CHROMIUM", "err", err)
		return nil
	}
	logger.Info("case file PDF export through headless Chromium", "chromium", path)
	return pdfprint.New(path, pdfprint.DefaultParallel, pdfprint.DefaultTimeout)
}
