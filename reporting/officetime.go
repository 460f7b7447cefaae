package reporting

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	// The zone database goes into the binary: a server image without
	// /usr/share/zoneinfo must still show the office's local time, and a
	// name an admin chose must not stop working after an OS update.
	_ "time/tzdata"
)

// The office's time zone (issue 13): every time the office pages show is
// shown in it, with the zone named. Storage keeps UTC; this is only how
// times are shown. The public side shows days only and does not use it.
//
// Not MACed like the security settings: a database writer who changes it
// shifts the times shown by some hours, which the office sees at once,
// and the stored times (and the audit chain over them) stay as they are.
const settingOfficeZone = "office_time_zone"

// DefaultOfficeZone is the zone before an admin chose one: the office is
// in the Ruhr.
const DefaultOfficeZone = "Europe/Berlin"

// maxZoneName bounds the typed name; the longest IANA names have some 30
// characters.
const maxZoneName = 64

// zones caches loaded locations by name: time.LoadLocation reads and
// parses the zone file on every call, and every office page needs one.
var zones sync.Map // string → *time.Location

// loadZone loads an IANA zone by name. Only names of the zone database
// count: "Local" would be whatever the server's zone is, and "" is UTC
// without saying so.
func loadZone(name string) (*time.Location, bool) {
	if name == "" || name == "Local" || len(name) > maxZoneName {
		return nil, false
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), true
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	zones.Store(name, loc)
	return loc, true
}

// OfficeZone returns the office's time zone: DefaultOfficeZone before an
// admin chose one, and also if the stored name no longer loads (the
// times are then shown in the default zone, still named, rather than the
// office pages failing).
func (st *Settings) OfficeZone(ctx context.Context) (*time.Location, error) {
	return officeZone(ctx, st.store)
}

// zoneSetting reads the office's time zone setting; the services that
// need the office's day (reminders, the reminder mail) read it through it.
type zoneSetting interface {
	Setting(ctx context.Context, key string) ([]byte, error)
}

// officeZone is Settings.OfficeZone on any store that has the setting.
func officeZone(ctx context.Context, store zoneSetting) (*time.Location, error) {
	name := DefaultOfficeZone
	raw, err := store.Setting(ctx, settingOfficeZone)
	switch {
	case err == nil:
		name = string(raw)
	case ErrorCode(err) != ENotFound:
		return nil, fmt.Errorf("office time zone: %w", err)
	}
	if loc, ok := loadZone(name); ok {
		return loc, nil
	}
	loc, _ := loadZone(DefaultOfficeZone)
	return loc, nil
}

// officeDay is the office's date at t (YYYY-MM-DD): "due today" is the
// office's today, not the server clock's, which runs on UTC and would
// turn the day at 01:00 or 02:00 in Berlin.
func officeDay(ctx context.Context, store zoneSetting, t time.Time) (string, error) {
	loc, err := officeZone(ctx, store)
	if err != nil {
		return "", err
	}
	return t.In(loc).Format(time.DateOnly), nil
}

// SetOfficeZone stores the office's time zone (admins only), an IANA
// name such as "Europe/Berlin", and returns it loaded. A name the zone
// database does not know is a field error on "zone". The change and its
// audit entry, which names the zone, commit together.
func (st *Settings) SetOfficeZone(ctx context.Context, s *OfficeSession, name string) (*time.Location, error) {
	if err := allow(s, PermSettings); err != nil {
		return nil, opError("set office time zone", err)
	}
	name = strings.TrimSpace(name)
	loc, ok := loadZone(name)
	if !ok {
		return nil, fieldErrors{"zone": "officetime.error.zone"}.err()
	}
	if err := st.putAudited(ctx, s, settingOfficeZone, []byte(loc.String()), "office_time_zone="+loc.String()); err != nil {
		return nil, opError("set office time zone", err)
	}
	return loc, nil
}
