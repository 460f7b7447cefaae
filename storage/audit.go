package storage

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// auditHead is the settings row that remembers the end of the chain.
const auditHead = "audit_head"

type head struct {
	ID   int64  `json:"id"`
	Hash []byte `json:"hash"`
}

// auditKeyedFrom is the settings row that says from which entry on the
// chain is keyed with the server secret: 1 for a deployment set up with a
// secret, the next entry for one that adopted it later (`meldestelle
// secret init`). Its value carries its own HMAC, so a writer without the
// secret can neither remove it nor move it past entries they rewrote.
const auditKeyedFrom = "audit_keyed_from"

type keyedFrom struct {
	ID int64 `json:"id"`
	// Lost: the entries before ID were keyed with a secret that is lost;
	// only their links can still be checked, not their hashes.
	Lost bool   `json:"lost,omitempty"`
	Tag  []byte `json:"tag"`
}

// SetAuditKey keys the audit chain with k (derived from the server
// secret). Call it once, before the first entry is appended.
func (db *DB) SetAuditKey(k *vault.MACKey) { db.auditKey = k }

func keyedFromTag(k *vault.MACKey, id int64, lost bool) []byte {
	return k.Sum([]byte(auditKeyedFrom), []byte(fmt.Sprint(id)), []byte(fmt.Sprint(lost)))
}

// readKeyedFrom returns the first keyed entry's ID, 0 if the chain is not
// keyed. With a key, the row's tag must match.
func (db *DB) readKeyedFrom(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (keyedFrom, error) {
	var raw []byte
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, auditKeyedFrom).Scan(&raw)
	if err == sql.ErrNoRows {
		return keyedFrom{}, nil
	} else if err != nil {
		return keyedFrom{}, err
	}
	var kf keyedFrom
	if err := json.Unmarshal(raw, &kf); err != nil || kf.ID < 1 {
		return keyedFrom{}, reporting.Errorf(reporting.EConflict, "audit chain: the record of its key is damaged")
	}
	if db.auditKey != nil && !vault.Equal(kf.Tag, keyedFromTag(db.auditKey, kf.ID, kf.Lost)) {
		return keyedFrom{}, reporting.Errorf(reporting.EConflict, "audit chain: the record of its key does not match the server secret")
	}
	return kf, nil
}

func (db *DB) putKeyedFrom(ctx context.Context, tx *sql.Tx, id int64, lost bool) error {
	v, _ := json.Marshal(keyedFrom{ID: id, Lost: lost, Tag: keyedFromTag(db.auditKey, id, lost)})
	_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, auditKeyedFrom, v)
	return err
}

// ErrAuditKeyLost is returned by KeyAuditChain when the chain is keyed
// with another secret (the file was lost) and lost was not set.
var ErrAuditKeyLost = errors.New("storage: the audit chain is keyed with another server secret")

// KeyAuditChain starts keying the audit chain with the key set by
// SetAuditKey from the next entry on, for a deployment adopting a server
// secret; earlier entries keep their unkeyed hashes. It returns the first
// keyed entry's ID; a chain keyed already with this key keeps its start.
//
// A chain keyed with a secret that is lost for good (lost set) is keyed
// anew from the next entry; the entries before can then only be checked
// for their links, and VerifyAudit says so.
func (db *DB) KeyAuditChain(ctx context.Context, lost bool) (int64, error) {
	if db.auditKey == nil {
		return 0, errors.New("storage: no audit key set")
	}
	var from int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		kf, err := db.readKeyedFrom(ctx, tx)
		switch {
		case err == nil && kf.ID > 0:
			from = kf.ID
			return nil
		case err != nil && reporting.ErrorCode(err) == "":
			// A read that failed is no sign of a lost key.
			return err
		case err != nil && !lost:
			return ErrAuditKeyLost
		}
		// Only a record that does not verify marks a lost key; a chain
		// that was never keyed keeps its unkeyed hashes checked.
		keyLost := err != nil
		prev, err := auditHeadTx(ctx, tx)
		if err != nil {
			return err
		}
		from = prev.ID + 1
		return db.putKeyedFrom(ctx, tx, from, keyLost)
	})
	return from, wrap("key audit chain", err)
}

func auditHeadTx(ctx context.Context, tx *sql.Tx) (head, error) {
	var prev head
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, auditHead).Scan(&raw)
	switch {
	case err == sql.ErrNoRows:
		prev.Hash = make([]byte, 32)
	case err != nil:
		return prev, err
	default:
		if err := json.Unmarshal(raw, &prev); err != nil {
			return prev, fmt.Errorf("storage: audit head: %w", err)
		}
	}
	return prev, nil
}

