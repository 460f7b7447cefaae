package storage_test

import (
	"io"
	"math/rand/v2"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// BenchmarkNetworkExport100k: the network export of a year of 100,000
// records (issue 14) — read, made k-anonymous, written as CSV and as JSON
// — against a plain SELECT of the same columns of the same rows in the
// same run (the anchor: what reading alone costs). The data set is that
// of the statistics benchmark (100,000 records in 2026, 10,000 in 2025).
// Run:
//
//	go test ./storage -run '^$' -bench NetworkExport100k -benchmem -count 3
func BenchmarkNetworkExport100k(b *testing.B) {
	const n = 100_000
	db := statsBenchDB(b, n)
	read := func(b *testing.B) []reporting.NetRecord {
		records := make([]reporting.NetRecord, 0, n)
		err := db.NetworkRecords(b.Context(), 2026, func(r reporting.NetRecord) error {
			records = append(records, r)
			return nil
		})
		if err != nil || len(records) != n {
			b.Fatalf("%d records, %v", len(records), err)
		}
		return records
	}
	b.Run("select", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rows, err := db.ReadConn().QueryContext(b.Context(), `SELECT coalesce(year, 0), coalesce(month, 0), municipality, grounds,
				subgrounds, areas, forms, incident_type, reporter_role, agg_relevant, interventions FROM classifications WHERE received_year = ?`, 2026)
			if err != nil {
				b.Fatal(err)
			}
			count := 0
			for rows.Next() {
				var y, m int
				var a, c, d, e, f, g, h, i, j string
				if err := rows.Scan(&y, &m, &a, &c, &d, &e, &f, &g, &h, &i, &j); err != nil {
					b.Fatal(err)
				}
				count++
			}
			rows.Close()
			if count != n {
				b.Fatalf("%d rows", count)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			read(b)
		}
	})
	// The same number of records, skewed (most cases in two cities and a
	// few sub-grounds, months spread over the year) so that every step
	// generalises and rare rows are suppressed: the anonymisation alone,
	// without reading.
	b.Run("anonymise_skewed", func(b *testing.B) {
		b.ReportAllocs()
		r := rand.New(rand.NewPCG(14, 4))
		places := []string{"bochum", "bochum", "bochum", "essen", "essen", "herne", "muelheim", "marl", "ennepe_ruhr", "online"}
		subs := []string{"antiziganism", "antiziganism", "antiziganism", "anti_muslim", "anti_muslim", "anti_black", "antisemitism", "refugee", "language"}
		records := make([]reporting.NetRecord, n)
		for i := range records {
			rec := &records[i]
			rec.Municipality = places[r.IntN(len(places))]
			rec.Grounds, rec.Subgrounds = []string{"racism"}, []string{subs[r.IntN(len(subs))]}
			rec.Areas = []string{reporting.Areas[min(r.IntN(len(reporting.Areas)), r.IntN(len(reporting.Areas)))]}
			rec.ReporterRole = reporting.ReporterRoles[min(r.IntN(len(reporting.ReporterRoles)), r.IntN(len(reporting.ReporterRoles)))]
			rec.Year, rec.Month = 2026, 1+r.IntN(12)
		}
		var x reporting.NetworkExport
		for b.Loop() {
			x = reporting.AnonymiseNetwork(2026, reporting.StatsK, records)
		}
		b.ReportMetric(float64(len(x.Rows)), "rows")
		b.ReportMetric(float64(x.Suppressed), "suppressed")
	})
	for _, format := range []string{"csv", "json"} {
		b.Run("export_"+format, func(b *testing.B) {
			b.ReportAllocs()
			write := reporting.WriteNetworkCSV
			if format == "json" {
				write = reporting.WriteNetworkJSON
			}
			var x reporting.NetworkExport
			for b.Loop() {
				x = reporting.AnonymiseNetwork(2026, reporting.StatsK, read(b))
				if err := write(io.Discard, x); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(x.Rows)), "rows")
			b.ReportMetric(float64(x.Suppressed), "suppressed")
		})
	}
}
