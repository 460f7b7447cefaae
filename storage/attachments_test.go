package storage_test

import (
	"bytes"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// An attachment is listed only once it is complete and its report
// exists; its chunks come back in order; orphans (no report, or never
// finished) are removed by DeleteOrphanAttachments, chunks included.
func TestAttachmentsLifecycle(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	team, _ := setUp(t, db)
	r := newReport(team.ID, "2026-05-20")

	put := func(id, reportID string, chunks [][]byte, finish bool) {
		t.Helper()
		if err := db.CreateAttachment(ctx, reporting.StoredAttachment{ID: id, ReportID: reportID, WrappedKey: randomBytes(73)}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutAttachmentChunks(ctx, id, 0, chunks); err != nil {
			t.Fatal(err)
		}
		if finish {
			if err := db.FinishAttachment(ctx, id, randomBytes(60)); err != nil {
				t.Fatal(err)
			}
		}
	}
	chunks := [][]byte{[]byte("eins"), []byte("zwei"), []byte("drei")}
	put("a1", r.ID, chunks, true)      // staged before the report exists
	put("a2", r.ID, chunks[:1], false) // never finished
	put("a3", "no-such-report", chunks, true)

	if list, err := db.Attachments(ctx, r.ID); err != nil || len(list) != 0 {
		t.Fatalf("before the report exists: %d listed (%v), want 0", len(list), err)
	}
	if err := db.CreateReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	list, err := db.Attachments(ctx, r.ID)
	if err != nil || len(list) != 1 || list[0].ID != "a1" || list[0].Chunks != 3 {
		t.Fatalf("listed %+v (%v), want a1 with 3 chunks", list, err)
	}
	// A finished attachment takes no more chunks.
	if err := db.PutAttachmentChunks(ctx, "a1", 3, [][]byte{[]byte("vier")}); err == nil {
		t.Error("chunk added to a finished attachment")
	}
	var got [][]byte
	if err := db.AttachmentChunks(ctx, "a1", func(ct []byte) error { got = append(got, bytes.Clone(ct)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !bytes.Equal(got[0], chunks[0]) || !bytes.Equal(got[2], chunks[2]) {
		t.Errorf("chunks %q, want %q", got, chunks)
	}
	if _, err := db.Attachment(ctx, r.ID, "a2"); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("unfinished attachment: err %v, want not found", err)
	}

	if err := db.DeleteOrphanAttachments(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a2", "a3"} {
		n := 0
		db.AttachmentChunks(ctx, id, func([]byte) error { n++; return nil })
		if n != 0 {
			t.Errorf("orphan %s keeps %d chunks", id, n)
		}
	}
	if _, err := db.Attachment(ctx, r.ID, "a1"); err != nil {
		t.Errorf("a complete attachment was removed as an orphan: %v", err)
	}
}
