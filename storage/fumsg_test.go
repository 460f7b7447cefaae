package storage_test

import (
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// A message's file is listed, with its message, only once the message is
// stored; a file whose message never was is an orphan that
// DeleteOrphanAttachments removes, while the report's own files and the
// stored message's file stay.
func TestFumsgMessageAttachments(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	team, _ := setUp(t, db)
	r := newReport(team.ID, "2026-05-20")
	if err := db.CreateReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	put := func(id, messageID string) {
		t.Helper()
		if err := db.CreateAttachment(ctx, reporting.StoredAttachment{ID: id, ReportID: r.ID, MessageID: messageID, WrappedKey: randomBytes(73)}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutAttachmentChunks(ctx, id, 0, [][]byte{randomBytes(40)}); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishAttachment(ctx, id, randomBytes(60)); err != nil {
			t.Fatal(err)
		}
	}
	put("own", "")
	put("sent", "m1")
	put("lost", "m2") // its message is never stored
	if list, err := db.Attachments(ctx, r.ID); err != nil || len(list) != 1 || list[0].ID != "own" || list[0].MessageID != "" {
		t.Fatalf("before the message is stored: %+v (%v), want only the report's own file", list, err)
	}
	if err := db.AddMessage(ctx, reporting.StoredMessage{ID: "m1", ReportID: r.ID, Author: reporting.AuthorReporter, Day: "2026-05-21", Body: randomBytes(50)}); err != nil {
		t.Fatal(err)
	}
	list, err := db.Attachments(ctx, r.ID)
	if err != nil || len(list) != 2 || list[1].ID != "sent" || list[1].MessageID != "m1" {
		t.Fatalf("after the message: %+v (%v), want own and sent (m1)", list, err)
	}
	if _, err := db.Attachment(ctx, r.ID, "lost"); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("the file of an unstored message: err %v, want not found", err)
	}
	if err := db.DeleteOrphanAttachments(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.AttachmentChunks(ctx, "lost", func([]byte) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("the orphan still has %d chunks (%v)", n, err)
	}
	if list, _ := db.Attachments(ctx, r.ID); len(list) != 2 {
		t.Errorf("cleaning up took %d of 2 good files", 2-len(list))
	}
	if err := db.WithdrawReport(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	n = 0
	db.AttachmentChunks(ctx, "sent", func([]byte) error { n++; return nil })
	if n != 0 {
		t.Errorf("the message's file has %d chunks after the withdrawal", n)
	}
}
