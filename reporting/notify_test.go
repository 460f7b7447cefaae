package reporting

import (
	"testing"
	"time"
)

// The wait after each failed attempt: one minute, doubling, never more
// than an hour.
func TestNotifyBackoff(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := backoff(i + 1); got != w {
			t.Errorf("after %d failures: %v, want %v", i+1, got, w)
		}
	}
	if got := backoff(1000); got != time.Hour {
		t.Errorf("after 1000 failures: %v, want 1h", got)
	}
}

// The mail names the team and links to the office, and nothing else
// varies: the same text for every report and every kind.
func TestNotificationMailIsFixed(t *testing.T) {
	s1, b1 := notificationMail("PLANB", "https://melden.example.org/office/cases")
	if s1 != "Meldestelle: Neues für Team PLANB / New for team PLANB" {
		t.Errorf("subject %q", s1)
	}
	s2, b2 := notificationMail("PLANB", "https://melden.example.org/office/cases")
	if s1 != s2 || b1 != b2 {
		t.Error("two notifications for the same team differ")
	}
}

// The batch delay is drawn from the whole range and never outside it; a
// range of one value gives that value.
func TestRandomDelay(t *testing.T) {
	lo, hi := DefaultDelayMin, DefaultDelayMax
	draw := RandomDelay(lo, hi)
	seen := map[time.Duration]bool{}
	var low, high bool
	for range 1000 {
		d := draw()
		if d < lo || d > hi {
			t.Fatalf("delay %v outside [%v, %v]", d, lo, hi)
		}
		seen[d] = true
		low = low || d < lo+(hi-lo)/4
		high = high || d > hi-(hi-lo)/4
	}
	if len(seen) < 990 || !low || !high {
		t.Errorf("1000 draws: %d distinct, some in the lowest quarter %v, in the highest %v", len(seen), low, high)
	}
	if d := RandomDelay(0, 0)(); d != 0 {
		t.Errorf("RandomDelay(0, 0) = %v", d)
	}
}
