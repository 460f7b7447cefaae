package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting/smtpmail"
	"github.com/planb-ruhr/meldestelle/storage"
)

// checkSMTPTimeout bounds the mail server probe: check runs from
// monitoring, which must get an answer, not a hang.
const checkSMTPTimeout = 10 * time.Second

// check runs `meldestelle check` with serve's flags and variables: it
// validates the configuration and the environment serve would start
// with and prints one line per problem (exit 1), or "ok".
func check(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := &config{}
	f := c.sharedFlags("check", stderr, os.LookupEnv)
	c.serveSettings(f, os.LookupEnv)
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("check: unexpected argument %q", f.Arg(0))
	}
	ch := &checker{c: c, now: time.Now, uid: os.Getuid()}
	problems := ch.run(ctx)
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		return errProblems
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// checker holds what check compares the configuration with; tests change
// the clock, the owner and the free space wanted.
type checker struct {
	c   *config
	now func() time.Time
	uid int
	// minFree is the free space wanted on the data and backup file
	// systems; 0: twice the database (a backup and a VACUUM need that
	// much), at least 256 MiB.
	minFree uint64
	// smtpTLS overrides the STARTTLS configuration (tests).
	smtpTLS *tls.Config
}

// run returns every problem found, each a line of its own.
func (ch *checker) run(ctx context.Context) []string {
	var p []string
	p = append(p, ch.dataDir()...)
	dbp, newestAudit := ch.database(ctx)
	p = append(p, dbp...)
	p = append(p, ch.baseURL()...)
	p = append(p, ch.mail(ctx)...)
	p = append(p, ch.backups()...)
	p = append(p, ch.disk()...)
	p = append(p, ch.clock(newestAudit)...)
	return p
}

// dataDir checks that the data directory, the database and the secret
// belong to this user and nobody else may read them.
func (ch *checker) dataDir() []string {
	dir := ch.c.data
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []string{fmt.Sprintf("data directory %s does not exist: a wrong -data / MELDESTELLE_DATA, or the service has never started", dir)}
	}
	if err != nil {
		return []string{fmt.Sprintf("data directory: %v", err)}
	}
	var p []string
	p = append(p, ch.owned(dir, fi, 0o700)...)
	db := filepath.Join(dir, storage.FileName)
	if fi, err := os.Stat(db); err == nil {
		p = append(p, ch.owned(db, fi, 0o600)...)
	}
	if fi, err := os.Stat(ch.c.secretPath()); err == nil {
		p = append(p, ch.owned(ch.c.secretPath(), fi, 0o600)...)
	}
	return p
}

// owned checks a file's owner and mode: another owner or a mode that
// lets others in means someone else can read who reported when.
func (ch *checker) owned(path string, fi fs.FileInfo, want fs.FileMode) []string {
	var p []string
	if uid, ok := fileOwner(fi); ok && uid != ch.uid {
		p = append(p, fmt.Sprintf("%s belongs to user %d, not to this user (%d): run check as the service user, or chown it", path, uid, ch.uid))
	}
	if fi.Mode().Perm() != want {
		p = append(p, fmt.Sprintf("%s has mode %04o, want %04o: chmod %04o %s", path, fi.Mode().Perm(), want, want, path))
	}
	return p
}

// database checks the database's integrity and migration state without
// changing it, and returns the newest audit entry's time for the clock.
func (ch *checker) database(ctx context.Context) ([]string, time.Time) {
	path := filepath.Join(ch.c.data, storage.FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, time.Time{} // the first start creates it
	}
	in, err := storage.Inspect(ctx, path)
	if err != nil {
		return []string{fmt.Sprintf("database %s cannot be read: %v", path, err)}, time.Time{}
	}
	var p []string
	for _, problem := range in.Problems {
		p = append(p, "database: "+problem)
	}
	switch {
	case len(in.Schema.Unknown) > 0:
		p = append(p, "database: "+in.Schema.String()+": this binary refuses to start on it (README, section \"Upgrading\")")
	case len(in.Schema.Pending) > 0:
		p = append(p, fmt.Sprintf("database: %d migrations pending: the running service is older than this binary; they run once at its next start", len(in.Schema.Pending)))
	}
	if in.Users > 0 {
		if _, err := os.Stat(ch.c.secretPath()); errors.Is(err, fs.ErrNotExist) {
			p = append(p, fmt.Sprintf("no server secret at %s, but the database has users: the service refuses to start (README, section \"Server secret\")", ch.c.secretPath()))
		}
	}
	return p, in.NewestAudit
}

