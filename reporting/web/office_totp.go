package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// totpPath is the two-factor page; every route under it stays open to a
// user who must still enrol.
const totpPath = "/office/account/totp"

// totpRoutes registers two-factor enrolment and the admin's requirement
// setting. auth: any logged-in user; admin: admins only.
func (s *Server) totpRoutes(auth, settings *gin.RouterGroup) {
	auth.GET("/account/totp", s.totpPage)
	auth.GET("/account/totp/qr.png", s.totpQR)
	auth.POST("/account/totp", s.totpEnable)
	auth.POST("/account/totp/disable", s.totpDisable)
	auth.POST("/account/totp/recovery-codes", s.totpRecoveryCodes)
	settings.GET("/settings/two-factor", s.totpSettings)
	settings.POST("/settings/two-factor", s.totpSettingsSave)
}

// requireEnrolment keeps a user whose role requires two-factor, and who
// has not set it up yet, on the enrolment page: every office page but
// the two-factor pages (and logout, which needs no session) redirects
// there. It runs in the auth group right after requireSession. It looks
// at the matched route pattern, not the raw path, so no spelling of a
// path can pass for an enrolment page.
func (s *Server) requireEnrolment(c *gin.Context) {
	if strings.HasPrefix(c.FullPath(), totpPath) {
		c.Next()
		return
	}
	need, err := s.twoFactor.NeedsTOTPEnrolment(c.Request.Context(), session(c))
	if err != nil {
		c.Abort()
		s.fail(c, err)
		return
	}
	if need {
		c.Abort()
		c.Redirect(http.StatusSeeOther, totpPath)
		return
	}
	c.Next()
}

// totpData is the two-factor page: enrolment when two-factor is off,
// recovery codes and switching off when it is on. Passwords and codes
// are never sent back.
type totpData struct {
	Status        reporting.TOTPStatus
	Secret        string // the pending enrolment's secret, for typing by hand
	Restricted    bool   // the role requires two-factor and it is not set up
	Notice        string // message ID of a notice
	NoticeError   bool   // the notice says something was refused
	EnableErrors  map[string]string
	DisableErrors map[string]string
	CodesErrors   map[string]string
}

// totpNotices are the notices a redirect may ask the page to show.
var totpNotices = map[string]string{"off": "totp.notice.off"}

// totpPage shows the session user's two-factor state, starting an
// enrolment (held in memory for the session) when it is off.
func (s *Server) totpPage(c *gin.Context) {
	s.renderTOTP(c, http.StatusOK, totpData{Notice: totpNotices[c.Query("done")]})
}

// renderTOTP fills in the state and renders the two-factor page with d's
// errors and notice.
func (s *Server) renderTOTP(c *gin.Context, status int, d totpData) {
	ctx := c.Request.Context()
	sess := session(c)
	var err error
	if d.Status, err = s.twoFactor.TOTPStatus(ctx, sess); err != nil {
		s.fail(c, err)
		return
	}
	if !d.Status.Enabled {
		e, err := s.twoFactor.BeginTOTP(ctx, sess)
		if err != nil {
			s.fail(c, err)
			return
		}
		d.Secret = e.Secret
	}
	d.Restricted = d.Status.Required && !d.Status.Enabled
	s.render(c, status, "totp", view{Title: "totp.title", Data: d})
}

// totpQR serves the pending enrolment's QR code. It comes from our own
// origin because the CSP allows images from nowhere else (no data: URIs),
// and no third party may see the secret. Like every page it must not be
// cached: it is the secret.
func (s *Server) totpQR(c *gin.Context) {
	img, err := s.twoFactor.TOTPQRCode(session(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "image/png", img)
}

// totpForm reads the password and code of the two-factor forms.
func (s *Server) totpForm(c *gin.Context) (password, code string, ok bool) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return "", "", false
	}
	return c.Request.PostForm.Get("password"), c.Request.PostForm.Get("code"), true
}

