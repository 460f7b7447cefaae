package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/notifytest"
)

// smtpFromFlags parses the -smtp-* flags like serve does.
func smtpFromFlags(t *testing.T, args ...string) (reporting.SMTPConfig, bool, error) {
	t.Helper()
	var f smtpFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f.config()
}

// The password in MELDESTELLE_SMTP_PASSWORD_FILE is the one the mail
// server gets, even when MELDESTELLE_SMTP_PASSWORD is set too.
func TestSMTPPasswordFromFile(t *testing.T) {
	srv := notifytest.Start(t)
	file := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(file, []byte("aus der Datei\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MELDESTELLE_SMTP_PASSWORD", "aus der Umgebung")
	t.Setenv("MELDESTELLE_SMTP_PASSWORD_FILE", file)
	t.Setenv("MELDESTELLE_SMTP_PORT", strconv.Itoa(srv.Port))
	cfg, on, err := smtpFromFlags(t, "-smtp-host", srv.Host, "-smtp-user", "meldestelle", "-smtp-from", "meldestelle@example.org", "-smtp-starttls=false")
	if err != nil || !on {
		t.Fatalf("config: %v, on %v", err, on)
	}
	if err := reporting.NewSMTPMailer(cfg).Send(t.Context(), "anna@example.org", "Betreff", "Text\r\n"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Auths(); len(got) != 1 || got[0] != "meldestelle\x00aus der Datei" {
		t.Errorf("server got AUTH %q, want the file's password", got)
	}
	if len(srv.Messages()) != 1 {
		t.Errorf("server got %d messages, want 1", len(srv.Messages()))
	}
}

// STARTTLS is on by default and required: a server that does not offer it
// gets neither the password nor a mail.
func TestSMTPStartTLSRequired(t *testing.T) {
	srv := notifytest.Start(t)
	t.Setenv("MELDESTELLE_SMTP_PASSWORD", "geheim")
	cfg, _, err := smtpFromFlags(t, "-smtp-host", srv.Host, "-smtp-port", strconv.Itoa(srv.Port), "-smtp-user", "u", "-smtp-from", "meldestelle@example.org")
	if err != nil || !cfg.StartTLS {
		t.Fatalf("config: %v, StartTLS %v; want on by default", err, cfg.StartTLS)
	}
	err = reporting.NewSMTPMailer(cfg).Send(t.Context(), "anna@example.org", "Betreff", "Text\r\n")
	if me, ok := errors.AsType[*reporting.MailError](err); !ok || me.Code != "starttls" {
		t.Errorf("send without STARTTLS: %v, want code starttls", err)
	}
	if len(srv.Auths()) != 0 || len(srv.Messages()) != 0 {
		t.Error("the server got the password or a mail without STARTTLS")
	}
}

// Without a host notifications are off; with one, a sender address is
// required.
func TestSMTPConfigValidation(t *testing.T) {
	if _, on, err := smtpFromFlags(t); on || err != nil {
		t.Errorf("no host: on %v, err %v; want off", on, err)
	}
	if _, _, err := smtpFromFlags(t, "-smtp-host", "mail.example.org"); err == nil {
		t.Error("host without sender accepted")
	}
	if _, _, err := smtpFromFlags(t, "-smtp-host", "mail.example.org", "-smtp-from", "Meldestelle <m@example.org>"); err == nil {
		t.Error("sender with display name accepted")
	}
}
