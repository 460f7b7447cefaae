package storage_test

import (
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// The outbox keeps a mail until it is sent: due mails come back oldest
// first, a failure is counted with its code and next attempt, a recipient
// gets no second waiting mail (another team's news turns the waiting one
// general, keeping its time), and a sent mail is gone after the purge.
func TestOutboxRoundTrip(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	t0 := time.Unix(1_800_000_000, 0)
	a := reporting.OutboxMail{Recipient: "a@example.org", Subject: "S", Body: "B", NextAttemptAt: t0}
	b := reporting.OutboxMail{Recipient: "b@example.org", Subject: "S", Body: "B", NextAttemptAt: t0.Add(time.Minute)}
	general := reporting.MailText{Subject: "G", Body: "GB"}
	if err := db.EnqueueMails(ctx, []reporting.OutboxMail{a, b, a}, general); err != nil {
		t.Fatal(err)
	}
	all, err := db.PendingMails(ctx)
	if err != nil || len(all) != 2 || all[0].Recipient != a.Recipient || all[0].Body != "B" || !all[0].NextAttemptAt.Equal(t0) {
		t.Fatalf("pending %+v, %v; want a and b once each", all, err)
	}
	// News for another team, later: b's waiting mail becomes general and
	// keeps its time.
	other := reporting.OutboxMail{Recipient: b.Recipient, Subject: "S2", Body: "B2", NextAttemptAt: t0.Add(time.Hour)}
	if err := db.EnqueueMails(ctx, []reporting.OutboxMail{other}, general); err != nil {
		t.Fatal(err)
	}
	all, _ = db.PendingMails(ctx)
	if len(all) != 2 || all[1].Subject != "G" || all[1].Body != "GB" || !all[1].NextAttemptAt.Equal(b.NextAttemptAt) || all[0].Body != "B" {
		t.Fatalf("after another team's news: %+v; want b's mail general at its old time, a's unchanged", all)
	}
	due, err := db.DueMails(ctx, t0, 10)
	if err != nil || len(due) != 1 || due[0].Recipient != a.Recipient {
		t.Fatalf("due at t0: %+v, %v; want a only", due, err)
	}
	if err := db.MarkMailFailed(ctx, due[0].ID, "smtp-451", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	due, _ = db.DueMails(ctx, t0.Add(time.Minute), 10)
	if len(due) != 1 || due[0].Recipient != b.Recipient {
		t.Fatalf("due at t0+1m: %+v; want b only", due)
	}
	if err := db.MakeMailsDue(ctx, t0); err != nil {
		t.Fatal(err)
	}
	due, _ = db.DueMails(ctx, t0, 10)
	if len(due) != 2 || due[0].Attempts != 1 || due[0].LastErrorCode != "smtp-451" || due[1].Attempts != 0 {
		t.Fatalf("after MakeMailsDue: %+v", due)
	}
	if err := db.MarkMailSent(ctx, due[0].ID, t0); err != nil {
		t.Fatal(err)
	}
	if due, _ := db.DueMails(ctx, t0.Add(time.Hour), 10); len(due) != 1 {
		t.Errorf("a sent mail is still due: %+v", due)
	}
	// Once sent, the same mail may be queued again.
	if err := db.EnqueueMails(ctx, []reporting.OutboxMail{a}, general); err != nil {
		t.Fatal(err)
	}
	if err := db.PurgeSentMails(ctx); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := db.ReadConn().QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&rows); err != nil || rows != 2 {
		t.Errorf("rows after purge: %d, %v; want 2 (b and the new a)", rows, err)
	}
}
