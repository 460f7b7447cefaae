package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

const sessionKey = "session"

// cookieName is the session cookie's name. Over https it carries the
// __Secure- prefix, which browsers accept only with the Secure flag.
func (s *Server) cookieName() string {
	if s.secure {
		return "__Secure-meldestelle_session"
	}
	return "meldestelle_session"
}

// setSessionCookie hands the browser its session token. HttpOnly keeps it
// from scripts, SameSite=Strict from other sites' requests, and Path
// /office from the public pages, which must never see a cookie.
func (s *Server) setSessionCookie(c *gin.Context, token string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     s.cookieName(),
		Value:    token,
		Path:     "/office",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteStrictMode,
	})
}

// deviceCookieName is the device cookie's name; like the session
// cookie's, it carries the __Secure- prefix over https.
func (s *Server) deviceCookieName() string {
	if s.secure {
		return "__Secure-meldestelle_device"
	}
	return "meldestelle_device"
}

// setDeviceCookie hands the browser that just logged in its device token
// (OWASP: "Slow down online guessing attacks with device cookies"). With
// it, the browser's later login attempts spend its own failure counter,
// not the one strangers spend, so nobody can lock its user out from
// elsewhere. It lives as long as the server keeps the device, is sent only
// to /office, never to scripts or from other sites.
func (s *Server) setDeviceCookie(c *gin.Context, token string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     s.deviceCookieName(),
		Value:    token,
		Path:     "/office",
		MaxAge:   int(reporting.LoginDeviceLifetime.Seconds()),
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteStrictMode,
	})
}

// requireSession lets only logged-in users through, and puts their
// session (with its keys) on the context.
func (s *Server) requireSession(c *gin.Context) {
	cookie, err := c.Cookie(s.cookieName())
	if err != nil || cookie == "" {
		c.Abort()
		c.Redirect(http.StatusSeeOther, "/office/login")
		return
	}
	sess, err := s.sessions.Session(c.Request.Context(), cookie)
	if err != nil {
		c.Abort()
		if reporting.ErrorCode(err) == reporting.EUnauthorized {
			s.setSessionCookie(c, "", -1)
		}
		s.fail(c, err)
		return
	}
	c.Set(sessionKey, sess)
	c.Next()
}

func session(c *gin.Context) *reporting.OfficeSession {
	return c.MustGet(sessionKey).(*reporting.OfficeSession)
}

// loginData is the login form: the name typed (never the password) and
// the error.
type loginData struct {
	Username string
	Error    string
}

// loginForm shows the login form.
func (s *Server) loginForm(c *gin.Context) {
	s.render(c, http.StatusOK, "login", view{Title: "login.title", Data: loginData{}})
}

// login checks the password and starts a session.
func (s *Server) login(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	name := strings.TrimSpace(c.Request.PostForm.Get("username"))
	device, _ := c.Cookie(s.deviceCookieName()) // none: an unknown client
	res, err := s.sessions.LoginFrom(c.Request.Context(), reporting.LoginAttempt{
		Name: name, Password: c.Request.PostForm.Get("password"), Code: c.Request.PostForm.Get("totp"), Device: device,
	})
	if reporting.ErrorCode(err) == reporting.EUnauthorized {
		// Unknown name, wrong password, locked and busy all end here with
		// the same page: the domain gave them the same message ID.
		s.render(c, http.StatusUnauthorized, "login", view{Title: "login.title", Data: loginData{Username: name, Error: reporting.MessageID(err)}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setDeviceCookie(c, res.Device)
	s.setSessionCookie(c, res.Token, int(reporting.AbsoluteTimeout.Seconds()))
	c.Redirect(http.StatusSeeOther, home(res.Session))
}

// home is where a user lands after login: the case list for those who do
// case work, the statistics for the others (statisticians).
func home(s *reporting.OfficeSession) string {
	if !s.Can(reporting.PermCaseWork) {
		return "/office/statistics"
	}
	return "/office/cases"
}

// requirePermission lets only users whose role has the permission
// through; others get 403. It runs after requireSession.
func (s *Server) requirePermission(p reporting.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !session(c).Can(p) {
			c.Abort()
			s.errorPage(c, http.StatusForbidden, "error.role")
			return
		}
		c.Next()
	}
}

// logout ends the session and wipes its keys from memory.
func (s *Server) logout(c *gin.Context) {
	if cookie, err := c.Cookie(s.cookieName()); err == nil && cookie != "" {
		if err := s.sessions.Logout(c.Request.Context(), cookie); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.setSessionCookie(c, "", -1)
	c.Redirect(http.StatusSeeOther, "/office/login")
}
