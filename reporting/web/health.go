package web

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// readyTimeout bounds the write probe: a database stuck behind a lock is
// not ready either, and a load balancer must get its answer.
const readyTimeout = 5 * time.Second

// readyCache is how long one probe's answer is given again. /readyz is
// reachable by anyone who reaches the server, and each probe is a
// committed write (an fsync on the one writer connection, in the queue
// with the reports): without it a flood of probes would slow submissions.
const readyCache = time.Second

// readyHandler answers /readyz: 200 if the database takes a write now,
// else 503. /healthz stays trivial (the process answers); this one tells
// a load balancer or monitoring whether a report would be stored. The
// error is logged for the operator, never shown: the route is public.
func (s *Server) readyHandler() gin.HandlerFunc {
	var (
		mu     sync.Mutex
		last   time.Time
		failed bool
	)
	return func(c *gin.Context) {
		if s.cfg.Ready == nil {
			c.String(http.StatusOK, "ok\n")
			return
		}
		// Holding mu during the probe makes concurrent requests wait for
		// one probe instead of each starting its own.
		mu.Lock()
		if now := s.cfg.Now(); now.Sub(last) >= readyCache || now.Before(last) {
			// Not cancelled with the request: one client hanging up
			// must not give everyone a 503 for the cached second.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), readyTimeout)
			err := s.cfg.Ready(ctx)
			cancel()
			last, failed = now, err != nil
			if err != nil {
				s.officeLog.Error("readyz: database not writable", "err", err)
			}
		}
		notReady := failed
		mu.Unlock()
		if notReady {
			c.String(http.StatusServiceUnavailable, "database not writable\n")
			return
		}
		c.String(http.StatusOK, "ok\n")
	}
}
