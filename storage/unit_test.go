package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// A unit of work commits all its store calls or none; a store call inside
// it sees the unit's own earlier writes; and a failed call inside it
// leaves none of its own writes even when the unit goes on and commits.
func TestAtomically(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	boom := errors.New("boom")

	err := db.Atomically(ctx, func(ctx context.Context) error {
		if err := db.PutSetting(ctx, "a", []byte("1")); err != nil {
			return err
		}
		if err := db.AppendAudit(ctx, &reporting.AuditEntry{UserName: "system", Action: "settings", Detail: "a"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Atomically returned %v, want fn's own error unchanged", err)
	}
	if _, err := db.Setting(ctx, "a"); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("setting of a failed unit: %v, want it rolled back", err)
	}
	if _, n, err := db.AuditEntries(ctx, "", reporting.Page{Limit: 1}); err != nil || n != 0 {
		t.Errorf("audit entries of a failed unit: %d, %v, want none", n, err)
	}

	err = db.Atomically(ctx, func(ctx context.Context) error {
		if err := db.PutSetting(ctx, "b", []byte("2")); err != nil {
			return err
		}
		if v, err := db.Setting(ctx, "b"); err != nil || string(v) != "2" {
			t.Errorf("read inside the unit: %q, %v, want its own write", v, err)
		}
		// A store call that fails half-way: its first write must not stay.
		// (value is NOT NULL, so the second setting fails.)
		if err := db.PutSettingsMAC(ctx, []reporting.SignedSetting{{Key: "c", Value: []byte("3")}, {Key: "d", Value: nil}}); err == nil {
			t.Fatal("PutSettingsMAC stored a NULL value")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.Setting(ctx, "b"); err != nil || string(v) != "2" {
		t.Errorf("setting of a committed unit: %q, %v", v, err)
	}
	if v, err := db.Setting(ctx, "c"); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("first write of a store call that failed inside a committed unit: %q, %v, want it gone", v, err)
	}
}

// What needs the one write connection for itself refuses to run inside a
// unit of work, which holds that connection, instead of waiting forever.
func TestAtomicallyRefusesWhatNeedsTheWriter(t *testing.T) {
	db := openDB(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second) // a hang ends as a failure, not a stuck suite
	defer cancel()
	calls := map[string]func(context.Context) error{
		"Checkpoint":           db.Checkpoint,
		"WithdrawReport":       func(ctx context.Context) error { return db.WithdrawReport(ctx, "no-such-report") },
		"DeleteReportContents": func(ctx context.Context) error { return db.DeleteReportContents(ctx, []string{"x"}, "2026-12-01", nil) },
	}
	for name, call := range calls {
		err := db.Atomically(ctx, func(ctx context.Context) error { return call(ctx) })
		if err == nil || !strings.Contains(err.Error(), "inside a unit of work") {
			t.Errorf("%s inside a unit of work: %v, want a refusal", name, err)
		}
	}
}
