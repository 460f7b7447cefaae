package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// accountData is the account page.
type accountData struct {
	reporting.Account
	Done string // "password" or "revoked" after a change, for the notice
}

// accountPage shows the user their name, role, teams and live sessions.
func (s *Server) accountPage(c *gin.Context) {
	a, err := s.accounts.Account(c.Request.Context(), session(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	d := accountData{Account: a}
	if done := c.Query("done"); done == "password" || done == "revoked" {
		d.Done = done
	}
	s.render(c, http.StatusOK, "account", view{Title: "accounts.account.title", Data: d})
}

// passwordData is the password form; passwords never come back.
type passwordData struct {
	MinPass int
	Errors  map[string]string
}

// passwordForm shows the form to change one's own password.
func (s *Server) passwordForm(c *gin.Context) {
	s.render(c, http.StatusOK, "account_password", view{Title: "accounts.password.title", Data: passwordData{MinPass: reporting.MinPassword}})
}

// changePassword checks the old password and sets the new one.
func (s *Server) changePassword(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	pf := c.Request.PostForm
	err := s.accounts.ChangePassword(c.Request.Context(), session(c), reporting.PasswordForm{Old: pf.Get("old"), New: pf.Get("new"), Confirm: pf.Get("confirm")})
	if errs := reporting.FieldErrors(err); errs != nil {
		s.render(c, http.StatusUnprocessableEntity, "account_password", view{Title: "accounts.password.title",
			Data: passwordData{MinPass: reporting.MinPassword, Errors: errs}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/account?done=password")
}

// revokeSession ends one of the user's other sessions.
func (s *Server) revokeSession(c *gin.Context) {
	if err := s.accounts.RevokeSession(c.Request.Context(), session(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/account?done=revoked")
}
