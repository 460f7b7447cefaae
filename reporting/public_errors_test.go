package reporting_test

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// publicSide is a submitted report with a file, seen from the public
// side: its intake and follow-up, the receipt and a live token, and two
// files of a form that came back (to be discarded). secrets is
// everything a reporter typed or was handed, and every ID: none of it may
// reach a log line through an error.
type publicSide struct {
	in      *reporting.Intake
	f       *reporting.Followup
	draft   reporting.Draft
	token   string
	spare   [2]string // IDs of files of a form never sent
	secrets []string
}

const (
	publicDescription = "Der Hausmeister hat uns beschimpft."
	publicFileName    = "Beweisfoto-Familie-Yilmaz.pdf"
	publicReply       = "Es ist wieder passiert, gestern Abend."
)

func newPublicSide(t *testing.T, e *env) *publicSide {
	t.Helper()
	ctx := t.Context()
	e.setUp(t)
	p := &publicSide{in: e.intake(t)}
	p.f = reporting.NewFollowup(p.in, e.clock.Now)
	form := validForm()
	form.Description = publicDescription
	r, err := form.Validate("de", today)
	if err != nil {
		t.Fatal(err)
	}
	p.draft = p.in.NewDraft()
	file, err := p.in.AddAttachment(ctx, p.draft.ID, p.draft.Key, publicFileName, bytes.NewReader(pdfBytes()))
	if err != nil {
		t.Fatalf("AddAttachment: %v", err)
	}
	rc, err := p.in.SubmitDraft(ctx, p.draft, r)
	if err != nil {
		t.Fatalf("SubmitDraft: %v", err)
	}
	if p.token, err = p.f.Open(ctx, rc.Code.String()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	other := p.in.NewDraft()
	for i := range p.spare {
		a, err := p.in.AddAttachment(ctx, other.ID, other.Key, publicFileName, bytes.NewReader(pdfBytes()))
		if err != nil {
			t.Fatalf("AddAttachment: %v", err)
		}
		p.spare[i] = a.ID
	}
	p.secrets = []string{rc.Code.String(), p.token, p.draft.ID, file.ID, other.ID, p.spare[0], p.spare[1],
		publicDescription, publicFileName, publicReply}
	return p
}

func pdfBytes() []byte { return []byte("%PDF-1.4\n% evidence\n%%EOF\n") }

// breakTable makes every statement of kind event ("INSERT", "DELETE") on
// table fail, as a full disk or a broken file would, until the returned
// function is called.
func breakTable(t *testing.T, raw *sql.DB, event, table string) func() {
	t.Helper()
	name := "public_down_" + strings.ToLower(event) + "_" + table
	if _, err := raw.ExecContext(t.Context(), `CREATE TRIGGER `+name+` BEFORE `+event+` ON `+table+`
		BEGIN SELECT RAISE(ABORT, 'disk unavailable'); END`); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := raw.ExecContext(t.Context(), `DROP TRIGGER `+name); err != nil {
			t.Fatal(err)
		}
	}
}

// withoutSecrets wraps call so that its error is also checked for the
// reporter's secrets: errors from the public side end up in the log,
// which must say what failed and must not say whose report it was.
func withoutSecrets(t *testing.T, secrets []string, call func(ctx context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		err := call(ctx)
		for _, s := range secrets {
			if err != nil && strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains %q", err, s)
			}
		}
		return err
	}
}

// broken runs call while every statement of kind event on table fails.
func broken(t *testing.T, raw *sql.DB, event, table string, call func(ctx context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		defer breakTable(t, raw, event, table)()
		return call(ctx)
	}
}

