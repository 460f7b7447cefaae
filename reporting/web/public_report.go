package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/dchest/captcha"
	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
)

// formData is what the report form shows: the values typed so far, the
// error of each field, a captcha and the choices.
type formData struct {
	Form       reporting.ReportForm
	Errors     map[string]string // field → message ID
	CaptchaID  string
	CaptchaOff bool
	// CaptchaAnswer is the answer typed before a language switch.
	CaptchaAnswer string
	Choices       choices
	// Reselect: files had been chosen before a language switch, which a
	// browser cannot carry over; the page asks to choose them again.
	Reselect bool
	// Submission is the form's one-time token (public_submission.go).
	Submission string
}

type choices struct {
	Roles, Municipalities, RacismSubgrounds, OtherGrounds, Areas, Wishes []string
	Days                                                                 []int
	MaxDescription                                                       int
}

var formChoices = choices{
	Roles:            reporting.Roles,
	Municipalities:   reporting.Municipalities,
	RacismSubgrounds: reporting.RacismSubgrounds,
	OtherGrounds:     slices.DeleteFunc(slices.Clone(reporting.Grounds), func(g string) bool { return g == "racism" }),
	Areas:            reporting.Areas,
	Wishes:           reporting.Wishes,
	Days:             days(),
	MaxDescription:   reporting.MaxDescription,
}

func days() []int {
	d := make([]int, 31)
	for i := range d {
		d[i] = i + 1
	}
	return d
}

// reportForm shows the empty form: the pre-rendered page with a fresh
// captcha, or the template if that cannot be.
func (s *Server) reportForm(c *gin.Context) {
	id, token := s.newCaptchaID(), s.submissions().Issue()
	if s.writePrerendered(c, s.site().empty.report, id, token) {
		return
	}
	s.renderForm(c, http.StatusOK, reporting.ReportForm{}, nil, id, token)
}

// writePrerendered sends a pre-rendered empty form and reports whether it
// did. A language whose page could not be pre-rendered is logged (a
// template fault, not the visitor's) and the caller renders the template.
func (s *Server) writePrerendered(c *gin.Context, p *prerendered, captchaID, token string) bool {
	err := p.write(c, http.StatusOK, captchaID, token)
	if err != nil && !errors.Is(err, errNotPrerendered) {
		s.log(c).Error("pre-rendering failed", "err", err)
	}
	return err == nil
}

// showForm renders the form with a fresh captcha. The old one, right or
// wrong, is used up: a captcha answers one attempt only. The submission
// token stays the form's own while it is valid (keptSubmission).
func (s *Server) showForm(c *gin.Context, status int, f reporting.ReportForm, errs map[string]string, token string) {
	s.renderForm(c, status, f, errs, s.newCaptchaID(), s.keptSubmission(token))
}

// renderForm renders the form through its template.
func (s *Server) renderForm(c *gin.Context, status int, f reporting.ReportForm, errs map[string]string, captchaID, token string) {
	s.render(c, status, "form", s.formView(f, errs, captchaID, token))
}

// formView is the view of the report form, for the template and for the
// pre-rendered empty form alike.
func (s *Server) formView(f reporting.ReportForm, errs map[string]string, captchaID, token string) view {
	v := s.formPage(formData{Form: f, Errors: errs, CaptchaID: captchaID, CaptchaOff: s.cfg.CaptchaOff, Choices: formChoices, Submission: token})
	// Also the "new picture" answer (200) when it has to ask for the
	// files again: any error puts "Error:" into the title.
	v.Failed = len(errs) > 0
	return v
}

// formPage is the report form's page: its language switcher sends the
// form to be shown again in the other language (reportSwitch).
func (s *Server) formPage(d formData) view {
	return view{Title: "form.title", Path: "/", Data: d, Switch: &languageSwitch{Form: "report-form", Action: "/"}, Emergency: true}
}

// reportFormOf reads the report form's fields.
func reportFormOf(pf url.Values) reporting.ReportForm {
	return reporting.ReportForm{
		Role:         pf.Get("role"),
		IncidentDate: pf.Get("incident_date"),
		IncidentDay:  pf.Get("incident_day"),
		Municipality: pf.Get("municipality"),
		Grounds:      pf["grounds"],
		Area:         pf.Get("area"),
		Description:  pf.Get("description"),
		Wish:         pf.Get("wish"),
		Contact:      pf.Get("contact"),
		Callback:     pf.Get("callback") == "yes",
		Consent:      pf.Get("consent") != "",
	}
}

// receiptView is the receipt page: its language switcher sends the code
// back to be shown in the other language (receiptSwitch).
func (s *Server) receiptView(c *gin.Context, d receiptData) view {
	return view{Title: "receipt.title", Path: "/", Data: s.receiptPage(c, d), Switch: &languageSwitch{Form: "receipt-form", Action: "/receipt"}}
}

// MaxReportBody is the body limit of the report POST: five files of the
// largest size, the other fields at their own limit, and room for the
// multipart framing. The fields without files keep MaxPublicBody, counted
// on their own (readMultipart).
const MaxReportBody = reporting.MaxAttachments*reporting.MaxAttachmentSize + MaxPublicBody + 1<<20

