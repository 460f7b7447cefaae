package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/notifytest"
	"github.com/planb-ruhr/meldestelle/reporting/smtpmail"
	"github.com/planb-ruhr/meldestelle/storage"
)

// smtpFromFlags parses the -smtp-* flags like serve does.
func smtpFromFlags(t *testing.T, args ...string) (smtpmail.Config, bool, error) {
	t.Helper()
	c, err := loadServe(args, io.Discard, os.LookupEnv)
	if err != nil {
		return smtpmail.Config{}, false, err
	}
	return c.smtp, c.mailOn, nil
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
	if err := smtpmail.New(cfg).Send(t.Context(), "anna@example.org", "Betreff", "Text\r\n"); err != nil {
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
	err = smtpmail.New(cfg).Send(t.Context(), "anna@example.org", "Betreff", "Text\r\n")
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

// serve with a mail server sends the notification of a new report through
// its own sender goroutine, and stops cleanly.
func TestServeSendsNotification(t *testing.T) {
	srv := notifytest.Start(t)
	dir := t.TempDir()
	var out, errOut lockedBuffer
	if code := run(t.Context(), []string{"setup", "-data", dir, "-admin", "anna", "-password-stdin"}, strings.NewReader("ein langes geheimes Passwort\n"), &out, &errOut); code != 0 {
		t.Fatalf("setup: %d\n%s", code, errOut.String())
	}
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserEmail(t.Context(), 1, "anna@example.org"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("MELDESTELLE_CAPTCHA", "off")
	t.Setenv("MELDESTELLE_SMTP_STARTTLS", "false")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-addr", addr, "-data", dir, "-base-url", "https://melden.example.org",
			"-smtp-host", srv.Host, "-smtp-port", strconv.Itoa(srv.Port), "-smtp-from", "meldestelle@example.org",
			// No batch delay: this test waits in real time for the sender.
			"-notify-delay-min", "0s", "-notify-delay-max", "0s"}, strings.NewReader(""), &lockedBuffer{}, &stderr)
	}()
	form := url.Values{"role": {"affected"}, "incident_date": {"2026-03"}, "incident_day": {"14"}, "municipality": {"bochum"},
		"grounds": {"gender"}, "area": {"housing"}, "description": {"Etwas ist passiert"}, "wish": {"contact_me"},
		"contact": {"Signal +49 170 0000000"}, "consent": {"yes"}}
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err = http.PostForm("http://"+addr+"/de/report", form); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("submit: status %d\n%s", resp.StatusCode, stderr.String())
	}
	// The sender runs on its own; wait (bounded) for its delivery.
	for deadline := time.Now().Add(10 * time.Second); len(srv.Messages()) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "anna@example.org" || !strings.Contains(msgs[0].Data, "https://melden.example.org/office/cases") {
		t.Fatalf("messages %+v\n%s", msgs, stderr.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited with %d:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "anna@example.org") {
		t.Error("the log shows a recipient address")
	}
}
