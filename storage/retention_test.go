package storage_test

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// retentionFill stores n closed cases in one transaction, each with 1 KiB
// of content, a message and a note; every second one was closed long ago
// (due), the others last month. It returns how many are due.
func retentionFill(tb testing.TB, db *storage.DB, n int) int {
	tb.Helper()
	ctx := tb.Context()
	tx, err := db.WriteConn().BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`INSERT INTO teams (id, name, public_key, municipalities) VALUES (1, 'T', x'00', 'bochum')`,
		`INSERT INTO users (id, name, role, salt, kdf_params, verifier_hash, public_key, private_key_wrapped) VALUES (1, 'u', 'admin', x'00', '', x'00', x'00', x'00')`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			tb.Fatal(err)
		}
	}
	rep, _ := tx.PrepareContext(ctx, `INSERT INTO reports (id, case_no, team_id, received_on, lookup_hash, kdf_params, sealed_key, reporter_key, content, status, language)
		VALUES (?, ?, 1, '2025-01-02', ?, '', ?, ?, ?, 'closed', 'de')`)
	hist, _ := tx.PrepareContext(ctx, `INSERT INTO status_history (report_id, at, user_id, from_status, to_status) VALUES (?, ?, 1, 'triage', 'closed')`)
	msg, _ := tx.PrepareContext(ctx, `INSERT INTO messages (id, report_id, author, day, body) VALUES (?, ?, 'reporter', '2025-01-03', ?)`)
	note, _ := tx.PrepareContext(ctx, `INSERT INTO notes (id, report_id, user_id, at, body) VALUES (?, ?, 1, '2025-01-03T10:00:00Z', ?)`)
	content := make([]byte, 1024)
	due := 0
	for i := range n {
		id := fmt.Sprintf("r%07d", i)
		rand.Read(content)
		if _, err := rep.ExecContext(ctx, id, id, []byte(id), content[:80], content[80:128], content); err != nil {
			tb.Fatal(err)
		}
		closed := "2026-10-20T09:00:00Z"
		if i%2 == 0 {
			closed, due = "2025-02-01T09:00:00Z", due+1
		}
		if _, err := hist.ExecContext(ctx, id, closed); err != nil {
			tb.Fatal(err)
		}
		if _, err := msg.ExecContext(ctx, "m"+id, id, content[:200]); err != nil {
			tb.Fatal(err)
		}
		if _, err := note.ExecContext(ctx, "n"+id, id, content[200:400]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return due
}

// retentionOffice returns the retention service on db with the retention
// setting stored as setup stores it (MACed): the filled database has a
// user, so a missing setting would be refused as deleted.
func retentionOffice(tb testing.TB, db *storage.DB) *reporting.Retention {
	tb.Helper()
	now := func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }
	anchor := reporting.NewAnchor(vault.NewSecret())
	set := []byte(`{"closed_months":12,"new_months":6}`)
	if err := db.PutSettingMAC(tb.Context(), "retention", set, anchor.SettingMAC("retention", set)); err != nil {
		tb.Fatal(err)
	}
	return reporting.NewRetention(db, anchor, now)
}

// The store's part of the sweep: due rows lose content, messages and
// notes in one go with their audit entries; the others keep everything.
func TestRetentionDeleteContents(t *testing.T) {
	db, err := storage.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := retentionFill(t, db, 10)
	o := retentionOffice(t, db)
	n, err := o.RetentionSweep(t.Context(), time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	if err != nil || n != want {
		t.Fatalf("swept %d, %v; want %d", n, err, want)
	}
	var emptied, kept, msgs, notes, audits int
	q := db.ReadConn()
	q.QueryRow(`SELECT count(*) FROM reports WHERE length(content) = 0 AND length(sealed_key) = 0 AND length(reporter_key) = 0 AND content_deleted_on = '2026-11-24'`).Scan(&emptied)
	q.QueryRow(`SELECT count(*) FROM reports WHERE length(content) = 1024 AND content_deleted_on IS NULL`).Scan(&kept)
	q.QueryRow(`SELECT count(*) FROM messages`).Scan(&msgs)
	q.QueryRow(`SELECT count(*) FROM notes`).Scan(&notes)
	q.QueryRow(`SELECT count(*) FROM audit WHERE action = 'delete' AND detail = 'retention'`).Scan(&audits)
	if emptied != want || kept != 10-want || msgs != 10-want || notes != 10-want || audits != want {
		t.Errorf("emptied %d, kept %d, messages %d, notes %d, audit %d; want %d emptied", emptied, kept, msgs, notes, audits, want)
	}
	if _, err := db.VerifyAudit(t.Context()); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}

// BenchmarkRetentionSweep100k sweeps 100,000 closed cases of which half
// are due. Run: go test ./storage -run '^$' -bench RetentionSweep100k -benchtime 1x -benchmem
func BenchmarkRetentionSweep100k(b *testing.B) {
	db, err := storage.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	due := retentionFill(b, db, 100_000)
	o := retentionOffice(b, db)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	b.ResetTimer()
	swept := 0
	for range b.N { // only the first run has anything to do: use -benchtime 1x
		n, err := o.RetentionSweep(b.Context(), now)
		if err != nil {
			b.Fatal(err)
		}
		swept += n
	}
	b.StopTimer()
	if swept != due {
		b.Fatalf("swept %d, want %d", swept, due)
	}
	b.ReportMetric(float64(swept), "reports")
}
