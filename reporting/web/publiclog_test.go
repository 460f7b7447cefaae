package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var logLine = regexp.MustCompile(`(?m)^time=(\S+) level=\S+ msg=(\S+|"[^"]*").*?(?: route=(\S+))?(?: status=\d+)?(?: duration=\S+)?(?: request_id=\S+)?$`)

type loggedLine struct{ time, msg, route, raw string }

func parseLog(t *testing.T, logs string) []loggedLine {
	t.Helper()
	var out []loggedLine
	for _, m := range logLine.FindAllStringSubmatch(logs, -1) {
		out = append(out, loggedLine{time: m[1], msg: m[2], route: m[3], raw: m[0]})
	}
	return out
}

// A reporter's whole visit (form, captcha picture, report, follow-up with
// the receipt) leaves log lines stamped with the hour only, and none of
// them is written before the hour is over: a log shipper that stamps each
// line as it arrives learns nothing finer either. An office request is
// logged at once with its precise time.
func TestPublicLogLinesCannotDateAReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})

	_, page := get(t, e.URL+"/de/")
	get(t, e.URL+"/captcha/"+captchaID(t, page)+".png")
	receipt := fuSubmit(t, e, validReport("Beleidigung im Bus."))
	resp, page := fuOpen(t, e, "en", receipt)
	if resp.StatusCode != 200 {
		t.Fatalf("follow-up: status %d", resp.StatusCode)
	}
	fuPost(t, e, "/en/followup/view", url.Values{"token": {fuToken(t, page)}})
	if logs := e.Logs.String(); strings.Contains(logs, "route=/:lang/report") || strings.Contains(logs, "route=/:lang/followup") {
		t.Fatalf("public lines were written while the hour lasts:\n%s", logs)
	}

	before := time.Now()
	loginAs(t, e, e.Admin, e.Pass)
	after := time.Now()
	immediate := e.Logs.String()
	if !strings.Contains(immediate, "route=/office/login") {
		t.Fatalf("the office login is not logged at once:\n%s", immediate)
	}

	lines := parseLog(t, e.FlushedLogs())
	routes := map[string]bool{}
	for _, l := range lines {
		ts, err := time.Parse(time.RFC3339Nano, l.time)
		if err != nil {
			t.Fatalf("line without a time: %q", l.raw)
		}
		if strings.HasPrefix(l.route, "/office/") {
			// Precise: the time the login happened, not its hour.
			if ts.Before(before.Truncate(time.Millisecond)) || ts.After(after) {
				t.Errorf("office line stamped %v, the login ran %v to %v: %q", ts, before, after, l.raw)
			}
			continue
		}
		routes[l.route] = true
		if !ts.Equal(ts.Truncate(time.Hour)) {
			t.Errorf("public line stamped finer than the hour: %q", l.raw)
		}
		// Public requests are counted, never logged one by one: no line
		// has an ID that tells one request from another.
		if l.msg != "requests" || strings.Contains(l.raw, "request_id=") {
			t.Errorf("a public request logged on its own: %q", l.raw)
		}
		if l.route == "/:lang/report" && !strings.Contains(l.raw, " count=1 ") {
			t.Errorf("the report is not counted once: %q", l.raw)
		}
	}
	for _, want := range []string{"/:lang/", "/captcha/:file", "/:lang/report", "/:lang/followup", "/:lang/followup/view"} {
		if !routes[want] {
			t.Errorf("no access line for %s after the flush:\n%s", want, e.Logs.String())
		}
	}
	// Durations are lengths, rounded to milliseconds.
	if regexp.MustCompile(`duration=\d+(\.\d+)?µs`).MatchString(e.Logs.String()) {
		t.Errorf("a duration in microseconds:\n%s", e.Logs.String())
	}
}
