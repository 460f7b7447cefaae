package reporting

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"math/big"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Kinds of news a team can be notified of. The mail is the same for every
// kind on purpose: it must not say what arrived, only that something did.
const (
	KindReport  = "report"  // a new report
	KindMessage = "message" // a new message from a reporter on an existing case
)

// Retry schedule of the outbox: one minute after the first failure,
// doubling, at most an hour.
const (
	retryFirst = time.Minute
	retryMax   = time.Hour
	// sendBatch bounds the mails one SendDue call tries.
	sendBatch = 100
)

// The default wait between the first news of a batch and its mail
// (issue 9): a mail that left the moment a report arrived would tell
// whoever sees the mail's time (the mail provider, a shared inbox) when
// someone reported, to the second.
const (
	DefaultDelayMin = 15 * time.Minute
	DefaultDelayMax = 90 * time.Minute
)

// RandomDelay returns a draw of a wait uniformly between lo and hi, from
// crypto/rand: a predictable delay could simply be subtracted. lo == hi
// gives that wait every time (0 for no wait: tests of the command).
func RandomDelay(lo, hi time.Duration) func() time.Duration {
	return func() time.Duration {
		if hi <= lo {
			return lo
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(hi-lo)+1))
		if err != nil { // crypto/rand does not fail on supported systems
			return hi
		}
		return lo + time.Duration(n.Int64())
	}
}

// Mailer delivers one e-mail. The SMTP implementation is the adapter
// package reporting/smtpmail, wired in cmd: the domain itself speaks no
// SMTP. An error Send returns should be a *MailError carrying a short code.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// MailError is a failed delivery, reduced to a short code ("dial",
// "starttls", "auth", "smtp-451", ...). The server's own text is dropped on
// purpose: it often repeats the recipient's address, and the code is what
// the outbox stores and the admin page shows.
type MailError struct {
	Code string
	// Connection is true when the server could not be reached or refused
	// the session: the other due mails would fail the same way.
	Connection bool
}

func (e *MailError) Error() string { return "mail: " + e.Code }

// Translator gives the words of a message in a language, filled with
// data; *i18n.Bundle is one. The mail's texts live in the message files
// (mail.de.toml, mail.en.toml), not in Go code.
type Translator interface {
	T(lang, id string, data any) string
}

// NotifierConfig configures a Notifier.
type NotifierConfig struct {
	// BaseURL is the service's public URL; the mail links to BaseURL+"/office/cases".
	BaseURL string
	// Mailer delivers mail; nil turns notifications off.
	Mailer Mailer
	// Texts writes the mail; required when Mailer is set.
	Texts Translator
	// Languages are the languages the mail is written in, one after the
	// other (i18n.OfficeLanguages); required when Mailer is set.
	Languages []string
	// Now is the clock of the batches and the retry schedule.
	Now func() time.Time
	// Delay draws the wait between the first news of a batch and its
	// mail; nil: RandomDelay(DefaultDelayMin, DefaultDelayMax).
	Delay func() time.Duration
	// Logger receives codes and counts, never an address.
	Logger *slog.Logger
}

// Notifier tells team members by e-mail that something new arrived for
// their team, through the outbox, so an outage of the mail server loses
// nothing.
type Notifier struct {
	auditor
	store NotifierStore
	cfg   NotifierConfig
	mu    sync.Mutex // one SendDue at a time, so no mail goes out twice
	wake  chan struct{}
}

// NotifierStore is what the Notifier reads and writes: the outbox and the
// users' addresses, the teams' names for the mail, and the audit log of
// the office's changes to them. storage.DB implements it.
type NotifierStore interface {
	AuditStore
	OutboxStore
	// Teams lists all teams.
	Teams(ctx context.Context) ([]Team, error)
	ReminderMailStore
	// Setting returns a deployment setting (the office's time zone, for
	// the reminder mail's day), or an ENotFound error.
	Setting(ctx context.Context, key string) ([]byte, error)
}

// ReminderMailStore is what the reminder mail reads and writes.
type ReminderMailStore interface {
	// DueReminderRecipients returns the enabled users with an address
	// who hold the key of a team with a reminder due on or before day and
	// have not had the reminder mail on day.
	DueReminderRecipients(ctx context.Context, day string) ([]ReminderRecipient, error)
	// MarkReminderMailed records that the users had the reminder mail on day.
	MarkReminderMailed(ctx context.Context, userIDs []int64, day string) error
}

