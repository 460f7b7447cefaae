package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// StatisticalRecords calls fn with the record of every case received in
// year. It reads only the plain codes of the classifications table. The
// year statistics read StatCounts instead; this full scan is the tests'
// oracle for those counts.
func (db *DB) StatisticalRecords(ctx context.Context, year int, fn func(reporting.StatRecord) error) error {
	tx, end, err := db.snapshot(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("storage: statistical records: %w", err)
	}
	defer end()
	stmt, err := tx.PrepareContext(ctx, `SELECT municipality, grounds, subgrounds, areas, forms, incident_type,
		reporter_role, agg_relevant, interventions FROM classifications WHERE received_year = ?`)
	if err != nil {
		return fmt.Errorf("storage: statistical records: %w", err)
	}
	defer stmt.Close()
	rows, err := stmt.QueryContext(ctx, year)
	if err != nil {
		return fmt.Errorf("storage: statistical records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r reporting.StatRecord
		var grounds, subgrounds, areas, forms, interventions string
		if err := rows.Scan(&r.Municipality, &grounds, &subgrounds, &areas, &forms, &r.IncidentType,
			&r.ReporterRole, &r.AGGRelevant, &interventions); err != nil {
			return fmt.Errorf("storage: statistical records: %w", err)
		}
		r.Grounds, r.Subgrounds, r.Areas = splitCodes(grounds), splitCodes(subgrounds), splitCodes(areas)
		r.Forms, r.Interventions = splitCodes(forms), splitCodes(interventions)
		if err := fn(r); err != nil {
			return fmt.Errorf("storage: statistical records: %w", err)
		}
	}
	return wrap("statistical records", rows.Err())
}

// StatCounts returns the aggregate counts of the records received in the
// years from to to: the rows of stat_counts, which the triggers of
// migration 0047 keep in the same transaction as every write of a
// record; a few hundred rows, however many records a year has.
func (db *DB) StatCounts(ctx context.Context, from, to int) ([]reporting.StatCount, error) {
	// One query for every year asked: the years are counted from the same
	// state of the database.
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT year, dim, code, code2, n FROM stat_counts
		WHERE year BETWEEN ? AND ? AND n <> 0`, from, to)
	if err != nil {
		return nil, fmt.Errorf("storage: stat counts: %w", err)
	}
	defer rows.Close()
	var out []reporting.StatCount
	for rows.Next() {
		var c reporting.StatCount
		if err := rows.Scan(&c.Year, &c.Dim, &c.Code, &c.Code2, &c.N); err != nil {
			return nil, fmt.Errorf("storage: stat counts: %w", err)
		}
		out = append(out, c)
	}
	return out, wrap("stat counts", rows.Err())
}

// PublishStatistics stores or replaces a year's snapshot.
func (db *DB) PublishStatistics(ctx context.Context, p reporting.PublishedStatistics) error {
	return db.change(ctx, "publish statistics", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO statistics_published (year, published_at, tables) VALUES (?, ?, ?)
			ON CONFLICT (year) DO UPDATE SET published_at = excluded.published_at, tables = excluded.tables`,
			p.Year, p.PublishedAt.UTC().Format(time.RFC3339), string(p.JSON))
		return err
	})
}

// PublishedYears lists the published years, newest first.
func (db *DB) PublishedYears(ctx context.Context) ([]int, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT year FROM statistics_published ORDER BY year DESC`)
	if err != nil {
		return nil, fmt.Errorf("storage: published years: %w", err)
	}
	defer rows.Close()
	var years []int
	for rows.Next() {
		var y int
		if err := rows.Scan(&y); err != nil {
			return nil, fmt.Errorf("storage: published years: %w", err)
		}
		years = append(years, y)
	}
	return years, wrap("published years", rows.Err())
}

// PublishedStatistics returns a year's snapshot; ENotFound if none.
func (db *DB) PublishedStatistics(ctx context.Context, year int) (reporting.PublishedStatistics, error) {
	p := reporting.PublishedStatistics{Year: year}
	var at, tables string
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT published_at, tables FROM statistics_published WHERE year = ?`, year).Scan(&at, &tables)
	if err != nil {
		return p, wrap("published statistics", notFound(err, "error.not_found"))
	}
	p.PublishedAt, err = time.Parse(time.RFC3339, at)
	p.JSON = []byte(tables)
	return p, wrap("published statistics", err)
}