// totpEnable confirms the enrolment and shows the recovery codes once.
// They are rendered in the answer to the POST, not after a redirect:
// they exist in plain nowhere but in this response, and the page is
// never cached.
func (s *Server) totpEnable(c *gin.Context) {
	password, code, ok := s.totpForm(c)
	if !ok {
		return
	}
	codes, err := s.twoFactor.EnableTOTP(c.Request.Context(), session(c), password, code)
	if s.totpFailed(c, err, func(d *totpData, errs map[string]string) { d.EnableErrors = errs }) {
		return
	}
	s.render(c, http.StatusOK, "totp_codes", view{Title: "totp.codes.shown_title", Data: codes})
}

// totpDisable turns two-factor off.
func (s *Server) totpDisable(c *gin.Context) {
	password, code, ok := s.totpForm(c)
	if !ok {
		return
	}
	err := s.twoFactor.DisableTOTP(c.Request.Context(), session(c), password, code)
	if s.totpFailed(c, err, func(d *totpData, errs map[string]string) { d.DisableErrors = errs }) {
		return
	}
	c.Redirect(http.StatusSeeOther, totpPath+"?done=off")
}

// totpRecoveryCodes replaces the recovery codes and shows the new ones
// once (see totpEnable).
func (s *Server) totpRecoveryCodes(c *gin.Context) {
	password, code, ok := s.totpForm(c)
	if !ok {
		return
	}
	codes, err := s.twoFactor.NewRecoveryCodes(c.Request.Context(), session(c), password, code)
	if s.totpFailed(c, err, func(d *totpData, errs map[string]string) { d.CodesErrors = errs }) {
		return
	}
	s.render(c, http.StatusOK, "totp_codes", view{Title: "totp.codes.shown_title", Data: codes})
}

// totpFailed answers a failed two-factor action and reports whether it
// did: field errors re-render the page with the messages next to the
// fields of the form that was sent (set puts them there); a refused
// action (EConflict: no enrolment pending any more, already on, required
// by the role) re-renders it with the reason as a notice.
func (s *Server) totpFailed(c *gin.Context, err error, set func(*totpData, map[string]string)) bool {
	if err == nil {
		return false
	}
	if errs := reporting.FieldErrors(err); errs != nil {
		var d totpData
		set(&d, errs)
		s.renderTOTP(c, http.StatusUnprocessableEntity, d)
		return true
	}
	if reporting.ErrorCode(err) == reporting.EConflict {
		s.renderTOTP(c, http.StatusConflict, totpData{Notice: reporting.MessageID(err), NoticeError: true})
		return true
	}
	s.fail(c, err)
	return true
}

// totpRole is one checkbox of the settings page.
type totpRole struct {
	Code     string
	Required bool
}

// totpSettingsData is the admin's two-factor settings page.
type totpSettingsData struct {
	Roles  []totpRole
	Saved  bool
	Errors map[string]string
}

// totpSettings shows which roles must use two-factor.
func (s *Server) totpSettings(c *gin.Context) {
	required, err := s.twoFactor.TOTPRequiredRoles(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "totp_settings", view{Title: "totp.settings.title",
		Data: totpSettingsData{Roles: totpRoles(required), Saved: c.Query("saved") == "1"}})
}

// totpSettingsSave stores which roles must use two-factor.
func (s *Server) totpSettingsSave(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	roles := c.Request.PostForm["role"]
	err := s.twoFactor.SetTOTPRequiredRoles(c.Request.Context(), session(c), roles)
	if errs := reporting.FieldErrors(err); errs != nil {
		s.render(c, http.StatusUnprocessableEntity, "totp_settings", view{Title: "totp.settings.title",
			Data: totpSettingsData{Roles: totpRoles(roles), Errors: errs}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/settings/two-factor?saved=1")
}

func totpRoles(required []string) []totpRole {
	roles := make([]totpRole, len(reporting.TOTPRoles))
	for i, r := range reporting.TOTPRoles {
		roles[i] = totpRole{Code: r}
		roles[i].Required = slices.Contains(required, r)
	}
	return roles
}
