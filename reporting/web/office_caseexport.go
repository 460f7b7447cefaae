package web

import (
	"html/template"
	"mime"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/static"
)

// The case file export (issue 13): a form choosing the parts and the
// format, then a print-ready page or a PDF made from the same page by
// headless Chromium (reporting/pdfprint says why Chromium).

// caseExportCSS is the file that lays the case file out for paper.
const caseExportCSS = "case-export.css"

// caseExporter serves the export routes with the export service and the
// printer (nil: no Chromium, the PDF choice is replaced by a hint).
type caseExporter struct {
	s       *Server
	svc     CaseExportService
	printer Printer
}

// caseExportRoutes adds the export routes to the case work group.
func (s *Server) caseExportRoutes(work *gin.RouterGroup, svc CaseExportService) {
	x := &caseExporter{s: s, svc: svc, printer: s.cfg.Printer}
	work.GET("/cases/:id/export", x.form)
	work.POST("/cases/:id/export", x.export)
}

// caseExportFormData is the export form.
type caseExportFormData struct {
	ID, CaseNo string
	Parts      []string // every part, in file order
	Form       reporting.CaseExportForm
	PDF        bool              // a printer is there
	Errors     map[string]string // field → message ID
}

// caseExportDefault is what the form offers first: everything but the
// internal notes, which are the team's own thoughts and go to a lawyer
// only when chosen.
var caseExportDefault = reporting.CaseExportForm{Format: reporting.ExportHTML, Parts: []string{
	reporting.ExportReport, reporting.ExportClassification, reporting.ExportHistory,
	reporting.ExportMessages, reporting.ExportAttachments}}

func (x *caseExporter) form(c *gin.Context) {
	x.showForm(c, http.StatusOK, caseExportDefault, nil)
}

// showForm renders the export form; the case's number comes through the
// same access check as the export itself (nothing is decrypted).
func (x *caseExporter) showForm(c *gin.Context, status int, f reporting.CaseExportForm, errs map[string]string) {
	no, err := x.svc.ExportCaseNo(c.Request.Context(), session(c), c.Param("id"))
	if err != nil {
		x.s.fail(c, err)
		return
	}
	d := caseExportFormData{ID: c.Param("id"), CaseNo: no, Parts: reporting.ExportParts, Form: f, PDF: x.printer != nil, Errors: errs}
	x.s.render(c, status, "case_export", view{Title: "case_export.title", Data: d, Failed: errs != nil})
}

// caseExportPrint is the print page's (and the PDF's) data.
type caseExportPrint struct {
	File reporting.CaseExportFile
	V    vocabulary
	// Style is the stylesheet inline, for the PDF only: Chromium gets
	// the document with no server to load /static from. The PDF's HTML
	// is never served to a browser, so the pages' CSP, which forbids
	// inline style, does not concern it. The print page links the file.
	Style template.CSS
}

func (x *caseExporter) export(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		x.s.errorPage(c, http.StatusBadRequest, "error.form")
		return
	}
	f := reporting.CaseExportForm{Parts: c.Request.PostForm["parts"], Format: c.Request.PostForm.Get("format")}
	if f.Format == reporting.ExportPDF && x.printer == nil {
		// Refused before anything is decrypted or audited: there is
		// nothing to print with.
		x.showForm(c, http.StatusUnprocessableEntity, f, map[string]string{"format": "case_export.error.no_pdf"})
		return
	}
	ctx, sess := c.Request.Context(), session(c)
	file, err := x.svc.ExportCase(ctx, sess, c.Param("id"), f)
	if errs := reporting.FieldErrors(err); errs != nil {
		x.showForm(c, http.StatusUnprocessableEntity, f, errs)
		return
	}
	if err != nil {
		x.s.fail(c, err)
		return
	}
	for _, it := range file.Altered {
		x.s.log(c).Error("altered item shown as altered", "request_id", requestID(c), "case", file.ID, "kind", it.Kind, "item", it.ID)
	}
	v := view{Title: "case_export.print_title", Data: caseExportPrint{File: file, V: vocab}}
	if file.Form.Format == reporting.ExportHTML {
		x.s.render(c, http.StatusOK, "case_export_print", v)
		return
	}
	css, err := caseExportStyle()
	if err != nil {
		x.s.fail(c, err)
		return
	}
	v.Data = caseExportPrint{File: file, V: vocab, Style: css}
	v.Office, v.Session = true, sess
	if v.Zone, err = x.s.settings.OfficeZone(ctx); err != nil {
		x.s.log(c).Error("office time zone", "request_id", requestID(c), "err", err)
	}
	html, err := x.s.execute(lang(c), "case_export_print", v)
	if err != nil {
		x.s.fail(c, err)
		return
	}
	pdf, err := x.printer.Print(ctx, html)
	clear(html)
	if err != nil {
		x.s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": downloadName(caseExportName(file.CaseNo))}))
	h.Set("X-Content-Type-Options", "nosniff")
	// A case file in a browser's or proxy's cache would outlive the
	// counsellor's session.
	h.Set("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/pdf", pdf)
	clear(pdf)
}

// caseExportName is the PDF's file name: the case number, as the
// attachments' names (reporting.DownloadName) start, "2026-0042.pdf".
func caseExportName(caseNo string) string {
	if caseNo == "" {
		caseNo = "case"
	}
	return caseNo + ".pdf"
}

var (
	caseExportStyleOnce sync.Once
	caseExportStyleCSS  template.CSS
	caseExportStyleErr  error
)

// caseExportStyle is the print stylesheet's text, read once from the
// embedded files (our own file: trusted as CSS).
func caseExportStyle() (template.CSS, error) {
	caseExportStyleOnce.Do(func() {
		b, err := static.FS.ReadFile(caseExportCSS)
		caseExportStyleCSS, caseExportStyleErr = template.CSS(b), err
	})
	return caseExportStyleCSS, caseExportStyleErr
}
