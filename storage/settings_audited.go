package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// PutSettingAudited stores or replaces a setting and appends its audit
// entry in one transaction: a change never stands without its entry.
func (db *DB) PutSettingAudited(ctx context.Context, key string, value []byte, e *reporting.AuditEntry) error {
	return db.change(ctx, "put setting audited", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
			return fmt.Errorf("setting %s: %w", key, err)
		}
		return db.appendAuditTx(ctx, tx, e)
	})
}