// A store failure behind the public form and the reporter's follow-up
// comes out named with the operation ("submit report: …", "withdraw
// report: …"), so the operator's log says what failed, stays an internal
// error, so the reporter sees the plain error page, and names no receipt,
// token, ID or anything the reporter typed.
func TestPublicServiceErrorsNameTheOperation(t *testing.T) {
	e := newEnv(t)
	p := newPublicSide(t, e)
	raw := e.rawDB(t)
	report := func() reporting.Report {
		form := validForm()
		form.Description = publicDescription
		r, err := form.Validate("de", today)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Writes: the statement itself fails.
	writes := []namedCall{
		{"submit report", broken(t, raw, "INSERT", "reports", func(ctx context.Context) error { // Submit
			_, err := p.in.Submit(ctx, report())
			return err
		})},
		{"submit report", broken(t, raw, "INSERT", "reports", func(ctx context.Context) error { // SubmitDraft
			_, err := p.in.SubmitDraft(ctx, p.in.NewDraft(), report())
			return err
		})},
		{"add attachment", broken(t, raw, "INSERT", "attachments", func(ctx context.Context) error { // AddAttachment
			d := p.in.NewDraft()
			_, err := p.in.AddAttachment(ctx, d.ID, d.Key, publicFileName, bytes.NewReader(pdfBytes()))
			return err
		})},
		{"discard attachments", broken(t, raw, "DELETE", "attachments", func(ctx context.Context) error { // DiscardAttachments
			return p.in.DiscardAttachments(ctx, p.spare[:1])
		})},
		{"add reply attachment", broken(t, raw, "INSERT", "attachments", func(ctx context.Context) error { // AddReplyAttachment
			d, err := p.f.BeginReply(p.token)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.f.AddReplyAttachment(ctx, d, publicFileName, bytes.NewReader(pdfBytes()))
			return err
		})},
		{"discard reply attachments", broken(t, raw, "DELETE", "attachments", func(ctx context.Context) error { // DiscardReplyAttachments
			return p.f.DiscardReplyAttachments(ctx, p.spare[1:])
		})},
		{"send reply", broken(t, raw, "INSERT", "messages", func(ctx context.Context) error { // Reply
			return p.f.Reply(ctx, p.token, publicReply)
		})},
		{"send reply", broken(t, raw, "INSERT", "messages", func(ctx context.Context) error { // SendReply
			d, err := p.f.BeginReply(p.token)
			if err != nil {
				t.Fatal(err)
			}
			return p.f.SendReply(ctx, d, publicReply, nil)
		})},
		{"withdraw report", broken(t, raw, "DELETE", "reports", func(ctx context.Context) error { // Withdraw
			return p.f.Withdraw(ctx, p.token)
		})},
	}
	for i := range writes {
		writes[i].call = withoutSecrets(t, p.secrets, writes[i].call)
	}
	wantOperationNamed(t, writes)

	// Reads: a trigger cannot stop a SELECT, a closed database does. The
	// token and the receipt parameters live in memory and still work.
	receipt := p.secrets[0]
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	reads := []namedCall{
		{"open follow-up", func(ctx context.Context) error { // Open
			_, err := p.f.Open(ctx, receipt)
			return err
		}},
		{"view follow-up", func(ctx context.Context) error { // View
			_, err := p.f.View(ctx, p.token)
			return err
		}},
		{"open file", func(ctx context.Context) error { // OpenFile
			_, _, err := p.f.OpenFile(ctx, p.token, p.secrets[3])
			return err
		}},
		{"count statistics", func(ctx context.Context) error { // YearStatistics
			_, err := reporting.YearStatistics(ctx, e.db, today.Year(), reporting.StatsK)
			return err
		}},
		{"raise receipt parameters", func(ctx context.Context) error { // RaiseReceiptParams
			stronger := vault.Params{Time: 2, MemoryKiB: 9 * 1024, Threads: 1}
			_, err := reporting.RaiseReceiptParams(ctx, e.db, e.anchor, vault.Floor(fastParams), stronger, e.clock.Now())
			// An unreadable database is not one that is not set up: the
			// operator would run setup on a working office.
			if err != nil && strings.Contains(err.Error(), "not set up") {
				t.Errorf("RaiseReceiptParams: error %q blames the setup for a store failure", err)
			}
			return err
		}},
	}
	for i := range reads {
		reads[i].call = withoutSecrets(t, p.secrets, reads[i].call)
	}
	wantOperationNamed(t, reads)
}

// The names go on internal errors only: what the public pages tell
// reporters (a wrong or unknown receipt, an expired token, a refused
// file) comes back as the very *reporting.Error it was, not wrapped, so
// the pages for an unknown and a wrong receipt stay byte-identical and
// the web layer finds every code and message ID.
func TestPublicCodedErrorsStayUnwrapped(t *testing.T) {
	e := newEnv(t)
	p := newPublicSide(t, e)
	unknown := vault.NewReceipt().String()
	calls := []struct {
		name, messageID string
		call            func(ctx context.Context) error
	}{
		{"Open unknown receipt", "error.form", func(ctx context.Context) error {
			_, err := p.f.Open(ctx, unknown)
			return err
		}},
		{"Open malformed receipt", "error.form", func(ctx context.Context) error {
			_, err := p.f.Open(ctx, "not-a-receipt")
			return err
		}},
		{"View expired token", "followup.error.expired", func(ctx context.Context) error {
			_, err := p.f.View(ctx, "expired")
			return err
		}},
		{"OpenFile of another report", "error.not_found", func(ctx context.Context) error {
			_, _, err := p.f.OpenFile(ctx, p.token, p.spare[0])
			return err
		}},
		{"AddAttachment refused type", "voice.error.type", func(ctx context.Context) error {
			d := p.in.NewDraft()
			_, err := p.in.AddAttachment(ctx, d.ID, d.Key, "x.exe", strings.NewReader("MZ not a picture"))
			return err
		}},
		{"SendReply empty", "error.form", func(ctx context.Context) error {
			d, err := p.f.BeginReply(p.token)
			if err != nil {
				t.Fatal(err)
			}
			return p.f.SendReply(ctx, d, "   ", nil)
		}},
		{"Withdraw expired token", "followup.error.expired", func(ctx context.Context) error {
			return p.f.Withdraw(ctx, "expired")
		}},
	}
	for _, c := range calls {
		err := c.call(t.Context())
		coded, ok := err.(*reporting.Error)
		if !ok {
			t.Errorf("%s: error %v (%T), want a bare *reporting.Error", c.name, err, err)
			continue
		}
		if coded.MessageID != c.messageID {
			t.Errorf("%s: message %q, want %q", c.name, coded.MessageID, c.messageID)
		}
	}
}
