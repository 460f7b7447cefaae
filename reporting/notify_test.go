package reporting

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/i18n"
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
	tr := mailTexts(t)
	s1, b1 := notificationMail(tr, i18n.OfficeLanguages, "PLANB", "https://melden.example.org/office/cases")
	if s1 != "Meldestelle: Neues für Team PLANB / New for team PLANB" {
		t.Errorf("subject %q", s1)
	}
	s2, b2 := notificationMail(tr, i18n.OfficeLanguages, "PLANB", "https://melden.example.org/office/cases")
	if s1 != s2 || b1 != b2 {
		t.Error("two notifications for the same team differ")
	}
}

func mailTexts(t *testing.T) *i18n.Bundle {
	t.Helper()
	tr, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// The mail's texts moved from Go code into the message files (issue 12)
// without changing a byte of what the recipients get: German, then
// English, every line ending in CRLF.
func TestNotificationMailFromMessageFiles(t *testing.T) {
	tr := mailTexts(t)
	const link = "https://melden.example.org/office/cases"
	for _, c := range []struct {
		team, subject, body string
	}{
		{"PLANB", "Meldestelle: Neues für Team PLANB / New for team PLANB",
			"Hallo,\r\n\r\nfür das Team PLANB ist in der Meldestelle etwas Neues eingegangen.\r\n" +
				"Bitte melden Sie sich im Büro an:\r\n\r\n" + link + "\r\n\r\n" +
				"--\r\n\r\nHello,\r\n\r\nsomething new has arrived for the team PLANB at the Meldestelle.\r\n" +
				"Please log in to the office:\r\n\r\n" + link + "\r\n"},
		{"", "Meldestelle: Neues für Ihre Teams / New for your teams",
			"Hallo,\r\n\r\nfür Ihre Teams ist in der Meldestelle etwas Neues eingegangen.\r\n" +
				"Bitte melden Sie sich im Büro an:\r\n\r\n" + link + "\r\n\r\n" +
				"--\r\n\r\nHello,\r\n\r\nsomething new has arrived for your teams at the Meldestelle.\r\n" +
				"Please log in to the office:\r\n\r\n" + link + "\r\n"},
	} {
		subject, body := notificationMail(tr, i18n.OfficeLanguages, c.team, link)
		if subject != c.subject {
			t.Errorf("team %q: subject\n%q, want\n%q", c.team, subject, c.subject)
		}
		if body != c.body {
			t.Errorf("team %q: body\n%q, want\n%q", c.team, body, c.body)
		}
	}
}

// The domain speaks no SMTP (issue 12): sending is the adapter
// reporting/smtpmail's, wired in cmd. Nor does it reach for the web or
// the database.
func TestReportingImportsNoAdapters(t *testing.T) {
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the imports with")
	}
	out, err := exec.Command(gocmd, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/planb-ruhr/meldestelle/reporting") {
		t.Fatalf("go list -deps printed no reporting package:\n%s", out)
	}
	for _, forbidden := range []string{"net/smtp", "database/sql", "github.com/gin-gonic/gin"} {
		if slices.Contains(deps, forbidden) {
			t.Errorf("package reporting depends on %s", forbidden)
		}
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
