package storage

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// auditHead is the settings row that remembers the end of the chain.
const auditHead = "audit_head"

type head struct {
	ID   int64  `json:"id"`
	Hash []byte `json:"hash"`
}

// AppendAudit adds an entry to the end of the hash chain, in one
// transaction with the chain's head, so concurrent writers cannot fork it.
func (db *DB) AppendAudit(ctx context.Context, e *reporting.AuditEntry) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return appendAuditTx(ctx, tx, e) })
}

// appendAuditTx adds an entry to the chain inside tx, so that a change and
// its audit entry commit together (used by the retention sweep).
func appendAuditTx(ctx context.Context, tx *sql.Tx, e *reporting.AuditEntry) error {
	var prev head
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, auditHead).Scan(&raw)
	switch {
	case err == sql.ErrNoRows:
		prev.Hash = make([]byte, 32)
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(raw, &prev); err != nil {
			return fmt.Errorf("storage: audit head: %w", err)
		}
	}
	e.ID, e.PrevHash = prev.ID+1, prev.Hash
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = e.ChainHash(e.PrevHash)
	var userID, reportID any
	if e.UserID != 0 {
		userID = e.UserID
	}
	if e.ReportID != "" {
		reportID = e.ReportID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (id, at, user_id, user_name, action, report_id, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, e.At.Format(time.RFC3339Nano), userID, e.UserName, e.Action, reportID, e.Detail, e.PrevHash, e.Hash); err != nil {
		return err
	}
	next, _ := json.Marshal(head{ID: e.ID, Hash: e.Hash})
	_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, auditHead, next)
	return err
}

const auditColumns = `id, at, coalesce(user_id, 0), user_name, action, coalesce(report_id, ''), detail, prev_hash, hash`

func scanAudit(s scanner) (reporting.AuditEntry, error) {
	var e reporting.AuditEntry
	var at string
	if err := s.Scan(&e.ID, &at, &e.UserID, &e.UserName, &e.Action, &e.ReportID, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
		return e, err
	}
	var err error
	e.At, err = time.Parse(time.RFC3339Nano, at)
	return e, err
}

// AuditEntries lists audit entries, newest first, all or one case's.
func (db *DB) AuditEntries(ctx context.Context, reportID string, p reporting.Page) ([]reporting.AuditEntry, int, error) {
	where, args := "", []any{}
	if reportID != "" {
		where, args = ` WHERE report_id = ?`, append(args, reportID)
	}
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit`+where+` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var list []reporting.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, 0, err
		}
		list = append(list, e)
	}
	return list, total, rows.Err()
}

// VerifyAudit walks the chain from the first entry and checks every
// link, the IDs (no gaps) and the stored head (nothing cut off the end).
// It returns the ID of the first entry that does not fit.
func (db *DB) VerifyAudit(ctx context.Context) (int64, error) {
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit ORDER BY id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	broken := func(id int64, why string) (int64, error) {
		return id, reporting.Errorf(reporting.EConflict, fmt.Sprintf("audit chain broken at entry %d: %s", id, why))
	}
	last := head{Hash: make([]byte, 32)}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return 0, err
		}
		switch {
		case e.ID != last.ID+1:
			return broken(last.ID+1, "entry missing")
		case !bytes.Equal(e.PrevHash, last.Hash):
			return broken(e.ID, "does not follow the previous entry")
		case !bytes.Equal(e.Hash, e.ChainHash(e.PrevHash)):
			return broken(e.ID, "altered")
		}
		last = head{ID: e.ID, Hash: e.Hash}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var raw []byte
	err = tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, auditHead).Scan(&raw)
	if err == sql.ErrNoRows && last.ID == 0 {
		return 0, nil
	}
	var stored head
	if err != nil || json.Unmarshal(raw, &stored) != nil {
		return broken(last.ID, "head missing")
	}
	if stored.ID != last.ID || !bytes.Equal(stored.Hash, last.Hash) {
		return broken(last.ID+1, "entries removed from the end")
	}
	return 0, nil
}
