package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// caseColumns are a report row with its assignee, deadline and record;
// the record's columns are NULL when there is none.
const caseColumns = reportColumns + `,
	coalesce(r.assignee, 0), coalesce(u.name, ''), coalesce(r.deadline_week, ''), r.dates_sealed, coalesce(r.incident_day, 0),
	c.report_id, coalesce(c.year, 0), coalesce(c.month, 0), coalesce(c.municipality, ''),
	coalesce(c.grounds, ''), coalesce(c.subgrounds, ''), coalesce(c.areas, ''), coalesce(c.subareas, ''),
	coalesce(c.forms, ''), coalesce(c.level, ''), coalesce(c.incident_type, ''), coalesce(c.reporter_role, ''),
	coalesce(c.agg_relevant, ''), coalesce(c.interventions, ''), coalesce(c.closed_on, ''), coalesce(c.closing_reason, ''),
	r.wish, coalesce(r.has_contact, 0)`

// caseJoins add a report row's team, assignee and record.
const caseJoins = ` JOIN teams t ON t.id = r.team_id
	LEFT JOIN users u ON u.id = r.assignee
	LEFT JOIN classifications c ON c.report_id = r.id`

func scanCase(s scanner) (reporting.CaseRow, error) {
	var r reporting.CaseRow
	var c reporting.Classification
	var classified sql.NullString
	var grounds, subgrounds, areas, subareas, forms, interventions string
	var wish sql.NullString
	var hasContact bool
	err := s.Scan(&r.ID, &r.CaseNo, &r.TeamID, &r.TeamName, &r.ReceivedOn, &r.LookupHash, &r.KDFParams,
		&r.SealedKey, &r.ReporterKey, &r.Content, &r.Status, &r.ContentDeletedOn,
		&r.Assignee, &r.AssigneeName, &r.DeadlineWeek, &r.DatesSealed, &c.Day,
		&classified, &c.Year, &c.Month, &c.Municipality,
		&grounds, &subgrounds, &areas, &subareas,
		&forms, &c.Level, &c.IncidentType, &c.ReporterRole,
		&c.AGGRelevant, &interventions, &c.ClosedOn, &c.ClosingReason,
		&wish, &hasContact)
	if wish.Valid {
		r.Flags = &reporting.WorkFlags{Wish: wish.String, HasContact: hasContact}
	}
	if err != nil || !classified.Valid {
		return r, err
	}
	c.ReportID = classified.String
	c.Grounds, c.Subgrounds, c.Areas, c.Subareas = splitCodes(grounds), splitCodes(subgrounds), splitCodes(areas), splitCodes(subareas)
	c.Forms, c.Interventions = splitCodes(forms), splitCodes(interventions)
	r.Classification = &c
	return r, nil
}

// CaseRow finds one case with its case work.
func (db *DB) CaseRow(ctx context.Context, id string) (reporting.CaseRow, error) {
	r, err := scanCase(db.reader(ctx).QueryRowContext(ctx, `SELECT `+caseColumns+` FROM reports r`+caseJoins+` WHERE r.id = ?`, id))
	return r, wrap("case row", notFound(err, "error.case.not_found"))
}

// idList is report IDs as one JSON array, a single parameter for
// json_each: the decrypted matches can be thousands, more than a
// statement's parameters.
func idList(ids []string) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids) // strings always marshal
	return string(b)
}

