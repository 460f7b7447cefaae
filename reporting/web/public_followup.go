package web

import (
	"io"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
)

// followupRoutes registers the reporter's follow-up pages under /{lang}/
// and the counsellor's message composer under /office/cases/:id. (Issue 4,
// follow-up work.)
//
// The reporter's pages keep no cookie: after the receipt is checked, an
// opaque token in a hidden field of each form carries the access, so every
// step after the first is a POST that renders its page directly (a
// redirect would have to put the token into a URL, where it would end up
// in the history).
func (s *Server) followupRoutes(pub, work *gin.RouterGroup) {
	body := s.limitBody(MaxPublicBody)
	pub.GET("/followup", s.followupForm)
	pub.POST("/followup", body, s.followupOpen)
	pub.POST("/followup/view", s.followupView) // switchForm sets its limit
	// The message form carries up to five files, as the report form does.
	pub.POST("/followup/message", s.limitBody(MaxReportBody), s.followupReply)
	pub.POST("/followup/file", body, s.followupFile)
	pub.POST("/followup/withdraw", body, s.followupWithdrawAsk)
	pub.POST("/followup/withdraw/confirm", body, s.followupWithdraw)
	// A counsellor's message carries files too (issue 13): the report's
	// limit replaces the office group's, after the session and role
	// checks have passed.
	work.POST("/cases/:id/messages", s.limitBody(MaxReportBody), s.caseMessage)
}

// followupFormData is the receipt form.
type followupFormData struct {
	Receipt    string
	Errors     map[string]string
	Notice     string // message ID of a notice above the form, e.g. an expired token
	CaptchaID  string
	CaptchaOff bool
	// CaptchaAnswer is the answer typed before a language switch.
	CaptchaAnswer string
}

// followupPageData is the reporter's report page.
type followupPageData struct {
	Token   string
	View    reporting.ReporterView
	Message string // the answer typed so far
	Errors  map[string]string
	Sent    bool // an answer was just sent
	PDF     bool // a PDF went with the answer just sent: its metadata stays
	// AudioMeta: a voice message went with it whose tags stayed.
	AudioMeta bool
	// MaxFiles is how many files one message may carry.
	MaxFiles int
	// Reselect: files had been chosen before a language switch.
	Reselect bool
}

// followupForm shows the empty receipt form: the pre-rendered page with a
// fresh captcha, or the template if that cannot be.
func (s *Server) followupForm(c *gin.Context) {
	id := s.newCaptchaID()
	if s.writePrerendered(c, s.site().empty.followup, id, "") {
		return
	}
	s.renderFollowupForm(c, http.StatusOK, followupFormData{}, id)
}

// showFollowupForm renders the receipt form with a fresh captcha.
func (s *Server) showFollowupForm(c *gin.Context, status int, d followupFormData) {
	s.renderFollowupForm(c, status, d, s.newCaptchaID())
}

// renderFollowupForm renders the receipt form through its template.
func (s *Server) renderFollowupForm(c *gin.Context, status int, d followupFormData, captchaID string) {
	s.render(c, status, "followup", s.followupFormView(d, captchaID))
}

// followupFormView is the view of the receipt form, for the template and
// for the pre-rendered empty form alike.
func (s *Server) followupFormView(d followupFormData, captchaID string) view {
	d.CaptchaOff = s.cfg.CaptchaOff
	d.CaptchaID = captchaID
	return view{Title: "followup.title", Path: "/followup", Data: d,
		Switch: &languageSwitch{Form: "followup-form", Action: "/followup/language"}, Emergency: true}
}

