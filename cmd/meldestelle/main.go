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
//	meldestelle backup PATH          a consistent copy of the database while it runs
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
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // received_on is a Berlin date even on hosts without zoneinfo

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/reporting/web"
	"github.com/planb-ruhr/meldestelle/storage"
)

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
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
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
	case "backup":
		err = backup(ctx, args, stdout, stderr)
	case "retention":
		err = retention(ctx, args, stdout, stderr)
	case "unlock":
		err = unlock(ctx, args, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "meldestelle: unknown command %q (serve, setup, audit, recover, stats, backup, retention)\n", cmd)
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

// config is the validated configuration shared by the commands.
type config struct {
	addr           string
	data           string
	baseURL        string
	captchaOff     bool
	kdfConcurrency int
	trustedProxies []string
}

func env(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return fallback
}

// flags registers the flags every command shares.
func (c *config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", env("MELDESTELLE_DATA", "./data"), "data directory (env MELDESTELLE_DATA)")
	n, _ := strconv.Atoi(env("MELDESTELLE_KDF_CONCURRENCY", "0"))
	fs.IntVar(&c.kdfConcurrency, "kdf-concurrency", n, "argon2id derivations at once, 64 MiB each; 0 = number of CPUs (env MELDESTELLE_KDF_CONCURRENCY)")
}

// berlin is the office's time zone: the day a report is received is the
// day in Germany, whatever the server's zone.
var berlin, _ = time.LoadLocation("Europe/Berlin")

func now() time.Time { return time.Now().In(berlin) }

// services opens the database and builds the domain services.
func (c *config) services(ctx context.Context) (*storage.DB, *reporting.Intake, *reporting.Office, error) {
	db, err := storage.Open(c.data)
	if err != nil {
		return nil, nil, nil, err
	}
	kdf := vault.NewKDF(c.kdfConcurrency)
	intake, err := reporting.NewIntake(ctx, db, kdf, vault.DefaultParams, now)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return db, intake, reporting.NewOffice(db, kdf, vault.DefaultParams, now), nil
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs)
	fs.StringVar(&c.addr, "addr", env("MELDESTELLE_ADDR", "127.0.0.1:8080"), "listen address (env MELDESTELLE_ADDR)")
	fs.StringVar(&c.baseURL, "base-url", env("MELDESTELLE_BASE_URL", ""), "public URL, e.g. https://melden.example.org (env MELDESTELLE_BASE_URL)")
	var smtp smtpFlags
	smtp.register(fs)
	statsK := statsKFlag(fs)
	proxies := fs.String("trusted-proxies", env("MELDESTELLE_TRUSTED_PROXIES", ""), "comma-separated proxy addresses whose X-Forwarded-* headers are believed (env MELDESTELLE_TRUSTED_PROXIES)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.captchaOff = strings.EqualFold(env("MELDESTELLE_CAPTCHA", "on"), "off")
	if *proxies != "" {
		c.trustedProxies = strings.Split(*proxies, ",")
	}
	if c.baseURL == "" {
		c.baseURL = "http://" + c.addr
	}
	c.baseURL = strings.TrimSuffix(c.baseURL, "/")
	if !strings.HasPrefix(c.baseURL, "http://") && !strings.HasPrefix(c.baseURL, "https://") {
		return fmt.Errorf("base URL %q must start with http:// or https://", c.baseURL)
	}

	smtpCfg, mailOn, err := smtp.config()
	if err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))

	db, intake, office, err := c.services(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	defer office.Close()
	if err := statsKError(*statsK); err != nil {
		return err
	}
	office.SetStatsK(*statsK)
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
	notifierCfg := reporting.NotifierConfig{BaseURL: c.baseURL, Now: now, Logger: logger}
	if mailOn {
		notifierCfg.Mailer = reporting.NewSMTPMailer(smtpCfg)
	} else {
		logger.Info("notifications off: no SMTP host set (-smtp-host / MELDESTELLE_SMTP_HOST)")
	}
	notifier := reporting.NewNotifier(db, notifierCfg)
	intake.NotifyWith(notifier)
	senderCtx, stopSender := context.WithCancel(context.Background())
	senderDone := make(chan struct{})
	go func() { defer close(senderDone); notifier.Run(senderCtx, time.Minute) }()
	defer func() { stopSender(); <-senderDone }()
	// Retention (issue 5): delete due case content at start, then daily.
	retentionCtx, stopRetention := context.WithCancel(context.Background())
	retentionDone := make(chan struct{})
	go func() { defer close(retentionDone); office.RunRetention(retentionCtx, 24*time.Hour, logger) }()
	defer func() { stopRetention(); <-retentionDone }()
	tr, err := i18n.Load()
	if err != nil {
		return err
	}
	handler, err := web.New(web.Config{BaseURL: c.baseURL, CaptchaOff: c.captchaOff, TrustedProxies: c.trustedProxies, Logger: logger, Now: now, Notifier: notifier}, intake, office, tr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              c.addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          web.ServerErrorLog(logger),
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

func setup(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs)
	admin := fs.String("admin", "", "name of the first admin (required)")
	team := fs.String("team", "PLANB", "name of the first team")
	passwordStdin := fs.Bool("password-stdin", false, "read the admin's password from the first line of standard input (required)")
	if err := fs.Parse(args); err != nil {
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

	db, _, office, err := c.services(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	token, err := office.PrepareSetup(ctx)
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
	recovery, err := office.Setup(ctx, reporting.SetupForm{Token: token, Team: *team, Username: *admin, Password: password, Confirm: password})
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
