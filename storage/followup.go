package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// ReportByLookup finds a report by its receipt's lookup hash.
func (db *DB) ReportByLookup(ctx context.Context, lookup []byte) (reporting.StoredReport, error) {
	r, err := scanReport(db.reader(ctx).QueryRowContext(ctx, `SELECT `+reportColumns+` FROM reports r JOIN teams t ON t.id = r.team_id WHERE r.lookup_hash = ?`, lookup))
	return r, wrap("report by lookup", notFound(err, "followup.error.unknown"))
}

// AddMessage stores a message and updates the report's two markers in the
// same transaction, so the list never disagrees with the thread.
func (db *DB) AddMessage(ctx context.Context, m reporting.StoredMessage) error {
	unread, waiting := 1, 0
	if m.Author == reporting.AuthorCounsellor {
		unread, waiting = 0, 1
	}
	return db.change(ctx, "add message", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reports SET reporter_unread = ?, awaiting_reporter = ? WHERE id = ?`, unread, waiting, m.ReportID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.ENotFound, "error.case.not_found")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO messages (id, report_id, author, day, body) VALUES (?, ?, ?, ?, ?)`,
			m.ID, m.ReportID, m.Author, m.Day, m.Body)
		return err
	})
}

// Messages lists a report's messages, oldest first.
func (db *DB) Messages(ctx context.Context, reportID string) ([]reporting.StoredMessage, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT id, report_id, author, day, body FROM messages
		WHERE report_id = ? ORDER BY day, rowid`, reportID)
	if err != nil {
		return nil, fmt.Errorf("storage: messages: %w", err)
	}
	defer rows.Close()
	var list []reporting.StoredMessage
	for rows.Next() {
		var m reporting.StoredMessage
		if err := rows.Scan(&m.ID, &m.ReportID, &m.Author, &m.Day, &m.Body); err != nil {
			return nil, fmt.Errorf("storage: messages: %w", err)
		}
		list = append(list, m)
	}
	return list, wrap("messages", rows.Err())
}

// MarkMessagesRead clears a report's unread marker.
func (db *DB) MarkMessagesRead(ctx context.Context, reportID string) error {
	return db.change(ctx, "mark messages read", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE reports SET reporter_unread = 0 WHERE id = ? AND reporter_unread <> 0`, reportID)
		return err
	})
}

// MessageFlags returns the markers of the given reports; reports without
// any marker are left out.
func (db *DB) MessageFlags(ctx context.Context, reportIDs []string) (map[string]reporting.MessageFlags, error) {
	if len(reportIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(reportIDs))
	for i, id := range reportIDs {
		args[i] = id
	}
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT id, reporter_unread, awaiting_reporter FROM reports
		WHERE id IN (`+placeholders(len(reportIDs))+`) AND (reporter_unread <> 0 OR awaiting_reporter <> 0)`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: message flags: %w", err)
	}
	defer rows.Close()
	out := map[string]reporting.MessageFlags{}
	for rows.Next() {
		var id string
		var f reporting.MessageFlags
		if err := rows.Scan(&id, &f.Unread, &f.Waiting); err != nil {
			return nil, fmt.Errorf("storage: message flags: %w", err)
		}
		out[id] = f
	}
	return out, wrap("message flags", rows.Err())
}

// withdrawDeletes are every table with a report_id column (see
// migrations/*.sql), children first. classification_grounds goes with
// its classification (ON DELETE CASCADE) but is named anyway, so the
// order does not depend on the foreign-key setting. The audit log keeps
// its rows: they hold codes and the report ID, never content.
var withdrawDeletes = []string{
	`DELETE FROM attachment_chunks WHERE attachment_id IN (SELECT id FROM attachments WHERE report_id = ?)`,
	`DELETE FROM attachments WHERE report_id = ?`,
	`DELETE FROM messages WHERE report_id = ?`,
	`DELETE FROM reminders WHERE report_id = ?`,
	`DELETE FROM notes WHERE report_id = ?`,
	`DELETE FROM status_history WHERE report_id = ?`,
	`DELETE FROM classification_grounds WHERE report_id = ?`,
	`DELETE FROM classification_codes WHERE report_id = ?`,
	`DELETE FROM classifications WHERE report_id = ?`,
}

// WithdrawReport deletes a report and every row that refers to it and
// appends the audit entries in one transaction, gives the freed space
// back, then checkpoints the WAL: with secure_delete the freed pages are
// overwritten, and the checkpoint empties the -wal file that still held
// the old pages.
func (db *DB) WithdrawReport(ctx context.Context, reportID string, entries ...*reporting.AuditEntry) error {
	if db.unit(ctx) != nil {
		// The scrub after the commit needs the one write connection, which
		// the unit of work holds until it ends: it would wait forever.
		return errors.New("storage: withdraw report: cannot run inside a unit of work")
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range withdrawDeletes {
			if _, err := tx.ExecContext(ctx, q, reportID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM reports WHERE id = ?`, reportID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.ENotFound, "error.case.not_found")
		}
		for _, e := range entries {
			if err := db.appendAuditTx(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: withdraw report: %w", err)
	}
	db.giveBack(ctx) // before the checkpoint, which then shrinks the file
	if err := db.Checkpoint(ctx); err != nil {
		// The report is deleted and stays deleted: the reporter is told so.
		// Its overwritten pages leave the -wal at the next checkpoint (the
		// next withdrawal, retention sweep or SQLite's own); the operator
		// hears of it. No report ID: the line must not date a withdrawal.
		db.logger.Warn("withdrawal: the -wal file still holds deleted pages until the next checkpoint", "err", err)
	}
	return nil
}
