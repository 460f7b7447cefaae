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
