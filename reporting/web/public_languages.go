package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// publicSite is what the public side offers right now: the languages the
// admin has left on, the office's identity and logo, and the empty forms
// pre-rendered with that switcher and footer. It is replaced whole when
// an admin changes any of them, so a request sees one consistent state.
type publicSite struct {
	languages []i18n.Language
	codes     []string
	off       []string // the codes switched off, as stored
	identity  reporting.Identity
	logo      reporting.Logo
	empty     emptyForms
}

// offers reports whether the public side is offered in code.
func (p *publicSite) offers(code string) bool { return slices.Contains(p.codes, code) }

// site returns the public side's current state.
func (s *Server) site() *publicSite { return s.public.Load() }

// loadSite reads which languages are switched off, the identity and the
// logo, and pre-renders the empty forms for them.
func (s *Server) loadSite(ctx context.Context) error {
	off, err := s.settings.PublicLanguagesOff(ctx)
	if err != nil {
		return err
	}
	id, err := s.settings.Identity(ctx)
	if err != nil {
		return err
	}
	logo, err := s.settings.Logo(ctx)
	if err != nil {
		return err
	}
	return s.changeSite(func(p *publicSite) { p.off, p.identity, p.logo = off, id, logo })
}

// setSite makes the public side offer every language but those off.
func (s *Server) setSite(off []string) error {
	return s.changeSite(func(p *publicSite) { p.off = off })
}

// changeSite builds the public side's next state from the current one
// with change applied, pre-renders its forms and puts it in place. One
// change at a time: a change of languages and one of the identity must
// not undo each other.
func (s *Server) changeSite(change func(p *publicSite)) error {
	s.siteMu.Lock()
	defer s.siteMu.Unlock()
	p := &publicSite{}
	if cur := s.site(); cur != nil {
		p.off, p.identity, p.logo = cur.off, cur.identity, cur.logo
	}
	change(p)
	for _, l := range i18n.Languages {
		if !slices.Contains(p.off, l.Code) {
			p.languages = append(p.languages, l)
			p.codes = append(p.codes, l.Code)
		}
	}
	if len(p.codes) == 0 { // a database written by hand: never no language
		p.languages, p.codes = i18n.Languages, i18n.PublicCodes()
	}
	empty, err := s.prerenderForms(p)
	if err != nil {
		return err
	}
	p.empty = empty
	s.public.Store(p)
	return nil
}

// redirectToLanguage sends / to the best offered language for the
// browser's Accept-Language, or shows the language chooser when none
// fits: a reader of a language we do not have is better served by a
// list in every script than by a German page.
func (s *Server) redirectToLanguage(c *gin.Context) {
	c.Header("Vary", "Accept-Language")
	if lang, ok := i18n.Negotiate(c.GetHeader("Accept-Language"), s.site().codes); ok {
		c.Redirect(http.StatusSeeOther, "/"+lang+"/")
		return
	}
	c.Set(langKey, i18n.Source)
	s.render(c, http.StatusOK, "chooser", view{Title: "site.name", Chooser: true, Data: s.chooserEntries()})
}

// publicLanguage checks the language segment of a public path: an unknown
// language and one switched off both get the not-found page.
func (s *Server) publicLanguage(c *gin.Context) {
	if !s.site().offers(c.Param("lang")) {
		c.Abort()
		s.errorPage(c, http.StatusNotFound, "error.not_found")
		return
	}
	c.Set(langKey, c.Param("lang"))
	c.Next()
}

// pathLanguage is the language of a page no route took: the path's
// language when it has an offered one (/fa/no-such-page), else the
// browser's, else German.
func (s *Server) pathLanguage(c *gin.Context) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(c.Request.URL.Path, "/"), "/")
	if s.site().offers(first) {
		return first
	}
	if lang, ok := i18n.Negotiate(c.GetHeader("Accept-Language"), s.site().codes); ok {
		return lang
	}
	return i18n.Source
}

// languageSwitch makes the language switcher of a page with a form a row
// of submit buttons of that form, so that a change of language sends what
// was typed and gets the same page back in the other language, without
// JavaScript. Form is the form's id, Action the path after the language
// segment that re-renders the page.
type languageSwitch struct {
	Form, Action string
}

// MaxSwitchBody bounds a language switch: the report form's text fields
// percent-encoded at their worst (20,000 characters of 4 UTF-8 bytes, 3
// bytes each encoded), without files, which the switch buttons send as
// names only (formenctype).
const MaxSwitchBody = 512 << 10