// NewNotifier returns a Notifier over the store.
func NewNotifier(store NotifierStore, cfg NotifierConfig) *Notifier {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Delay == nil {
		cfg.Delay = RandomDelay(DefaultDelayMin, DefaultDelayMax)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.Mailer != nil && (cfg.Texts == nil || len(cfg.Languages) == 0) {
		// A wiring mistake, found by the first test that sends: better
		// than mails that say nothing, or none at all, in production.
		panic("reporting: NotifierConfig with a Mailer needs Texts and Languages")
	}
	return &Notifier{auditor: auditor{log: store, now: cfg.Now}, store: store, cfg: cfg, wake: make(chan struct{}, 1)}
}

// Enabled reports whether mails are sent at all (a mail server is set).
func (n *Notifier) Enabled() bool { return n != nil && n.cfg.Mailer != nil }

// Enqueue puts a mail into the outbox for every enabled member of the team
// with an address, saying only that something new arrived for the team.
// Mails are batched (issue 9): the mail is due after a random delay
// (NotifierConfig.Delay) from the first news, and a member who already
// has one waiting gets no second one; its text becomes the general one
// if the waiting mail named another team. So a member gets at most one
// mail per batch, and its time says little about when anyone reported.
// Intake calls it after a report is stored; the follow-up work calls it
// with KindMessage after a reporter's message is stored (inside package
// reporting: in.notify.Enqueue(context.WithoutCancel(ctx), teamID,
// KindMessage); the nil *Notifier of a deployment without mail is fine).
// It does nothing when notifications are off. A failure is logged and returned; callers
// should not fail the reporter's request for it, since the report itself
// is safely stored.
func (n *Notifier) Enqueue(ctx context.Context, teamID int64, kind string) error {
	if !n.Enabled() {
		return nil
	}
	err := n.enqueue(ctx, teamID, kind)
	if err != nil {
		n.cfg.Logger.Error("notification not queued", "team", teamID, "err", err)
	}
	return err
}

func (n *Notifier) enqueue(ctx context.Context, teamID int64, kind string) error {
	if kind != KindReport && kind != KindMessage {
		return Errorf(EInvalid, "error.internal")
	}
	teams, err := n.store.Teams(ctx)
	if err != nil {
		return err
	}
	var name string
	for _, t := range teams {
		if t.ID == teamID {
			name = t.Name
		}
	}
	if name == "" {
		return Errorf(ENotFound, "error.not_found")
	}
	to, err := n.store.TeamRecipients(ctx, teamID)
	if err != nil || len(to) == 0 {
		return err
	}
	link := n.cfg.BaseURL + "/office/cases"
	subject, body := notificationMail(n.cfg.Texts, n.cfg.Languages, name, link)
	var general MailText
	general.Subject, general.Body = notificationMail(n.cfg.Texts, n.cfg.Languages, "", link)
	// One draw per batch: the members of a team are told at the same time.
	due := n.cfg.Now().Add(n.cfg.Delay())
	mails := make([]OutboxMail, len(to))
	for i, r := range to {
		mails[i] = OutboxMail{Recipient: r, Subject: subject, Body: body, NextAttemptAt: due}
	}
	if err := n.store.EnqueueMails(ctx, mails, general); err != nil {
		return err
	}
	n.Kick()
	return nil
}

// Message IDs of the notification mail, in the mail.*.toml files. With a
// team: {{.Team}} and {{.Link}}; the general text only {{.Link}}.
const (
	msgMailSubject        = "mail.notify.subject"
	msgMailBody           = "mail.notify.body"
	msgMailSubjectGeneral = "mail.notify.subject.general"
	msgMailBodyGeneral    = "mail.notify.body.general"
)

// notificationMail is the one text a notification ever has: the team's
// name and a link to the office. No case number, municipality, language
// or content: a mailbox is not the place for any of it, and whoever reads
// the mail on the way learns nothing but that the team has work. With no
// team ("") it is the general text of a batch with news for several of
// the recipient's teams. The mail says it in every office language, one
// after the other: the recipient's language is not known (and is no
// business of the outbox), and the office reads all of them.
func notificationMail(tr Translator, langs []string, team, link string) (subject, body string) {
	subjectID, bodyID := msgMailSubject, msgMailBody
	if team == "" {
		subjectID, bodyID = msgMailSubjectGeneral, msgMailBodyGeneral
	}
	data := map[string]string{"Team": team, "Link": link}
	subjects := make([]string, len(langs))
	bodies := make([]string, len(langs))
	for i, lang := range langs {
		subjects[i] = tr.T(lang, subjectID, data)
		bodies[i] = crlf(strings.TrimSpace(tr.T(lang, bodyID, data))) + "\r\n"
	}
	return strings.Join(subjects, " / "), strings.Join(bodies, "\r\n--\r\n\r\n")
}

// crlf writes every line break of s as CRLF, as a mail's lines end.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// ReminderRecipient is a person to send the reminder mail to.
type ReminderRecipient struct {
	UserID int64
	Email  string
}

// Message IDs of the reminder mail (issue 13), in the mail.*.toml files,
// with {{.Link}} only.
const (
	msgMailReminderSubject = "mail.reminder.subject"
	msgMailReminderBody    = "mail.reminder.body"
)

// RemindDue queues the reminder mail for every person with a reminder due
// today or earlier in one of their teams, at most one a day per person,
// and returns how many it queued. Run calls it at every poll, so the mail
// goes out on the day a reminder falls due. The mail says only that
// reminders are due and links to the office: no case number, no day, no
// reason. The day is the office's (its time zone) on the Notifier's clock; marking the recipients and
// queueing their mails commit together, so a failure leaves nobody marked
// without a mail.
func (n *Notifier) RemindDue(ctx context.Context) (int, error) {
	if !n.Enabled() {
		return 0, nil
	}
	day, err := officeDay(ctx, n.store, n.cfg.Now())
	if err != nil {
		return 0, opError("reminder mails", err)
	}
	to, err := n.store.DueReminderRecipients(ctx, day)
	if err != nil || len(to) == 0 {
		return 0, opError("reminder mails", err)
	}
	data := map[string]string{"Link": n.cfg.BaseURL + "/office/cases"}
	subjects := make([]string, len(n.cfg.Languages))
	bodies := make([]string, len(n.cfg.Languages))
	for i, lang := range n.cfg.Languages {
		subjects[i] = n.cfg.Texts.T(lang, msgMailReminderSubject, data)
		bodies[i] = crlf(strings.TrimSpace(n.cfg.Texts.T(lang, msgMailReminderBody, data))) + "\r\n"
	}
	subject, body := strings.Join(subjects, " / "), strings.Join(bodies, "\r\n--\r\n\r\n")
	var general MailText
	general.Subject, general.Body = notificationMail(n.cfg.Texts, n.cfg.Languages, "", data["Link"])
	// No random delay: the mail's time says when a day began, nothing
	// about any reporter.
	now := n.cfg.Now()
	mails := make([]OutboxMail, len(to))
	ids := make([]int64, len(to))
	for i, r := range to {
		mails[i] = OutboxMail{Recipient: r.Email, Subject: subject, Body: body, NextAttemptAt: now}
		ids[i] = r.UserID
	}
	err = n.store.Atomically(ctx, func(ctx context.Context) error {
		if err := n.store.EnqueueMails(ctx, mails, general); err != nil {
			return err
		}
		return n.store.MarkReminderMailed(ctx, ids, day)
	})
	if err != nil {
		return 0, opError("reminder mails", err)
	}
	return len(to), nil
}

// Kick wakes the sender goroutine, if it waits.
func (n *Notifier) Kick() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// SendDue tries every mail that is due now, and returns how many went out.
// A mail the server accepted is marked sent and then purged; a failed one
// gets its attempt counted and its next attempt pushed back (one minute
// after the first failure, doubling, at most an hour).
func (n *Notifier) SendDue(ctx context.Context) (int, error) {
	if !n.Enabled() {
		return 0, nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.cfg.Now()
	due, err := n.store.DueMails(ctx, now, sendBatch)
	if err != nil {
		return 0, err
	}
	sent := 0
	var down *MailError // once the server is unreachable, the rest fail alike
	for _, m := range due {
		var err error
		if down != nil {
			err = down
		} else {
			err = n.cfg.Mailer.Send(ctx, m.Recipient, m.Subject, m.Body)
		}
		if err == nil {
			if err := n.store.MarkMailSent(ctx, m.ID, n.cfg.Now()); err != nil {
				return sent, err
			}
			sent++
			continue
		}
		var me *MailError
		if !errors.As(err, &me) {
			me = &MailError{Code: "error", Connection: true}
		}
		if me.Connection {
			down = me
		}
		if err := n.store.MarkMailFailed(ctx, m.ID, me.Code, now.Add(backoff(m.Attempts+1))); err != nil {
			return sent, err
		}
	}
	if len(due) > 0 {
		n.cfg.Logger.Info("notifications", "sent", sent, "failed", len(due)-sent)
	}
	return sent, n.store.PurgeSentMails(ctx)
}

// backoff is the wait after the given number of failed attempts.
func backoff(failures int) time.Duration {
	d := retryFirst
	for i := 1; i < failures && d < retryMax; i++ {
		d *= 2
	}
	return min(d, retryMax)
}

// SendNow makes every waiting mail due and tries them at once.
func (n *Notifier) SendNow(ctx context.Context) (int, error) {
	if !n.Enabled() {
		return 0, nil
	}
	if err := n.store.MakeMailsDue(ctx, n.cfg.Now()); err != nil {
		return 0, err
	}
	return n.SendDue(ctx)
}

// Run sends due mails until ctx ends: when woken by Enqueue or Kick, and
// every poll interval for the retries.
func (n *Notifier) Run(ctx context.Context, poll time.Duration) {
	if !n.Enabled() {
		return
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := n.RemindDue(ctx); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Error("notifications: reminders", "err", err)
		}
		if _, err := n.SendDue(ctx); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Error("notifications: outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.wake:
		}
	}
}

// Pending returns the mails waiting in the outbox.
func (n *Notifier) Pending(ctx context.Context) ([]OutboxMail, error) {
	return n.store.PendingMails(ctx)
}

// Audit actions of notifications.
const (
	AuditNotifyEmail = "notify_email" // a user set or cleared their notification address
	AuditOutboxSend  = "outbox_send"  // an admin asked for the outbox to be sent now
)

// NotificationEmail returns the session user's notification address.
func (n *Notifier) NotificationEmail(ctx context.Context, s *OfficeSession) (string, error) {
	email, err := n.store.UserEmail(ctx, s.User.ID)
	return email, opError("notification email", err)
}

// SetNotificationEmail sets the session user's own notification address;
// "" clears it. The address is checked with net/mail and stored bare
// (without a display name), since it only ever goes into RCPT TO.
func (n *Notifier) SetNotificationEmail(ctx context.Context, s *OfficeSession, email string) (string, error) {
	email = strings.TrimSpace(email)
	if email != "" {
		a, err := mail.ParseAddress(email)
		// A bare address only: a display name or CR/LF has no business in a
		// header we build, and a long value in a form is a mistake.
		if err != nil || a.Name != "" || a.Address != email || utf8.RuneCountInString(email) > 254 {
			return email, fieldErrors{"email": "error.notify.email"}.err()
		}
	}
	detail := "set"
	if email == "" {
		detail = "cleared"
	}
	err := n.audited(ctx, s, AuditNotifyEmail, "", detail, func(ctx context.Context) error {
		return n.store.SetUserEmail(ctx, s.User.ID, email)
	})
	return email, opError("set notification email", err)
}

// Outbox returns the waiting notification mails, for an admin.
func (n *Notifier) Outbox(ctx context.Context, s *OfficeSession) ([]OutboxMail, error) {
	if err := allow(s, PermOutbox); err != nil {
		return nil, err
	}
	mails, err := n.store.PendingMails(ctx)
	return mails, opError("outbox", err)
}

// SendOutboxNow has an admin trigger an immediate attempt for every
// waiting mail, and returns how many went out.
func (n *Notifier) SendOutboxNow(ctx context.Context, s *OfficeSession) (int, error) {
	if err := allow(s, PermOutbox); err != nil {
		return 0, err
	}
	// Sending talks to the mail server and cannot be rolled back, so it
	// cannot share a transaction with its entry: the entry is written
	// first, and when it cannot be, nothing is sent.
	if err := n.audit(ctx, s, AuditOutboxSend, "", ""); err != nil {
		return 0, opError("send outbox", err)
	}
	sent, err := n.SendNow(ctx)
	return sent, opError("send outbox", err)
}
