package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// NetworkRecords calls fn with the record of every case received in year
// and its incident year and month (0 when unknown), for the network
// export. It reads only the plain codes of the classifications table:
// no report ID, text or date finer than the month leaves this function.
func (db *DB) NetworkRecords(ctx context.Context, year int, fn func(reporting.NetRecord) error) error {
	tx, end, err := db.snapshot(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("storage: network records: %w", err)
	}
	defer end()
	stmt, err := tx.PrepareContext(ctx, `SELECT coalesce(year, 0), coalesce(month, 0), municipality, grounds, subgrounds,
		areas, forms, incident_type, reporter_role, agg_relevant, interventions FROM classifications WHERE received_year = ?`)
	if err != nil {
		return fmt.Errorf("storage: network records: %w", err)
	}
	defer stmt.Close()
	rows, err := stmt.QueryContext(ctx, year)
	if err != nil {
		return fmt.Errorf("storage: network records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r reporting.NetRecord
		var grounds, subgrounds, areas, forms, interventions string
		if err := rows.Scan(&r.Year, &r.Month, &r.Municipality, &grounds, &subgrounds, &areas, &forms, &r.IncidentType,
			&r.ReporterRole, &r.AGGRelevant, &interventions); err != nil {
			return fmt.Errorf("storage: network records: %w", err)
		}
		r.Grounds, r.Subgrounds, r.Areas = splitCodes(grounds), splitCodes(subgrounds), splitCodes(areas)
		r.Forms, r.Interventions = splitCodes(forms), splitCodes(interventions)
		if err := fn(r); err != nil {
			return fmt.Errorf("storage: network records: %w", err)
		}
	}
	return wrap("network records", rows.Err())
}