// SetWorkFlags copies the working flags of cases (by ID) into their rows,
// once: a row that has them keeps them, and a row whose content is
// deleted gets none.
func (db *DB) SetWorkFlags(ctx context.Context, flags map[string]reporting.WorkFlags) error {
	if len(flags) == 0 {
		return nil
	}
	return db.change(ctx, "set work flags", func(tx *sql.Tx) error {
		set, err := tx.PrepareContext(ctx, `UPDATE reports SET wish = ?, has_contact = ? WHERE id = ? AND wish IS NULL AND content_deleted_on IS NULL`)
		if err != nil {
			return err
		}
		defer set.Close()
		for id, f := range flags {
			if _, err := set.ExecContext(ctx, f.Wish, f.HasContact, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// placeholders returns "?,?,?" for n values.
func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// CaseList returns one page of the matching cases and how many match (at
// most q.CountCap+1 when q.CountCap is set: "more than CountCap"). The
// filters are plain columns and indexed lookups; nothing is decrypted here.
//
// Speed (issue 13: any plain filter at page 1 in a few milliseconds on
// 100,000 cases): every filter is a condition on the report row, the
// set filters (sub-ground, area, ground, municipality, waiting, reminder
// due) as correlated EXISTS probes by report ID. The query starts from
// the smallest set (listSource) when it is small, and otherwise walks the
// order's index, where the probes find a page's matches after a few rows.
// The plans are chosen here from exact counts of the sets (one index
// range each), not from ANALYZE's statistics: those keep an average per
// code, and an average sub-ground led the planner to start from an area
// with 12,000 cases (40 ms instead of 1 ms, BENCHMARKS.md).
func (db *DB) CaseList(ctx context.Context, q reporting.CaseQuery) ([]reporting.CaseRow, int, error) {
	if len(q.Teams) == 0 || (q.Statuses != nil && len(q.Statuses) == 0) {
		return nil, 0, nil
	}
	// One read transaction, so the counts, the total and the page see
	// the same snapshot.
	tx, end, err := db.snapshot(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: case list: %w", err)
	}
	defer end()
	cond, args := listConditions(q)
	src, counted, err := listSource(ctx, tx, q)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: case list: %w", err)
	}
	total := counted.total
	if total < 0 {
		count, countArgs := `SELECT count(*) FROM `+counted.from+cond, slices.Concat(counted.args, args)
		if q.CountCap > 0 {
			// Each match of a big set is checked row by row (thousands
			// of look-ups, 20–50 ms on 100,000 cases): stop after the
			// first CountCap+1, which is all the pager needs.
			count, countArgs = `SELECT count(*) FROM (SELECT 1 FROM `+counted.from+cond+` LIMIT ?)`, append(countArgs, q.CountCap+1)
		}
		if err := tx.QueryRowContext(ctx, count, countArgs...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("storage: case list: %w", err)
		}
	}
	if q.CountCap > 0 {
		// An index range's exact count may be larger: the same answer
		// either way, whichever way the total was found.
		total = min(total, q.CountCap+1)
	}
	if total == 0 {
		return nil, 0, nil
	}
	order, orderArgs := caseOrder(q.Sort, q.Desc)
	// The page is chosen on the indexes alone and only its rows are read
	// in full: sorting thousands of rows with their ciphertexts attached
	// would read them all.
	page := `SELECT ` + caseColumns + ` FROM (SELECT r.rowid AS rid FROM ` + src.from + cond +
		` ORDER BY ` + order + ` LIMIT ? OFFSET ?) p JOIN reports r ON r.rowid = p.rid` + caseJoins + ` ORDER BY ` + order
	pageArgs := slices.Concat(src.args, args, orderArgs, []any{q.Page.Limit, q.Page.Offset}, orderArgs)
	if src.from == walkFrom && len(q.Teams) > 1 {
		page, pageArgs = teamMergePage(q)
	}
	rows, err := tx.QueryContext(ctx, page, pageArgs...)
	if err != nil {
		return nil, 0, fmt.Errorf("storage: case list: %w", err)
	}
	defer rows.Close()
	var list []reporting.CaseRow
	for rows.Next() {
		r, err := scanCase(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("storage: case list: %w", err)
		}
		list = append(list, r)
	}
	return list, total, wrap("case list", rows.Err())
}

// teamMergePage is the page query of a list walked along its order for
// several teams. The team is the first column of the order's index, so a
// walk over "team IN (a, b)" cannot follow the order: SQLite reads every
// case of the teams, probes each against the filters and sorts them all
// (0.9 s for a filter matching 13,000 of 100,000 cases, BENCHMARKS.md).
// Instead each team's walk is its own LIMITed subquery, which stops after
// the first Offset+Limit matches as the single-team walk does, and the
// page is cut from the merge of those few rows. Each subquery needs its
// own ORDER BY and LIMIT inside a subquery of the UNION ALL: an ORDER BY
// on the compound as a whole would sort all the teams' matches again.
// The keys are selected as k0, k1, … so that the merge and the final
// order compare the same values without repeating the expressions.
func teamMergePage(q reporting.CaseQuery) (string, []any) {
	terms, orderArgs := caseOrderTerms(q.Sort, q.Desc)
	keys := make([]string, len(terms))  // "r.received_on AS k0"
	names := make([]string, len(terms)) // "k0"
	byKey := make([]string, len(terms)) // "k0 DESC"
	for i, t := range terms {
		names[i] = fmt.Sprintf("k%d", i)
		keys[i], byKey[i] = t.expr+` AS `+names[i], names[i]+t.dir
	}
	by := strings.Join(byKey, `, `)
	subs := make([]string, len(q.Teams))
	var args []any
	for i, team := range q.Teams {
		one := q
		one.Teams = []int64{team}
		cond, condArgs := listConditions(one)
		subs[i] = `SELECT * FROM (SELECT r.rowid AS rid, ` + strings.Join(keys, `, `) + ` FROM ` + walkFrom + cond +
			` ORDER BY ` + by + ` LIMIT ?)`
		args = slices.Concat(args, orderArgs, condArgs, []any{q.Page.Offset + q.Page.Limit})
	}
	byP := `p.` + strings.Join(byKey, `, p.`)
	return `SELECT ` + caseColumns + ` FROM (SELECT rid, ` + strings.Join(names, `, `) + ` FROM (` + strings.Join(subs, ` UNION ALL `) +
			`) ORDER BY ` + by + ` LIMIT ? OFFSET ?) p JOIN reports r ON r.rowid = p.rid` + caseJoins + ` ORDER BY ` + byP,
		append(args, q.Page.Limit, q.Page.Offset)
}

// listConditions is the WHERE of a list query over reports r: every
// filter, whichever set the query starts from.
func listConditions(q reporting.CaseQuery) (string, []any) {
	where := []string{`r.team_id IN (` + placeholders(len(q.Teams)) + `)`}
	var args []any
	for _, id := range q.Teams {
		args = append(args, id)
	}
	if q.Statuses != nil {
		where = append(where, `r.status IN (`+placeholders(len(q.Statuses))+`)`)
		for _, s := range q.Statuses {
			args = append(args, s)
		}
	}
	if q.Assignee != 0 {
		where, args = append(where, `r.assignee = ?`), append(args, q.Assignee)
	}
	if q.Unassigned {
		where = append(where, `r.assignee IS NULL`)
	}
	if q.Ground != "" {
		where, args = append(where, `EXISTS (SELECT 1 FROM classification_grounds g WHERE g.ground = ? AND g.report_id = r.id)`), append(args, q.Ground)
	}
	if q.Subground != "" {
		where, args = append(where, `EXISTS (SELECT 1 FROM classification_codes k INDEXED BY classification_codes_report WHERE k.dim = 'subground' AND k.code = ? AND k.report_id = r.id)`), append(args, q.Subground)
	}
	if q.Area != "" {
		where, args = append(where, `EXISTS (SELECT 1 FROM classification_codes k INDEXED BY classification_codes_report WHERE k.dim = 'area' AND k.code = ? AND k.report_id = r.id)`), append(args, q.Area)
	}
	if q.Municipality != "" {
		where, args = append(where, `EXISTS (SELECT 1 FROM classifications c INDEXED BY classifications_municipality WHERE c.municipality = ? AND c.report_id = r.id)`), append(args, q.Municipality)
	}
	if q.Unread {
		where = append(where, `r.reporter_unread <> 0`)
	}
	if q.AwaitingUs {
		// The reporter wrote, and no counsellor's message came after: a
		// counsellor's message sets awaiting_reporter, a reporter's clears it.
		where = append(where, `r.awaiting_reporter = 0 AND EXISTS (SELECT 1 FROM messages m WHERE m.report_id = r.id AND m.author = 'reporter')`)
	}
	if q.DueBy != "" {
		// A reminder counts only while the case is with the team its
		// reason is sealed to (as on the start page).
		where, args = append(where, `EXISTS (SELECT 1 FROM reminders d WHERE d.report_id = r.id AND d.team_id = r.team_id AND d.due <= ?)`), append(args, q.DueBy)
	}
	if q.DeadlineWeekBy != "" {
		where, args = append(where, `r.deadline_week <= ?`), append(args, q.DeadlineWeekBy)
	}
	if q.Wish != "" || q.Contact != "" {
		// The working flags, or one of the cases without flags that the
		// domain decrypted and found matching (q.SealedIDs).
		var flags []string
		if q.Wish != "" {
			flags, args = append(flags, `r.wish = ?`), append(args, q.Wish)
		}
		if q.Contact != "" {
			flags, args = append(flags, `r.has_contact = ?`), append(args, q.Contact == "yes")
		}
		where, args = append(where, `(`+strings.Join(flags, ` AND `)+` OR r.id IN (SELECT value FROM json_each(?)))`), append(args, idList(q.SealedIDs))
	}
	if q.Unflagged {
		where = append(where, `r.wish IS NULL AND r.content_deleted_on IS NULL`)
	}
	return ` WHERE ` + strings.Join(where, ` AND `), args
}

// driveMax is the largest set a list query starts from: up to this many
// index look-ups and a sort of their keys cost less than walking the
// order's index, where a set this small (under 5 % of 100,000 cases)
// would need many rows per match.
var driveMax = 5_000

// walkFrom is the FROM of a list query that walks the order's index.
const walkFrom = `reports r`

// source is where a list query starts: the FROM clause (binding reports
// r), its arguments, and the total when the set's count is already it
// (-1 when the total must be counted).
type source struct {
	from  string
	args  []any
	total int
}

// listSource chooses where a list query starts, for the page and for the
// count: the smallest of its sets if that has at most driveMax cases,
// else the reports in the order's index for the page and the set for the
// count. Each set's size is one index range of the teams.
func listSource(ctx context.Context, tx conn, q reporting.CaseQuery) (page, count source, err error) {
	teams := make([]any, len(q.Teams))
	for i, id := range q.Teams {
		teams[i] = id
	}
	in := `(` + placeholders(len(q.Teams)) + `)`
	type set struct {
		count, from string
		args        []any
		exact       bool // the count is the cases of the teams in the set, no more
	}
	var sets []set
	if q.DueBy != "" {
		sets = append(sets, set{`SELECT count(*) FROM reminders WHERE team_id IN ` + in + ` AND due <= ?`,
			`(SELECT report_id FROM reminders WHERE team_id IN ` + in + ` AND due <= ?)`, append(slices.Clone(teams), q.DueBy), false})
	}
	if q.Unread {
		sets = append(sets, set{`SELECT count(*) FROM reports INDEXED BY reports_reporter_unread WHERE team_id IN ` + in + ` AND reporter_unread <> 0`,
			`(SELECT id AS report_id FROM reports INDEXED BY reports_reporter_unread WHERE team_id IN ` + in + ` AND reporter_unread <> 0)`, teams, true})
	}
	for _, c := range [][2]string{{"subground", q.Subground}, {"area", q.Area}} {
		if c[1] != "" {
			sets = append(sets, set{`SELECT count(*) FROM classification_codes WHERE dim = ? AND code = ? AND team_id IN ` + in,
				`(SELECT report_id FROM classification_codes WHERE dim = ? AND code = ? AND team_id IN ` + in + `)`,
				append([]any{c[0], c[1]}, teams...), true})
		}
	}
	if q.Ground != "" {
		sets = append(sets, set{`SELECT count(*) FROM classification_grounds WHERE ground = ? AND team_id IN ` + in,
			`(SELECT report_id FROM classification_grounds WHERE ground = ? AND team_id IN ` + in + `)`,
			append([]any{q.Ground}, teams...), true})
	}
	if q.Municipality != "" {
		// Counted over all teams (the record has no team): an upper bound.
		sets = append(sets, set{`SELECT count(*) FROM classifications INDEXED BY classifications_municipality WHERE municipality = ?`,
			`(SELECT report_id FROM classifications INDEXED BY classifications_municipality WHERE municipality = ?)`,
			[]any{q.Municipality}, false})
	}
	if q.AwaitingUs {
		// Counted over all teams (a message has no team): an upper bound
		// of the set, enough to choose by.
		sets = append(sets, set{`SELECT count(DISTINCT report_id) FROM messages INDEXED BY messages_from_reporter WHERE author = 'reporter'`,
			`(SELECT DISTINCT report_id FROM messages INDEXED BY messages_from_reporter WHERE author = 'reporter')`, nil, false})
	}
	if q.Wish != "" || q.Contact != "" {
		// The flagged cases (one range of a partial index) and those the
		// domain found by decrypting: disjoint, so the sum is the set's size.
		ids := idList(q.SealedIDs)
		if q.Wish != "" {
			sets = append(sets, set{`SELECT (SELECT count(*) FROM reports INDEXED BY reports_work_wish WHERE team_id IN ` + in + ` AND wish = ?) + json_array_length(?)`,
				`(SELECT id AS report_id FROM reports INDEXED BY reports_work_wish WHERE team_id IN ` + in + ` AND wish = ? UNION ALL SELECT value FROM json_each(?))`,
				append(slices.Clone(teams), q.Wish, ids), true})
		}
		if q.Contact != "" {
			sets = append(sets, set{`SELECT (SELECT count(*) FROM reports INDEXED BY reports_work_contact WHERE team_id IN ` + in + ` AND has_contact = ?) + json_array_length(?)`,
				`(SELECT id AS report_id FROM reports INDEXED BY reports_work_contact WHERE team_id IN ` + in + ` AND has_contact = ? UNION ALL SELECT value FROM json_each(?))`,
				append(slices.Clone(teams), q.Contact == "yes", ids), true})
		}
	}
	if q.Unflagged {
		sets = append(sets, set{`SELECT count(*) FROM reports INDEXED BY reports_work_unflagged WHERE team_id IN ` + in + ` AND wish IS NULL AND content_deleted_on IS NULL`,
			`(SELECT id AS report_id FROM reports INDEXED BY reports_work_unflagged WHERE team_id IN ` + in + ` AND wish IS NULL AND content_deleted_on IS NULL)`, teams, true})
	}
	walk := source{from: walkFrom, total: -1}
	best, bestN := -1, 0
	for i, s := range sets {
		var n int
		if err := tx.QueryRowContext(ctx, s.count, s.args...).Scan(&n); err != nil {
			return walk, walk, err
		}
		if n == 0 { // every filter must match: nothing does
			return walk, source{total: 0}, nil
		}
		if best < 0 || n < bestN {
			best, bestN = i, n
		}
	}
	if best < 0 {
		return walk, walk, nil
	}
	// CROSS JOIN keeps the set first; reports_by_id has every column the
	// conditions and orders read, so the wide rows stay unread.
	drive := source{from: sets[best].from + ` s CROSS JOIN reports r INDEXED BY reports_by_id ON r.id = s.report_id`,
		args: sets[best].args, total: -1}
	if len(sets) == 1 && sets[0].exact && q.Statuses == nil && q.Assignee == 0 && !q.Unassigned &&
		q.Municipality == "" && q.DeadlineWeekBy == "" {
		drive.total = bestN // the set is the answer: no second count
	}
	if bestN > driveMax {
		// Counted from the set (fewer look-ups than all cases), paged
		// along the order's index (a big set matches within a few rows).
		return source{from: walk.from, total: drive.total}, drive, nil
	}
	return drive, drive, nil
}

// caseOrder is the ORDER BY of a list order. Every order ends in a unique
// key, so that pages neither repeat nor skip a case.
func caseOrder(sort string, desc bool) (string, []any) {
	terms, args := caseOrderTerms(sort, desc)
	keys := make([]string, len(terms))
	for i, t := range terms {
		keys[i] = t.expr + t.dir
	}
	return strings.Join(keys, `, `), args
}

// orderTerm is one key of a list order: an expression over reports r and
// its direction (" ASC" or " DESC").
type orderTerm struct{ expr, dir string }

// caseOrderTerms are the keys of a list order, with the arguments of
// their expressions in order.
func caseOrderTerms(sort string, desc bool) ([]orderTerm, []any) {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	switch sort {
	case reporting.SortCaseNo:
		// "2026-0042": the year, then the number as a number, so that
		// 2026-10000 comes after 2026-9999.
		return []orderTerm{{`substr(r.case_no, 1, 4)`, dir}, {`CAST(substr(r.case_no, 6) AS INTEGER)`, dir}}, nil
	case reporting.SortStatus:
		// Workflow order, not alphabetical.
		var b strings.Builder
		var args []any
		b.WriteString(`CASE r.status`)
		for i, s := range reporting.Statuses {
			b.WriteString(` WHEN ? THEN ?`)
			args = append(args, s, i)
		}
		b.WriteString(` END`)
		return []orderTerm{{b.String(), dir}, {`r.received_on`, " DESC"}, {`r.rowid`, " DESC"}}, args
	case reporting.SortDeadline:
		// By the deadline's week (the exact date is sealed; the domain
		// orders the page's rows within a week). Cases without a deadline
		// last, whichever the direction.
		return []orderTerm{{`r.deadline_week IS NULL`, ""}, {`r.deadline_week`, dir}, {`r.rowid`, dir}}, nil
	default:
		return []orderTerm{{`r.received_on`, dir}, {`r.rowid`, dir}}, nil
	}
}

// PutClassification stores a case's statistical record and its dates.
// The plain incident_day and deadline columns (before issue 9) are
// cleared: the day is in d.Sealed, the deadline only as its week.
func (db *DB) PutClassification(ctx context.Context, c reporting.Classification, d reporting.CaseDates) error {
	return db.change(ctx, "put classification", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reports SET incident_day = NULL, deadline = NULL, deadline_week = ?, dates_sealed = ?
			WHERE id = ?`, nullString(d.Week), d.Sealed, c.ReportID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.ENotFound, "error.case.not_found")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO classifications
			(report_id, year, month, municipality, grounds, subgrounds, areas, subareas, forms,
			 level, incident_type, reporter_role, agg_relevant, interventions, closing_reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (report_id) DO UPDATE SET year = excluded.year, month = excluded.month,
			 municipality = excluded.municipality, grounds = excluded.grounds, subgrounds = excluded.subgrounds,
			 areas = excluded.areas, subareas = excluded.subareas, forms = excluded.forms, level = excluded.level,
			 incident_type = excluded.incident_type, reporter_role = excluded.reporter_role,
			 agg_relevant = excluded.agg_relevant, interventions = excluded.interventions,
			 closing_reason = excluded.closing_reason`,
			c.ReportID, nullInt(c.Year), nullInt(c.Month), c.Municipality, joinCodes(c.Grounds), joinCodes(c.Subgrounds),
			joinCodes(c.Areas), joinCodes(c.Subareas), joinCodes(c.Forms), c.Level, c.IncidentType, c.ReporterRole,
			c.AGGRelevant, joinCodes(c.Interventions), c.ClosingReason)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM classification_grounds WHERE report_id = ?`, c.ReportID); err != nil {
			return err
		}
		for _, g := range c.Grounds {
			if _, err := tx.ExecContext(ctx, `INSERT INTO classification_grounds (ground, report_id) VALUES (?, ?)`, g, c.ReportID); err != nil {
				return err
			}
		}
		return putCodes(ctx, tx, c)
	})
}

// putCodes replaces a record's rows in classification_codes, one per
// sub-ground and area, which the list's filters look up.
func putCodes(ctx context.Context, tx *sql.Tx, c reporting.Classification) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM classification_codes WHERE report_id = ?`, c.ReportID); err != nil {
		return err
	}
	for dim, codes := range map[string][]string{"subground": c.Subgrounds, "area": c.Areas} {
		for _, code := range codes {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO classification_codes (dim, code, report_id) VALUES (?, ?, ?)`,
				dim, code, c.ReportID); err != nil {
				return err
			}
		}
	}
	return nil
}

// CaseByNumber finds a case of the teams by its number: year-n, or with
// year 0 the newest year's n.
func (db *DB) CaseByNumber(ctx context.Context, teams []int64, year, n int) (string, error) {
	if len(teams) == 0 || n <= 0 {
		return "", reporting.Errorf(reporting.ENotFound, "error.case.not_found")
	}
	args := make([]any, 0, len(teams)+1)
	for _, id := range teams {
		args = append(args, id)
	}
	// Case numbers are "2026-0042" (reports.go): with a year the unique
	// index finds it; without, the number part is compared per row of
	// the teams, newest year first.
	var cond string
	if year != 0 {
		cond, args = `case_no = ?`, append(args, fmt.Sprintf("%d-%04d", year, n))
	} else {
		cond, args = `substr(case_no, 6) = ?`, append(args, fmt.Sprintf("%04d", n))
	}
	var id string
	err := db.reader(ctx).QueryRowContext(ctx, `SELECT id FROM reports WHERE team_id IN (`+placeholders(len(teams))+`) AND `+cond+`
		ORDER BY case_no DESC LIMIT 1`, args...).Scan(&id)
	return id, wrap("case by number", notFound(err, "error.case.not_found"))
}

// CaseTexts reads the sealed messages and notes of the given cases, in
// batches (SQLite limits a statement's parameters).
func (db *DB) CaseTexts(ctx context.Context, reportIDs []string) (reporting.CaseTexts, error) {
	out := reporting.CaseTexts{Messages: map[string][]reporting.StoredMessage{}, Notes: map[string][]reporting.StoredNote{}}
	tx, end, err := db.snapshot(ctx, nil)
	if err != nil {
		return out, fmt.Errorf("storage: case texts: %w", err)
	}
	defer end()
	for batch := range slices.Chunk(reportIDs, 500) {
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		in := `(` + placeholders(len(batch)) + `)`
		rows, err := tx.QueryContext(ctx, `SELECT id, report_id, author, day, body FROM messages WHERE report_id IN `+in+` ORDER BY report_id, day, rowid`, args...)
		if err != nil {
			return out, fmt.Errorf("storage: case texts: %w", err)
		}
		for rows.Next() {
			var m reporting.StoredMessage
			if err := rows.Scan(&m.ID, &m.ReportID, &m.Author, &m.Day, &m.Body); err != nil {
				rows.Close()
				return out, fmt.Errorf("storage: case texts: %w", err)
			}
			out.Messages[m.ReportID] = append(out.Messages[m.ReportID], m)
		}
		if err := rows.Close(); err != nil {
			return out, fmt.Errorf("storage: case texts: %w", err)
		}
		if err := notesOf(ctx, tx, in, args, out.Notes); err != nil {
			return out, fmt.Errorf("storage: case texts: %w", err)
		}
	}
	return out, nil
}

// notesOf adds the notes of the cases "IN in" to byCase.
func notesOf(ctx context.Context, q conn, in string, args []any, byCase map[string][]reporting.StoredNote) error {
	rows, err := q.QueryContext(ctx, `SELECT n.id, n.report_id, n.user_id, n.at, n.body
		FROM notes n WHERE n.report_id IN `+in+` ORDER BY n.report_id, n.at, n.rowid`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var n reporting.StoredNote
		var at string
		if err := rows.Scan(&n.ID, &n.ReportID, &n.UserID, &at, &n.Body); err != nil {
			return err
		}
		if n.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return err
		}
		byCase[n.ReportID] = append(byCase[n.ReportID], n)
	}
	return rows.Err()
}

// SealCaseDates moves a case triaged before issue 9 to sealed dates,
// unless a triage save got there first.
func (db *DB) SealCaseDates(ctx context.Context, reportID string, d reporting.CaseDates) error {
	return db.change(ctx, "seal case dates", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE reports SET incident_day = NULL, deadline = NULL, deadline_week = ?, dates_sealed = ?
			WHERE id = ? AND dates_sealed IS NULL`, nullString(d.Week), d.Sealed, reportID)
		return err
	})
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// ChangeStatus moves a case along the workflow and records the change.
func (db *DB) ChangeStatus(ctx context.Context, ch reporting.StatusChange, closing *reporting.Closing) error {
	return db.change(ctx, "change status", func(tx *sql.Tx) error {
		// Only from the status the counsellor saw: two people moving the
		// same case at once must not skip the workflow's rules.
		res, err := tx.ExecContext(ctx, `UPDATE reports SET status = ? WHERE id = ? AND status = ?`, ch.To, ch.ReportID, ch.From)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.EConflict, "error.case.changed")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO status_history (report_id, at, user_id, from_status, to_status) VALUES (?, ?, ?, ?, ?)`,
			ch.ReportID, ch.At.UTC().Format(time.RFC3339Nano), ch.UserID, ch.From, ch.To); err != nil {
			return err
		}
		if closing == nil {
			return nil
		}
		res, err = tx.ExecContext(ctx, `UPDATE classifications SET closed_on = ?, closing_reason = ? WHERE report_id = ?`,
			nullString(closing.On), closing.Reason, ch.ReportID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.EConflict, "error.status.classify_first")
		}
		return nil
	})
}

// StatusHistory lists a case's status changes, oldest first.
func (db *DB) StatusHistory(ctx context.Context, reportID string) ([]reporting.StatusChange, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT h.report_id, h.from_status, h.to_status, h.user_id, u.name, h.at
		FROM status_history h JOIN users u ON u.id = h.user_id WHERE h.report_id = ? ORDER BY h.id`, reportID)
	if err != nil {
		return nil, fmt.Errorf("storage: status history: %w", err)
	}
	defer rows.Close()
	var list []reporting.StatusChange
	for rows.Next() {
		var ch reporting.StatusChange
		var at string
		if err := rows.Scan(&ch.ReportID, &ch.From, &ch.To, &ch.UserID, &ch.UserName, &at); err != nil {
			return nil, fmt.Errorf("storage: status history: %w", err)
		}
		if ch.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("storage: status history: %w", err)
		}
		list = append(list, ch)
	}
	return list, wrap("status history", rows.Err())
}

// memberOf is true when the user (an SQL expression) holds the key of
// the team (the one ? placeholder), is enabled and does case work.
func memberOf(user string) string {
	return `EXISTS (SELECT 1 FROM user_team_keys k JOIN users m ON m.id = k.user_id
	WHERE k.user_id = ` + user + ` AND k.team_id = ? AND m.disabled = 0 AND m.role IN ('admin', 'counsellor'))`
}

// Assignees lists the enabled case workers holding any of the teams' keys.
func (db *DB) Assignees(ctx context.Context, teamIDs []int64) ([]reporting.Assignee, error) {
	if len(teamIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(teamIDs))
	for i, id := range teamIDs {
		args[i] = id
	}
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT u.id, u.name, k.team_id FROM user_team_keys k JOIN users u ON u.id = k.user_id
		WHERE k.team_id IN (`+placeholders(len(teamIDs))+`) AND u.disabled = 0 AND u.role IN ('admin', 'counsellor')
		ORDER BY u.name, u.id, k.team_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: assignees: %w", err)
	}
	defer rows.Close()
	var list []reporting.Assignee
	for rows.Next() {
		var m reporting.Assignee
		if err := rows.Scan(&m.ID, &m.Name, &m.TeamID); err != nil {
			return nil, fmt.Errorf("storage: assignees: %w", err)
		}
		list = append(list, m)
	}
	return list, wrap("assignees", rows.Err())
}

// Assign sets a case's assignee, checking membership in the same
// statement, so a user who lost the team's key meanwhile is refused.
func (db *DB) Assign(ctx context.Context, reportID string, teamID, userID int64) error {
	return db.change(ctx, "assign", func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if userID == 0 {
			res, err = tx.ExecContext(ctx, `UPDATE reports SET assignee = NULL WHERE id = ? AND team_id = ?`, reportID, teamID)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE reports SET assignee = ? WHERE id = ? AND team_id = ? AND `+memberOf("?"),
				userID, reportID, teamID, userID, teamID)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.EConflict, "error.case.changed")
		}
		return nil
	})
}

// AddNote stores a note if the case still belongs to the team it was
// sealed to; a note sealed to a team the case has left would be lost.
func (db *DB) AddNote(ctx context.Context, n reporting.StoredNote, teamID int64) error {
	return db.change(ctx, "add note", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO notes (id, report_id, user_id, at, body)
			SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM reports WHERE id = ? AND team_id = ?)`,
			n.ID, n.ReportID, n.UserID, n.At.UTC().Format(time.RFC3339Nano), n.Body, n.ReportID, teamID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reporting.Errorf(reporting.EConflict, "error.case.changed")
		}
		return nil
	})
}

