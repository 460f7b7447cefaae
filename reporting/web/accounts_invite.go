package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// acceptData is the invitee's password form; passwords never come back.
type acceptData struct {
	Token   string
	Name    string
	MinPass int
	Errors  map[string]string
}

// invitationForm shows the invitee the form to set their password.
// Unknown, used and expired links are all 404, so a link tells nobody
// whether it ever worked.
func (s *Server) invitationForm(c *gin.Context) {
	token := c.Param("token")
	name, err := s.accounts.Invitation(c.Request.Context(), token)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "invite", view{Title: "accounts.accept.title",
		Data: acceptData{Token: token, Name: name, MinPass: reporting.MinPassword}})
}

// acceptInvitation sets the invitee's password and sends them on to a
// page that says they can log in now.
func (s *Server) acceptInvitation(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	token := c.Param("token")
	pf := c.Request.PostForm
	err := s.accounts.AcceptInvitation(c.Request.Context(), reporting.AcceptForm{Token: token, Password: pf.Get("password"), Confirm: pf.Get("confirm")})
	if errs := reporting.FieldErrors(err); errs != nil {
		name, err := s.accounts.Invitation(c.Request.Context(), token)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.render(c, http.StatusUnprocessableEntity, "invite", view{Title: "accounts.accept.title",
			Data: acceptData{Token: token, Name: name, MinPass: reporting.MinPassword, Errors: errs}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/invite/accepted")
}

// invitationAccepted tells the new user they can log in.
func (s *Server) invitationAccepted(c *gin.Context) {
	s.render(c, http.StatusOK, "invite_done", view{Title: "accounts.accepted.title"})
}
