package reporting_test

import (
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// The office's time zone is Europe/Berlin until an admin chooses another;
// only names of the IANA database are taken, each refused one as an error
// on the field; the choice is audited and its time stored in UTC.
func TestOfficeZone(t *testing.T) {
	e := newEnv(t)
	admin := setUpAdmin(t, e)
	ctx := t.Context()

	zone, err := e.settings.OfficeZone(ctx)
	if err != nil || zone.String() != reporting.DefaultOfficeZone {
		t.Fatalf("default zone %v (%v), want %s", zone, err, reporting.DefaultOfficeZone)
	}

	for _, bad := range []string{"", "Local", "Mars/Olympus_Mons", "europe/berlin", "../../etc/passwd", "/etc/localtime", strings.Repeat("A/", 40)} {
		_, err := e.settings.SetOfficeZone(ctx, admin, bad)
		if got := reporting.FieldErrors(err)["zone"]; got != "officetime.error.zone" {
			t.Errorf("zone %q: error %v (field message %q), want officetime.error.zone on the field", bad, err, got)
		}
	}
	if zone, _ := e.settings.OfficeZone(ctx); zone.String() != reporting.DefaultOfficeZone {
		t.Errorf("after refused names the zone is %v", zone)
	}

	if _, err := e.settings.SetOfficeZone(ctx, admin, " America/New_York "); err != nil {
		t.Fatalf("SetOfficeZone: %v", err)
	}
	if zone, _ := e.settings.OfficeZone(ctx); zone.String() != "America/New_York" {
		t.Errorf("zone after the change: %v", zone)
	}
	var detail, at string
	if err := e.rawDB(t).QueryRowContext(ctx, `SELECT detail, at FROM audit WHERE action = ? ORDER BY id DESC LIMIT 1`, reporting.AuditSettings).Scan(&detail, &at); err != nil {
		t.Fatal(err)
	}
	if detail != "office_time_zone=America/New_York" {
		t.Errorf("audit detail %q", detail)
	}
	// Storage stays UTC whatever zone the office shows.
	if !strings.HasSuffix(at, "Z") {
		t.Errorf("the audit entry's time is stored as %q, want UTC", at)
	}

	// Only admins choose it.
	pw := accUser(t, e, admin, "berta", reporting.RoleCounsellor, accTeamID(t, e, "PLANB Ruhr"))
	_, berta := accLogin(t, e, "berta", pw)
	if _, err := e.settings.SetOfficeZone(ctx, berta, "Europe/Berlin"); reporting.ErrorCode(err) == "" {
		t.Errorf("a counsellor set the office's zone: %v", err)
	}
	if zone, _ := e.settings.OfficeZone(ctx); zone.String() != "America/New_York" {
		t.Errorf("zone after the counsellor's try: %v", zone)
	}
}