// followupOpen checks the captcha, then the receipt, and shows the report.
func (s *Server) followupOpen(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	pf := c.Request.PostForm
	d := followupFormData{Receipt: pf.Get("receipt")}
	if pf.Get("new_captcha") != "" {
		s.showFollowupForm(c, http.StatusOK, d)
		return
	}
	// The captcha comes before argon2id, so guessing receipts costs a
	// solved captcha each, and a flood costs the server almost nothing.
	cc := captchaCheck{off: s.cfg.CaptchaOff, store: s.cfg.Captchas}
	if !cc.solved(pf) {
		msg := "error.captcha.wrong"
		if cc.expired {
			msg = "error.captcha.expired" // the picture was too old, not the answer wrong
		}
		d.Errors = map[string]string{"captcha_solution": msg}
		s.showFollowupForm(c, http.StatusUnprocessableEntity, d)
		return
	}
	// Digits of any script: a code typed on an Arabic keyboard is the
	// same code.
	token, err := s.followup.Open(c.Request.Context(), i18n.ASCIIDigits(d.Receipt))
	if errs := reporting.FieldErrors(err); errs != nil {
		if errs["receipt"] == "followup.error.unknown" {
			// A wrong and an unknown receipt get the very same page: the
			// typed code is not echoed, so nothing tells them apart.
			d.Receipt = ""
		}
		d.Errors = errs
		s.showFollowupForm(c, http.StatusUnprocessableEntity, d)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.showFollowupPage(c, http.StatusOK, followupPageData{Token: token})
}

// showFollowupPage renders the report page of d.Token, or the receipt
// form with a notice when the token has expired.
func (s *Server) showFollowupPage(c *gin.Context, status int, d followupPageData) {
	v, err := s.followup.View(c.Request.Context(), d.Token)
	if s.followupFailed(c, err) {
		return
	}
	d.View = v
	d.MaxFiles = reporting.MaxAttachments
	s.render(c, status, "followup_report", view{Title: "followup.report.title", Path: "/followup", Data: d,
		Switch: &languageSwitch{Form: "answer-form", Action: "/followup/view"}})
}

// followupFailed answers an error of a token step: an expired or unknown
// token leads back to the receipt form with a notice.
func (s *Server) followupFailed(c *gin.Context, err error) bool {
	switch {
	case err == nil:
		return false
	case reporting.ErrorCode(err) == reporting.EUnauthorized:
		s.showFollowupForm(c, http.StatusOK, followupFormData{Notice: reporting.MessageID(err)})
	default:
		s.fail(c, err)
	}
	return true
}

// followupView shows the report page again: the way back from the
// withdrawal's confirmation, and the target of the page's language
// switch, which brings the answer typed so far along.
func (s *Server) followupView(c *gin.Context) {
	pf, reselect, ok := s.switchForm(c)
	if !ok {
		return
	}
	s.showFollowupPage(c, http.StatusOK, followupPageData{Token: pf.Get("token"), Message: pf.Get("message"), Reselect: reselect})
}

// followupReply stores the reporter's answer with its files and shows
// the page with it. The files stream in as on the report form
// (readUploads): the hidden token comes first in the form and is checked
// at the first file, before a byte of it is read, so the message's ID
// and the report's key are known by then; without a live token the files
// are drained unread.
func (s *Server) followupReply(c *gin.Context) {
	ctx := c.Request.Context()
	var (
		pf    url.Values
		up    uploads
		draft reporting.ReplyDraft
		err   error
	)
	if isMultipart(c.Request) {
		pass := func(pf url.Values) bool {
			d, err := s.followup.BeginReply(pf.Get("token"))
			draft = d
			return err == nil
		}
		pf, up, err = readUploads(c, pass, func(_ url.Values, name string, body io.Reader) (reporting.Attachment, error) {
			return s.followup.AddReplyAttachment(ctx, draft, name, body)
		})
	} else {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxPublicBody)
		err = c.Request.ParseForm()
		pf = c.Request.PostForm
	}
	// Files of a message that is not stored are deleted before the answer
	// is written; the deferred call covers a panic.
	drop, keep := s.discarder(c, func() []string { return up.ids() }, s.followup.DiscardReplyAttachments)
	defer drop()
	if reporting.ErrorCode(err) == reporting.EUnauthorized {
		drop()
		s.followupFailed(c, err)
		return
	}
	if err != nil {
		drop()
		s.badBody(c, err)
		return
	}
	d := followupPageData{Token: pf.Get("token"), Message: pf.Get("message")}
	if draft.MessageID == "" {
		if draft, err = s.followup.BeginReply(d.Token); err != nil {
			s.followupFailed(c, err)
			return
		}
	}
	if up.refused > 0 {
		// The token came after the files, so they were not taken in; the
		// text comes back with a request to choose them again.
		d.Errors = map[string]string{attachmentsField: "error.attachments.again"}
		s.showFollowupPage(c, http.StatusUnprocessableEntity, d)
		return
	}
	if up.err != "" {
		// A refused file: the message is not sent, its text comes back.
		drop()
		d.Errors = map[string]string{attachmentsField: up.err}
		s.showFollowupPage(c, http.StatusUnprocessableEntity, d)
		return
	}
	err = s.followup.SendReply(ctx, draft, d.Message, up.ids())
	if errs := reporting.FieldErrors(err); errs != nil {
		drop()
		if len(up.files) > 0 {
			// Browsers cannot fill a file field in again: say so.
			errs[attachmentsField] = "error.attachments.again"
		}
		d.Errors = errs
		s.showFollowupPage(c, http.StatusUnprocessableEntity, d)
		return
	}
	if err != nil {
		drop()
	}
	if s.followupFailed(c, err) {
		return
	}
	keep() // stored with the message
	s.showFollowupPage(c, http.StatusOK, followupPageData{Token: d.Token, Sent: true, PDF: up.pdf(), AudioMeta: up.audioMeta()})
}

