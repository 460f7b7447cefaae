package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// CreateAttachment stores a new, incomplete attachment row.
func (db *DB) CreateAttachment(ctx context.Context, a reporting.StoredAttachment) error {
	return db.change(ctx, "create attachment", func(tx *sql.Tx) error {
		var msg any // NULL for a file of the report itself
		if a.MessageID != "" {
			msg = a.MessageID
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO attachments (id, report_id, message_id, wrapped_key, complete, seq)
			VALUES (?, ?, ?, ?, 0, (SELECT coalesce(max(seq), 0) + 1 FROM attachments WHERE report_id = ?))`,
			a.ID, a.ReportID, msg, a.WrappedKey, a.ReportID)
		return err
	})
}

// PutAttachmentChunks stores sealed chunks first, first+1, … of an
// incomplete attachment, in one transaction.
func (db *DB) PutAttachmentChunks(ctx context.Context, attachmentID string, first uint64, chunks [][]byte) error {
	return db.change(ctx, "put attachment chunks", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO attachment_chunks (attachment_id, idx, data)
			SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM attachments WHERE id = ? AND complete = 0)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, c := range chunks {
			res, err := stmt.ExecContext(ctx, attachmentID, first+uint64(i), c, attachmentID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return reporting.Errorf(reporting.EConflict, "error.internal")
			}
		}
		return nil
	})
}

// FinishAttachment stores the sealed meta data and marks the attachment
// complete.
func (db *DB) FinishAttachment(ctx context.Context, attachmentID string, meta []byte) error {
	return db.change(ctx, "finish attachment", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE attachments SET meta = ?, complete = 1 WHERE id = ? AND complete = 0`, meta, attachmentID)
		return err
	})
}

// DeleteAttachments removes attachments and their chunks.
// Their space is given back to the file system.
func (db *DB) DeleteAttachments(ctx context.Context, ids []string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM attachments WHERE id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: delete attachments: %w", err)
	}
	db.giveBack(ctx)
	return nil
}

// DeleteOrphanAttachments removes attachments that were never finished or
// whose report was never stored (an upload cut off by a crash). Only safe
// while no upload runs, i.e. at start-up.
func (db *DB) DeleteOrphanAttachments(ctx context.Context) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM attachments
			WHERE complete = 0 OR NOT EXISTS (SELECT 1 FROM reports r WHERE r.id = attachments.report_id)
			OR (message_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = attachments.message_id))`)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: delete orphan attachments: %w", err)
	}
	db.giveBack(ctx)
	return nil
}

// messageStored is the condition that a message's file is shown only once
// its message is stored: the files stream in before the message row
// exists, and a message refused after all must not leave a file behind.
const messageStored = `(a.message_id IS NULL OR EXISTS (SELECT 1 FROM messages m WHERE m.id = a.message_id))`

// Attachments lists the complete attachments of a stored report, in
// upload order.
func (db *DB) Attachments(ctx context.Context, reportID string) ([]reporting.StoredAttachment, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT a.id, a.report_id, coalesce(a.message_id, ''), a.wrapped_key, a.meta,
		(SELECT count(*) FROM attachment_chunks c WHERE c.attachment_id = a.id), a.seq
		FROM attachments a JOIN reports r ON r.id = a.report_id
		WHERE a.report_id = ? AND a.complete = 1 AND `+messageStored+` ORDER BY a.seq`, reportID)
	if err != nil {
		return nil, fmt.Errorf("storage: attachments: %w", err)
	}
	defer rows.Close()
	var list []reporting.StoredAttachment
	for rows.Next() {
		var a reporting.StoredAttachment
		if err := rows.Scan(&a.ID, &a.ReportID, &a.MessageID, &a.WrappedKey, &a.Meta, &a.Chunks, &a.Seq); err != nil {
			return nil, fmt.Errorf("storage: attachments: %w", err)
		}
		list = append(list, a)
	}
	return list, wrap("attachments", rows.Err())
}

// Attachment finds one complete attachment of a stored report.
func (db *DB) Attachment(ctx context.Context, reportID, id string) (reporting.StoredAttachment, error) {
	var a reporting.StoredAttachment
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT a.id, a.report_id, coalesce(a.message_id, ''), a.wrapped_key, a.meta,
		(SELECT count(*) FROM attachment_chunks c WHERE c.attachment_id = a.id), a.seq
		FROM attachments a JOIN reports r ON r.id = a.report_id
		WHERE a.report_id = ? AND a.id = ? AND a.complete = 1 AND `+messageStored, reportID, id).
		Scan(&a.ID, &a.ReportID, &a.MessageID, &a.WrappedKey, &a.Meta, &a.Chunks, &a.Seq)
	return a, wrap("attachment", notFound(err, "error.not_found"))
}

// AttachmentChunks hands the sealed chunks of an attachment to fn one at a
// time, in order, from one read transaction: only one chunk is in memory.
func (db *DB) AttachmentChunks(ctx context.Context, attachmentID string, fn func(ct []byte) error) error {
	tx, end, err := db.snapshot(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: attachment chunks: %w", err)
	}
	defer end()
	rows, err := tx.QueryContext(ctx, `SELECT data FROM attachment_chunks WHERE attachment_id = ? ORDER BY idx`, attachmentID)
	if err != nil {
		return fmt.Errorf("storage: attachment chunks: %w", err)
	}
	defer rows.Close()
	var ct []byte
	for rows.Next() {
		if err := rows.Scan(&ct); err != nil {
			return fmt.Errorf("storage: attachment chunks: %w", err)
		}
		if err := fn(ct); err != nil {
			return fmt.Errorf("storage: attachment chunks: %w", err)
		}
	}
	return wrap("attachment chunks", rows.Err())
}
