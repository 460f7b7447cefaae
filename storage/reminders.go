package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// SetReminder stores a case's reminder, replacing its open one, only while
// the case is with the team the reason is sealed to.
func (db *DB) SetReminder(ctx context.Context, r reporting.StoredReminder) error {
	return db.change(ctx, "set reminder", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM reminders WHERE report_id = ?`, r.ReportID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO reminders (report_id, team_id, due, user_id, at, reason)
			SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM reports WHERE id = ? AND team_id = ?)`,
			r.ReportID, r.TeamID, r.Due, r.UserID, r.At.UTC().Format(time.RFC3339Nano), r.Reason, r.ReportID, r.TeamID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.EConflict, "error.case.changed")
		}
		return nil
	})
}

// ClearReminder deletes a case's reminder, if any.
func (db *DB) ClearReminder(ctx context.Context, reportID string) error {
	return db.change(ctx, "clear reminder", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM reminders WHERE report_id = ?`, reportID)
		return err
	})
}

const reminderColumns = `r.report_id, p.case_no, r.team_id, r.due, r.user_id, u.name, r.at, r.reason
	FROM reminders r JOIN reports p ON p.id = r.report_id JOIN users u ON u.id = r.user_id`

func scanReminder(sc interface{ Scan(...any) error }) (reporting.StoredReminder, error) {
	var r reporting.StoredReminder
	var at string
	if err := sc.Scan(&r.ReportID, &r.CaseNo, &r.TeamID, &r.Due, &r.UserID, &r.UserName, &at, &r.Reason); err != nil {
		return r, err
	}
	var err error
	r.At, err = time.Parse(time.RFC3339Nano, at)
	return r, err
}

// Reminder returns a case's reminder; false if it has none.
func (db *DB) Reminder(ctx context.Context, reportID string) (reporting.StoredReminder, bool, error) {
	r, err := scanReminder(db.reader(ctx).QueryRowContext(ctx, `SELECT `+reminderColumns+` WHERE r.report_id = ?`, reportID))
	if errors.Is(err, sql.ErrNoRows) {
		return reporting.StoredReminder{}, false, nil
	}
	if err != nil {
		return reporting.StoredReminder{}, false, fmt.Errorf("storage: reminder: %w", err)
	}
	return r, true, nil
}

// DueReminders lists the reminders of the teams due on or before day,
// oldest due first. A reminder counts only while its case is still with
// the team its reason is sealed to.
func (db *DB) DueReminders(ctx context.Context, teams []int64, day string) ([]reporting.StoredReminder, error) {
	if len(teams) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(teams)+1)
	args = append(args, day)
	for _, t := range teams {
		args = append(args, t)
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(teams)), ",")
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT `+reminderColumns+`
		WHERE r.due <= ? AND r.team_id = p.team_id AND r.team_id IN (`+marks+`)
		ORDER BY r.due, p.case_no`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: due reminders: %w", err)
	}
	defer rows.Close()
	var list []reporting.StoredReminder
	for rows.Next() {
		r, err := scanReminder(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: due reminders: %w", err)
		}
		list = append(list, r)
	}
	return list, wrap("due reminders", rows.Err())
}

// DueReminderRecipients returns the people to send the reminder mail on
// day: enabled users with an address who hold the key of a team with a
// reminder due on or before day, and who have not had the mail that day.
func (db *DB) DueReminderRecipients(ctx context.Context, day string) ([]reporting.ReminderRecipient, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT DISTINCT u.id, u.email FROM users u
		JOIN user_team_keys k ON k.user_id = u.id
		JOIN reminders r ON r.team_id = k.team_id
		JOIN reports p ON p.id = r.report_id AND p.team_id = r.team_id
		WHERE r.due <= ? AND u.disabled = 0 AND u.email IS NOT NULL AND u.email <> ''
		AND NOT EXISTS (SELECT 1 FROM reminder_mails m WHERE m.user_id = u.id AND m.day = ?)
		ORDER BY u.id`, day, day)
	if err != nil {
		return nil, fmt.Errorf("storage: reminder recipients: %w", err)
	}
	defer rows.Close()
	var out []reporting.ReminderRecipient
	for rows.Next() {
		var r reporting.ReminderRecipient
		if err := rows.Scan(&r.UserID, &r.Email); err != nil {
			return nil, fmt.Errorf("storage: reminder recipients: %w", err)
		}
		out = append(out, r)
	}
	return out, wrap("reminder recipients", rows.Err())
}

// MarkReminderMailed records that the users had the reminder mail on day.
func (db *DB) MarkReminderMailed(ctx context.Context, userIDs []int64, day string) error {
	return db.change(ctx, "mark reminder mailed", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO reminder_mails (user_id, day) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET day = excluded.day`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, id := range userIDs {
			if _, err := st.ExecContext(ctx, id, day); err != nil {
				return err
			}
		}
		return nil
	})
}
