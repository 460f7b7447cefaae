package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// CreateReport stores a report and gives it the next case number of the
// year it was received in. The commit is durable (synchronous=FULL) before
// this returns.
func (db *DB) CreateReport(ctx context.Context, r *reporting.StoredReport) error {
	received, err := time.Parse(time.DateOnly, r.ReceivedOn)
	if err != nil {
		return fmt.Errorf("storage: report received on %q: %w", r.ReceivedOn, err)
	}
	year := received.Year()
	return db.change(ctx, "create report", func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `INSERT INTO case_counters (year, last) VALUES (?, 1)
			ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last`, year).Scan(&n)
		if err != nil {
			return err
		}
		caseNo := fmt.Sprintf("%d-%04d", year, n)
		_, err = tx.ExecContext(ctx, `INSERT INTO reports
			(id, case_no, team_id, received_on, lookup_hash, kdf_params, sealed_key, reporter_key, content, status, language)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')`,
			r.ID, caseNo, r.TeamID, r.ReceivedOn, r.LookupHash, r.KDFParams, r.SealedKey, r.ReporterKey, r.Content, r.Status)
		if isUnique(err) {
			// Two receipts with the same lookup hash would need two equal
			// 16-digit receipts: report it rather than overwrite anything.
			return fmt.Errorf("report collides with an existing one: %w", err)
		}
		if err != nil {
			return err
		}
		r.CaseNo = caseNo
		return nil
	})
}

const reportColumns = `r.id, r.case_no, r.team_id, t.name, r.received_on, r.lookup_hash, r.kdf_params,
	r.sealed_key, r.reporter_key, r.content, r.status, coalesce(r.content_deleted_on, '')`

type scanner interface{ Scan(dest ...any) error }

func scanReport(s scanner) (reporting.StoredReport, error) {
	var r reporting.StoredReport
	err := s.Scan(&r.ID, &r.CaseNo, &r.TeamID, &r.TeamName, &r.ReceivedOn, &r.LookupHash, &r.KDFParams,
		&r.SealedKey, &r.ReporterKey, &r.Content, &r.Status, &r.ContentDeletedOn)
	return r, err
}

// Reports lists the reports of the given teams, newest first.
func (db *DB) Reports(ctx context.Context, teamIDs []int64, p reporting.Page) ([]reporting.StoredReport, int, error) {
	if len(teamIDs) == 0 {
		return nil, 0, nil
	}
	in := "?" + strings.Repeat(",?", len(teamIDs)-1)
	args := make([]any, 0, len(teamIDs)+2)
	for _, id := range teamIDs {
		args = append(args, id)
	}
	// One read transaction, so the total and the page see the same snapshot
	// while reports keep arriving.
	tx, end, err := db.snapshot(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: reports: %w", err)
	}
	defer end()
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reports WHERE team_id IN (`+in+`)`, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("storage: reports: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+reportColumns+` FROM reports r JOIN teams t ON t.id = r.team_id
		WHERE r.team_id IN (`+in+`) ORDER BY r.rowid DESC LIMIT ? OFFSET ?`, append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: reports: %w", err)
	}
	defer rows.Close()
	var list []reporting.StoredReport
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("storage: reports: %w", err)
		}
		list = append(list, r)
	}
	return list, total, wrap("reports", rows.Err())
}

// Report finds one report by ID.
func (db *DB) Report(ctx context.Context, id string) (reporting.StoredReport, error) {
	r, err := scanReport(db.reader(ctx).QueryRowContext(ctx, `SELECT `+reportColumns+` FROM reports r JOIN teams t ON t.id = r.team_id WHERE r.id = ?`, id))
	return r, wrap("report", notFound(err, "error.case.not_found"))
}

// compile-time check that DB is a reporting.Store.
var _ reporting.Store = (*DB)(nil)