// AppendAudit adds an entry to the end of the hash chain, in one
// transaction with the chain's head, so concurrent writers cannot fork it.
func (db *DB) AppendAudit(ctx context.Context, e *reporting.AuditEntry) error {
	return db.change(ctx, "append audit", func(tx *sql.Tx) error { return db.appendAuditTx(ctx, tx, e) })
}

// appendAuditTx adds an entry to the chain inside tx, so that a change and
// its audit entry commit together (used by the retention sweep).
func (db *DB) appendAuditTx(ctx context.Context, tx *sql.Tx, e *reporting.AuditEntry) error {
	prev, err := auditHeadTx(ctx, tx)
	if err != nil {
		return err
	}
	kf, err := db.readKeyedFrom(ctx, tx)
	if err != nil {
		return err
	}
	from := kf.ID
	switch {
	case db.auditKey == nil && from > 0:
		// Appending unkeyed entries to a keyed chain would break it.
		return errors.New("storage: the audit chain is keyed with the server secret, which this process does not have")
	case db.auditKey != nil && from == 0 && prev.ID == 0:
		// A fresh chain is keyed from its first entry.
		if err := db.putKeyedFrom(ctx, tx, 1, false); err != nil {
			return err
		}
		from = 1
	case db.auditKey != nil && from == 0:
		// Never start keying silently in the middle: a writer who deleted
		// the record and rewrote the chain unkeyed would pass. Adopting a
		// secret is an explicit step that shows what it trusts.
		return errors.New("storage: the audit chain is not keyed yet: run `meldestelle secret init` (see README)")
	}
	e.ID, e.PrevHash = prev.ID+1, prev.Hash
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if from > 0 && e.ID >= from {
		e.Hash = e.ChainMAC(db.auditKey, e.PrevHash)
	} else {
		e.Hash = e.ChainHash(e.PrevHash)
	}
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
	tx, end, err := db.snapshot(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: audit entries: %w", err)
	}
	defer end()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit`+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("storage: audit entries: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit`+where+` ORDER BY id DESC LIMIT ? OFFSET ?`, append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: audit entries: %w", err)
	}
	defer rows.Close()
	var list []reporting.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("storage: audit entries: %w", err)
		}
		list = append(list, e)
	}
	return list, total, wrap("audit entries", rows.Err())
}

// VerifyAudit walks the chain from the first entry and checks every
// link, the IDs (no gaps) and the stored head (nothing cut off the end).
// It returns the ID of the first entry that does not fit.
func (db *DB) VerifyAudit(ctx context.Context) (int64, error) {
	tx, end, err := db.snapshot(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("storage: verify audit: %w", err)
	}
	defer end()
	broken := func(id int64, why string) (int64, error) {
		return id, reporting.Errorf(reporting.EConflict, fmt.Sprintf("audit chain broken at entry %d: %s", id, why))
	}
	kf, err := db.readKeyedFrom(ctx, tx)
	if err != nil && reporting.ErrorCode(err) == "" {
		// A database that cannot be read says nothing about the chain.
		return 0, fmt.Errorf("storage: verify audit: %w", err)
	}
	if err != nil {
		return broken(0, reporting.MessageID(err))
	}
	from := kf.ID
	if from > 0 && db.auditKey == nil {
		return 0, errors.New("the audit chain is keyed: verifying it needs the server secret file")
	}
	if from == 0 && db.auditKey != nil {
		// With a secret every chain is keyed (from setup, or from
		// `secret init`): a missing record means it was removed.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit`).Scan(&n); err != nil {
			return 0, fmt.Errorf("storage: verify audit: %w", err)
		}
		if n > 0 {
			return broken(1, "not keyed with the server secret (record missing; run `meldestelle secret init` if this deployment never adopted one)")
		}
	}
	sum := func(e reporting.AuditEntry) []byte {
		if from > 0 && e.ID >= from {
			return e.ChainMAC(db.auditKey, e.PrevHash)
		}
		return e.ChainHash(e.PrevHash)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("storage: verify audit: %w", err)
	}
	defer rows.Close()
	last := head{Hash: make([]byte, 32)}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return 0, fmt.Errorf("storage: verify audit: %w", err)
		}
		switch {
		case e.ID != last.ID+1:
			return broken(last.ID+1, "entry missing")
		case !bytes.Equal(e.PrevHash, last.Hash):
			return broken(e.ID, "does not follow the previous entry")
		case kf.Lost && e.ID < from:
			// Keyed with a lost secret: only the links can be checked.
		case !vault.Equal(e.Hash, sum(e)):
			return broken(e.ID, "altered")
		}
		last = head{ID: e.ID, Hash: e.Hash}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("storage: verify audit: %w", err)
	}
	var raw []byte
	err = tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, auditHead).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) && last.ID == 0 {
		return 0, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("storage: verify audit: %w", err)
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
