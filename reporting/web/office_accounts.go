package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// accountRoutes registers users, invitations, password change and
// sessions. off: no session needed (accepting an invitation); auth: any
// logged-in user; admin: admins only.
func (s *Server) accountRoutes(off, auth, accounts *gin.RouterGroup) {
	off.GET("/invite/accepted", s.invitationAccepted)
	off.GET("/invite/:token", s.invitationForm)
	off.POST("/invite/:token", s.acceptInvitation)

	auth.GET("/account", s.accountPage)
	auth.GET("/account/password", s.passwordForm)
	auth.POST("/account/password", s.changePassword)
	auth.POST("/account/sessions/:id/revoke", s.revokeSession)

	accounts.GET("/users", s.usersPage)
	accounts.GET("/users/invite", s.inviteForm)
	accounts.POST("/users/invite", s.invite)
	accounts.POST("/users/:id/disable", s.userAction(func(c *gin.Context, id int64) error {
		return s.accounts.SetDisabled(c.Request.Context(), session(c), id, true)
	}))
	accounts.POST("/users/:id/enable", s.userAction(func(c *gin.Context, id int64) error {
		return s.accounts.SetDisabled(c.Request.Context(), session(c), id, false)
	}))
	accounts.POST("/users/:id/role", s.userAction(func(c *gin.Context, id int64) error {
		return s.accounts.SetRole(c.Request.Context(), session(c), id, c.Request.PostForm.Get("role"))
	}))
	accounts.POST("/users/:id/withdraw", s.userAction(func(c *gin.Context, id int64) error {
		return s.accounts.WithdrawInvitation(c.Request.Context(), session(c), id)
	}))
	accounts.POST("/users/:id/unlock", s.userAction(func(c *gin.Context, id int64) error {
		return s.accounts.UnlockLogin(c.Request.Context(), session(c), id)
	}))
}

// usersData is the users page.
type usersData struct {
	Users     []reporting.UserRow
	Self      int64
	Roles     []string
	Saved     bool
	ErrorUser int64  // the row an action failed on
	Error     string // its message ID
}

// ErrorTarget is the id the error summary's link moves to: the row's role
// control, or, on the only admin's row, which offers no role control,
// the error message on the row.
func (d usersData) ErrorTarget() string {
	for _, u := range d.Users {
		if u.ID == d.ErrorUser && u.LastAdmin {
			return "err-user-" + strconv.FormatInt(u.ID, 10)
		}
	}
	return "role-" + strconv.FormatInt(d.ErrorUser, 10)
}

// usersPage lists every office user for admins.
func (s *Server) usersPage(c *gin.Context) {
	s.renderUsers(c, http.StatusOK, usersData{Saved: c.Query("saved") == "1"})
}

func (s *Server) renderUsers(c *gin.Context, status int, d usersData) {
	var err error
	d.Users, err = s.accounts.Users(c.Request.Context(), session(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Self, d.Roles = session(c).User.ID, reporting.UserRoles
	s.render(c, status, "users", view{Title: "accounts.users.title", Data: d})
}

// userAction runs an admin's action on one user: on success back to the
// list (POST/redirect/GET); when the action is refused (the last admin,
// oneself), the list again with the reason on that user's row.
func (s *Server) userAction(act func(c *gin.Context, id int64) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := c.Request.ParseForm(); err != nil {
			s.badBody(c, err)
			return
		}
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			s.errorPage(c, http.StatusNotFound, "error.not_found")
			return
		}
		err = act(c, id)
		switch reporting.ErrorCode(err) {
		case "":
			if err != nil {
				s.fail(c, err)
				return
			}
			c.Redirect(http.StatusSeeOther, "/office/users?saved=1")
		case reporting.EConflict, reporting.EInvalid:
			s.renderUsers(c, http.StatusConflict, usersData{ErrorUser: id, Error: reporting.MessageID(err)})
		default:
			s.fail(c, err)
		}
	}
}

// inviteData is the invitation form; everything typed comes back on error.
type inviteData struct {
	Name    string
	Role    string
	Checked map[int64]bool
	Teams   []reporting.Team // the teams whose key the admin's session holds
	Roles   []string
	Errors  map[string]string
}

// inviteForm shows the invitation form.
func (s *Server) inviteForm(c *gin.Context) {
	s.renderInvite(c, http.StatusOK, inviteData{Role: reporting.RoleCounsellor})
}

func (s *Server) renderInvite(c *gin.Context, status int, d inviteData) {
	var err error
	d.Teams, err = s.accounts.InviteTeams(c.Request.Context(), session(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Roles = reporting.UserRoles
	s.render(c, status, "users_invite", view{Title: "accounts.invite.title", Data: d})
}

// invitedData is the page that shows a new invitation link, once.
type invitedData struct {
	Name    string
	Link    string
	Expires time.Time
}

// invite creates the user and shows their one-time link. The page is the
// POST's answer, not a redirect: the token must not sit in a URL of the
// admin's history, and render sends no-store.
func (s *Server) invite(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	pf := c.Request.PostForm
	f := reporting.InviteForm{Name: pf.Get("name"), Role: pf.Get("role")}
	checked := map[int64]bool{}
	for _, v := range pf["teams"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			id = -1 // no team has it: refused as a team the admin does not hold
		}
		f.Teams = append(f.Teams, id)
		checked[id] = true
	}
	inv, err := s.accounts.Invite(c.Request.Context(), session(c), f)
	if errs := reporting.FieldErrors(err); errs != nil {
		s.renderInvite(c, http.StatusUnprocessableEntity, inviteData{Name: f.Name, Role: f.Role, Checked: checked, Errors: errs})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "users_invited", view{Title: "accounts.invited.title", Data: invitedData{
		Name: strings.TrimSpace(f.Name), Link: s.baseURL(c) + "/office/invite/" + inv.Token, Expires: inv.Expires,
	}})
}

// baseURL is the configured public URL or, without one, the address the
// admin's own browser used.
func (s *Server) baseURL(c *gin.Context) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}
