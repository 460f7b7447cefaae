package reporting

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The counsellors' triage vocabularies (CLASSIFICATION.md, full scheme).
// Like those in vocab.go, codes are stable identifiers stored in the plain
// statistical record and used in exports; labels are translated by message
// ID: "cls.<dimension>.<code>".
//
// Sub-grounds and sub-areas are refinements: a sub-code is only accepted
// together with its parent, and leaving them all unticked means "not more
// precisely known". Every sub-code is unique across its dimension, so a
// flat list of sub-codes says which parent each belongs to.

// SubgroundsOf lists the sub-grounds of each ground that has some.
var SubgroundsOf = map[string][]string{
	"racism":          RacismSubgrounds,
	"gender":          {"women", "men", "trans", "inter", "non_binary"},
	"sexual_identity": {"lesbian", "gay", "bisexual", "queer", "asexual"},
	"religion":        {"islam", "judaism", "christianity", "other_religion", "no_religion"},
	"disability":      {"disability", "chronic_illness"},
	"age":             {"old", "young"},
	"social_status":   {"education", "income", "housing_situation"},
}

// SubareasOf lists the sub-areas of each area of life that has some.
var SubareasOf = map[string][]string{
	"work":           {"hiring", "everyday_work", "terms", "termination"},
	"education":      {"daycare", "school", "special_needs", "university", "training", "private_provider"},
	"authorities":    {"jobcenter", "immigration_office", "youth_office", "registry_office", "public_order_office", "citizens_office", "tax_office"},
	"police_justice": {"police", "courts"},
	"goods_services": {"shop", "restaurant", "gym", "culture", "nightlife", "finance", "hotel", "post_delivery", "public_transport"},
	"housing":        {"flat_search", "tenancy"},
	"health":         {"hospital", "doctor", "psychosocial", "care_home", "health_insurance"},
	"public_space":   {"street", "neighbourhood", "club", "religious_site"},
	"media":          {"social_media", "online_media", "print", "tv_radio", "advertising"},
}

// LegalForms are the forms of discrimination of §3 AGG.
var LegalForms = []string{"direct", "indirect", "harassment", "sexual_harassment", "instruction"}

// PracticeForms are the forms of discrimination the counselling practice
// records beside the legal ones.
var PracticeForms = []string{"denied_access", "unequal_treatment", "victimisation", "criminal_offence", "microaggression"}

// Forms are all forms of discrimination (multi-select): legal, practice,
// then "other" and "not_stated".
var Forms = slices.Concat(LegalForms, PracticeForms, []string{"other", "not_stated"})

// Levels are the levels at which discrimination happened (single).
var Levels = []string{"individual", "institutional", "structural", "other", "not_stated"}

// IncidentTypes are the monitoring incident types, aligned with MIA, RIAS
// and CLAIM (single).
var IncidentTypes = []string{"extreme_violence", "assault", "property_damage", "threat", "discrimination", "verbal_abuse", "mass_mailing", "other", "not_stated"}

// ReporterRoles are the reporter roles of the triage record (single): the
// reporter's own choices (Roles) plus "other" and "not_stated".
var ReporterRoles = slices.Concat(Roles, []string{"other", "not_stated"})

// AGGRelevance says whether the General Equal Treatment Act applies
// (single); "unclear" stands for "not (yet) known".
var AGGRelevance = []string{"agg_relevant", "not_agg_relevant", "unclear"}

// Interventions are the kinds of intervention (multi-select).
var Interventions = []string{"complaint_letter", "statement_requested", "mediation", "accompaniment", "legal_out_of_court", "court", "other"}

// ClosingReasons say why a case was closed (single, set when it is):
//
//	resolved         the person's concern was settled
//	partly_resolved  it was settled in part
//	referred         the person was passed on to another service
//	no_contact       the person could no longer be reached
//	withdrawn        the person ended the counselling
//	no_mandate       no counselling mandate came about (advice only)
//	other            anything else
var ClosingReasons = []string{"resolved", "partly_resolved", "referred", "no_contact", "withdrawn", "no_mandate", "other"}

// AGG claim deadline: claims must be made within two months of the
// incident (§15(4), §21(5) AGG); the office warns this many days ahead.
const (
	ClaimMonths      = 2
	DeadlineWarnDays = 14
)

// MaxNote is the longest internal note, in characters.
const MaxNote = 10000

// Classification is the statistical record of a case: plain, coarse codes
// set by counsellors at triage, stored apart from the encrypted content and
// kept after it is deleted. Multi-valued dimensions are sorted in
// vocabulary order.
type Classification struct {
	ReportID      string
	Year, Month   int // of the incident; 0 when unknown
	Day           int // of the incident, 0 when unknown: sealed with the case (CaseDates), never in the statistical record
	Municipality  string
	Grounds       []string
	Subgrounds    []string
	Areas         []string
	Subareas      []string
	Forms         []string
	Level         string // "" until decided
	IncidentType  string // "" until decided
	ReporterRole  string
	AGGRelevant   string // "" until decided
	Interventions []string
	ClosedOn      string // "2026-05-20" while the case is closed, else ""
	ClosingReason string // set with ClosedOn
}

