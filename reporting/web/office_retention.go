package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// retentionRoutes registers the admin's retention settings page with the
// dry run of what is due (issue 5).
func (s *Server) retentionRoutes(settings *gin.RouterGroup) {
	settings.GET("/settings/retention", s.retentionPage)
	settings.POST("/settings/retention", s.retentionSave)
}

// retentionData is the settings page: the form and the dry run.
type retentionData struct {
	Form   reporting.RetentionForm
	Errors map[string]string
	Due    []reporting.RetentionDue
	Saved  bool
}

// retentionPage shows the periods and what is due today.
func (s *Server) retentionPage(c *gin.Context) {
	ctx := c.Request.Context()
	set, err := s.retention.RetentionSettings(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := retentionData{Form: set.Form(), Saved: c.Query("done") == "saved"}
	s.retentionRender(c, http.StatusOK, d)
}

// retentionRender adds the dry run and renders the page.
func (s *Server) retentionRender(c *gin.Context, status int, d retentionData) {
	due, err := s.retention.RetentionDueList(c.Request.Context(), session(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Due = due
	s.render(c, status, "retention", view{Title: "retention.title", Data: d})
}

// retentionSave validates and stores the periods; on an error the page
// comes back with the values as typed and the message next to the field.
func (s *Server) retentionSave(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	f := reporting.RetentionForm{
		ClosedMonths: c.Request.PostForm.Get("closed_months"),
		NewMonths:    c.Request.PostForm.Get("new_months"),
	}
	err := s.retention.SetRetention(c.Request.Context(), session(c), f)
	if errs := reporting.FieldErrors(err); errs != nil {
		s.retentionRender(c, http.StatusUnprocessableEntity, retentionData{Form: f, Errors: errs})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/settings/retention?done=saved")
}
