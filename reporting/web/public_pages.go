package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// The pages about the office (issue 11): who runs the service and how to
// reach it, its Impressum, and the privacy notice made from the live
// settings. Their values are shown as the admin typed them; only the
// labels are translated.

// contact shows the office's address, phone, e-mail and opening hours,
// with the emergency line: someone looking for a number may be in danger.
func (s *Server) contact(c *gin.Context) {
	s.render(c, http.StatusOK, "contact", view{Title: "about.contact.title", Path: "/contact", Emergency: true})
}

// imprint shows the Impressum.
func (s *Server) imprint(c *gin.Context) {
	s.render(c, http.StatusOK, "imprint", view{Title: "about.imprint.title", Path: "/imprint"})
}

// privacyData is what the privacy notice shows beyond the identity.
type privacyData struct {
	Retention reporting.RetentionSettings
}

// privacy shows the privacy notice with the retention periods as they
// are set now: read at each request, so the page can never promise a
// period other than the one the sweep uses.
func (s *Server) privacy(c *gin.Context) {
	ret, err := s.retention.RetentionSettings(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "privacy", view{Title: "privacy.title", Path: "/privacy", Data: privacyData{Retention: ret}})
}
