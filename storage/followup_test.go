package storage_test

import (
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/storage"
)

// Every table with a report_id column (bar the audit log, which keeps
// codes only) is emptied when a reporter withdraws: a table added later
// (attachments, say) fails this test until the withdrawal deletes its rows.
func TestWithdrawCoversEveryReportTable(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	rows, err := db.ReadConn().Query(`SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND c.name = 'report_id'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var table string
		if err := rows.Scan(&table); err != nil {
			t.Fatal(err)
		}
		n++
		if table == "audit" {
			continue
		}
		covered := false
		for _, q := range storage.WithdrawDeletes {
			covered = covered || strings.HasPrefix(q, "DELETE FROM "+table+" WHERE report_id")
		}
		if !covered {
			t.Errorf("table %s refers to reports but a withdrawal leaves its rows", table)
		}
	}
	if n < 5 {
		t.Errorf("found only %d tables with report_id; the query is broken", n)
	}
}
