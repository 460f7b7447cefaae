package web

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// Log lines that a public request causes must not date it. The database
// keeps a report's arrival only as a day, and case numbers are issued in
// order, so a log line stamped to the second next to "POST /:lang/report"
// would tell anyone who reads the log when each case came in.
//
// Stamping the lines with the hour is not enough on its own: journald,
// Docker and most log shippers stamp every line again, to the microsecond,
// when the process writes it. So the lines are also held back and written
// together at the turn of the hour (or when the server stops), in the
// order they happened. Office lines keep their full time and are written
// at once: counsellors' actions are audited anyway.

// maxHeldLines bounds the memory held lines take under a flood (a line is
// a few hundred bytes); beyond it lines are counted, not kept.
const maxHeldLines = 10_000

// heldLog collects the lines of one hour.
type heldLog struct {
	mu      sync.Mutex
	lines   []heldLine
	dropped int
	timer   *time.Timer
}

type heldLine struct {
	h slog.Handler
	r slog.Record
}

// hourHandler is a slog.Handler that stamps each record with the hour it
// happened in and holds it until the hour is over.
type hourHandler struct {
	inner slog.Handler
	held  *heldLog
}

func newHourHandler(inner slog.Handler) hourHandler {
	return hourHandler{inner: inner, held: &heldLog{}}
}

func (h hourHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h hourHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	if !r.Time.IsZero() {
		r.Time = r.Time.Truncate(time.Hour)
	}
	h.held.add(h.inner, r)
	return nil
}

func (h hourHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return hourHandler{inner: h.inner.WithAttrs(as), held: h.held}
}

func (h hourHandler) WithGroup(name string) slog.Handler {
	return hourHandler{inner: h.inner.WithGroup(name), held: h.held}
}

func (l *heldLog) add(h slog.Handler, r slog.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) >= maxHeldLines {
		l.dropped++
	} else {
		l.lines = append(l.lines, heldLine{h, r})
	}
	if l.timer == nil {
		now := time.Now()
		l.timer = time.AfterFunc(now.Truncate(time.Hour).Add(time.Hour).Sub(now), l.flush)
	}
}

// flush writes the held lines, oldest first.
func (l *heldLog) flush() {
	l.mu.Lock()
	lines, dropped := l.lines, l.dropped
	l.lines, l.dropped = nil, 0
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	ctx := context.Background()
	for _, line := range lines {
		line.h.Handle(ctx, line.r)
	}
	if dropped > 0 && len(lines) > 0 {
		last := lines[len(lines)-1]
		r := slog.NewRecord(last.r.Time, slog.LevelWarn, "public log lines dropped", 0)
		r.AddAttrs(slog.Int("count", dropped), slog.Int("limit", maxHeldLines))
		last.h.Handle(ctx, r)
	}
}

// FlushLogs writes the public requests' log lines held back until the turn
// of the hour. Call it once the server has stopped.
func (s *Server) FlushLogs() { s.publicLog.flush() }

const loggerKey = "logger"

// isOffice reports whether a request path belongs to the office.
func isOffice(path string) bool {
	return path == "/office" || strings.HasPrefix(path, "/office/")
}

// log is the logger for lines about request c: the office's precise one
// for office routes, the hour-stamped, held one for everything else.
func (s *Server) log(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		return l.(*slog.Logger)
	}
	return s.cfg.Logger
}
