package reporting_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// bindFixture is a case with a counsellor's answer, a note, a file of the
// report and the reporter's reply with a file, seen by the admin session
// s and the reporter's follow-up token.
type bindFixture struct {
	e     *env
	s     *reporting.OfficeSession
	f     *reporting.Followup
	id    string
	token string
}

func newBindFixture(t *testing.T) *bindFixture {
	t.Helper()
	ctx := t.Context()
	e := newEnv(t)
	e.setUp(t)
	in := e.intake(t)
	form := validForm()
	form.Description = "Die Vermieterin hat abgelehnt."
	r, err := form.Validate("de", today)
	if err != nil {
		t.Fatal(err)
	}
	d := in.NewDraft()
	pdf := []byte("%PDF-1.4\n% report file\n%%EOF\n")
	if _, err := in.AddAttachment(ctx, d.ID, d.Key, "eigene.pdf", bytes.NewReader(pdf)); err != nil {
		t.Fatalf("AddAttachment: %v", err)
	}
	rc, err := in.SubmitDraft(ctx, d, r)
	if err != nil {
		t.Fatalf("SubmitDraft: %v", err)
	}
	_, s := e.login(t)
	b := &bindFixture{e: e, s: s, f: reporting.NewFollowup(in, e.clock.Now), id: d.ID}
	if err := e.replies.SendMessage(ctx, s, b.id, "Antwort der Beratung"); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if err := e.cases.AddNote(ctx, s, b.id, "Interne Notiz"); err != nil {
		t.Fatalf("AddNote: %v", err)
	}
	if b.token, err = b.f.Open(ctx, rc.Code.String()); err != nil {
		t.Fatalf("Followup.Open: %v", err)
	}
	draft, err := b.f.BeginReply(b.token)
	if err != nil {
		t.Fatal(err)
	}
	file, err := b.f.AddReplyAttachment(ctx, draft, "antwort.pdf", bytes.NewReader([]byte("%PDF-1.4\n% reply file\n%%EOF\n")))
	if err != nil {
		t.Fatalf("AddReplyAttachment: %v", err)
	}
	if err := b.f.SendReply(ctx, draft, "Antwort der meldenden Person", []string{file.ID}); err != nil {
		t.Fatalf("SendReply: %v", err)
	}
	return b
}

// shown is what the office and the reporter see of the case: every
// message, note and file as "author/day: text" or "altered".
func (b *bindFixture) shown(t *testing.T) (office, reporter []string) {
	t.Helper()
	ctx := t.Context()
	cf, err := b.e.cases.CaseFile(ctx, b.s, b.id)
	if err != nil {
		t.Fatalf("CaseFile: %v", err)
	}
	msgs, err := b.e.replies.Messages(ctx, b.s, b.id)
	if err != nil {
		t.Fatalf("Messages: %v", err)
	}
	view, err := b.f.View(ctx, b.token)
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	thread := func(msgs []reporting.Message) []string {
		var out []string
		for _, m := range msgs {
			out = append(out, item(m.Altered, m.Author+"/"+m.Day+": "+m.Body))
			for _, f := range m.Files {
				out = append(out, item(f.Altered, "file: "+f.Name))
			}
		}
		return out
	}
	office = thread(msgs)
	for _, n := range cf.Notes {
		office = append(office, item(n.Altered, "note "+n.Author+"/"+n.Day+": "+n.Body))
	}
	for _, f := range cf.Attachments {
		office = append(office, item(f.Altered, "file: "+f.Name))
	}
	return office, thread(view.Messages)
}

func item(altered bool, s string) string {
	if altered {
		return "altered"
	}
	return s
}

// Rows written by the code before version 2 (only the row in the AD)
// still open, for the office and the reporter, with what their rows say.
func TestBindingLegacyRowsStillOpen(t *testing.T) {
	b := newBindFixture(t)
	office, reporter := b.shown(t)
	msgs, notes, files, err := reporting.LegacyCiphertexts(t.Context(), b.e.db, b.s, b.id)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || len(notes) != 1 || len(files) != 2 {
		t.Fatalf("re-sealed %d messages, %d notes, %d files; want 2, 1, 2", len(msgs), len(notes), len(files))
	}
	db := b.e.rawDB(t)
	exec := func(q string, args ...any) {
		t.Helper()
		if res, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		} else if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("%s changed %d rows, want 1", q, n)
		}
	}
	for id, body := range msgs {
		exec(`UPDATE messages SET body = ? WHERE id = ?`, body, id)
	}
	for id, body := range notes {
		exec(`UPDATE notes SET body = ? WHERE id = ?`, body, id)
	}
	for id, f := range files {
		exec(`UPDATE attachments SET wrapped_key = ?, meta = ? WHERE id = ?`, f[0], f[1], id)
	}
	office2, reporter2 := b.shown(t)
	if !slices.Equal(office, office2) || !slices.Equal(reporter, reporter2) {
		t.Errorf("legacy rows read differently:\noffice   %q\n    now  %q\nreporter %q\n    now  %q", office, office2, reporter, reporter2)
	}
	if strings.Contains(strings.Join(office2, "|"), "altered") {
		t.Errorf("a legacy row shows as altered: %q", office2)
	}
	if n := len(office2); n != 5 { // 2 messages, the reply's file, the note, the report's file
		t.Errorf("the office sees %d items, want 5: %q", n, office2)
	}
}

// What a row says about its ciphertext cannot be changed: each change
// shows that one item as altered (the rest unchanged), for the office and
// where it is on their page for the reporter; the office audits it.
func TestBindingTamperedRowsShowAltered(t *testing.T) {
	for _, tc := range []struct {
		name     string
		query    string
		reporter bool
	}{
		{"message author", `UPDATE messages SET author = 'reporter' WHERE author = 'counsellor'`, true},
		{"message day", `UPDATE messages SET day = '2026-05-01' WHERE author = 'reporter'`, true},
		{"file to another message", `UPDATE attachments SET message_id = (SELECT id FROM messages WHERE author = 'counsellor') WHERE message_id IS NOT NULL`, true},
		{"report file into a message", `UPDATE attachments SET message_id = (SELECT id FROM messages WHERE author = 'reporter') WHERE message_id IS NULL`, true},
		{"note author", `UPDATE notes SET user_id = (SELECT id FROM users WHERE id <> notes.user_id LIMIT 1)`, false},
		{"note time", `UPDATE notes SET at = '2026-05-19T10:30:00Z'`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBindFixture(t)
			if tc.name == "note author" {
				b.e.addUser(t, "bernd", "bernds langes Passwort", reporting.RoleCounsellor, firstTeam(t, b.e, b.s))
			}
			before, _ := b.shown(t)
			if res, err := b.e.rawDB(t).Exec(tc.query); err != nil {
				t.Fatal(err)
			} else if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("%s changed %d rows, want 1", tc.query, n)
			}
			office, reporter := b.shown(t)
			altered := 0
			for _, s := range office {
				if s == "altered" {
					altered++
				} else if !slices.Contains(before, s) {
					t.Errorf("the office sees %q, which was not there before: the change took effect", s)
				}
			}
			if altered != 1 {
				t.Errorf("office sees %d altered items, want 1: %q", altered, office)
			}
			if tc.reporter != slices.Contains(reporter, "altered") {
				t.Errorf("reporter sees %q", reporter)
			}
			if got := auditActions(t, b.e, b.id); !slices.ContainsFunc(got, func(a string) bool { return strings.HasPrefix(a, reporting.AuditAltered+" ") }) {
				t.Errorf("no %q audit entry: %q", reporting.AuditAltered, got)
			}
		})
	}
}
