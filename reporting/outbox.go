package reporting

import (
	"context"
	"time"
)

// OutboxMail is one e-mail in the notification outbox.
type OutboxMail struct {
	ID            int64
	Recipient     string
	Subject       string
	Body          string
	Attempts      int       // failed attempts so far
	NextAttemptAt time.Time // not before
	LastErrorCode string    // a short code such as "dial" or "smtp-451", never server text
}

// MailText is a mail's subject and body.
type MailText struct {
	Subject, Body string
}

// OutboxStore keeps the notification outbox: e-mails waiting to be sent,
// with retries, and the users' own notification addresses.
type OutboxStore interface {
	// SetUserEmail sets (or with "" clears) a user's notification address.
	SetUserEmail(ctx context.Context, userID int64, email string) error
	// UserEmail returns a user's notification address, "" if none.
	UserEmail(ctx context.Context, userID int64) (string, error)
	// TeamRecipients returns the addresses of the enabled users holding the
	// team's key who have an address set, each once.
	TeamRecipients(ctx context.Context, teamID int64) ([]string, error)
	// EnqueueMails adds mails to the outbox, due at their NextAttemptAt, in
	// one transaction, at most one waiting per recipient: for a recipient
	// who still has an unsent mail none is added ("something new arrived"
	// said once is enough), and the waiting one keeps its time, so that a
	// batch leaves at the delay drawn for its first news. If the waiting
	// mail's text differs from the new one's (news for another team), it
	// becomes general.
	EnqueueMails(ctx context.Context, mails []OutboxMail, general MailText) error
	// DueMails returns unsent mails due at or before t, oldest first.
	DueMails(ctx context.Context, t time.Time, limit int) ([]OutboxMail, error)
	// PendingMails returns every unsent mail, oldest first.
	PendingMails(ctx context.Context) ([]OutboxMail, error)
	// MarkMailSent records that the server accepted a mail; it is no
	// longer due. PurgeSentMails deletes it.
	MarkMailSent(ctx context.Context, id int64, at time.Time) error
	// MarkMailFailed records a failed attempt: attempts+1, the error code
	// and the next attempt.
	MarkMailFailed(ctx context.Context, id int64, code string, next time.Time) error
	// PurgeSentMails deletes the mails marked sent.
	PurgeSentMails(ctx context.Context) error
	// MakeMailsDue moves every unsent mail's next attempt to t at the latest.
	MakeMailsDue(ctx context.Context, t time.Time) error
}
