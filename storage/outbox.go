package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// SetUserEmail sets or clears a user's notification address.
func (db *DB) SetUserEmail(ctx context.Context, userID int64, email string) error {
	var v any
	if email != "" {
		v = email
	}
	return db.change(ctx, "set user email", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET email = ? WHERE id = ?`, v, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.ENotFound, "error.not_found")
		}
		return nil
	})
}

// UserEmail returns a user's notification address, "" if none.
func (db *DB) UserEmail(ctx context.Context, userID int64) (string, error) {
	var email sql.NullString
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT email FROM users WHERE id = ?`, userID).Scan(&email)
	return email.String, wrap("user email", notFound(err, "error.not_found"))
}

// TeamRecipients returns the addresses of the team's enabled members.
func (db *DB) TeamRecipients(ctx context.Context, teamID int64) ([]string, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT DISTINCT u.email FROM users u
		JOIN user_team_keys k ON k.user_id = u.id
		WHERE k.team_id = ? AND u.disabled = 0 AND u.email IS NOT NULL AND u.email <> ''
		ORDER BY u.email`, teamID)
	if err != nil {
		return nil, fmt.Errorf("storage: team recipients: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("storage: team recipients: %w", err)
		}
		out = append(out, e)
	}
	return out, wrap("team recipients", rows.Err())
}

// EnqueueMails adds mails to the outbox unless the recipient has one
// waiting; a waiting one with another text gets the general text.
func (db *DB) EnqueueMails(ctx context.Context, mails []reporting.OutboxMail, general reporting.MailText) error {
	return db.change(ctx, "enqueue mails", func(tx *sql.Tx) error {
		add, err := tx.PrepareContext(ctx, `INSERT INTO outbox (recipient, subject, body, next_attempt_at)
			SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE recipient = ? AND sent_at IS NULL)`)
		if err != nil {
			return fmt.Errorf("prepare insert: %w", err)
		}
		defer add.Close()
		merge, err := tx.PrepareContext(ctx, `UPDATE outbox SET subject = ?, body = ?
			WHERE recipient = ? AND sent_at IS NULL AND (subject <> ? OR body <> ?)`)
		if err != nil {
			return fmt.Errorf("prepare merge: %w", err)
		}
		defer merge.Close()
		for _, m := range mails {
			res, err := add.ExecContext(ctx, m.Recipient, m.Subject, m.Body, m.NextAttemptAt.Unix(), m.Recipient)
			if err != nil {
				return fmt.Errorf("insert: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				continue
			}
			// Only the text changes, never the time: the batch leaves when
			// its first news's delay is up.
			if _, err := merge.ExecContext(ctx, general.Subject, general.Body, m.Recipient, m.Subject, m.Body); err != nil {
				return fmt.Errorf("merge: %w", err)
			}
		}
		return nil
	})
}

const outboxColumns = `id, recipient, subject, body, attempts, next_attempt_at, last_error_code`

func scanMails(rows *sql.Rows) ([]reporting.OutboxMail, error) {
	defer rows.Close()
	var out []reporting.OutboxMail
	for rows.Next() {
		var m reporting.OutboxMail
		var next int64
		if err := rows.Scan(&m.ID, &m.Recipient, &m.Subject, &m.Body, &m.Attempts, &next, &m.LastErrorCode); err != nil {
			return nil, err
		}
		m.NextAttemptAt = time.Unix(next, 0)
		out = append(out, m)
	}
	return out, rows.Err()
}

// DueMails returns unsent mails due at or before t, oldest first.
func (db *DB) DueMails(ctx context.Context, t time.Time, limit int) ([]reporting.OutboxMail, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox
		WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?`, t.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("storage: due mails: %w", err)
	}
	mails, err := scanMails(rows)
	return mails, wrap("due mails", err)
}

// PendingMails returns every unsent mail, oldest first.
func (db *DB) PendingMails(ctx context.Context) ([]reporting.OutboxMail, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE sent_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("storage: pending mails: %w", err)
	}
	mails, err := scanMails(rows)
	return mails, wrap("pending mails", err)
}

// MarkMailSent records that the server accepted a mail.
func (db *DB) MarkMailSent(ctx context.Context, id int64, at time.Time) error {
	return db.change(ctx, "mark mail sent", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET sent_at = ? WHERE id = ?`, at.Unix(), id)
		return err
	})
}

// MarkMailFailed records a failed attempt.
func (db *DB) MarkMailFailed(ctx context.Context, id int64, code string, next time.Time) error {
	return db.change(ctx, "mark mail failed", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error_code = ?, next_attempt_at = ?
			WHERE id = ? AND sent_at IS NULL`, code, next.Unix(), id)
		return err
	})
}

// PurgeSentMails deletes the mails marked sent: the recipient list is not
// kept longer than needed.
func (db *DB) PurgeSentMails(ctx context.Context) error {
	return db.change(ctx, "purge sent mails", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE sent_at IS NOT NULL`)
		return err
	})
}

// MakeMailsDue moves every unsent mail's next attempt to t at the latest.
func (db *DB) MakeMailsDue(ctx context.Context, t time.Time) error {
	return db.change(ctx, "make mails due", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ? WHERE sent_at IS NULL AND next_attempt_at > ?`, t.Unix(), t.Unix())
		return err
	})
}
