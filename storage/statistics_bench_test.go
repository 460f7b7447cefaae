package storage_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/storage"
)

// statsBenchVersion names the generated data set; change it when the
// generator below changes, so that no stale cached file is measured.
const statsBenchVersion = "v2"

// statsBenchDB opens a database with n statistical records received in
// 2026 and n/10 in 2025, cached under the system's temporary directory
// (never in the repository): building it takes minutes, measuring a
// fraction of a second. The records go in through the triggers of
// migration 0047 like any triage, so stat_counts is kept, not generated.
func statsBenchDB(b *testing.B, n int) *storage.DB {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("meldestelle-bench-stats-%d-%s", n, statsBenchVersion))
	if _, err := os.Stat(filepath.Join(dir, storage.FileName)); err != nil {
		// Built beside and renamed when complete: an interrupted build is
		// never taken for a data set.
		tmp := dir + ".building"
		os.RemoveAll(tmp)
		db, err := storage.Open(tmp)
		if err != nil {
			b.Fatal(err)
		}
		fillStatRecords(b, db, n)
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			b.Fatal(err)
		}
	}
	db, err := storage.Open(dir) // applies migrations newer than the file
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// fillStatRecords inserts the reports and their records in one
// transaction with prepared statements: grounds, sub-grounds, areas,
// forms and interventions vary with the record's number, some records
// carry two grounds or two areas, some single codes are undecided.
func fillStatRecords(b *testing.B, db *storage.DB, n int) {
	b.Helper()
	ctx := b.Context()
	tx, err := db.WriteConn().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO teams (id, name, public_key, municipalities) VALUES (1, 'T', x'00', 'bochum')`); err != nil {
		b.Fatal(err)
	}
	rep, err := tx.PrepareContext(ctx, `INSERT INTO reports (id, case_no, team_id, received_on, lookup_hash, kdf_params, sealed_key, reporter_key, content, status, language)
		VALUES (?, ?, 1, ?, ?, '', x'00', x'00', x'00', 'closed', 'de')`)
	if err != nil {
		b.Fatal(err)
	}
	cls, err := tx.PrepareContext(ctx, `INSERT INTO classifications (report_id, year, month, municipality, grounds, subgrounds, areas, subareas, forms,
		level, incident_type, reporter_role, agg_relevant, interventions, received_year) VALUES (?, ?, 3, ?, ?, ?, ?, '', ?, '', ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	total := n + n/10
	for i := range total {
		year, received := 2026, "2026-03-01"
		if i >= n {
			year, received = 2025, "2025-03-01"
		}
		id := fmt.Sprintf("r%07d", i)
		if _, err := rep.ExecContext(ctx, id, id, received, []byte(id)); err != nil {
			b.Fatal(err)
		}
		g := reporting.Grounds[i%len(reporting.Grounds)]
		grounds, subs := g, ""
		if g == "racism" {
			subs = reporting.RacismSubgrounds[i%len(reporting.RacismSubgrounds)]
			if i%3 == 0 {
				grounds = "racism,religion"
			}
		}
		areas := reporting.Areas[i%len(reporting.Areas)]
		if i%5 == 0 && areas != reporting.Areas[0] {
			areas = reporting.Areas[0] + "," + areas
		}
		incident := ""
		if i%7 != 0 {
			incident = reporting.IncidentTypes[i%len(reporting.IncidentTypes)]
		}
		agg := ""
		if i%4 != 0 {
			agg = reporting.AGGRelevance[i%len(reporting.AGGRelevance)]
		}
		if _, err := cls.ExecContext(ctx, id, year, reporting.Municipalities[(i/3)%len(reporting.Municipalities)], grounds, subs,
			areas, reporting.Forms[i%len(reporting.Forms)], incident, reporting.ReporterRoles[i%len(reporting.ReporterRoles)], agg,
			reporting.Interventions[i%len(reporting.Interventions)], year); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkYearStatistics1M: the statistics of a year of 1,000,000
// records (and 100,000 the year before) from the aggregate counts,
// against one SQLite GROUP BY over the same 1,000,000 record rows in the
// same run. Run:
//
//	go test ./storage -run '^$' -bench YearStatistics1M -benchmem -count 3
func BenchmarkYearStatistics1M(b *testing.B) {
	const n = 1_000_000
	db := statsBenchDB(b, n)
	b.Run("aggregates", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			st, err := reporting.YearStatistics(b.Context(), db, 2026, reporting.StatsK)
			if err != nil || st.Cases != n || st.PrevCases != n/10 {
				b.Fatalf("%d cases, %d the year before, %v", st.Cases, st.PrevCases, err)
			}
		}
	})
	b.Run("group_by", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rows, err := db.ReadConn().QueryContext(b.Context(), `SELECT municipality, count(*) FROM classifications
				WHERE received_year = ? GROUP BY municipality`, 2026)
			if err != nil {
				b.Fatal(err)
			}
			sum := 0
			for rows.Next() {
				var m string
				var c int
				if err := rows.Scan(&m, &c); err != nil {
					b.Fatal(err)
				}
				sum += c
			}
			rows.Close()
			if sum != n {
				b.Fatalf("GROUP BY counted %d records, want %d", sum, n)
			}
		}
	})
}

// BenchmarkReclassifyCounts: what keeping the counts costs a write. One
// re-classification of a case (the triggers take the old record's counts
// away and add the new one's) with the triggers of migration 0047, and
// the same with them dropped, in the same run. Run:
//
//	go test ./storage -run '^$' -bench ReclassifyCounts -benchmem -count 3
func BenchmarkReclassifyCounts(b *testing.B) {
	for _, counted := range []bool{true, false} {
		name := "with_counts"
		if !counted {
			name = "without_counts"
		}
		b.Run(name, func(b *testing.B) {
			db, err := storage.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := b.Context()
			if _, err := db.WriteConn().ExecContext(ctx, `INSERT INTO teams (id, name, public_key, municipalities) VALUES (1, 'T', x'00', 'bochum')`); err != nil {
				b.Fatal(err)
			}
			if !counted {
				for _, tr := range []string{"stat_counts_record_insert", "stat_counts_record_update", "stat_counts_record_delete"} {
					if _, err := db.WriteConn().ExecContext(ctx, `DROP TRIGGER `+tr); err != nil {
						b.Fatal(err)
					}
				}
			}
			r := newReport(1, "2026-03-01")
			if err := db.CreateReport(ctx, r); err != nil {
				b.Fatal(err)
			}
			// Two records that differ in every counted dimension.
			cls := [2]reporting.Classification{
				{ReportID: r.ID, Municipality: "bochum", Grounds: []string{"racism", "religion"}, Subgrounds: []string{"anti_black"},
					Areas: []string{"work", "housing"}, Forms: []string{"direct"}, IncidentType: "discrimination",
					ReporterRole: "affected", AGGRelevant: "agg_relevant", Interventions: []string{"complaint_letter"}},
				{ReportID: r.ID, Municipality: "herne", Grounds: []string{"gender"}, Areas: []string{"education"},
					ReporterRole: "witness"},
			}
			i := 0
			for b.Loop() {
				if err := db.PutClassification(ctx, cls[i%2], reporting.CaseDates{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
