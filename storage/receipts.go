package storage

import (
	"context"
	"database/sql"
	"strings"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// PutSettingMACOnce stores a setting with its MAC unless one is there
// already, and returns the value and MAC now stored, so that two
// processes starting at once agree on one receipt salt.
func (db *DB) PutSettingMACOnce(ctx context.Context, key string, value, mac []byte) ([]byte, []byte, error) {
	var v, m []byte
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, mac) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`, key, value, mac); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value, mac FROM settings WHERE key = ?`, key).Scan(&v, &m)
	})
	return v, m, wrap("put setting mac once", err)
}

// PutSettingsMAC stores or replaces several settings with their MACs in
// one transaction.
func (db *DB) PutSettingsMAC(ctx context.Context, settings []reporting.SignedSetting) error {
	return db.change(ctx, "put settings mac", func(tx *sql.Tx) error {
		for _, s := range settings {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, mac) VALUES (?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, mac = excluded.mac`, s.Key, s.Value, s.MAC); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpgradeReceipt replaces a report's receipt lookup hash, reporter key
// and KDF parameters, if its lookup hash is still old (a concurrent
// follow-up may have upgraded it already: then nothing changes). One
// statement, so the lookup and the key that opens with it never disagree.
func (db *DB) UpgradeReceipt(ctx context.Context, id string, old []byte, r reporting.StoredReport) error {
	_, err := db.writer(ctx).ExecContext(ctx, `UPDATE reports SET lookup_hash = ?, reporter_key = ?, kdf_params = ?
		WHERE id = ? AND lookup_hash = ?`, r.LookupHash, r.ReporterKey, r.KDFParams, id, old)
	return wrap("upgrade receipt", err)
}

// CountReportsByKDF returns how many reports carry one of the given
// kdf_params values.
func (db *DB) CountReportsByKDF(ctx context.Context, params []string) (int, error) {
	if len(params) == 0 {
		return 0, nil
	}
	args := make([]any, len(params))
	for i, p := range params {
		args[i] = p
	}
	var n int
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT count(*) FROM reports WHERE kdf_params IN (?`+strings.Repeat(", ?", len(params)-1)+`)`, args...).Scan(&n)
	return n, wrap("count reports by kdf", err)
}
