package reporting_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// Codes of docs/classification.md a reporter can choose, written
// out here rather than taken from vocab.go, so that a code added to the
// form without the scheme shows up.
var (
	schemeGrounds     = []string{"racism", "gender", "sexual_identity", "religion", "disability", "age", "social_status", "other", "not_stated"}
	schemeRacismSubs  = []string{"antiziganism", "anti_muslim", "anti_black", "antisemitism", "anti_asian", "anti_slavic", "refugee", "residence_status", "nationality", "language", "skin_colour", "ethnic_origin"}
	schemeAreas       = []string{"work", "education", "authorities", "police_justice", "goods_services", "housing", "health", "public_space", "media", "other", "not_stated"}
	schemeRoles       = []string{"affected", "witness", "on_behalf", "not_stated"}
	schemeWishes      = []string{"document_only", "counselling", "contact_me", "not_stated"}
	formFields        = []string{"role", "incident_date", "municipality", "grounds", "area", "description", "wish", "contact", "consent"}
	storedIncidentDay = regexp.MustCompile(`^\d{4}-\d{2}(-\d{2})?$`)
)

// FuzzReportFormValidate feeds the public form arbitrary strings, as a
// browser or a script may send them. A report it accepts holds only codes
// of the classification scheme and the form's vocabularies, a description
// of 1 to MaxDescription characters of valid UTF-8, a real incident date
// that is not in the future, and the reporter's consent; a refusal names
// only form fields, each with a message ID.
func FuzzReportFormValidate(f *testing.F) {
	today := time.Date(2026, 5, 20, 15, 0, 0, 0, time.UTC)
	long := strings.Repeat("ä", reporting.MaxDescription)
	f.Add("affected", "2026-03", "14", "bochum", "antiziganism", "gender", "housing", "Der Vermieter hat uns abgewiesen.", "contact_me", "Signal", true)
	f.Add("witness", "14.05.2026", "", "herne", "racism", "racism", "work", long, "document_only", "", true)
	f.Add("witness", "05/2026", "31", "online", "refugee", "", "media", long+"x", "counselling", "", true)
	f.Add("on_behalf", "2026-05-21", "", "essen", "gender", "nonsense", "other", " \t\n ", "contact_me", "", true)
	f.Add("affected", "1949-12", "", "marl", "age", "", "health", "invalid \xff utf-8", "counselling", strings.Repeat("x", 501), false)
	f.Add("affected", "2026-02", "30", "marl", "age", "", "health", "x", "counselling", "", true)
	f.Add("affected", "2026-02", "+5", "marl", "age", "", "health", "x", "counselling", "", true)
	f.Fuzz(func(t *testing.T, role, date, day, municipality, g1, g2, area, description, wish, contact string, consent bool) {
		form := reporting.ReportForm{Role: role, IncidentDate: date, IncidentDay: day, Municipality: municipality,
			Grounds: []string{g1, g2}, Area: area, Description: description, Wish: wish, Contact: contact, Consent: consent}
		r, err := form.Validate("de", today)
		if err != nil {
			errs := reporting.FieldErrors(err)
			if len(errs) == 0 {
				t.Fatalf("refused without naming a field: %v", err)
			}
			for field, id := range errs {
				if !slices.Contains(formFields, field) || !strings.HasPrefix(id, "error.") {
					t.Fatalf("refusal names %q → %q", field, id)
				}
			}
			if n := utf8.RuneCountInString(strings.TrimSpace(description)); n > reporting.MaxDescription && errs["description"] == "" {
				t.Fatalf("description of %d characters refused, but not for its length: %v", n, errs)
			}
			return
		}
		// not_stated: the reporter skipped an optional question.
		if !slices.Contains(schemeRoles, r.Role) || !slices.Contains(reporting.Municipalities, r.Municipality) ||
			!slices.Contains(schemeAreas, r.Area) || !slices.Contains(schemeWishes, r.Wish) {
			t.Fatalf("accepted a code outside the vocabularies: %+v", r)
		}
		if len(r.Grounds) == 0 {
			t.Fatalf("accepted without a ground: %+v", r)
		}
		for _, g := range r.Grounds {
			if !slices.Contains(schemeGrounds, g) {
				t.Fatalf("accepted ground %q, not in the classification scheme", g)
			}
		}
		for _, s := range r.Subgrounds {
			if !slices.Contains(schemeRacismSubs, s) || !slices.Contains(r.Grounds, "racism") {
				t.Fatalf("accepted sub-ground %q with grounds %v", s, r.Grounds)
			}
		}
		n := utf8.RuneCountInString(r.Description)
		if n < 1 || n > reporting.MaxDescription || !utf8.ValidString(r.Description) || r.Description != strings.TrimSpace(description) {
			t.Fatalf("accepted a description of %d characters (valid UTF-8: %t) from one of %d", n, utf8.ValidString(r.Description), utf8.RuneCountInString(description))
		}
		if utf8.RuneCountInString(r.Contact) > reporting.MaxContact || !utf8.ValidString(r.Contact) ||
			(r.Wish == "contact_me" && r.Contact == "") {
			t.Fatalf("accepted contact %q with wish %q", r.Contact, r.Wish)
		}
		if !consent {
			t.Fatal("accepted without consent")
		}
		if r.IncidentDate != "" {
			layout := "2006-01"
			if len(r.IncidentDate) == 10 {
				layout = "2006-01-02"
			}
			d, err := time.Parse(layout, r.IncidentDate)
			if !storedIncidentDay.MatchString(r.IncidentDate) || err != nil || d.Year() < 1950 || d.After(today) {
				t.Fatalf("accepted incident date %q from %q/%q (%v)", r.IncidentDate, date, day, err)
			}
		}
	})
}
