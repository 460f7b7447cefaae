package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// RetentionCandidates lists the reports whose content is still there and
// that are closed or documented (with the time of their last move into
// that status, or the day received when the history has none), and the
// new ones received on or before newBefore (none when newBefore is "").
func (db *DB) RetentionCandidates(ctx context.Context, newBefore string) ([]reporting.RetentionCandidate, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT r.id, r.case_no, r.status,
		CASE WHEN r.status = ? THEN r.received_on ELSE coalesce(
			(SELECT max(h.at) FROM status_history h WHERE h.report_id = r.id AND h.to_status = r.status),
			r.received_on) END
		FROM reports r
		WHERE r.content_deleted_on IS NULL
		  AND (r.status IN (?, ?) OR (r.status = ? AND ? <> '' AND r.received_on <= ?))
		ORDER BY r.case_no`,
		reporting.StatusNew, reporting.StatusClosed, reporting.StatusDocumented, reporting.StatusNew, newBefore, newBefore)
	if err != nil {
		return nil, fmt.Errorf("storage: retention candidates: %w", err)
	}
	defer rows.Close()
	var list []reporting.RetentionCandidate
	for rows.Next() {
		var c reporting.RetentionCandidate
		if err := rows.Scan(&c.ReportID, &c.CaseNo, &c.Status, &c.Since); err != nil {
			return nil, fmt.Errorf("storage: retention candidates: %w", err)
		}
		list = append(list, c)
	}
	return list, wrap("retention candidates", rows.Err())
}

// retentionDeletes remove a report's content rows: every table with a
// report_id column except the statistical record (classifications,
// classification_grounds), the status history and the audit log, which
// hold codes only.
var retentionDeletes = []string{
	`DELETE FROM attachment_chunks WHERE attachment_id IN (SELECT id FROM attachments WHERE report_id = ?)`,
	`DELETE FROM attachments WHERE report_id = ?`,
	`DELETE FROM messages WHERE report_id = ?`,
	`DELETE FROM reminders WHERE report_id = ?`,
	`DELETE FROM notes WHERE report_id = ?`,
}

// retentionBlank empties the report row's ciphertexts and keys (the
// columns are NOT NULL, so zero-length blobs) and replaces the lookup hash
// with random bytes: the receipt then finds nothing, exactly like an
// unknown receipt, and the hash no longer links a receipt to the case.
// incident_day, deadline and their successors deadline_week and
// dates_sealed (issue 9) belong to the case, not to the record; so does
// the interpreter mark (issue 13), sealed under the data key that goes;
// the working flags wish and has_contact (issue 13) are copied from the
// content and go with it.
const retentionBlank = `UPDATE reports SET content = x'', sealed_key = x'', reporter_key = x'',
	lookup_hash = randomblob(32), incident_day = NULL, deadline = NULL, deadline_week = NULL, dates_sealed = NULL, language = '', interpreter = NULL,
	wish = NULL, has_contact = NULL,
	reporter_unread = 0, awaiting_reporter = 0, content_deleted_on = ?
	WHERE id = ? AND content_deleted_on IS NULL`

// DeleteReportContents deletes the content of the given reports and
// appends their audit entries in one transaction: a deletion is never
// without its entry, nor an entry without its deletion. The freed space
// is given back; the caller checkpoints afterwards.
func (db *DB) DeleteReportContents(ctx context.Context, ids []string, on string, entries []*reporting.AuditEntry) error {
	if db.unit(ctx) != nil {
		// Giving the space back needs the one write connection, which the
		// unit of work holds until it ends: it would wait forever.
		return errors.New("storage: delete report contents: cannot run inside a unit of work")
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		stmts := make([]*sql.Stmt, 0, len(retentionDeletes)+1)
		defer func() {
			for _, st := range stmts {
				st.Close()
			}
		}()
		for _, q := range retentionDeletes {
			st, err := tx.PrepareContext(ctx, q)
			if err != nil {
				return err
			}
			stmts = append(stmts, st)
		}
		blank, err := tx.PrepareContext(ctx, retentionBlank)
		if err != nil {
			return err
		}
		stmts = append(stmts, blank)
		for _, id := range ids {
			for _, st := range stmts[:len(retentionDeletes)] {
				if _, err := st.ExecContext(ctx, id); err != nil {
					return err
				}
			}
			if _, err := blank.ExecContext(ctx, on, id); err != nil {
				return err
			}
		}
		for _, e := range entries {
			if err := db.appendAuditTx(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: delete report contents: %w", err)
	}
	db.giveBack(ctx)
	return nil
}

// compile-time check that DB can run the retention sweep.
var _ reporting.RetentionStore = (*DB)(nil)
