package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// timeZoneRoutes registers the admin's choice of the office's time zone
// (issue 13): every time an office page shows is shown in it.
func (s *Server) timeZoneRoutes(settings *gin.RouterGroup) {
	settings.GET("/settings/time", s.timeZonePage)
	settings.POST("/settings/time", s.timeZoneSave)
}

// timeZoneData is the time zone page.
type timeZoneData struct {
	Zone   string    // the field's value: the zone in use, or what was typed
	Now    time.Time // shown in the zone in use, as every time is shown
	Errors map[string]string
	Saved  bool
}

func (s *Server) timeZonePage(c *gin.Context) {
	zone, err := s.settings.OfficeZone(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	d := timeZoneData{Zone: zone.String(), Now: s.cfg.Now(), Saved: c.Query("done") == "saved"}
	s.render(c, http.StatusOK, "timezone", view{Title: "officetime.title", Zone: zone, Data: d})
}

// timeZoneSave stores the zone; a name the zone database does not know
// comes back with the error next to the field and what was typed.
func (s *Server) timeZoneSave(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	typed := c.Request.PostFormValue("zone")
	_, err := s.settings.SetOfficeZone(c.Request.Context(), session(c), typed)
	if errs := reporting.FieldErrors(err); errs != nil {
		d := timeZoneData{Zone: typed, Now: s.cfg.Now(), Errors: errs}
		s.render(c, http.StatusUnprocessableEntity, "timezone", view{Title: "officetime.title", Data: d})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/office/settings/time?done=saved")
}
