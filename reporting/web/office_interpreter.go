package web

import (
	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
)

// languageCodes are the codes of the office's languages (i18n), for the
// interpreter mark's suggestions.
var languageCodes = func() []string {
	codes := make([]string, len(i18n.Languages))
	for i, l := range i18n.Languages {
		codes[i] = l.Code
	}
	return codes
}()

// interpreterRoutes registers the "interpreter needed" mark of a case.
func (s *Server) interpreterRoutes(work *gin.RouterGroup) {
	work.POST("/cases/:id/interpreter", s.setInterpreter)
}

// setInterpreter marks the case "interpreter needed" with a language, or
// removes the mark (the box unticked). A missing or malformed language
// comes back on the case page, as typed.
func (s *Server) setInterpreter(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	pf := c.Request.PostForm
	f := reporting.InterpreterForm{Needed: pf.Get("interpreter") == "1", Language: pf.Get("interpreter_language")}
	s.caseDone(c, "interpreter", s.cases.SetInterpreter(c.Request.Context(), session(c), c.Param("id"), f),
		func(fs *caseForms, errs map[string]string) { fs.Interpreter, fs.InterpreterErr = f, errs })
}
