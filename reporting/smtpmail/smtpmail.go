// Package smtpmail is the SMTP adapter of the notifications: it delivers
// the mails of reporting.Notifier with net/smtp. The domain package
// reporting declares what it needs (reporting.Mailer) and knows nothing of
// SMTP; cmd/meldestelle wires this package in when a mail server is set.
package smtpmail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// Config is how to reach the mail server.
type Config struct {
	Host string
	Port int
	User string // "" to send without AUTH
	// Password is read from MELDESTELLE_SMTP_PASSWORD(_FILE) by the caller;
	// never from a flag, which every user on the host could read in ps.
	Password string
	From     string
	// StartTLS requires STARTTLS before anything else is said: without it
	// the password and the recipients would cross the network in clear. Off
	// only for a mail server on the same host.
	StartTLS bool
	// Timeout bounds one delivery, connection included; 0 means 30s.
	Timeout time.Duration
	// TLS overrides the TLS configuration (tests); nil: verify Host.
	TLS *tls.Config
	// Now is the clock of the mail's Date header; nil: time.Now.
	Now func() time.Time
}

// Mailer delivers mail with net/smtp; it is a reporting.Mailer.
type Mailer struct{ cfg Config }

var _ reporting.Mailer = (*Mailer)(nil)

// New returns a Mailer for the server in cfg.
func New(cfg Config) *Mailer {
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Mailer{cfg: cfg}
}

// Send delivers one mail in its own SMTP session. A failure is a
// *reporting.MailError: a short code, never the server's text.
func (m *Mailer) Send(ctx context.Context, to, subject, body string) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	addr := net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port))
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return &reporting.MailError{Code: "dial", Connection: true}
	}
	defer conn.Close()
	// Cancelling ctx (shutdown) ends a session hanging on a slow server.
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, m.cfg.Host)
	if err != nil {
		return smtpError("greeting", err, true)
	}
	defer c.Close()
	if m.cfg.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &reporting.MailError{Code: "starttls", Connection: true}
		}
		tc := m.cfg.TLS
		if tc == nil {
			tc = &tls.Config{ServerName: m.cfg.Host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(tc); err != nil {
			return &reporting.MailError{Code: "starttls", Connection: true}
		}
	}
	if m.cfg.User != "" {
		// PlainAuth itself refuses to send the password unencrypted to
		// anything but localhost.
		if err := c.Auth(smtp.PlainAuth("", m.cfg.User, m.cfg.Password, m.cfg.Host)); err != nil {
			return smtpError("auth", err, true)
		}
	}
	if err := c.Mail(m.cfg.From); err != nil {
		return smtpError("mail", err, true)
	}
	if err := c.Rcpt(to); err != nil {
		return smtpError("rcpt", err, false)
	}
	w, err := c.Data()
	if err != nil {
		return smtpError("data", err, false)
	}
	if _, err := w.Write(message(m.cfg.From, to, subject, body, m.cfg.Now())); err != nil {
		return smtpError("data", err, false)
	}
	if err := w.Close(); err != nil {
		return smtpError("data", err, false)
	}
	c.Quit() // the mail is accepted; a failing QUIT changes nothing
	return nil
}

// smtpError reduces an error to a code: the server's reply code when it
// gave one, else the step that failed.
func smtpError(step string, err error, connection bool) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		// A 4xx/5xx on MAIL or AUTH concerns every mail; on RCPT or DATA only this one.
		return &reporting.MailError{Code: fmt.Sprintf("smtp-%d", te.Code), Connection: connection}
	}
	return &reporting.MailError{Code: step, Connection: true}
}

// message builds the mail: plain UTF-8 text, the subject encoded for
// headers. Addresses are bare (checked when set), so no header injection.
// The Date is the time of sending, in UTC (issue 9): not the time of the
// news, which the batch's delay hides, nor the server's time zone.
func message(from, to, subject, body string, date time.Time) []byte {
	var b strings.Builder
	b.WriteString("Date: " + date.UTC().Format(time.RFC1123Z) + "\r\n")
	b.WriteString("From: " + from + "\r\n")
	b.WriteString("To: " + to + "\r\n")
	b.WriteString("Subject: " + mime.QEncoding.Encode("utf-8", subject) + "\r\n")
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	b.WriteString("Content-Transfer-Encoding: 8bit\r\n")
	b.WriteString("Auto-Submitted: auto-generated\r\n\r\n")
	b.WriteString(body)
	return []byte(b.String())
}
