package storage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// The audit chain links every entry to the one before; VerifyAudit passes
// on an untouched log and names the first entry that was edited, removed
// or cut off the end.
func TestAuditChainDetectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper string // SQL run on the database behind the store's back
		wantAt int64
	}{
		{"untouched", "", 0},
		{"detail edited", `UPDATE audit SET detail = 'nichts passiert' WHERE id = 3`, 3},
		{"user edited", `UPDATE audit SET user_name = 'jemand' WHERE id = 2`, 2},
		{"time edited", `UPDATE audit SET at = '2020-01-01T00:00:00Z' WHERE id = 4`, 4},
		{"row deleted", `DELETE FROM audit WHERE id = 3`, 3},
		{"last row deleted", `DELETE FROM audit WHERE id = 5`, 5},
		{"hash recomputed by hand", `UPDATE audit SET detail = 'x', hash = zeroblob(32) WHERE id = 2`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			ctx := t.Context()
			at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
			for i := range 5 {
				e := &reporting.AuditEntry{At: at.Add(time.Duration(i) * time.Minute), UserID: 1, UserName: "anna",
					Action: reporting.AuditCaseOpen, ReportID: "r" + string(rune('a'+i)), Detail: "d"}
				if err := db.AppendAudit(ctx, e); err != nil {
					t.Fatal(err)
				}
				if e.ID != int64(i+1) || len(e.Hash) != 32 {
					t.Fatalf("entry %d: id %d, hash %x", i, e.ID, e.Hash)
				}
			}
			if tc.tamper != "" {
				if _, err := db.WriteConn().ExecContext(ctx, tc.tamper); err != nil {
					t.Fatal(err)
				}
			}
			id, err := db.VerifyAudit(ctx)
			if tc.wantAt == 0 {
				if err != nil || id != 0 {
					t.Fatalf("intact log: %d, %v", id, err)
				}
				return
			}
			if err == nil || reporting.ErrorCode(err) != reporting.EConflict {
				t.Fatalf("tampering (%s) not detected: %d, %v", tc.tamper, id, err)
			}
			if id != tc.wantAt {
				t.Errorf("broken at %d, want %d (%v)", id, tc.wantAt, err)
			}
		})
	}
}

// The audit page lists newest first and can show one case's entries.
func TestAuditEntriesFilterAndOrder(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	for i, report := range []string{"a", "b", "a", ""} {
		e := &reporting.AuditEntry{At: time.Now(), UserName: "anna", Action: reporting.AuditCaseOpen, ReportID: report, Detail: strings.Repeat("x", i)}
		if err := db.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	all, total, err := db.AuditEntries(ctx, "", reporting.Page{Limit: 10})
	if err != nil || total != 4 || len(all) != 4 || all[0].ID != 4 || all[3].ID != 1 {
		t.Fatalf("all: %d entries of %d, %v", len(all), total, err)
	}
	onlyA, total, err := db.AuditEntries(ctx, "a", reporting.Page{Limit: 10})
	if err != nil || total != 2 || len(onlyA) != 2 || onlyA[0].ID != 3 || onlyA[1].ID != 1 {
		t.Fatalf("case a: %+v (%d), %v", onlyA, total, err)
	}
}
