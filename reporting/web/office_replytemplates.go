package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
)

// replyTemplateRoutes registers the admins' page of reply templates
// (issue 13): one per public language and purpose, offered next to the
// case page's composer.
func (s *Server) replyTemplateRoutes(settings *gin.RouterGroup) {
	settings.GET("/settings/replies", s.replyTemplatesPage)
	settings.POST("/settings/replies", s.replyTemplateSave)
	settings.POST("/settings/replies/delete", s.replyTemplateDelete)
}

// replyTemplatesData is the settings page: the templates by language,
// and the form to add one or to change the one chosen (Form.ID).
type replyTemplatesData struct {
	Groups    []templateGroup
	Languages []string // the public language codes a template may have
	Form      reporting.ReplyTemplate
	Errors    map[string]string
	Done      string // "saved" or "deleted" after a change
	MaxTitle  int
	MaxBody   int
}

// templateGroup is the templates of one language.
type templateGroup struct {
	Language  string
	Own       bool // the language the case's report was written in
	Templates []reporting.ReplyTemplate
}

// groupTemplates groups templates by language, first the language first
// ("" for none), then the others in the order of the public languages.
func groupTemplates(list []reporting.ReplyTemplate, first string) []templateGroup {
	var groups []templateGroup
	add := func(code string) {
		g := templateGroup{Language: code, Own: code == first}
		for _, t := range list {
			if t.Language == code {
				g.Templates = append(g.Templates, t)
			}
		}
		if len(g.Templates) > 0 {
			groups = append(groups, g)
		}
	}
	if first != "" {
		add(first)
	}
	for _, code := range i18n.PublicCodes() {
		if code != first {
			add(code)
		}
	}
	return groups
}

func (s *Server) renderReplyTemplates(c *gin.Context, status int, d replyTemplatesData) {
	list, err := s.replyTemplates.Templates(c.Request.Context(), session(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Groups, d.Languages = groupTemplates(list, ""), i18n.PublicCodes()
	d.MaxTitle, d.MaxBody = reporting.MaxTemplateTitle, reporting.MaxTemplateBody
	s.render(c, status, "replytemplates", view{Title: "replytemplates.title", Data: d})
}

// replyTemplatesPage shows the templates; ?edit=N puts template N into
// the form to change it.
func (s *Server) replyTemplatesPage(c *gin.Context) {
	d := replyTemplatesData{}
	if q := c.Query("done"); q == "saved" || q == "deleted" {
		d.Done = q
	}
	if raw := c.Query("edit"); raw != "" {
		id, _ := strconv.ParseInt(raw, 10, 64)
		t, err := s.replyTemplates.Template(c.Request.Context(), session(c), id)
		if reporting.ErrorCode(err) == reporting.ENotFound || id <= 0 {
			s.errorPage(c, http.StatusNotFound, "replytemplates.error.not_found")
			return
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		d.Form = t
	}
	s.renderReplyTemplates(c, http.StatusOK, d)
}

// replyTemplateSave adds a template, or changes the one named by "id". A
// refused one comes back in the form as typed, with the errors.
func (s *Server) replyTemplateSave(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	pf := c.Request.PostForm
	t := reporting.ReplyTemplate{Language: pf.Get("language"), Title: pf.Get("title"), Body: pf.Get("body")}
	t.ID, _ = strconv.ParseInt(pf.Get("id"), 10, 64)
	_, err := s.replyTemplates.SaveTemplate(c.Request.Context(), session(c), i18n.PublicCodes(), t)
	if errs := reporting.FieldErrors(err); errs != nil {
		s.renderReplyTemplates(c, http.StatusUnprocessableEntity, replyTemplatesData{Form: t, Errors: errs})
		return
	}
	if reporting.ErrorCode(err) == reporting.ENotFound {
		s.errorPage(c, http.StatusNotFound, "replytemplates.error.not_found")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/settings/replies?done=saved#templates")
}

// replyTemplateDelete removes a template.
func (s *Server) replyTemplateDelete(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	id, _ := strconv.ParseInt(c.Request.PostForm.Get("id"), 10, 64)
	err := s.replyTemplates.DeleteTemplate(c.Request.Context(), session(c), id)
	if reporting.ErrorCode(err) == reporting.ENotFound {
		s.errorPage(c, http.StatusNotFound, "replytemplates.error.not_found")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/settings/replies?done=deleted#templates")
}

// replyPicker is the reply templates next to the case page's composer:
// the case's language first. Chosen is the template inserted, Err a
// message ID when the one asked for is gone.
type replyPicker struct {
	Groups []templateGroup
	Chosen int64
	Err    string
}

// caseReplyTemplates fills in the picker and, with ?reply_template=N,
// puts that template's text into the composer. A GET, no JavaScript:
// the page comes back with the text in the box, to be edited and sent.
func (s *Server) caseReplyTemplates(c *gin.Context, d *caseData) error {
	list, err := s.replyTemplates.Templates(c.Request.Context(), session(c))
	if err != nil {
		return err
	}
	d.Replies.Groups = groupTemplates(list, d.File.Language)
	raw := c.Query("reply_template")
	if raw == "" {
		return nil
	}
	id, _ := strconv.ParseInt(raw, 10, 64)
	for _, t := range list {
		if t.ID == id {
			d.Replies.Chosen, d.F.Message = id, t.Body
			return nil
		}
	}
	d.Replies.Err = "replytemplates.error.gone"
	return nil
}
