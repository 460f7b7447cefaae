package storage

import (
	"context"
	"database/sql"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// Interpreter returns a case's sealed "interpreter needed" mark; nil when
// the case has none. ENotFound if there is no such case.
func (db *DB) Interpreter(ctx context.Context, reportID string) ([]byte, error) {
	var sealed []byte
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT interpreter FROM reports WHERE id = ?`, reportID).Scan(&sealed)
	return sealed, wrap("interpreter", notFound(err, "error.case.not_found"))
}

// SetInterpreter stores a case's sealed mark, or clears it with nil. It
// changes only a case that still belongs to team teamID and still has its
// content: the mark is sealed under the data key the team opened, and a
// case whose content retention deleted keeps no mark. EConflict otherwise.
func (db *DB) SetInterpreter(ctx context.Context, reportID string, teamID int64, sealed []byte) error {
	return db.change(ctx, "set interpreter", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reports SET interpreter = ? WHERE id = ? AND team_id = ? AND content_deleted_on IS NULL`,
			sealed, reportID, teamID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.EConflict, "error.case.changed")
		}
		return nil
	})
}