// ClassificationForm is the triage form as typed: raw strings, so that a
// form with errors comes back unchanged.
type ClassificationForm struct {
	IncidentDate  string // "2026-05" (or the other formats of the public form)
	IncidentDay   string // optional day of the month
	Municipality  string
	Grounds       []string
	Subgrounds    []string
	Areas         []string
	Subareas      []string
	Forms         []string
	Level         string
	IncidentType  string
	ReporterRole  string
	AGGRelevant   string
	Interventions []string
	ClosingReason string
}

// Validate checks the form against the vocabularies and returns the
// record for the case with the given status, or an *Error naming each
// field that failed. Unknown codes are refused, never dropped, so that a
// stale or tampered form cannot silently lose a choice. today bounds the
// incident date.
func (f ClassificationForm) Validate(status string, today time.Time) (Classification, error) {
	errs := fieldErrors{}
	c := Classification{
		Municipality:  f.Municipality,
		Level:         f.Level,
		IncidentType:  f.IncidentType,
		ReporterRole:  f.ReporterRole,
		AGGRelevant:   f.AGGRelevant,
		ClosingReason: f.ClosingReason,
	}
	var ok bool
	if c.Grounds, ok = codes(f.Grounds, Grounds); !ok {
		errs.add("grounds", "error.cls.unknown")
	} else if len(c.Grounds) == 0 {
		errs.add("grounds", "error.cls.grounds.required")
	}
	if c.Subgrounds, ok = subcodes(f.Subgrounds, c.Grounds, SubgroundsOf); !ok {
		errs.add("subgrounds", "error.cls.subgrounds")
	}
	if c.Areas, ok = codes(f.Areas, Areas); !ok {
		errs.add("areas", "error.cls.unknown")
	} else if len(c.Areas) == 0 {
		errs.add("areas", "error.cls.areas.required")
	}
	if c.Subareas, ok = subcodes(f.Subareas, c.Areas, SubareasOf); !ok {
		errs.add("subareas", "error.cls.subareas")
	}
	if c.Forms, ok = codes(f.Forms, Forms); !ok {
		errs.add("forms", "error.cls.unknown")
	}
	if c.Interventions, ok = codes(f.Interventions, Interventions); !ok {
		errs.add("interventions", "error.cls.unknown")
	}
	if !known(Municipalities, c.Municipality) {
		errs.add("municipality", "error.cls.municipality.required")
	}
	if !known(ReporterRoles, c.ReporterRole) {
		errs.add("reporter_role", "error.cls.reporter_role.required")
	}
	for field, v := range map[string]struct {
		code  string
		vocab []string
	}{
		"level":         {c.Level, Levels},
		"incident_type": {c.IncidentType, IncidentTypes},
		"agg_relevant":  {c.AGGRelevant, AGGRelevance},
	} {
		if v.code != "" && !known(v.vocab, v.code) {
			errs.add(field, "error.cls.unknown")
		}
	}
	switch {
	case c.ClosingReason != "" && !known(ClosingReasons, c.ClosingReason):
		errs.add("closing_reason", "error.cls.unknown")
	case c.ClosingReason != "" && status != StatusClosed:
		// The reason is part of closing: it is set by the status change
		// and may only be corrected while the case is closed.
		errs.add("closing_reason", "error.cls.closing_reason.not_closed")
	case c.ClosingReason == "" && status == StatusClosed:
		errs.add("closing_reason", "error.cls.closing_reason.required")
	}
	if date, msg := parseIncidentDate(f.IncidentDate, f.IncidentDay, today); msg != "" {
		errs.add("incident_date", msg)
	} else {
		c.Year, c.Month, c.Day = splitDate(date)
	}
	if err := errs.err(); err != nil {
		return Classification{}, err
	}
	return c, nil
}

// codes checks that every code is in vocab and returns them once each, in
// vocabulary order; ok is false if any is unknown.
func codes(in, vocab []string) ([]string, bool) {
	var out []string
	for _, c := range in {
		if !known(vocab, c) {
			return nil, false
		}
		out = appendOnce(out, c)
	}
	slices.SortFunc(out, byVocab(vocab))
	return out, true
}

// subcodes checks that every sub-code exists and that its parent was
// chosen, and returns them in vocabulary order.
func subcodes(in, parents []string, of map[string][]string) ([]string, bool) {
	var order []string // every sub-code of the chosen parents, in order
	for _, p := range parents {
		order = append(order, of[p]...)
	}
	return codes(in, order)
}

