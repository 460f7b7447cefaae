package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// notificationRoutes registers a user's own notification address and the
// admin's view of the notification outbox.
func (s *Server) notificationRoutes(auth, outbox *gin.RouterGroup) {
	auth.GET("/account/notifications", s.notifyEmailForm)
	auth.POST("/account/notifications", s.notifyEmailSave)
	outbox.GET("/notifications", s.outboxPage)
	outbox.POST("/notifications/send", s.outboxSend)
}

// notifyEmailData is the address form.
type notifyEmailData struct {
	Email   string
	Enabled bool // a mail server is configured
	Saved   bool
	Errors  map[string]string
}

// notifyEmailForm shows the user's notification address.
func (s *Server) notifyEmailForm(c *gin.Context) {
	email, err := s.notifications.NotificationEmail(c.Request.Context(), session(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "notifications_account", view{Title: "notify.account.title",
		Data: notifyEmailData{Email: email, Enabled: s.cfg.Notifier.Enabled(), Saved: c.Query("done") == "saved"}})
}

// notifyEmailSave sets or clears the user's notification address.
func (s *Server) notifyEmailSave(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	email, err := s.notifications.SetNotificationEmail(c.Request.Context(), session(c), c.Request.PostForm.Get("email"))
	if errs := reporting.FieldErrors(err); errs != nil {
		s.render(c, http.StatusUnprocessableEntity, "notifications_account", view{Title: "notify.account.title",
			Data: notifyEmailData{Email: email, Enabled: s.cfg.Notifier.Enabled(), Errors: errs}})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/account/notifications?done=saved")
}

// outboxData is the admin's outbox page.
type outboxData struct {
	Enabled bool
	Mails   []reporting.OutboxMail
	Failed  int // mails with at least one failed attempt
	Sent    string
}

// outboxPage shows the waiting notification mails.
func (s *Server) outboxPage(c *gin.Context) {
	mails, err := s.notifications.Outbox(c.Request.Context(), session(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	d := outboxData{Enabled: s.cfg.Notifier.Enabled(), Mails: mails, Sent: c.Query("sent")}
	for _, m := range mails {
		if m.Attempts > 0 {
			d.Failed++
		}
	}
	s.render(c, http.StatusOK, "notifications", view{Title: "notify.outbox.title", Data: d})
}

// outboxSend tries every waiting mail now.
func (s *Server) outboxSend(c *gin.Context) {
	if !s.cfg.Notifier.Enabled() {
		c.Redirect(http.StatusSeeOther, "/office/notifications")
		return
	}
	if _, err := s.notifications.SendOutboxNow(c.Request.Context(), session(c)); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/notifications?sent=1")
}
