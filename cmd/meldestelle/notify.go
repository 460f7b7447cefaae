package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/smtpmail"
)

// smtpFlags are the mail server settings as given on the command line or
// in the environment, before validation.
type smtpFlags struct {
	host, user, from string
	port             int
	startTLS         bool
	// delayMin, delayMax bound the random wait of a notification batch.
	delayMin, delayMax time.Duration
	delayErr           error // from the environment, reported by delay
}

// register adds the -smtp-* flags. There is deliberately no password
// flag: a flag's value is visible to every user of the host in ps.
func (f *smtpFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.host, "smtp-host", env("MELDESTELLE_SMTP_HOST", ""), "mail server for notifications; empty: notifications off (env MELDESTELLE_SMTP_HOST)")
	port, _ := strconv.Atoi(env("MELDESTELLE_SMTP_PORT", "587"))
	fs.IntVar(&f.port, "smtp-port", port, "mail server port (env MELDESTELLE_SMTP_PORT)")
	fs.StringVar(&f.user, "smtp-user", env("MELDESTELLE_SMTP_USER", ""), "mail server user name; empty: no AUTH (env MELDESTELLE_SMTP_USER); the password comes from MELDESTELLE_SMTP_PASSWORD or MELDESTELLE_SMTP_PASSWORD_FILE")
	fs.StringVar(&f.from, "smtp-from", env("MELDESTELLE_SMTP_FROM", ""), "sender address of notifications (env MELDESTELLE_SMTP_FROM)")
	tls, err := strconv.ParseBool(env("MELDESTELLE_SMTP_STARTTLS", "true"))
	if err != nil {
		tls = true // an unreadable value must not switch encryption off
	}
	fs.BoolVar(&f.startTLS, "smtp-starttls", tls, "require STARTTLS (env MELDESTELLE_SMTP_STARTTLS); turn off only for a mail server on this host")
	f.delayMin, f.delayErr = envDuration("MELDESTELLE_NOTIFY_DELAY_MIN", reporting.DefaultDelayMin, f.delayErr)
	f.delayMax, f.delayErr = envDuration("MELDESTELLE_NOTIFY_DELAY_MAX", reporting.DefaultDelayMax, f.delayErr)
	fs.DurationVar(&f.delayMin, "notify-delay-min", f.delayMin, "shortest wait between the first news of a batch and its mail (env MELDESTELLE_NOTIFY_DELAY_MIN)")
	fs.DurationVar(&f.delayMax, "notify-delay-max", f.delayMax,
		"longest wait; each batch waits a random time in between, so a mail's time does not tell when someone reported (env MELDESTELLE_NOTIFY_DELAY_MAX)")
}

// envDuration reads a duration from the environment, or def; a value
// that does not parse is kept as the first error (prev, if set, wins).
func envDuration(name string, def time.Duration, prev error) (time.Duration, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return def, prev
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return def, cmp.Or(prev, fmt.Errorf("%s: %w", name, err))
	}
	return d, prev
}

// delay validates the batch delay and returns its draw.
func (f *smtpFlags) delay() (func() time.Duration, error) {
	if f.delayErr != nil {
		return nil, f.delayErr
	}
	if f.delayMin < 0 || f.delayMax < f.delayMin || f.delayMax > 24*time.Hour {
		return nil, fmt.Errorf("-notify-delay-min %v, -notify-delay-max %v: want 0 ≤ min ≤ max ≤ 24h", f.delayMin, f.delayMax)
	}
	return reporting.RandomDelay(f.delayMin, f.delayMax), nil
}

// config validates the settings and reads the password; ok is false when
// no host is set (notifications off).
func (f *smtpFlags) config() (cfg smtpmail.Config, ok bool, err error) {
	if f.host == "" {
		return cfg, false, nil
	}
	if f.port <= 0 || f.port > 65535 {
		return cfg, false, fmt.Errorf("smtp port %d out of range", f.port)
	}
	a, err := mail.ParseAddress(f.from)
	if err != nil || a.Name != "" || a.Address != f.from {
		return cfg, false, errors.New("-smtp-from / MELDESTELLE_SMTP_FROM must be a bare e-mail address when -smtp-host is set")
	}
	password, err := smtpPassword()
	if err != nil {
		return cfg, false, err
	}
	return smtpmail.Config{Host: f.host, Port: f.port, User: f.user, Password: password, From: f.from, StartTLS: f.startTLS}, true, nil
}

// smtpPassword reads MELDESTELLE_SMTP_PASSWORD_FILE, or else
// MELDESTELLE_SMTP_PASSWORD. The file wins: it is the safer of the two
// (environments leak into child processes and crash reports).
func smtpPassword() (string, error) {
	if name := os.Getenv("MELDESTELLE_SMTP_PASSWORD_FILE"); name != "" {
		b, err := os.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("MELDESTELLE_SMTP_PASSWORD_FILE: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return os.Getenv("MELDESTELLE_SMTP_PASSWORD"), nil
}
