package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// /readyz answers 200 while the database takes writes and 503 once it
// does not (here: closed), without a cookie or the error's text; /healthz
// stays 200 either way, as the process still answers. An answer is given
// again for a second (a flood of probes must not queue writes before the
// reports), then the database is asked anew.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	clock := newTestClock(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	e := newEnv(t, options{Now: clock.Now})
	resp, body := get(t, e.URL+"/readyz")
	if resp.StatusCode != http.StatusOK || body != "ok\n" {
		t.Fatalf("/readyz on a working database: %d %q", resp.StatusCode, body)
	}
	e.DB.Close()
	if resp, _ := get(t, e.URL+"/readyz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz within the cached second: %d, want the cached 200", resp.StatusCode)
	}
	clock.Advance(2 * time.Second)
	resp, body = get(t, e.URL+"/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a closed database: %d %q, want 503", resp.StatusCode, body)
	}
	if strings.Contains(body, "closed") || strings.Contains(body, "sql") {
		t.Errorf("/readyz shows the error: %q", body)
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("/readyz sets a cookie: %q", c)
	}
	if resp, _ := get(t, e.URL+"/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d, want 200 (it stays trivial)", resp.StatusCode)
	}
}
