package reporting_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// evidenceAtomicCases are the failing-audit cases of issue 13's evidence
// item: a photo's preview and the interpreter mark.
func evidenceAtomicCases() []atomicCase {
	return []atomicCase{
		{action: reporting.AuditAttachmentOpen, name: "preview", prepare: func(t *testing.T, e *env) func(context.Context) error {
			s, id, file := photoCase(t, e)
			return func(ctx context.Context) error {
				a, stream, err := e.attachments.PreviewAttachment(ctx, s, id, file)
				if err != nil && (stream != nil || a.Name != "") {
					// Not a byte of a preview whose opening the log did not take.
					t.Errorf("the preview came with its error: %q, stream %v", a.Name, stream != nil)
				}
				return err
			}
		}},
		{action: reporting.AuditInterpreter, prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			return func(ctx context.Context) error {
				return e.cases.SetInterpreter(ctx, s, id, reporting.InterpreterForm{Needed: true, Language: "rom"})
			}
		}},
		{action: reporting.AuditInterpreter, name: "cleared", prepare: func(t *testing.T, e *env) func(context.Context) error {
			_, s, id := caseSetUp(t, e)
			if err := e.cases.SetInterpreter(t.Context(), s, id, reporting.InterpreterForm{Needed: true, Language: "fa"}); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
				return e.cases.SetInterpreter(ctx, s, id, reporting.InterpreterForm{})
			}
		}},
	}
}

// Issue 13's evidence item: each change with its audit entry or not at all.
func TestFailingAuditEvidence(t *testing.T) {
	t.Parallel()
	runAtomicCases(t, evidenceAtomicCases())
}

// photoCase submits a report with a PNG and logs in; it returns the
// session, the case and the photo's ID.
func photoCase(t *testing.T, e *env) (*reporting.OfficeSession, string, string) {
	t.Helper()
	e.setUp(t)
	in := e.intake(t)
	r, err := validForm().Validate("de", today)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 3))); err != nil {
		t.Fatal(err)
	}
	d := in.NewDraft()
	a, err := in.AddAttachment(t.Context(), d.ID, d.Key, "foto.png", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.SubmitDraft(t.Context(), d, r); err != nil {
		t.Fatal(err)
	}
	_, s := e.login(t)
	return s, d.ID, a.ID
}
