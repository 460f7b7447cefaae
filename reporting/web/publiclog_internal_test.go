package web

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// The hour handler stamps lines with their hour, holds them until flushed
// (loggers derived With attributes share the hold), and under a flood
// keeps at most maxHeldLines, then says how many it dropped.
func TestHourHandlerHoldsAndCaps(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	h := newHourHandler(slog.NewTextHandler(&out, nil))
	log := slog.New(h)
	log.Info("first")
	log.With("request_id", "abc").Error("second")
	if out.Len() != 0 {
		t.Fatalf("written before the flush:\n%s", out.String())
	}
	h.held.flush()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "msg=first") || !strings.Contains(lines[1], "request_id=abc") {
		t.Fatalf("after the flush:\n%s", out.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, ":00:00.000") {
			t.Errorf("not stamped with the hour: %q", l)
		}
	}

	out.Reset()
	for range maxHeldLines + 5 {
		log.Info("flood")
	}
	h.held.flush()
	if n := strings.Count(out.String(), "msg=flood"); n != maxHeldLines {
		t.Errorf("%d lines kept, want %d", n, maxHeldLines)
	}
	if !strings.Contains(out.String(), `msg="public log lines dropped" count=5`) {
		t.Errorf("no count of the dropped lines:\n%s", out.String()[max(0, out.Len()-300):])
	}
}
