package reporting

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the public form.
const (
	MaxDescription = 20000 // characters of "what happened"
	MaxContact     = 500   // characters of the contact field
)

// ReportForm is the public form as the reporter filled it in: raw strings,
// kept as typed so that a form with errors comes back unchanged.
type ReportForm struct {
	Role         string
	IncidentDate string // a month ("2026-05") or a date as typed
	IncidentDay  string // optional day of the month, 1 to 31
	Municipality string
	Grounds      []string // ground codes and racism sub-ground codes
	Area         string
	Description  string
	Wish         string
	Contact      string
	// Callback is "please call me back": for someone who cannot write
	// much, a number and this tick are the whole report.
	Callback bool
	Consent  bool
}

// NotStated is the code stored for an optional question the reporter left
// empty (CLASSIFICATION.md: every dimension has it). The reporter's own
// choices (Roles, Wishes) do not offer it; the office reads it as "not
// known".
const NotStated = "not_stated"

// Report is a validated report: what is encrypted and stored as the
// report's content. Nothing in it identifies the reporter unless they chose
// to leave a contact.
type Report struct {
	Role         string   `json:"role"`
	IncidentDate string   `json:"incident_date,omitempty"` // "2026-05" or "2026-05-14"
	Municipality string   `json:"municipality"`
	Grounds      []string `json:"grounds"`
	Subgrounds   []string `json:"subgrounds,omitempty"` // racism sub-grounds
	Area         string   `json:"area"`
	Description  string   `json:"description"`
	Wish         string   `json:"wish"`
	Contact      string   `json:"contact,omitempty"`
	Callback     bool     `json:"callback,omitempty"` // "please call me back" at Contact
	Language     string   `json:"language"`
}

// Validate checks the form against the vocabularies and limits and returns
// the report to store, or an *Error whose Fields name each field that
// failed. today is the reporter's day, for refusing future dates.
func (f ReportForm) Validate(language string, today time.Time) (Report, error) {
	errs := fieldErrors{}
	r := Report{
		Role:         orNotStated(f.Role),
		Municipality: orNotStated(f.Municipality),
		Area:         orNotStated(f.Area),
		Wish:         f.Wish,
		Description:  strings.TrimSpace(f.Description),
		Contact:      strings.TrimSpace(f.Contact),
		Callback:     f.Callback,
		Language:     language,
	}
	// Only what happened is required (issue 11): a frightened person is
	// heard with that alone. An empty optional field is stored as
	// not_stated; a value outside the vocabulary is still refused, as it
	// never comes from our form.
	if r.Role != NotStated && !known(Roles, r.Role) {
		errs.add("role", "error.role.required")
	}
	if date, msg := parseIncidentDate(f.IncidentDate, f.IncidentDay, today); msg != "" {
		errs.add("incident_date", msg)
	} else {
		r.IncidentDate = date
	}
	if !known(Municipalities, r.Municipality) {
		errs.add("municipality", "error.municipality.required")
	}
	for _, g := range f.Grounds {
		switch {
		case known(RacismSubgrounds, g):
			r.Subgrounds = appendOnce(r.Subgrounds, g)
			r.Grounds = appendOnce(r.Grounds, "racism")
		case known(Grounds, g):
			r.Grounds = appendOnce(r.Grounds, g)
		default:
			errs.add("grounds", "error.grounds.unknown")
		}
	}
	if len(r.Grounds) > 1 {
		// not_stated next to a stated ground says nothing more.
		r.Grounds = slices.DeleteFunc(r.Grounds, func(g string) bool { return g == NotStated })
	}
	if len(r.Grounds) == 0 {
		r.Grounds = []string{NotStated}
	}
	slices.SortFunc(r.Grounds, byVocab(Grounds))
	slices.SortFunc(r.Subgrounds, byVocab(RacismSubgrounds))
	if !known(Areas, r.Area) {
		errs.add("area", "error.area.required")
	}
	switch n := utf8.RuneCountInString(r.Description); {
	case n == 0:
		errs.add("description", "error.description.required")
	case n > MaxDescription || !utf8.ValidString(r.Description):
		errs.add("description", "error.description.too_long")
	}
	switch {
	case r.Wish == "" && r.Callback:
		r.Wish = "contact_me" // a ticked "call me back" is that wish
	case r.Wish == "":
		r.Wish = NotStated
	case !known(Wishes, r.Wish):
		errs.add("wish", "error.wish.required")
	}
	switch {
	case utf8.RuneCountInString(r.Contact) > MaxContact || !utf8.ValidString(r.Contact):
		errs.add("contact", "error.contact.too_long")
	case r.Callback && r.Contact == "":
		errs.add("contact", "error.callback.contact")
	case r.Wish == "contact_me" && r.Contact == "":
		errs.add("contact", "error.contact.required")
	}
	if !f.Consent {
		errs.add("consent", "error.consent.required")
	}
	if err := errs.err(); err != nil {
		return Report{}, err
	}
	return r, nil
}

// orNotStated is the code of an optional single choice: NotStated when
// the reporter left it empty.
func orNotStated(code string) string {
	if strings.TrimSpace(code) == "" {
		return NotStated
	}
	return code
}

func appendOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func byVocab(vocab []string) func(a, b string) int {
	return func(a, b string) int { return slices.Index(vocab, a) - slices.Index(vocab, b) }
}

// Dates as people type them where the browser offers no month picker.
var (
	isoDate    = regexp.MustCompile(`^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$`)
	dottedDate = regexp.MustCompile(`^(?:(\d{1,2})[./])?(\d{1,2})[./](\d{4})$`)
)

// parseIncidentDate accepts "2026-05", "2026-05-14", "05/2026", "5.2026"
// and "14.05.2026", with an optional separate day of the month that wins
// over one in the date, and returns "YYYY-MM" or "YYYY-MM-DD" or a message
// ID. An empty date is allowed: people do not always remember.
func parseIncidentDate(s, dayField string, today time.Time) (string, string) {
	s, dayField = strings.TrimSpace(s), strings.TrimSpace(dayField)
	if s == "" {
		if dayField != "" { // a day without a month means nothing
			return "", "error.incident_date.format"
		}
		return "", ""
	}
	var year, month, day string
	if m := isoDate.FindStringSubmatch(s); m != nil {
		year, month, day = m[1], m[2], m[3]
	} else if m := dottedDate.FindStringSubmatch(s); m != nil {
		day, month, year = m[1], m[2], m[3]
	} else {
		return "", "error.incident_date.format"
	}
	if dayField != "" {
		day = dayField
	}
	y, _ := strconv.Atoi(year)
	mo, _ := strconv.Atoi(month)
	if mo < 1 || mo > 12 || y < 1950 {
		return "", "error.incident_date.format"
	}
	out := fmt.Sprintf("%04d-%02d", y, mo)
	first := time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.UTC)
	if day != "" {
		d, _ := strconv.Atoi(day)
		t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		if d < 1 || t.Month() != time.Month(mo) {
			return "", "error.incident_date.format"
		}
		first, out = t, out+fmt.Sprintf("-%02d", d)
	}
	if first.After(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)) {
		return "", "error.incident_date.future"
	}
	return out, ""
}
