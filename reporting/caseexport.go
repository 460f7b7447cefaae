package reporting

import (
	"context"
	"slices"
	"strings"
	"time"
)

// AuditCaseExport: a case file was exported (issue 13). The detail is the
// format and the parts chosen ("pdf report,messages"), never content.
const AuditCaseExport = "case_export"

// Parts of a case file export, in the order the file shows them.
const (
	ExportReport         = "report"         // the report text and what the reporter chose
	ExportClassification = "classification" // the statistical record
	ExportHistory        = "history"        // the status history
	ExportMessages       = "messages"       // the conversation with the reporter
	ExportNotes          = "notes"          // internal notes
	ExportAttachments    = "attachments"    // the list of files: names, types, sizes
)

// ExportParts are the parts a case file export can hold, in order.
var ExportParts = []string{ExportReport, ExportClassification, ExportHistory, ExportMessages, ExportNotes, ExportAttachments}

// Formats of a case file export.
const (
	ExportHTML = "html" // a print-ready page
	ExportPDF  = "pdf"  // a PDF download
)

// CaseExportForm is what the export form sends.
type CaseExportForm struct {
	Parts  []string
	Format string
}

// Validate keeps the known parts, in file order, and checks that at least
// one part and a known format are chosen.
func (f CaseExportForm) Validate() (CaseExportForm, error) {
	var out CaseExportForm
	for _, p := range ExportParts {
		if slices.Contains(f.Parts, p) {
			out.Parts = append(out.Parts, p)
		}
	}
	out.Format = f.Format
	errs := fieldErrors{}
	if len(out.Parts) == 0 {
		errs.add("parts", "case_export.error.parts")
	}
	if f.Format != ExportHTML && f.Format != ExportPDF {
		errs.add("format", "case_export.error.format")
	}
	return out, errs.err()
}

// Has reports whether the part was chosen.
func (f CaseExportForm) Has(part string) bool { return slices.Contains(f.Parts, part) }

// CaseExportFile is a case file as exported: the case and the parts
// chosen, nothing else decrypted.
type CaseExportFile struct {
	Case
	Form        CaseExportForm
	History     []StatusChange
	Messages    []Message
	Notes       []Note
	Attachments []Attachment // the report's own files and those of messages
	// Altered lists the items that did not open (each also audited);
	// they are in the file marked as altered, as on the case page.
	Altered    []AlteredItem
	ExportedAt time.Time
	ExportedBy string // the counsellor's name
}

// CaseExports makes case files for a lawyer or a complaint body. It
// opens a case the way the case page does (Cases, Replies) and decrypts
// only the parts chosen.
type CaseExports struct {
	auditor
	store CaseExportStore
	cases *Cases // opens the case and its notes as the case page does
}

// CaseExportStore is what an export reads: the case work's store (case,
// history, notes, files, audit) and the messages.
type CaseExportStore interface {
	CasesStore
	Messages(ctx context.Context, reportID string) ([]StoredMessage, error)
}

// NewCaseExports returns the export service; now is the office's clock.
func NewCaseExports(store CaseExportStore, now func() time.Time) *CaseExports {
	return &CaseExports{auditor: auditor{log: store, now: now}, store: store, cases: NewCases(store, nil, now)}
}

// ExportCaseNo checks that the session may export the case and returns
// its number, for the export form. Nothing is decrypted.
func (ce *CaseExports) ExportCaseNo(ctx context.Context, s *OfficeSession, id string) (string, error) {
	r, _, err := openCase(ctx, ce.store, s, id)
	if err != nil {
		return "", opError("case export", err)
	}
	return r.CaseNo, nil
}

// ExportCase returns the parts of a case file chosen in f, decrypted. The
// export and any altered item are audited before it returns: no content
// leaves without its entry, and a failing audit means no export. A case
// whose content retention deleted exports what is left (number, record,
// history).
func (ce *CaseExports) ExportCase(ctx context.Context, s *OfficeSession, id string, f CaseExportForm) (CaseExportFile, error) {
	// Access first: someone outside the team learns nothing, not even
	// that their form was wrong.
	r, team, err := openCase(ctx, ce.store, s, id)
	if err != nil {
		return CaseExportFile{}, opError("case export", err)
	}
	if f, err = f.Validate(); err != nil {
		return CaseExportFile{}, err
	}
	c, dk, err := ce.cases.open(team, r)
	if err != nil {
		return CaseExportFile{}, opError("case export", err)
	}
	defer dk.Wipe()
	out := CaseExportFile{Case: c, Form: f, ExportedAt: ce.now(), ExportedBy: s.User.Name}
	if f.Has(ExportHistory) {
		if out.History, err = ce.store.StatusHistory(ctx, id); err != nil {
			return CaseExportFile{}, opError("case export", err)
		}
	}
	if f.Has(ExportNotes) {
		var altered []AlteredItem
		if out.Notes, altered, err = ce.cases.notes(ctx, team, id); err != nil {
			return CaseExportFile{}, opError("case export", err)
		}
		out.Altered = append(out.Altered, altered...)
	}
	// Messages and files went with the data key when retention deleted
	// the content.
	if r.ContentDeletedOn == "" && (f.Has(ExportMessages) || f.Has(ExportAttachments)) {
		files, err := ce.store.Attachments(ctx, id)
		if err != nil {
			return CaseExportFile{}, opError("case export", err)
		}
		if f.Has(ExportMessages) {
			stored, err := ce.store.Messages(ctx, id)
			if err != nil {
				return CaseExportFile{}, opError("case export", err)
			}
			msgs, altered := openMessages(dk, id, stored)
			out.Altered = append(out.Altered, altered...)
			// The files' names go with their messages only when the list
			// of files is chosen too.
			if f.Has(ExportAttachments) {
				attachFiles(dk, msgs, files)
			}
			out.Messages = msgs
		}
		if f.Has(ExportAttachments) {
			list, altered := openAttachments(dk, files)
			out.Attachments = list
			out.Altered = append(out.Altered, altered...)
		}
	}
	if !f.Has(ExportReport) {
		out.Report = Report{Language: c.Report.Language}
	}
	if !f.Has(ExportClassification) {
		out.Classification = nil
	}
	// Everything is decrypted above, outside the unit of work (it holds
	// the only writer); the export's entry commits before any of it is
	// handed out.
	detail := f.Format + " " + strings.Join(f.Parts, ",")
	if err := ce.store.Atomically(ctx, func(ctx context.Context) error {
		if err := ce.audit(ctx, s, AuditCaseExport, id, detail); err != nil {
			return err
		}
		return ce.auditAltered(ctx, s, id, out.Altered)
	}); err != nil {
		return CaseExportFile{}, opError("case export", err)
	}
	return out, nil
}