// splitDate turns "2026-05" or "2026-05-14" into numbers; "" gives zeros.
func splitDate(s string) (year, month, day int) {
	parts := strings.Split(s, "-")
	if s == "" || len(parts) < 2 {
		return 0, 0, 0
	}
	year, _ = strconv.Atoi(parts[0])
	month, _ = strconv.Atoi(parts[1])
	if len(parts) == 3 {
		day, _ = strconv.Atoi(parts[2])
	}
	return year, month, day
}

// Form returns the record as a form, for editing it.
func (c Classification) Form() ClassificationForm {
	f := ClassificationForm{
		Municipality: c.Municipality, Grounds: c.Grounds, Subgrounds: c.Subgrounds,
		Areas: c.Areas, Subareas: c.Subareas, Forms: c.Forms, Level: c.Level,
		IncidentType: c.IncidentType, ReporterRole: c.ReporterRole, AGGRelevant: c.AGGRelevant,
		Interventions: c.Interventions, ClosingReason: c.ClosingReason,
	}
	if c.Year > 0 {
		f.IncidentDate = fmt.Sprintf("%04d-%02d", c.Year, c.Month)
	}
	if c.Day > 0 {
		f.IncidentDay = strconv.Itoa(c.Day)
	}
	return f
}

// PrefillClassification starts the triage form of a case that has no
// record yet from what the reporter chose. The counsellor checks it; the
// reporter's choices are never stored in plain without that.
func PrefillClassification(r Report) ClassificationForm {
	f := ClassificationForm{ReporterRole: r.Role, Municipality: r.Municipality}
	for _, g := range r.Grounds {
		if known(Grounds, g) {
			f.Grounds = append(f.Grounds, g)
		}
	}
	f.Subgrounds = slices.Clone(r.Subgrounds)
	if known(Areas, r.Area) {
		f.Areas = []string{r.Area}
	}
	if y, m, d := splitDate(r.IncidentDate); y > 0 {
		f.IncidentDate = fmt.Sprintf("%04d-%02d", y, m)
		if d > 0 {
			f.IncidentDay = strconv.Itoa(d)
		}
	}
	return f
}

// Deadline is the AGG claim deadline of a case as the office shows it.
type Deadline struct {
	Applies    bool   // AGG-relevant, in work or goods and services
	Known      bool   // the incident month is known, so Date is set
	Date       string // the last day for the claim, "2026-07-14"
	DayAssumed bool   // the incident day is unknown: the 1st of the month was assumed
	DaysLeft   int    // from today to Date; negative once passed
	Soon       bool   // 0 to DeadlineWarnDays days left
	Passed     bool   // Date is before today
}

// Deadline computes the claim deadline for today. A period of months ends
// on the day of the last month with the incident day's number, or on that
// month's last day if it has no such day (§188(2), (3) BGB); a deadline on
// a weekend is not moved, so the warning errs on the early side. With only
// the month known, the first day is assumed, for the same reason.
func (c Classification) Deadline(today time.Time) Deadline {
	d := Deadline{Applies: c.AGGRelevant == "agg_relevant" &&
		(slices.Contains(c.Areas, "work") || slices.Contains(c.Areas, "goods_services"))}
	if !d.Applies || c.Year == 0 {
		return d
	}
	day := c.Day
	if day == 0 {
		day, d.DayAssumed = 1, true
	}
	end := addMonthsClamped(time.Date(c.Year, time.Month(c.Month), day, 0, 0, 0, 0, time.UTC), ClaimMonths)
	d.Known, d.Date = true, end.Format(time.DateOnly)
	d.DaysLeft = int(end.Sub(dateOf(today)).Hours() / 24)
	d.Passed = d.DaysLeft < 0
	d.Soon = !d.Passed && d.DaysLeft <= DeadlineWarnDays
	return d
}

// DeadlineDate is the deadline's date, or "" when none applies or the
// incident month is unknown. It does not depend on the day it is computed.
func (c Classification) DeadlineDate() string { return c.Deadline(time.Time{}).Date }

// DeadlineWeek is what the database keeps in plain of the deadline: the
// Monday of its week ("2026-07-13"), or "" when none applies. The exact
// date would give away the incident day (the deadline is the day two
// months on); the week is enough for the case list to filter and sort in
// SQL, and the page it shows is decrypted anyway.
func (c Classification) DeadlineWeek() string {
	d := c.DeadlineDate()
	if d == "" {
		return ""
	}
	t, _ := time.Parse(time.DateOnly, d)
	return weekOf(t).Format(time.DateOnly)
}

// weekOf is the Monday of t's week (ISO weeks start on Monday).
func weekOf(t time.Time) time.Time {
	t = dateOf(t)
	return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
}

// addMonthsClamped adds n months, keeping the day of the month or, where
// the target month is shorter, taking its last day (31 Dec + 2 → 28/29 Feb).
func addMonthsClamped(t time.Time, n int) time.Time {
	first := time.Date(t.Year(), t.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(t.Day(), last)-1)
}

// dateOf is the calendar day of t, at midnight UTC, for counting days.
func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
