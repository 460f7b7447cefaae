package web

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// casesPerPage is the length of one page of the case list: 25 rows fit
// two screens (issue 13), and every row is a report decrypted for the page.
const casesPerPage = 25

// casesData is one page of the case list with its filter form.
type casesData struct {
	Cases       []reporting.Case
	Total       int
	Filter      reporting.CaseFilter // normalized: what the form shows selected
	Page, Pages int
	PrevURL     template.URL // "" on the first page
	NextURL     template.URL // "" on the last page
	Teams       []reporting.Team
	Members     []reporting.Assignee
	Moved       bool // a case was just moved to a team the user cannot see
	ScanCap     int  // reporting.SearchScanCap, for the page's hint
	V           vocabulary
	Flags       map[string]reporting.MessageFlags // message markers by case ID (followup)
	Due         *dueBox                           // what is due today and overdue (office_reminders.go); nil on a filtered or later page
	// ManyTeams: the user works in more than one team, so the list has a
	// team column (with one team it would repeat one name in every row).
	ManyTeams bool
}

// caseList lists the cases of the user's teams, filtered, sorted and paged by
// the query string (a GET form: it works without JavaScript and the
// address can be bookmarked). Only the page shown is decrypted.
func (s *Server) caseList(c *gin.Context) {
	page, err := strconv.Atoi(c.DefaultQuery("page", "1"))
	if err != nil || page < 1 {
		page = 1
	}
	team, _ := strconv.ParseInt(c.Query("team"), 10, 64)
	f := reporting.CaseFilter{
		Status: c.Query("status"), Assignee: c.Query("assignee"), Team: team,
		Ground: c.Query("ground"), Subground: c.Query("subground"), Area: c.Query("area"),
		Municipality: c.Query("municipality"), DeadlineSoon: c.Query("deadline") == "soon",
		Unread: c.Query("unread") == "1", AwaitingUs: c.Query("awaiting") == "1",
		Due:  c.Query("due") == "1",
		Wish: c.Query("wish"), Contact: c.Query("contact"), Text: c.Query("q"),
		Sort: c.Query("sort"), Dir: c.Query("dir"),
		Page: reporting.Page{Limit: casesPerPage, Offset: (page - 1) * casesPerPage},
	}
	ctx, sess := c.Request.Context(), session(c)
	// A case number in the search field goes straight to the case
	// (only on the first page: a later page is a search being paged).
	if page == 1 && f.Text != "" {
		id, ok, err := s.cases.FindCase(ctx, sess, f.Text)
		if err != nil {
			s.fail(c, err)
			return
		}
		if ok {
			c.Redirect(http.StatusSeeOther, "/office/cases/"+url.PathEscape(id))
			return
		}
	}
	list, total, f, err := s.cases.CaseList(ctx, sess, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := casesData{Cases: list, Total: total, Filter: f, Page: page, Pages: max(1, (total+casesPerPage-1)/casesPerPage),
		Moved: c.Query("moved") == "1", V: vocab, ScanCap: reporting.SearchScanCap}
	if d.Teams, d.Members, err = s.cases.CaseTeams(ctx, sess); err != nil {
		s.fail(c, err)
		return
	}
	d.ManyTeams = len(d.Teams) > 1
	if err := s.caseFlags(c, &d); err != nil {
		s.fail(c, err)
		return
	}
	// The box belongs to the start page: a filtered, searched or later
	// page would decrypt its cases (and audit a second case list) for a
	// box the counsellor is not looking at.
	if page == 1 && !filtered(c) {
		box, err := s.loadDueBox(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		d.Due = &box
	}
	if page > 1 {
		d.PrevURL = listURL(f, page-1)
	}
	// A capped count ("more than 1,000") has a next page for certain:
	// the count went past this page's end (reporting.CountCap).
	if page < d.Pages || f.CountCapped {
		d.NextURL = listURL(f, page+1)
	}
	s.render(c, http.StatusOK, "cases", view{Title: "cases.title", Data: d})
}

// listFilters are the case list's query parameters that narrow or order
// the list.
var listFilters = []string{"status", "assignee", "team", "ground", "subground", "area", "municipality",
	"deadline", "unread", "awaiting", "due", "wish", "contact", "q", "sort", "dir"}

// filtered reports whether the list request sets any filter.
func filtered(c *gin.Context) bool {
	for _, k := range listFilters {
		if c.Query(k) != "" {
			return true
		}
	}
	return false
}

// bulkData is the answer to a bulk change: what changed and what not, or
// why nothing was tried.
type bulkData struct {
	Result reporting.BulkResult
	Error  string // a message ID: nothing was selected or chosen
}

// bulkCases applies the list's bulk form to the ticked cases. Each case
// is changed as on its case page (its change and audit entry in one
// transaction); the page names how many changed and which were refused.
// It answers with a page, not a redirect: the refusals are for this
// request only, and a reload is refused by the form's POST warning.
func (s *Server) bulkCases(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	pf := c.Request.PostForm
	b := reporting.BulkChange{Status: pf.Get("status"), ClosingReason: pf.Get("closing_reason"), Assignee: pf.Get("assignee")}
	res, err := s.cases.Bulk(c.Request.Context(), session(c), pf["ids"], b)
	if errs := reporting.FieldErrors(err); errs != nil {
		d := bulkData{}
		for _, k := range []string{"ids", "action", "assignee"} {
			if d.Error == "" {
				d.Error = errs[k]
			}
		}
		s.render(c, http.StatusUnprocessableEntity, "case-bulk", view{Title: "case_list.bulk.title", Data: d})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "case-bulk", view{Title: "case_list.bulk.title", Data: bulkData{Result: res}})
}

// listURL is the address of a page of the list with the same filter.
func listURL(f reporting.CaseFilter, page int) template.URL {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", f.Status)
	set("assignee", f.Assignee)
	if f.Team != 0 {
		q.Set("team", strconv.FormatInt(f.Team, 10))
	}
	set("ground", f.Ground)
	set("subground", f.Subground)
	set("area", f.Area)
	set("municipality", f.Municipality)
	if f.DeadlineSoon {
		q.Set("deadline", "soon")
	}
	if f.Unread {
		q.Set("unread", "1")
	}
	if f.AwaitingUs {
		q.Set("awaiting", "1")
	}
	if f.Due {
		q.Set("due", "1")
	}
	set("wish", f.Wish)
	set("contact", f.Contact)
	// The search text is the one value typed by hand; url.Values encodes
	// it. It stays in the office's own address bar and history only:
	// the office logs no query strings (server.go).
	set("q", f.Text)
	q.Set("sort", f.Sort)
	q.Set("dir", f.Dir)
	q.Set("page", strconv.Itoa(page))
	// Built from the normalized filter (known codes and numbers only) and
	// encoded by url.Values, so it is safe to use as it is.
	return template.URL("/office/cases?" + q.Encode())
}

// vocabulary is the classification scheme as the templates offer it.
type vocabulary struct {
	Grounds, Areas, Municipalities, Statuses, Sorts []string
	Wishes                                          []string
	SubgroundsOf, SubareasOf                        map[string][]string
	LegalForms, PracticeForms, OtherForms           []string
	Levels, IncidentTypes, ReporterRoles, AGG       []string
	Interventions, ClosingReasons                   []string
}

var vocab = vocabulary{
	Grounds: reporting.Grounds, Areas: reporting.Areas, Municipalities: reporting.Municipalities,
	Statuses: reporting.Statuses, Sorts: reporting.Sorts, Wishes: reporting.Wishes,
	SubgroundsOf: reporting.SubgroundsOf, SubareasOf: reporting.SubareasOf,
	LegalForms: reporting.LegalForms, PracticeForms: reporting.PracticeForms,
	OtherForms: reporting.Forms[len(reporting.LegalForms)+len(reporting.PracticeForms):],
	Levels:     reporting.Levels, IncidentTypes: reporting.IncidentTypes, ReporterRoles: reporting.ReporterRoles,
	AGG: reporting.AGGRelevance, Interventions: reporting.Interventions, ClosingReasons: reporting.ClosingReasons,
}

// caseData is the case page: the case file and the state of its forms.
type caseData struct {
	File   reporting.CaseFile
	V      vocabulary
	F      caseForms
	Thread []reporting.Message // the messages with the reporter (followup)
	// Reminder is the case's open reminder (office_reminders.go).
	Reminder reminderBox
	// Languages are the office's language codes (i18n): offered for the
	// interpreter mark and named by their label; any other code is shown
	// as typed.
	Languages []string
	// Replies are the reply templates next to the composer
	// (office_replytemplates.go).
	Replies replyPicker
	// Saved names the section whose form was just saved (one of
	// savedSections), for its confirmation; "" for none.
	Saved string
	// Flags are the case's message markers as they were before this page
	// opened the thread (which marks it read).
	Flags reporting.MessageFlags
}

// savedSections are the case page's sections that confirm a save; any
// other ?saved= value is ignored.
var savedSections = []string{"triage", "classification", "notes", "messages", "transfer", "interpreter"}

// SavedIn is section when its form was just saved, else "": the case
// page's confirmation next to that form's button.
func (d caseData) SavedIn(section string) string {
	if d.Saved == section {
		return section
	}
	return ""
}

// detailKeys are the detailed classification's fields.
var detailKeys = []string{"subareas", "incident_type", "level", "reporter_role", "incident_date", "interventions"}

// DetailsOpen reports whether the detailed classification is shown open:
// when it has errors (its own, or the triage panel's on its fields) or
// was just saved.
func (d caseData) DetailsOpen() bool {
	if len(d.F.ClassErr) > 0 || d.Saved == "classification" {
		return true
	}
	for _, k := range detailKeys {
		if _, ok := d.F.TriageErr[k]; ok {
			return true
		}
	}
	return false
}

// caseForms holds what each form of the case page shows: the stored
// values, or after a failed POST what was typed, with the errors.
type caseForms struct {
	Triage      reporting.TriageForm // the triage panel
	TriageErr   map[string]string
	Class       reporting.ClassificationForm
	ClassErr    map[string]string
	Note        string
	NoteErr     map[string]string
	Team        int64
	TransferErr map[string]string
	Message     string // followup: the message to the reporter
	MessageErr  map[string]string
	Reminder    reporting.ReminderForm // the reminder form (office_reminders.go)
	ReminderErr map[string]string
	// Interpreter is the "interpreter needed" form (office_interpreter.go).
	Interpreter    reporting.InterpreterForm
	InterpreterErr map[string]string
	Failed         string // the section of the form that failed, for the error summary's link
}

// TriageAssignee is the triage panel's assignee as a user ID (0: nobody
// or not a number), for the select.
func (f caseForms) TriageAssignee() int64 {
	id, _ := strconv.ParseInt(f.Triage.Assignee, 10, 64)
	return id
}

// caseDetail shows one decrypted case with its case work.
func (s *Server) caseDetail(c *gin.Context) {
	s.showCase(c, http.StatusOK, nil)
}

// showCase renders the case page; edit, when set, puts a failed form's
// input and errors in place of the stored values.
func (s *Server) showCase(c *gin.Context, status int, edit func(*caseForms)) {
	file, err := s.cases.CaseFile(c.Request.Context(), session(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	d := caseData{File: file, V: vocab, F: caseForms{Class: file.Form}, Languages: languageCodes}
	d.F.Interpreter = reporting.InterpreterForm{Needed: file.Interpreter != "", Language: file.Interpreter}
	d.F.Triage = reporting.TriageForm{
		Assignee: strconv.FormatInt(file.AssigneeID, 10), Grounds: file.Form.Grounds, Subgrounds: file.Form.Subgrounds,
		Areas: file.Form.Areas, Municipality: file.Form.Municipality, Forms: file.Form.Forms, AGGRelevant: file.Form.AGGRelevant,
	}
	if status == http.StatusOK && slices.Contains(savedSections, c.Query("saved")) {
		d.Saved = c.Query("saved")
	}
	flags, err := s.replies.MessageFlags(c.Request.Context(), session(c), []string{file.ID})
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Flags = flags[file.ID]
	if err := s.caseThread(c, &d); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.caseReminder(c, &d); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.caseReplyTemplates(c, &d); err != nil {
		s.fail(c, err)
		return
	}
	s.logAltered(c, d)
	if edit != nil {
		edit(&d.F)
	}
	s.render(c, status, "case", view{Title: "case.title", Data: d})
}

// logAltered writes an error line for each item of the case page that was
// changed in the database and is shown as altered (the domain has audited
// each). Kind and ID only: they say where to look, not what it said.
func (s *Server) logAltered(c *gin.Context, d caseData) {
	items := d.File.Altered
	for _, m := range d.Thread {
		if m.Altered {
			items = append(items, reporting.AlteredItem{Kind: reporting.AlteredMessage, ID: m.ID})
		}
		for _, f := range m.Files {
			if f.Altered {
				items = append(items, reporting.AlteredItem{Kind: reporting.AlteredAttachment, ID: f.ID})
			}
		}
	}
	for _, it := range items {
		s.log(c).Error("altered item shown as altered", "request_id", requestID(c), "case", d.File.ID, "kind", it.Kind, "item", it.ID)
	}
}