// baseURL wants https: the links in mails and the Secure cookies depend
// on it. Plain http is for a service on this host only.
func (ch *checker) baseURL() []string {
	u, err := url.Parse(ch.c.baseURL)
	if err != nil || u.Scheme == "https" {
		return nil // loadServe refused a broken one already
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return []string{fmt.Sprintf("base URL %s is not https: office cookies would not be Secure and links in mails would go out unencrypted; set -base-url / MELDESTELLE_BASE_URL to the https address of the proxy", ch.c.baseURL)}
}

// mail checks that the mail server answers and offers STARTTLS when it
// is required, within checkSMTPTimeout. No mail and no password is sent.
func (ch *checker) mail(ctx context.Context) []string {
	if !ch.c.mailOn {
		return nil
	}
	cfg := ch.c.smtp
	if ch.smtpTLS != nil {
		cfg.TLS = ch.smtpTLS
	}
	if err := smtpProbe(ctx, cfg, checkSMTPTimeout); err != nil {
		return []string{fmt.Sprintf("mail server %s: %v", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), err)}
	}
	return nil
}

// smtpProbe greets the mail server and, if cfg requires it, starts TLS
// with the certificate checked as a delivery would.
func smtpProbe(ctx context.Context, cfg smtpmail.Config, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("cannot connect: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		return fmt.Errorf("no SMTP greeting: %w", err)
	}
	defer c.Close()
	if !cfg.StartTLS {
		return c.Quit()
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return errors.New("does not offer STARTTLS, so no notification would be sent (-smtp-starttls=false only for a mail server on this host)")
	}
	tc := cfg.TLS
	if tc == nil {
		tc = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	}
	if err := c.StartTLS(tc); err != nil {
		return fmt.Errorf("STARTTLS failed: %w", err)
	}
	return c.Quit()
}

// backups checks that scheduled backups are on and the newest is not
// older than the interval allows.
func (ch *checker) backups() []string {
	every := ch.c.backupEvery
	if every == 0 {
		return []string{"scheduled backups are off: a lost disk would lose every report; set -backup-dir and -backup-every (README, section \"Backups\")"}
	}
	newest, path, err := newestBackup(ch.c.backupDir)
	if err != nil {
		return []string{err.Error()}
	}
	if newest.IsZero() {
		return []string{fmt.Sprintf("no scheduled backup in %s yet (the service makes the first a minute after its start)", ch.c.backupDir)}
	}
	// The interval, plus the wait after a start and the copy's own time.
	limit := every + min(every/2, time.Hour)
	if age := ch.now().Sub(newest); age > limit {
		return []string{fmt.Sprintf("newest backup %s is %s old, -backup-every is %s: look for \"scheduled backup failed\" in the service's log", path, age.Round(time.Minute), every)}
	}
	return nil
}

// disk checks the free space on the data and backup file systems.
func (ch *checker) disk() []string {
	want := ch.minFree
	if want == 0 {
		want = 256 << 20
		if fi, err := os.Stat(filepath.Join(ch.c.data, storage.FileName)); err == nil {
			want = max(want, 2*uint64(fi.Size()))
		}
	}
	var p []string
	for _, dir := range []string{ch.c.data, ch.c.backupDir} {
		if dir == "" {
			continue
		}
		free, err := diskFree(dir)
		if err != nil {
			continue // a missing directory is reported above
		}
		if free < want {
			p = append(p, fmt.Sprintf("%s: %d MiB free, want at least %d MiB (a backup and a VACUUM need room for a copy of the database)", dir, free>>20, want>>20))
		}
	}
	return p
}

// clock checks the clock against the calendar and the audit log: a wrong
// clock dates audit entries wrongly and ends sessions and retention early
// or late.
func (ch *checker) clock(newestAudit time.Time) []string {
	now := ch.now()
	if now.Year() < 2026 {
		return []string{fmt.Sprintf("the clock says %s, before this software existed: set it (NTP, systemd-timesyncd)", now.UTC().Format(time.RFC3339))}
	}
	if newestAudit.IsZero() {
		return nil
	}
	if newestAudit.Sub(now) > 5*time.Minute {
		return []string{fmt.Sprintf("the clock (%s) is behind the newest audit entry (%s): set it (NTP, systemd-timesyncd)", now.UTC().Format(time.RFC3339), newestAudit.UTC().Format(time.RFC3339))}
	}
	if now.Sub(newestAudit) > 400*24*time.Hour {
		return []string{fmt.Sprintf("the clock (%s) is more than a year ahead of the newest audit entry (%s): check it", now.UTC().Format(time.RFC3339), newestAudit.UTC().Format(time.RFC3339))}
	}
	return nil
}
