package smtpmail_test

import (
	"errors"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/notifytest"
	"github.com/planb-ruhr/meldestelle/reporting/smtpmail"
)

// A mail arrives as the recipient's mail program reads it: the German
// subject decodes back to itself, the Date is the time of sending in
// UTC, the body is untouched, and it says it was sent by a machine.
func TestSendDeliversReadableMail(t *testing.T) {
	srv := notifytest.Start(t)
	sentAt := time.Date(2026, 11, 24, 13, 5, 0, 0, time.FixedZone("CET", 3600))
	m := smtpmail.New(smtpmail.Config{Host: srv.Host, Port: srv.Port, From: "meldestelle@example.org", Now: func() time.Time { return sentAt }})
	const subject = "Meldestelle: Neues für Team Süd / New for team Süd"
	const body = "Hallo,\r\n\r\nbitte melden Sie sich im Büro an.\r\n"
	if err := m.Send(t.Context(), "anna@example.org", subject, body); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "anna@example.org" || msgs[0].From != "meldestelle@example.org" {
		t.Fatalf("server got %+v, want one mail from meldestelle@ to anna@", msgs)
	}
	got, err := mail.ReadMessage(strings.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatalf("mail does not parse: %v\n%s", err, msgs[0].Data)
	}
	if s, err := new(mime.WordDecoder).DecodeHeader(got.Header.Get("Subject")); err != nil || s != subject {
		t.Errorf("subject decodes to %q (%v), want %q", s, err, subject)
	}
	if d := got.Header.Get("Date"); d != "Tue, 24 Nov 2026 12:05:00 +0000" {
		t.Errorf("Date %q, want the time of sending in UTC", d)
	}
	if a := got.Header.Get("Auto-Submitted"); a != "auto-generated" {
		t.Errorf("Auto-Submitted %q", a)
	}
	if !strings.HasSuffix(msgs[0].Data, "\r\n\r\n"+body) {
		t.Errorf("body changed on the way:\n%q", msgs[0].Data)
	}
}

// A failure reaches the outbox as a short code the admin page shows,
// and says whether the server itself is out (then the outbox stops
// trying the other mails for now).
func TestSendFailureCodes(t *testing.T) {
	srv := notifytest.Start(t)
	m := smtpmail.New(smtpmail.Config{Host: srv.Host, Port: srv.Port, From: "meldestelle@example.org"})
	srv.Fail(421)
	err := m.Send(t.Context(), "anna@example.org", "s", "b\r\n")
	if me, ok := errors.AsType[*reporting.MailError](err); !ok || me.Code != "smtp-421" || !me.Connection {
		t.Errorf("server greeting 421: %#v, want MailError smtp-421 on the connection", err)
	}
	srv.Refuse()
	err = m.Send(t.Context(), "anna@example.org", "s", "b\r\n")
	if me, ok := errors.AsType[*reporting.MailError](err); !ok || me.Code != "dial" || !me.Connection {
		t.Errorf("refused connection: %#v, want MailError dial on the connection", err)
	}
	if len(srv.Messages()) != 0 {
		t.Errorf("server accepted %d mails while out", len(srv.Messages()))
	}
}
