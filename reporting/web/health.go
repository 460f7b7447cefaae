package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// readyTimeout bounds the write probe: a database stuck behind a lock is
// not ready either, and a load balancer must get its answer.
const readyTimeout = 5 * time.Second

// ready answers /readyz: 200 if the database takes a write now, else 503.
// /healthz stays trivial (the process answers); this one tells a load
// balancer or monitoring whether a report would be stored. The error is
// not shown: the page is public.
func (s *Server) ready(c *gin.Context) {
	if s.cfg.Ready == nil {
		c.String(http.StatusOK, "ok\n")
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	if err := s.cfg.Ready(ctx); err != nil {
		s.officeLog.Error("readyz: database not writable", "err", err)
		c.String(http.StatusServiceUnavailable, "database not writable\n")
		return
	}
	c.String(http.StatusOK, "ok\n")
}