// followupFile sends the reporter one of the files they sent with a
// message. A POST with the token in the body, never a link: the token
// must not go into a URL, the history or a log.
func (s *Server) followupFile(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	pf := c.Request.PostForm
	a, stream, err := s.followup.OpenFile(c.Request.Context(), pf.Get("token"), pf.Get("file"))
	if reporting.ErrorCode(err) == reporting.ENotFound {
		s.errorPage(c, http.StatusNotFound, "error.not_found")
		return
	}
	if s.followupFailed(c, err) {
		return
	}
	// The same headers and the same office-made name as the
	// counsellors' download.
	s.serveAttachment(c, a, stream, "attachment")
}

// followupWithdrawAsk shows the confirmation step of a withdrawal.
func (s *Server) followupWithdrawAsk(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	token := c.Request.PostForm.Get("token")
	if s.followupFailed(c, s.followup.Check(token)) {
		return
	}
	s.render(c, http.StatusOK, "followup_withdraw", view{Title: "followup.withdraw.title", Path: "/followup", Data: token,
		Switch: &languageSwitch{Form: "withdraw-form", Action: "/followup/withdraw"}})
}

// followupWithdraw deletes the report for good.
func (s *Server) followupWithdraw(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	if s.followupFailed(c, s.followup.Withdraw(c.Request.Context(), c.Request.PostForm.Get("token"))) {
		return
	}
	s.render(c, http.StatusOK, "followup_withdrawn", view{Title: "followup.withdrawn.title", Path: "/followup"})
}

// caseMessage sends a counsellor's message to the reporter of a case,
// with up to reporting.MaxAttachments files. The case is opened before
// the body is read, so the files stream in as the reporter's do
// (readUploads): cleaned, stripped of metadata and sealed under the
// case's data key chunk by chunk. They become visible only with the
// message, stored with its audit entry; a refused file or text sends
// nothing, and the text comes back with a request to choose the files
// again (a browser cannot fill a file field in).
func (s *Server) caseMessage(c *gin.Context) {
	ctx := c.Request.Context()
	draft, err := s.replies.BeginMessage(ctx, session(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	var (
		pf url.Values
		up uploads
	)
	if isMultipart(c.Request) {
		// The session and the case were checked above: nothing to gate.
		pass := func(url.Values) bool { return true }
		pf, up, err = readUploads(c, pass, func(_ url.Values, name string, body io.Reader) (reporting.Attachment, error) {
			return s.replies.AddMessageAttachment(ctx, draft, name, body)
		})
	} else {
		// Without files the office's own limit holds.
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxOfficeBody)
		err = c.Request.ParseForm()
		pf = c.Request.PostForm
	}
	// Files of a message that is not stored are deleted before the answer
	// is written; the deferred call covers a panic.
	drop, keep := s.discarder(c, func() []string { return up.ids() }, s.replies.DiscardMessageAttachments)
	defer drop()
	if err != nil {
		drop()
		s.badBody(c, err)
		return
	}
	body := pf.Get("body")
	kept := func(errs map[string]string) func(*caseForms, map[string]string) {
		return func(fs *caseForms, _ map[string]string) { fs.Message, fs.MessageErr = body, errs }
	}
	if up.err != "" {
		drop()
		errs := map[string]string{attachmentsField: up.err}
		s.caseDone(c, "messages", &reporting.Error{Code: reporting.EInvalid, MessageID: "error.form", Fields: errs}, kept(errs))
		return
	}
	err = s.replies.SendDraft(ctx, session(c), draft, body)
	if errs := reporting.FieldErrors(err); errs != nil {
		drop()
		if len(up.files) > 0 {
			errs[attachmentsField] = "error.attachments.again"
		}
		s.caseDone(c, "messages", err, kept(errs))
		return
	}
	if err != nil {
		drop()
	} else {
		keep() // stored with the message
	}
	s.caseDone(c, "messages", err, kept(nil))
}

// caseThread fills in the case page's message thread (and so marks the
// reporter's messages read).
func (s *Server) caseThread(c *gin.Context, d *caseData) error {
	var err error
	d.Thread, err = s.replies.Messages(c.Request.Context(), session(c), d.File.ID)
	return err
}

// caseFlags fills in the case list's message markers.
func (s *Server) caseFlags(c *gin.Context, d *casesData) error {
	ids := make([]string, len(d.Cases))
	for i, k := range d.Cases {
		ids[i] = k.ID
	}
	var err error
	d.Flags, err = s.replies.MessageFlags(c.Request.Context(), session(c), ids)
	return err
}