// reportSwitch shows the report form again, in the language of the path,
// with everything typed and the same captcha and answer: a switch checks
// nothing and uses nothing up. Files cannot come along (a browser sends
// only their names with a url-encoded form); the page says to choose them
// again.
func (s *Server) reportSwitch(c *gin.Context) {
	pf, reselect, ok := s.switchForm(c)
	if !ok {
		return
	}
	d := formData{Form: reportFormOf(pf), CaptchaOff: s.cfg.CaptchaOff, Choices: formChoices, Reselect: reselect,
		Submission: s.keptSubmission(pf.Get(submissionField))} // one form, one token, in any language
	d.CaptchaID, d.CaptchaAnswer = s.keptCaptcha(pf)
	s.render(c, http.StatusOK, "form", s.formPage(d))
}

// followupSwitch shows the receipt form again in the path's language,
// with the typed receipt, captcha and answer.
func (s *Server) followupSwitch(c *gin.Context) {
	pf, _, ok := s.switchForm(c)
	if !ok {
		return
	}
	d := followupFormData{Receipt: pf.Get("receipt")}
	d.CaptchaID, d.CaptchaAnswer = s.keptCaptcha(pf)
	s.render(c, http.StatusOK, "followup", s.followupFormView(d, d.CaptchaID))
}

// receiptSwitch shows the receipt page again in the path's language. Only
// a well-formed receipt is shown, and only to a request from this site:
// the page must not become a way for another site to show a code of its
// choosing as "your code".
func (s *Server) receiptSwitch(c *gin.Context) {
	if err := crossOriginProtection.Check(c.Request); err != nil {
		s.errorPage(c, http.StatusForbidden, "error.forbidden")
		return
	}
	pf, _, ok := s.switchForm(c)
	if !ok {
		return
	}
	code, err := vault.ParseReceipt(i18n.ASCIIDigits(pf.Get("receipt")))
	if err != nil {
		s.errorPage(c, http.StatusBadRequest, "error.bad_request")
		return
	}
	grouped := code.String()
	s.render(c, http.StatusOK, "receipt", s.receiptView(c, receiptData{Code: grouped, PDF: pf.Get("pdf") != "", AudioMeta: pf.Get("audiometa") != ""}))
}

// switchForm reads the form a switch button sent. It says whether files
// had been chosen: their names come along when the browser honours the
// button's url-encoded formenctype, their bodies, read past unopened,
// when it does not.
func (s *Server) switchForm(c *gin.Context) (pf url.Values, reselect, ok bool) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxSwitchBody)
	if isMultipart(c.Request) {
		never := func(url.Values) bool { return false }
		form, up, err := readUploads(c, never, nil)
		if err != nil {
			s.badBody(c, err)
			return nil, false, false
		}
		return form, up.refused > 0, true
	}
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return nil, false, false
	}
	form := c.Request.PostForm
	return form, slices.ContainsFunc(form[attachmentsField], func(v string) bool { return v != "" }), true
}

// keptCaptcha returns the captcha of a switched form and the answer typed
// so far, or a fresh captcha when the form carried none we could show.
func (s *Server) keptCaptcha(pf url.Values) (id, answer string) {
	if s.cfg.CaptchaOff {
		return "", ""
	}
	id = pf.Get("captcha_id")
	if id == "" || !alphanumeric(id) || len(id) > 64 {
		return s.newCaptchaID(), ""
	}
	return id, pf.Get("captcha_solution")
}

// chooserEntry is one language on the chooser page: its name and the
// service's name, both in that language.
type chooserEntry struct {
	Lang i18n.Language
	Site string
}

// chooserEntries lists the offered languages for the chooser page.
func (s *Server) chooserEntries() []chooserEntry {
	var out []chooserEntry
	for _, l := range s.site().languages {
		out = append(out, chooserEntry{Lang: l, Site: s.tr.T(l.Code, "site.name", nil)})
	}
	return out
}

// switchRoutes registers the re-rendering targets of the switch buttons.
func (s *Server) switchRoutes(pub *gin.RouterGroup) {
	pub.POST("/", s.reportSwitch)
	pub.POST("/receipt", s.receiptSwitch)
	pub.POST("/followup/language", s.followupSwitch)
}