// Notes lists a case's notes, oldest first.
func (db *DB) Notes(ctx context.Context, reportID string) ([]reporting.StoredNote, error) {
	rows, err := db.reader(ctx).QueryContext(ctx, `SELECT n.id, n.report_id, n.user_id, u.name, n.at, n.body
		FROM notes n JOIN users u ON u.id = n.user_id WHERE n.report_id = ? ORDER BY n.at, n.rowid`, reportID)
	if err != nil {
		return nil, fmt.Errorf("storage: notes: %w", err)
	}
	defer rows.Close()
	var list []reporting.StoredNote
	for rows.Next() {
		var n reporting.StoredNote
		var at string
		if err := rows.Scan(&n.ID, &n.ReportID, &n.UserID, &n.UserName, &at, &n.Body); err != nil {
			return nil, fmt.Errorf("storage: notes: %w", err)
		}
		if n.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return nil, fmt.Errorf("storage: notes: %w", err)
		}
		list = append(list, n)
	}
	return list, wrap("notes", rows.Err())
}

// TransferCase moves a case and its re-sealed keys to another team, all or
// nothing: a case whose data key opens for the new team but whose notes
// still need the old one would be half lost.
func (db *DB) TransferCase(ctx context.Context, t reporting.CaseTransfer) error {
	return db.change(ctx, "transfer case", func(tx *sql.Tx) error {
		changed := reporting.Errorf(reporting.EConflict, "error.case.changed")
		res, err := tx.ExecContext(ctx, `UPDATE reports SET team_id = ?, sealed_key = ?,
			assignee = CASE WHEN `+memberOf("reports.assignee")+` THEN assignee END
			WHERE id = ? AND team_id = ?`, t.To, t.SealedKey, t.To, t.ReportID, t.From)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return changed
		}
		var notes int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM notes WHERE report_id = ?`, t.ReportID).Scan(&notes); err != nil {
			return err
		}
		if notes != len(t.Notes) { // a note was added after they were re-sealed
			return changed
		}
		for id, body := range t.Notes {
			res, err := tx.ExecContext(ctx, `UPDATE notes SET body = ? WHERE id = ? AND report_id = ?`, body, id, t.ReportID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return changed
			}
		}
		return nil
	})
}
