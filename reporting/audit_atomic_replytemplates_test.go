package reporting_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// templateLanguages are the public codes the service is told of.
var templateLanguages = []string{"de", "en", "tr"}

// templateSetUp sets the office up and returns the templates service, an
// admin's session and a stored Turkish template.
func templateSetUp(t *testing.T, e *env) (*reporting.ReplyTemplates, *reporting.OfficeSession, int64) {
	t.Helper()
	e.setUp(t)
	_, s := e.login(t)
	rt := reporting.NewReplyTemplates(e.db, e.clock.Now)
	id, err := rt.SaveTemplate(t.Context(), s, templateLanguages, reporting.ReplyTemplate{Language: "tr", Title: "Alındı", Body: "Bildiriminizi aldık."})
	if err != nil {
		t.Fatal(err)
	}
	return rt, s, id
}

// smallPNG is a 4×4 PNG.
func smallPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// replyTemplateAtomicCases are the failing-audit cases of reply templates
// and of a counsellor's message with a file (issue 13).
func replyTemplateAtomicCases() []atomicCase {
	var caseID string // the case of the message, for its check
	return []atomicCase{
		{action: reporting.AuditReplyTemplate, name: "add", prepare: func(t *testing.T, e *env) func(context.Context) error {
			rt, s, _ := templateSetUp(t, e)
			return func(ctx context.Context) error {
				_, err := rt.SaveTemplate(ctx, s, templateLanguages, reporting.ReplyTemplate{Language: "de", Title: "Eingang", Body: "Wir haben Ihre Meldung erhalten."})
				return err
			}
		}},
		{action: reporting.AuditReplyTemplate, name: "edit", prepare: func(t *testing.T, e *env) func(context.Context) error {
			rt, s, id := templateSetUp(t, e)
			return func(ctx context.Context) error {
				_, err := rt.SaveTemplate(ctx, s, templateLanguages, reporting.ReplyTemplate{ID: id, Language: "tr", Title: "Alındı", Body: "Bildiriminizi aldık, bir hafta içinde cevap vereceğiz."})
				return err
			}
		}},
		{action: reporting.AuditReplyTemplate, name: "delete", noRerun: "deleted once", prepare: func(t *testing.T, e *env) func(context.Context) error {
			rt, s, id := templateSetUp(t, e)
			return func(ctx context.Context) error { return rt.DeleteTemplate(ctx, s, id) }
		}},
		{action: reporting.AuditMessage, name: "with a file", prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			caseID = id
			d, err := e.replies.BeginMessage(t.Context(), s, id)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.replies.AddMessageAttachment(t.Context(), d, "foto.png", bytes.NewReader(smallPNG(t))); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
				return e.replies.SendDraft(ctx, s, d, "Hier das Foto, das Sie erwähnt haben.")
			}
		}, check: func(t *testing.T, e *env) {
			// The file stays hidden: its message is not stored.
			files, err := e.db.Attachments(t.Context(), caseID)
			if err != nil || len(files) != 0 {
				t.Errorf("after the failed send the case shows files %v (%v), want none", files, err)
			}
		}},
	}
}

// A reply template added, changed or deleted, and a counsellor's message
// with a file, leave nothing behind when the audit entry cannot be
// written.
func TestFailingAuditReplyTemplates(t *testing.T) {
	runAtomicCases(t, replyTemplateAtomicCases())
}
