package web

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
)

// languageRoutes registers the admin's choice of public languages
// (issue 10): a language switched off answers like an unknown one and
// leaves the switcher and the chooser.
func (s *Server) languageRoutes(settings *gin.RouterGroup) {
	settings.GET("/settings/languages", s.languagesPage)
	settings.POST("/settings/languages", s.languagesSave)
}

// languageChoice is one row of the settings page.
type languageChoice struct {
	Lang   i18n.Language
	On     bool
	Status string // the message file's review status, for the admin's decision
}

// languagesData is the settings page.
type languagesData struct {
	Choices []languageChoice
	Errors  map[string]string
	Saved   bool
}

func (s *Server) languagesPage(c *gin.Context) {
	d := languagesData{Choices: languageChoices(s.site().codes), Saved: c.Query("done") == "saved"}
	s.render(c, http.StatusOK, "languages", view{Title: "languages.title", Data: d})
}

// languagesSave stores the choice and renders the public side anew: the
// switcher and the pre-rendered forms change at once.
func (s *Server) languagesSave(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	on := c.Request.PostForm["languages"]
	off, err := s.settings.SetPublicLanguages(c.Request.Context(), session(c), i18n.PublicCodes(), on)
	if errs := reporting.FieldErrors(err); errs != nil {
		d := languagesData{Choices: languageChoices(on), Errors: errs}
		s.render(c, http.StatusUnprocessableEntity, "languages", view{Title: "languages.title", Data: d})
		return
	}
	if err == nil {
		err = s.setSite(off)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/settings/languages?done=saved")
}

func languageChoices(on []string) []languageChoice {
	out := make([]languageChoice, len(i18n.Languages))
	for i, l := range i18n.Languages {
		out[i] = languageChoice{Lang: l, On: slices.Contains(on, l.Code), Status: i18n.Status(l.Code)}
	}
	return out
}
