package web

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
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
//
// Public requests get no access line of their own at all: each hour ends
// with one summary line per method, route pattern and status (how many,
// average and longest duration). A line per request, even stamped with
// the hour, would still list the reports of that hour in the order they
// came, next to whatever else the log holds; a count does not. It is also
// the cheapest thing to do per request, which the form page needs
// (BENCHMARKS.md, issue 8). Errors during a public request are still
// logged one by one, hour-stamped and held like the summaries.

// maxHeldLines bounds the memory held lines take under a flood (a line is
// a few hundred bytes); beyond it lines are counted, not kept.
const maxHeldLines = 10_000

// heldLog collects the lines and the request counts of one hour.
type heldLog struct {
	inner   slog.Handler // where the summaries go
	mu      sync.Mutex
	hour    time.Time // the hour the held lines and counts belong to
	lines   []heldLine
	dropped int
	counts  map[requestKey]*requestStat
	timer   *time.Timer
}

// requestKey is what public requests are counted by: never anything that
// tells one request from another.
type requestKey struct {
	method, route string
	status        int
}

type requestStat struct {
	count      int
	total, max time.Duration
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
	return hourHandler{inner: inner, held: &heldLog{inner: inner}}
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
	l.start()
}

// count adds one public request to the hour's summary.
func (l *heldLog) count(method, route string, status int, d time.Duration) {
	k := requestKey{method: method, route: route, status: status}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.counts[k]
	if st == nil {
		if l.counts == nil {
			l.counts = map[requestKey]*requestStat{}
		}
		st = &requestStat{}
		l.counts[k] = st
	}
	st.count++
	st.total += d
	st.max = max(st.max, d)
	l.start()
}

// start sets the timer for the turn of the hour when the first line or
// count of an hour comes in; l.mu must be held.
func (l *heldLog) start() {
	if l.timer == nil {
		now := time.Now()
		l.hour = now.Truncate(time.Hour)
		l.timer = time.AfterFunc(l.hour.Add(time.Hour).Sub(now), l.flush)
	}
}

// flush writes the held lines, oldest first, then the hour's request
// summary, sorted by route, method and status.
func (l *heldLog) flush() {
	l.mu.Lock()
	hour, lines, dropped, counts := l.hour, l.lines, l.dropped, l.counts
	l.lines, l.dropped, l.counts = nil, 0, nil
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	ctx := context.Background()
	for _, line := range lines {
		line.h.Handle(ctx, line.r)
	}
	if dropped > 0 {
		r := slog.NewRecord(hour, slog.LevelWarn, "public log lines dropped", 0)
		r.AddAttrs(slog.Int("count", dropped), slog.Int("limit", maxHeldLines))
		l.inner.Handle(ctx, r)
	}
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b requestKey) int {
		return cmp.Or(cmp.Compare(a.route, b.route), cmp.Compare(a.method, b.method), cmp.Compare(a.status, b.status))
	})
	for _, k := range keys {
		st := counts[k]
		r := slog.NewRecord(hour, slog.LevelInfo, "requests", 0)
		// Route and status last, as in the office's access lines.
		r.AddAttrs(slog.String("method", k.method), slog.Int("count", st.count),
			slog.Duration("duration_avg", (st.total/time.Duration(st.count)).Round(time.Millisecond)),
			slog.Duration("duration_max", st.max.Round(time.Millisecond)),
			slog.String("route", k.route), slog.Int("status", k.status))
		l.inner.Handle(ctx, r)
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
// for office routes, the hour-stamped, held one naming the route pattern
// for everything else (public requests have no access line that a request
// ID could lead to).
func (s *Server) log(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		return l.(*slog.Logger)
	}
	return s.cfg.Logger.With("route", routeOf(c))
}
