package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// ReplyTemplates lists every reply template, by language and title.
func (db *DB) ReplyTemplates(ctx context.Context) ([]reporting.ReplyTemplate, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT id, language, title, body FROM reply_templates ORDER BY language, title, id`)
	if err != nil {
		return nil, fmt.Errorf("storage: reply templates: %w", err)
	}
	defer rows.Close()
	var list []reporting.ReplyTemplate
	for rows.Next() {
		var t reporting.ReplyTemplate
		if err := rows.Scan(&t.ID, &t.Language, &t.Title, &t.Body); err != nil {
			return nil, fmt.Errorf("storage: reply templates: %w", err)
		}
		list = append(list, t)
	}
	return list, wrap("reply templates", rows.Err())
}

// ReplyTemplate finds one reply template; ENotFound if none.
func (db *DB) ReplyTemplate(ctx context.Context, id int64) (reporting.ReplyTemplate, error) {
	t := reporting.ReplyTemplate{ID: id}
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT language, title, body FROM reply_templates WHERE id = ?`, id).
		Scan(&t.Language, &t.Title, &t.Body)
	return t, wrap("reply template", notFound(err, "replytemplates.error.not_found"))
}

// SaveReplyTemplate stores a new template (ID 0) and returns its ID, or
// replaces an existing one; ENotFound if that one is gone.
func (db *DB) SaveReplyTemplate(ctx context.Context, t reporting.ReplyTemplate) (int64, error) {
	id := t.ID
	err := db.change(ctx, "save reply template", func(tx *sql.Tx) error {
		if t.ID == 0 {
			res, err := tx.ExecContext(ctx, `INSERT INTO reply_templates (language, title, body) VALUES (?, ?, ?)`, t.Language, t.Title, t.Body)
			if err != nil {
				return err
			}
			id, err = res.LastInsertId()
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE reply_templates SET language = ?, title = ?, body = ? WHERE id = ?`, t.Language, t.Title, t.Body, t.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.ENotFound, "replytemplates.error.not_found")
		}
		return nil
	})
	return id, err
}

// DeleteReplyTemplate removes a template; ENotFound if it is gone.
func (db *DB) DeleteReplyTemplate(ctx context.Context, id int64) error {
	return db.change(ctx, "delete reply template", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM reply_templates WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.ENotFound, "replytemplates.error.not_found")
		}
		return nil
	})
}