// submitReport takes a report in: parse, check the captcha and the fields,
// and only when all is well run argon2id, encrypt and store. Any problem
// brings the form back with everything typed still in it. The captcha is
// checked at the first file, before any file work (see readUploads), or
// at the end for a form without files; files are cleaned and sealed while
// they stream in and deleted again unless the report is stored.
func (s *Server) submitReport(c *gin.Context) {
	ctx := c.Request.Context()
	draft := s.intake.NewDraft()
	cc := captchaCheck{off: s.cfg.CaptchaOff, store: s.cfg.Captchas}
	gate := submissionGate{subs: s.submissions()}
	defer gate.release() // a form that stored nothing may be sent again
	var (
		pf  url.Values
		up  uploads
		err error
	)
	if isMultipart(c.Request) {
		pf, up, err = s.readMultipart(c, draft, &cc, &gate)
	} else {
		// A url-encoded form carries no files: the small limit applies.
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxPublicBody)
		err = c.Request.ParseForm()
		pf = c.Request.PostForm
	}
	// Without a stored report its files must not stay behind. They are
	// deleted before the answer is written, so that nothing of a refused
	// form remains once the reporter sees the answer; the deferred call
	// covers a panic.
	drop, keep := s.discarder(c, func() []string { return up.ids() }, s.intake.DiscardAttachments)
	defer drop()
	if err != nil {
		drop()
		s.badBody(c, err)
		return
	}
	f := reportFormOf(pf)
	token := pf.Get(submissionField)
	if pf.Get("new_captcha") != "" { // "new image" button: same form, new captcha
		var errs map[string]string
		if up.sent() {
			errs = map[string]string{"attachments": "error.attachments.again"}
		}
		drop()
		s.showForm(c, http.StatusOK, f, errs, token)
		return
	}
	// The same form sent again stores nothing (public_submission.go).
	if s.repeatedSubmission(c, &gate, f, token, drop) {
		return
	}
	report, err := f.Validate(lang(c), s.cfg.Now())
	errs := reporting.FieldErrors(err)
	if errs == nil {
		errs = map[string]string{}
	}
	// The captcha is checked before any argon2id work, so a flood of
	// submissions without a solved captcha costs the server almost
	// nothing. Files refused at the gate refuse the form too, even if
	// the captcha, coming after them, was right: it is used up either way.
	if solved := cc.solved(pf); !solved || up.refused > 0 {
		errs["captcha_solution"] = "error.captcha.wrong"
		if cc.expired {
			// Not the person's mistake: the picture was too old.
			errs["captcha_solution"] = "error.captcha.expired"
		}
	}
	if up.err != "" {
		errs["attachments"] = up.err
	} else if len(errs) > 0 && up.sent() {
		// Browsers cannot fill a file field in again: say so.
		errs["attachments"] = "error.attachments.again"
	}
	if len(errs) > 0 {
		drop()
		s.showForm(c, http.StatusUnprocessableEntity, f, errs, token)
		return
	}
	receipt, err := s.intake.SubmitDraft(ctx, draft, report)
	if err != nil {
		drop()
		s.fail(c, err)
		return
	}
	keep() // stored with the report
	d := receiptData{Code: receipt.Code.String(), PDF: up.pdf(), AudioMeta: up.audioMeta()}
	gate.done(d)
	s.render(c, http.StatusOK, "receipt", s.receiptView(c, d))
}

// captchaCheck verifies a form's captcha at most once per request:
// VerifyString uses the captcha up, and one picture must not give one
// request two tries (at the first file and again at the end).
type captchaCheck struct {
	off      bool // Config.CaptchaOff: every form passes
	done, ok bool
	// store is Config.Captchas: with it, a captcha the store no longer
	// knows (dchest forgets one after ten minutes) is told from a wrong
	// answer; nil: every failure is "wrong".
	store captcha.Store
	// expired: the captcha failed because the store did not know it.
	expired bool
}

// solved verifies the captcha named in pf on the first call and returns
// the same answer on every later one.
func (cc *captchaCheck) solved(pf url.Values) bool {
	if !cc.done {
		cc.done = true
		if cc.off {
			cc.ok = true
			return true
		}
		// Looked up without clearing, before the verification uses the
		// captcha up. An unknown id says nothing a forger could use: the
		// answer is refused either way.
		id := pf.Get("captcha_id")
		cc.expired = cc.store != nil && id != "" && cc.store.Get(id, false) == nil
		cc.ok = verifyCaptcha(pf)
	}
	return cc.ok
}

// verifyCaptcha checks, and uses up, the captcha of a form. The answer
// may come in any script's digits and with spaces or dashes: a Persian or
// Arabic keyboard types ۴۲ or ٤٢ for 42.
func verifyCaptcha(pf url.Values) bool {
	return captcha.VerifyString(pf.Get("captcha_id"), i18n.ASCIIDigits(pf.Get("captcha_solution")))
}

// readMultipart reads the report form (readUploads), each file going
// into reporting.AddAttachment once the captcha, read before it, is
// solved. A body whose captcha fields come after its first file has its
// files refused unread; its captcha is still verified, and used up, once
// at the end (submitReport).
func (s *Server) readMultipart(c *gin.Context, d reporting.Draft, cc *captchaCheck, gate *submissionGate) (url.Values, uploads, error) {
	pass := func(pf url.Values) bool {
		// A form sent before takes no file in: its token is claimed
		// first, before the captcha, which a repeat has used up.
		if !gate.fresh(c.Request.Context(), pf.Get(submissionField)) {
			return false
		}
		if !cc.off && pf.Get("captcha_id") == "" {
			return false // the captcha comes after the files
		}
		return cc.solved(pf)
	}
	return readUploads(c, pass, func(_ url.Values, name string, body io.Reader) (reporting.Attachment, error) {
		return s.intake.AddAttachment(c.Request.Context(), d.ID, d.Key, name, body)
	})
}

// badBody answers a body that could not be read: 413 when it was too
// large, 400 otherwise.
func (s *Server) badBody(c *gin.Context, err error) {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		s.errorPage(c, http.StatusRequestEntityTooLarge, "error.too_large")
		return
	}
	s.errorPage(c, http.StatusBadRequest, "error.bad_request")
}
