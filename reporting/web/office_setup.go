package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// setupData is the first-run form; passwords are never sent back.
type setupData struct {
	Token    string
	Team     string
	Username string
	Errors   map[string]string
	MinPass  int
}

// setupForm shows the first-run form to whoever holds the setup link.
func (s *Server) setupForm(c *gin.Context) {
	token := c.Query("token")
	if err := s.sessions.CheckSetupToken(c.Request.Context(), token); err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "setup", view{Title: "setup.title",
		Data: setupData{Token: token, Team: "PLANB", MinPass: reporting.MinPassword}})
}

// setup creates the first team and admin and shows the recovery key once.
func (s *Server) setup(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	pf := c.Request.PostForm
	f := reporting.SetupForm{Token: pf.Get("token"), Team: pf.Get("team"), Username: pf.Get("username"),
		Password: pf.Get("password"), Confirm: pf.Get("confirm")}
	recovery, err := s.sessions.Setup(c.Request.Context(), f)
	if errs := reporting.FieldErrors(err); errs != nil {
		s.render(c, http.StatusUnprocessableEntity, "setup", view{Title: "setup.title",
			Data: setupData{Token: f.Token, Team: f.Team, Username: f.Username, Errors: errs, MinPass: reporting.MinPassword}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "setup_done", view{Title: "setup.done.title", Data: recovery})
}
