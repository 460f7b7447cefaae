package reporting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Case statuses (StatusNew is in vocab.go).
const (
	StatusTriage       = "triage"
	StatusCounselling  = "counselling"
	StatusIntervention = "intervention"
	StatusReferred     = "referred"
	StatusClosed       = "closed"
	StatusDocumented   = "documented"
	StatusWithdrawn    = "withdrawn"
)

// Transitions is the case workflow: the statuses each status may move to.
// Any other move is refused.
//
//	from          to
//	new           triage, documented, withdrawn
//	triage        counselling, referred, documented, closed, withdrawn
//	counselling   intervention, referred, closed, withdrawn
//	intervention  counselling, referred, closed, withdrawn
//	referred      counselling, closed, withdrawn
//	closed        counselling (reopened), withdrawn
//	documented    triage (the reporter wants counselling after all), withdrawn
//	withdrawn     — (final: the reporter took the report back)
//
// A reporter may withdraw at any time, so every status but withdrawn leads
// there.
var Transitions = map[string][]string{
	StatusNew:          {StatusTriage, StatusDocumented, StatusWithdrawn},
	StatusTriage:       {StatusCounselling, StatusReferred, StatusDocumented, StatusClosed, StatusWithdrawn},
	StatusCounselling:  {StatusIntervention, StatusReferred, StatusClosed, StatusWithdrawn},
	StatusIntervention: {StatusCounselling, StatusReferred, StatusClosed, StatusWithdrawn},
	StatusReferred:     {StatusCounselling, StatusClosed, StatusWithdrawn},
	StatusClosed:       {StatusCounselling, StatusWithdrawn},
	StatusDocumented:   {StatusTriage, StatusWithdrawn},
	StatusWithdrawn:    nil,
}

// CanTransition reports whether a case may move from one status to another.
func CanTransition(from, to string) bool { return slices.Contains(Transitions[from], to) }

// IsOpen reports whether a case in this status still needs work: not
// closed, documented or withdrawn.
func IsOpen(status string) bool {
	return status != StatusClosed && status != StatusDocumented && status != StatusWithdrawn
}

// openStatuses are the statuses for which IsOpen holds.
func openStatuses() []string {
	var out []string
	for _, s := range Statuses {
		if IsOpen(s) {
			out = append(out, s)
		}
	}
	return out
}

// AD purpose of internal notes. A note is sealed to the team's public key,
// not under the report's data key: the reporter's key opens the data key,
// so anything under it is readable by the reporter.
const purposeNote = "note"

// noteAD is the version 2 AD of a note: its row, and the author's user ID
// and the time its row shows, so that a note cannot be given another
// author or moved in time. (A note is sealed to the team's public key,
// which anyone may seal to: this stops changing a note's author, not
// writing a note from nothing.)
func noteAD(reportID string, n StoredNote) vault.AD {
	return noteADv1(reportID, n.ID).Bind(strconv.FormatInt(n.UserID, 10), n.At.UTC().Format(time.RFC3339Nano))
}

// noteADv1 is the AD of notes written before version 2: only the row.
// Read, never written.
func noteADv1(reportID, noteID string) vault.AD {
	return vault.AD{Purpose: purposeNote, Row: reportID + "/" + noteID}
}

// openNote opens a stored note with its team's key, under its version 2
// AD or, if written before, its version 1 AD.
func openNote(team *vault.KeyPair, reportID string, n StoredNote) ([]byte, error) {
	return openBound(team.Open, n.Body, noteAD(reportID, n), noteADv1(reportID, n.ID))
}

// AD purpose of a case's sealed incident day (CaseDates.Sealed).
const purposeCaseDates = "case-dates"

// CaseDates is what the database keeps of a case's incident day and AGG
// deadline (issue 9): the deadline's week in plain, so that the case list
// can filter and sort in SQL, and the exact day sealed under the report's
// data key. The deadline itself is not stored: it follows from the record
// and the day, and a plain date two months after the incident would give
// the day away.
type CaseDates struct {
	Week string // Classification.DeadlineWeek: a Monday, "" for no deadline
	// Sealed is the incident day as two digits ("00" when unknown, so that
	// neither the length nor the presence of the ciphertext tells whether
	// the day is known), sealed under the data key (AD "case-dates",
	// report ID); nil when the content is deleted and no key is left.
	Sealed []byte
}

// sealCaseDates seals c's incident day under the report's data key.
func sealCaseDates(dk vault.Key, id string, c Classification) CaseDates {
	return CaseDates{Week: c.DeadlineWeek(),
		Sealed: dk.Seal(fmt.Appendf(nil, "%02d", c.Day), vault.AD{Purpose: purposeCaseDates, Row: id})}
}

// openCaseDay opens a sealed incident day (0: unknown).
func openCaseDay(dk vault.Key, id string, sealed []byte) (int, error) {
	plain, err := dk.Open(sealed, vault.AD{Purpose: purposeCaseDates, Row: id})
	if err != nil {
		return 0, fmt.Errorf("case dates: %w", err)
	}
	day, err := strconv.Atoi(string(plain))
	if err != nil || len(plain) != 2 || day < 0 || day > 31 {
		return 0, fmt.Errorf("case dates: malformed day")
	}
	return day, nil
}

// CaseStore keeps case work: the statistical record (classification),
// status history, assignment, internal notes, transfers and the filtered
// case list.
type CaseStore interface {
	// CaseList returns one page of the cases matching q, in q's order, and
	// how many match in all.
	CaseList(ctx context.Context, q CaseQuery) ([]CaseRow, int, error)
	// CaseRow finds one case; ENotFound if none.
	CaseRow(ctx context.Context, id string) (CaseRow, error)
	// CaseTexts returns the sealed messages and notes of the given cases,
	// for the search to open in memory.
	CaseTexts(ctx context.Context, reportIDs []string) (CaseTexts, error)
	// CaseByNumber finds the ID of the case numbered year-n ("2026-0042")
	// among the teams' cases, or with year 0 the newest year's case
	// numbered n; ENotFound if none.
	CaseByNumber(ctx context.Context, teams []int64, year, n int) (string, error)
	// PutClassification stores a case's record, replacing an earlier one
	// but keeping its ClosedOn, together with the case's dates d (c.Day
	// is not stored: it is in d.Sealed); a plain incident day left from
	// before issue 9 is cleared.
	PutClassification(ctx context.Context, c Classification, d CaseDates) error
	// SealCaseDates stores the dates of a case triaged before issue 9 and
	// clears its plain incident day; it changes nothing if the case has
	// sealed dates already (a triage save came first).
	SealCaseDates(ctx context.Context, reportID string, d CaseDates) error
	// SetWorkFlags copies the working flags of cases (by ID) into their
	// rows; it changes nothing on a row that has them already or whose
	// content is deleted.
	SetWorkFlags(ctx context.Context, flags map[string]WorkFlags) error
	// ChangeStatus moves a case from ch.From to ch.To and adds ch to its
	// history; EConflict if the case is no longer in ch.From. A non-nil
	// closing sets the record's ClosedOn and ClosingReason (zero values
	// clear them); EConflict if the case has no record.
	ChangeStatus(ctx context.Context, ch StatusChange, closing *Closing) error
	// StatusHistory lists a case's status changes, oldest first.
	StatusHistory(ctx context.Context, reportID string) ([]StatusChange, error)
	// Assignees lists the enabled users who hold the key of any of the
	// teams and may do case work (no statisticians), by name.
	Assignees(ctx context.Context, teamIDs []int64) ([]Assignee, error)
	// Assign gives a case of team teamID to a member of that team, or to
	// nobody with userID 0; EConflict if the case is no longer the team's
	// or the user no longer a member.
	Assign(ctx context.Context, reportID string, teamID, userID int64) error
	// AddNote stores a note, sealed to team teamID; EConflict if the case
	// is no longer that team's.
	AddNote(ctx context.Context, n StoredNote, teamID int64) error
	// Notes lists a case's notes, oldest first.
	Notes(ctx context.Context, reportID string) ([]StoredNote, error)
	// TransferCase moves a case to another team in one transaction: the
	// re-sealed data key and notes replace the old ones and an assignee
	// who is not a member of the new team is removed. EConflict if the
	// case left t.From, or its notes are not exactly those re-sealed.
	TransferCase(ctx context.Context, t CaseTransfer) error
}

// CaseRow is a report row with the plain case work around it.
type CaseRow struct {
	StoredReport
	Assignee     int64  // 0: nobody
	AssigneeName string // filled in when read
	DeadlineWeek string // CaseDates.Week: the Monday of the AGG deadline's week, "" for none
	DatesSealed  []byte // CaseDates.Sealed; nil before triage (and until moved, for rows triaged before issue 9)
	// Classification is the record; its Day is only set from the plain
	// column of rows triaged before issue 9 (decrypt opens DatesSealed).
	Classification *Classification
	// Flags are the working flags copied from the report when a
	// counsellor triaged or opened the case; nil until then.
	Flags *WorkFlags
}

// WorkFlags are the two choices of the reporter that the list filters by,
// kept plain on the case once a counsellor has triaged or opened it (as
// the classification is): the wish's code ("" for none) and whether a
// contact was given, never the contact itself. The report keeps both
// sealed; cases without flags are found by decrypting them.
type WorkFlags struct {
	Wish       string
	HasContact bool
}

// workFlags are a decrypted report's working flags.
func workFlags(r Report) WorkFlags {
	return WorkFlags{Wish: r.Wish, HasContact: strings.TrimSpace(r.Contact) != ""}
}

// CaseQuery selects a page of the case list; the domain builds it from a
// CaseFilter. Zero values select everything.
type CaseQuery struct {
	Teams        []int64  // only cases of these teams (always set)
	Statuses     []string // only cases in one of these; nil: any
	Assignee     int64    // only this user's cases
	Unassigned   bool     // only cases assigned to nobody
	Ground       string   // only cases whose record has this ground
	Subground    string   // only cases whose record has this sub-ground
	Area         string   // only cases whose record has this area of life
	Municipality string   // only cases whose record has this municipality
	Unread       bool     // only cases with a reporter's message no counsellor has opened
	AwaitingUs   bool     // only cases whose last message is the reporter's
	// DueBy: only cases with an open reminder due on or before this day
	// (YYYY-MM-DD, the office's today).
	DueBy string
	// DeadlineWeekBy: only cases whose deadline's week starts on or
	// before this day (a Monday). The exact deadline is sealed, so the
	// filter works by week; the rows shown carry their exact dates.
	DeadlineWeekBy string
	// Wish and Contact ("yes", "no"): only cases whose working flags
	// match, or whose ID is in SealedIDs (cases without flags that the
	// domain decrypted and found matching).
	Wish, Contact string
	SealedIDs     []string
	// Unflagged: only cases without working flags whose content is
	// still there (the ones a wish or contact filter must decrypt).
	Unflagged bool
	Sort      string // one of the Sort* constants
	Desc      bool
	Page      Page
	// CountCap, if above 0, bounds the count: the total is exact up to
	// CountCap, and CountCap+1 means "more than CountCap". Counting every
	// match of a big set one by one was most of the list's database time
	// (issue 13); the pager needs no more than "there are more".
	CountCap int
}

// CaseTexts are the sealed messages and notes of some cases, by case ID.
type CaseTexts struct {
	Messages map[string][]StoredMessage
	Notes    map[string][]StoredNote
}

// Orders of the case list.
const (
	SortReceived = "received"
	SortCaseNo   = "case_no"
	SortStatus   = "status"
	SortDeadline = "deadline"
)

// Sorts are the orders of the case list, default first.
var Sorts = []string{SortReceived, SortCaseNo, SortStatus, SortDeadline}

// StatusChange is one line of a case's status history.
type StatusChange struct {
	ReportID string
	From, To string
	UserID   int64
	UserName string // filled in when read
	At       time.Time
}

// Closing is what closing a case writes into its record.
type Closing struct {
	On     string // "2026-05-20"
	Reason string
}

// Assignee is a user who holds a team's key and may do case work.
type Assignee struct {
	ID     int64
	Name   string
	TeamID int64
}

// StoredNote is an internal note as stored: sealed to the team.
type StoredNote struct {
	ID       string // random UUID, part of the note's AD
	ReportID string
	UserID   int64
	UserName string // filled in when read
	At       time.Time
	Body     []byte
}

// Note is an internal note, opened with the team's key.
type Note struct {
	ID     string
	Author string
	Day    string // "2026-05-20"
	Body   string
	// Altered: the note did not open under the author and time its row
	// shows; only ID is set.
	Altered bool
}

// CaseTransfer moves a case to another team.
type CaseTransfer struct {
	ReportID  string
	From, To  int64
	SealedKey []byte            // the data key sealed to To
	Notes     map[string][]byte // by note ID: each note sealed to To
}

// Case is a report as a counsellor sees it: decrypted with the session's
// team key, with its case work.
type Case struct {
	ID           string
	CaseNo       string
	TeamID       int64
	TeamName     string
	ReceivedOn   string
	Status       string
	Language     string
	Report       Report
	AssigneeID   int64
	AssigneeName string
	// Classification is the statistical record; nil until triage.
	Classification *Classification
	// Deadline is the AGG claim deadline, computed for today.
	Deadline Deadline
	// ContentDeletedOn is the day retention deleted the content; Report
	// is empty then.
	ContentDeletedOn string
}

// FirstLine returns the first line of the description, for lists.
func (c Case) FirstLine() string {
	line, _, _ := strings.Cut(strings.TrimSpace(c.Report.Description), "\n")
	if r := []rune(line); len(r) > 120 {
		return string(r[:120]) + "…"
	}
	return line
}

// Grounds are the case's grounds: the record's once classified, the
// reporter's before.
func (c Case) Grounds() []string {
	if c.Classification != nil {
		return c.Classification.Grounds
	}
	return c.Report.Grounds
}

// Subgrounds are the case's sub-grounds, like Grounds.
func (c Case) Subgrounds() []string {
	if c.Classification != nil {
		return c.Classification.Subgrounds
	}
	return c.Report.Subgrounds
}

// Areas are the case's areas of life, like Grounds.
func (c Case) Areas() []string {
	if c.Classification != nil {
		return c.Classification.Areas
	}
	return []string{c.Report.Area}
}

// Municipality is the case's municipality, like Grounds.
func (c Case) Municipality() string {
	if c.Classification != nil {
		return c.Classification.Municipality
	}
	return c.Report.Municipality
}

// DeadlineWarning reports whether the case needs the deadline warning:
// it is open and its AGG deadline is near or passed.
func (c Case) DeadlineWarning() bool {
	return IsOpen(c.Status) && (c.Deadline.Soon || c.Deadline.Passed)
}

// CaseFilter is what the case list shows, as the list's form sends it.
// Zero values mean "all"; Normalize drops what it does not know.
type CaseFilter struct {
	Status       string // a status, "open", or ""
	Assignee     string // a user ID, "me", "none" (unassigned), or ""
	Team         int64
	Ground       string
	Subground    string // a sub-ground code (SubgroundsOf), e.g. "antiziganism"
	Area         string // an area of life
	Municipality string
	DeadlineSoon bool // open cases whose deadline is near or passed
	Unread       bool // a reporter's message no counsellor has opened yet
	AwaitingUs   bool // the reporter wrote last: waiting for our reply
	Due          bool // an open reminder due today (the office's day) or earlier
	// Wish ("counselling", …: Wishes) and Contact ("yes", "no") are what
	// the reporter chose; Text is a word or phrase of the report, its
	// messages or notes. These are sealed, so the list finds them by
	// decrypting at most SearchScanCap cases in memory (CaseList).
	Wish    string
	Contact string
	Text    string
	// Capped is set by CaseList (and ignored in a request): a sealed
	// filter looked at only the first SearchScanCap matching cases.
	Capped bool
	// CountCapped is set by CaseList (and ignored in a request): more
	// cases match than were counted, and the total returned is the count
	// it stopped at ("more than"; CountCap).
	CountCapped bool
	Sort        string // one of Sorts; "" is SortReceived
	Dir         string // "asc", "desc", or "" for the sort's natural order
	Page        Page
}

// Normalize replaces unknown values with "all" and fills in the default
// order: received and case number newest first, status in workflow order,
// deadline soonest first.
func (f CaseFilter) Normalize() CaseFilter {
	if f.Status != "open" && !known(Statuses, f.Status) {
		f.Status = ""
	}
	if f.Assignee != "me" && f.Assignee != "none" {
		if id, err := strconv.ParseInt(f.Assignee, 10, 64); err != nil || id <= 0 {
			f.Assignee = ""
		}
	}
	if f.Team < 0 {
		f.Team = 0
	}
	if !known(Grounds, f.Ground) {
		f.Ground = ""
	}
	if !known(Municipalities, f.Municipality) {
		f.Municipality = ""
	}
	if !slices.ContainsFunc(Grounds, func(g string) bool { return known(SubgroundsOf[g], f.Subground) }) {
		f.Subground = ""
	}
	if !known(Areas, f.Area) {
		f.Area = ""
	}
	if !known(Wishes, f.Wish) {
		f.Wish = ""
	}
	if f.Contact != "yes" && f.Contact != "no" {
		f.Contact = ""
	}
	f.Capped = false
	f.Text = strings.TrimSpace(f.Text)
	if r := []rune(f.Text); len(r) > MaxSearch {
		f.Text = string(r[:MaxSearch])
	}
	if !utf8.ValidString(f.Text) {
		f.Text = ""
	}
	if !known(Sorts, f.Sort) {
		f.Sort = SortReceived
	}
	if f.Dir != "asc" && f.Dir != "desc" {
		f.Dir = "desc"
		if f.Sort == SortStatus || f.Sort == SortDeadline {
			f.Dir = "asc"
		}
	}
	return f
}

// Cases is case work in the office: the case list, a case and its page,
// triage, the workflow, assignment, notes and transfers between teams. It
// holds no keys: every case opens with a team key from the *OfficeSession
// passed in, which the Office unwrapped at login.
type Cases struct {
	auditor
	store  CasesStore
	anchor *Anchor // checks the target team of a transfer
}

// CasesStore is what case work reads and writes: the cases with their
// records, history and notes, the list of a case's files, the teams, and
// the audit log that every change commits with.
type CasesStore interface {
	AuditStore
	CaseStore
	InterpreterStore
	// Teams lists all teams.
	Teams(ctx context.Context) ([]Team, error)
	// Attachments lists the complete attachments of an existing report
	// (as in AttachmentStore).
	Attachments(ctx context.Context, reportID string) ([]StoredAttachment, error)
	// Setting returns a deployment setting (the office's time zone, for
	// the list's "reminder due"), or an ENotFound error.
	Setting(ctx context.Context, key string) ([]byte, error)
}

// NewCases returns the case work service. anchor checks a transfer's
// target team before a case's key is sealed to it; now is the office's
// clock (deadlines, the days of notes and status changes).
func NewCases(store CasesStore, anchor *Anchor, now func() time.Time) *Cases {
	return &Cases{auditor: auditor{log: store, now: now}, store: store, anchor: anchor}
}

// caseReader reads one case row: all that openCase needs, shared by the
// services that open a case with a session's team key.
type caseReader interface {
	CaseRow(ctx context.Context, id string) (CaseRow, error)
}

// SearchScanCap is the most cases one list request decrypts to filter by
// what is sealed (the reporter's wish and contact, and the text search):
// it bounds the time and memory of a request. The page says when a
// filter looked at only this many of the matching cases (newest first in
// the list's order), so that nobody takes "nothing found" for certain.
const SearchScanCap = 10_000

// CountCap is how many matching cases the list counts exactly (at least;
// a later page counts up to its own end). Above it the page says "more
// than 1,000" and offers the next page: an exact count of tens of
// thousands of matches checked each one and cost more than the page.
const CountCap = 1_000

// MaxSearch is the longest search text, in characters.
const MaxSearch = 200

// CaseList lists the cases of the session's teams that match the filter,
// one page, decrypted. It returns the normalized filter and the number of
// matching cases. The plain filters run in the database and only the
// page's reports are decrypted; the sealed filters (wish, contact, text)
// decrypt up to SearchScanCap of the plainly matching cases in memory and
// set the returned filter's Capped when there were more. Nothing
// decrypted is written anywhere: no index, no cache, and the audit entry
// names neither the text nor the filter's values.
func (cs *Cases) CaseList(ctx context.Context, s *OfficeSession, f CaseFilter) ([]Case, int, CaseFilter, error) {
	f = f.Normalize()
	teams := s.Keys.Teams()
	if f.Team != 0 {
		teams = slices.DeleteFunc(teams, func(id int64) bool { return id != f.Team })
	}
	if len(teams) == 0 || !s.Can(PermCaseWork) {
		return nil, 0, f, nil
	}
	q := cs.listQuery(s, f, teams)
	if f.Due {
		// Due as the start page counts it: on or before the office's day.
		day, err := officeDay(ctx, cs.store, cs.now())
		if err != nil {
			return nil, 0, f, opError("case list", err)
		}
		q.DueBy = day
	}
	if f.Text != "" {
		return cs.searchList(ctx, s, f, q)
	}
	// Counted exactly up to the page after this one's end, at least
	// CountCap: beyond that the pager says "more than".
	if f.Page.Limit > 0 { // an unpaged list (an export) counts all
		q.CountCap = max(CountCap, f.Page.Offset+f.Page.Limit)
	}
	audit := ""
	var heal map[string]WorkFlags
	var rows []CaseRow
	var total int
	settled := false
	if f.Wish != "" || f.Contact != "" {
		// The flagged cases are a plain filter; only those without
		// flags yet (new cases nobody opened) are decrypted, and the
		// matches among them join the query by ID, so that the database
		// orders, pages and counts both parts as one list.
		sc, err := cs.scanSealed(ctx, s, f, q)
		if err != nil {
			return nil, 0, f, opError("case list", err)
		}
		q.Wish, q.Contact, q.SealedIDs, f.Capped = f.Wish, f.Contact, sc.ids, sc.capped
		audit = fmt.Sprintf(" search scanned=%d", sc.scanned)
		heal, rows, total, settled = sc.worked, sc.rows, sc.total, sc.settled
	}
	if !settled {
		var err error
		if rows, total, err = cs.store.CaseList(ctx, q); err != nil {
			return nil, 0, f, opError("case list", err)
		}
	}
	f.CountCapped = q.CountCap > 0 && total > q.CountCap
	if f.CountCapped {
		total = q.CountCap
	}
	// Decrypting the page (an X25519 operation and a JSON decode per
	// report) was half the handler's time on one core: the rows are
	// shared among the CPUs as in the full-text scan.
	cases := make([]Case, len(rows))
	errs := make([]error, len(rows))
	eachOnAllCPUs(len(rows), func(i int) {
		team, ok := s.Keys.Team(rows[i].TeamID)
		if !ok { // the query asked for the session's teams only
			errs[i] = Errorf(ENotFound, "error.case.not_found")
			return
		}
		cases[i], errs[i] = cs.decrypt(team, rows[i])
	})
	if err := errors.Join(errs...); err != nil {
		return nil, 0, f, opError("case list", err)
	}
	if f.Sort == SortDeadline {
		// The database ordered by the deadline's week; within a week only
		// the decrypted rows know the exact order.
		slices.SortStableFunc(cases, func(a, b Case) int { return compareDeadlines(a.Deadline, b.Deadline, f.Dir == "desc") })
	}
	// Cases a counsellor has triaged or worked on before their flags were
	// copied (those of before issue 13's flags) would have them had the
	// copy existed then: the scan has just decrypted them, so their flags
	// are copied now, with the list's entry, and the next filter finds
	// them without decrypting. New cases nobody has touched stay sealed.
	entry := func(ctx context.Context) error {
		return cs.audit(ctx, s, AuditCaseList, "", fmt.Sprintf("offset=%d count=%d", f.Page.Offset, len(cases))+audit)
	}
	if len(heal) > 0 {
		entry = func(ctx context.Context) error {
			return cs.store.Atomically(ctx, func(ctx context.Context) error {
				if err := cs.store.SetWorkFlags(ctx, heal); err != nil {
					return err
				}
				return cs.audit(ctx, s, AuditCaseList, "", fmt.Sprintf("offset=%d count=%d flags copied=%d", f.Page.Offset, len(cases), len(heal))+audit)
			})
		}
	}
	if err := entry(ctx); err != nil {
		return nil, 0, f, opError("case list", err)
	}
	return cases, total, f, nil
}

// listQuery is the database's part of a normalized filter.
func (cs *Cases) listQuery(s *OfficeSession, f CaseFilter, teams []int64) CaseQuery {
	q := CaseQuery{Teams: teams, Ground: f.Ground, Subground: f.Subground, Area: f.Area, Municipality: f.Municipality,
		Unread: f.Unread, AwaitingUs: f.AwaitingUs, Sort: f.Sort, Desc: f.Dir == "desc", Page: f.Page}
	switch f.Status {
	case "":
	case "open":
		q.Statuses = openStatuses()
	default:
		q.Statuses = []string{f.Status}
	}
	if f.DeadlineSoon {
		// Only open cases need the warning; with a status filter, only
		// those of its statuses that are open (possibly none).
		base := q.Statuses
		if base == nil {
			base = Statuses
		}
		q.Statuses = slices.DeleteFunc(slices.Clone(base), func(s string) bool { return !IsOpen(s) })
		// By week: every case whose deadline is within DeadlineWarnDays
		// (or passed), and those later in the same week as that last day.
		// The database knows only the deadline's week (CaseDates); the
		// rows shown say exactly how many days are left.
		q.DeadlineWeekBy = weekOf(cs.now().AddDate(0, 0, DeadlineWarnDays)).Format(time.DateOnly)
	}
	switch f.Assignee {
	case "":
	case "none":
		q.Unassigned = true
	case "me":
		q.Assignee = s.User.ID
	default:
		q.Assignee, _ = strconv.ParseInt(f.Assignee, 10, 64)
	}
	return q
}

// searchList is CaseList with a sealed filter: the first SearchScanCap
// cases matching the plain filters, in the list's order, are decrypted in
// memory and tested; the page is cut from those that match.
func (cs *Cases) searchList(ctx context.Context, s *OfficeSession, f CaseFilter, q CaseQuery) ([]Case, int, CaseFilter, error) {
	q.Page = Page{Limit: SearchScanCap}
	rows, plainTotal, err := cs.store.CaseList(ctx, q)
	if err != nil {
		return nil, 0, f, opError("case search", err)
	}
	f.Capped = plainTotal > len(rows)
	var texts CaseTexts
	if f.Text != "" {
		ids := make([]string, 0, len(rows))
		for _, r := range rows {
			if r.ContentDeletedOn == "" {
				ids = append(ids, r.ID)
			}
		}
		if texts, err = cs.store.CaseTexts(ctx, ids); err != nil {
			return nil, 0, f, opError("case search", err)
		}
	}
	needle := strings.ToLower(f.Text)
	// Decrypting is the cost (an X25519 operation per case): the rows are
	// shared among one worker per CPU, each keeping its matches in the
	// rows' order.
	matched := make([]*Case, len(rows))
	errs := make([]error, len(rows))
	eachOnAllCPUs(len(rows), func(i int) {
		r := rows[i]
		if r.ContentDeletedOn != "" {
			return // nothing sealed is left to match
		}
		team, ok := s.Keys.Team(r.TeamID)
		if !ok { // the query asked for the session's teams only
			errs[i] = Errorf(ENotFound, "error.case.not_found")
			return
		}
		c, dk, err := cs.open(team, r)
		if err != nil {
			errs[i] = err
			return
		}
		if matchesSealed(f, c.Report) && (needle == "" || cs.containsText(team, dk, r.ID, c.Report, texts, needle)) {
			matched[i] = &c
		}
		dk.Wipe()
	})
	if err := errors.Join(errs...); err != nil {
		return nil, 0, f, opError("case search", err)
	}
	var found []Case
	for _, c := range matched {
		if c != nil {
			found = append(found, *c)
		}
	}
	if f.Sort == SortDeadline {
		slices.SortStableFunc(found, func(a, b Case) int { return compareDeadlines(a.Deadline, b.Deadline, f.Dir == "desc") })
	}
	total := len(found)
	from := min(f.Page.Offset, total)
	to := total
	if f.Page.Limit > 0 {
		to = min(from+f.Page.Limit, total)
	}
	page := slices.Clip(found[from:to])
	// The entry says that a search ran and how far it looked, never what
	// was searched for: the audit log is read by admins who do not hold
	// every team's key.
	if err := cs.audit(ctx, s, AuditCaseList, "", fmt.Sprintf("offset=%d count=%d search scanned=%d", f.Page.Offset, len(page), len(rows))); err != nil {
		return nil, 0, f, opError("case search", err)
	}
	return page, total, f, nil
}

// scanChunk is how many cases without flags the first page's scan
// decrypts before it asks whether the page is settled; each further
// round takes four times as many.
var scanChunk = 16

// sealedScan is what scanSealed found.
type sealedScan struct {
	ids     []string             // cases without flags whose report matches
	worked  map[string]WorkFlags // flags of decrypted cases a counsellor worked on
	scanned int                  // how many were decrypted
	capped  bool                 // there were more than SearchScanCap to decrypt
	// settled: rows and total are the first page and its count ("more
	// than q.CountCap") already, without the cases not yet decrypted.
	settled bool
	rows    []CaseRow
	total   int
}

// scanSealed decrypts the cases of q's filters that have no working
// flags, in the list's order, at most SearchScanCap, and collects those
// whose report matches f's wish and contact. For the first page it
// decrypts in rounds and stops as soon as the page is settled: every
// case not yet decrypted comes after the last one decrypted in the
// list's order, so when that case is not within the first page of the
// list of matches so far (with it added) and the count is past
// q.CountCap anyway, the rest cannot change the page or its count.
func (cs *Cases) scanSealed(ctx context.Context, s *OfficeSession, f CaseFilter, q CaseQuery) (sealedScan, error) {
	out := sealedScan{worked: map[string]WorkFlags{}}
	scan := q
	scan.Unflagged, scan.CountCap = true, 0
	probe := q
	probe.Wish, probe.Contact, probe.CountCap = f.Wish, f.Contact, q.CountCap+1
	lazy := f.Page.Offset == 0 && f.Page.Limit > 0 && q.CountCap > 0
	chunk := scanChunk
	for out.scanned < SearchScanCap {
		n := SearchScanCap - out.scanned
		if lazy {
			n, chunk = min(n, chunk), chunk*4
		}
		scan.Page = Page{Offset: out.scanned, Limit: n}
		rows, total, err := cs.store.CaseList(ctx, scan)
		if err != nil {
			return out, err
		}
		matched := len(out.ids)
		if err := cs.matchSealed(s, f, rows, &out); err != nil {
			return out, err
		}
		out.scanned += len(rows)
		out.capped = total > SearchScanCap
		if len(rows) < n || out.scanned >= total {
			break // every case without flags is decrypted
		}
		if !lazy || out.scanned >= SearchScanCap {
			continue
		}
		last := rows[len(rows)-1].ID
		probe.SealedIDs = out.ids
		if len(out.ids) == matched || out.ids[len(out.ids)-1] != last {
			probe.SealedIDs = append(slices.Clone(out.ids), last)
		}
		page, count, err := cs.store.CaseList(ctx, probe)
		if err != nil {
			return out, err
		}
		// With the last case counted in (whether it matches or not),
		// more than CountCap+1: without it, more than CountCap.
		if len(page) == f.Page.Limit && count > q.CountCap+1 && !slices.ContainsFunc(page, func(r CaseRow) bool { return r.ID == last }) {
			out.settled, out.rows, out.total, out.capped = true, page, q.CountCap+1, false
			return out, nil
		}
	}
	return out, nil
}

// matchSealed decrypts rows (all on all CPUs) and adds to out those
// whose report matches f's wish and contact, in the rows' order, and the
// flags of those a counsellor has triaged or worked on (see CaseList).
func (cs *Cases) matchSealed(s *OfficeSession, f CaseFilter, rows []CaseRow, out *sealedScan) error {
	flags := make([]*WorkFlags, len(rows))
	errs := make([]error, len(rows))
	eachOnAllCPUs(len(rows), func(i int) {
		if rows[i].ContentDeletedOn != "" {
			return // nothing sealed is left to match
		}
		team, ok := s.Keys.Team(rows[i].TeamID)
		if !ok { // the query asked for the session's teams only
			errs[i] = Errorf(ENotFound, "error.case.not_found")
			return
		}
		c, err := cs.decrypt(team, rows[i])
		if err != nil {
			errs[i] = err
			return
		}
		w := workFlags(c.Report)
		flags[i] = &w
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, r := range rows {
		if flags[i] == nil {
			continue
		}
		if f.matchesFlags(*flags[i]) {
			out.ids = append(out.ids, r.ID)
		}
		if r.Classification != nil || r.Status != StatusNew {
			out.worked[r.ID] = *flags[i]
		}
	}
	return nil
}

// eachOnAllCPUs calls fn(i) for every i below n on one worker per CPU
// (worker w takes w, w+workers, …), and returns when all are done. fn
// writes only its own index's results, so no locking is needed. A single
// row, or a single CPU, runs on the caller's goroutine.
func eachOnAllCPUs(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// matchesSealed reports whether a decrypted report has the wish and
// contact f asks for.
func matchesSealed(f CaseFilter, r Report) bool { return f.matchesFlags(workFlags(r)) }

// matchesFlags reports whether working flags have the wish and contact f
// asks for: the same test for a report decrypted and for flags copied,
// so that a case matches the same before and after the copy.
func (f CaseFilter) matchesFlags(w WorkFlags) bool {
	switch {
	case f.Wish != "" && w.Wish != f.Wish:
		return false
	case f.Contact == "yes" && !w.HasContact:
		return false
	case f.Contact == "no" && w.HasContact:
		return false
	}
	return true
}

// containsText reports whether the report's description, one of its
// messages or one of its notes contains needle (lower case), ignoring
// case. Messages and notes that do not open (altered) are skipped here;
// the case page shows and audits them.
func (cs *Cases) containsText(team *vault.KeyPair, dk vault.Key, id string, r Report, texts CaseTexts, needle string) bool {
	if strings.Contains(strings.ToLower(r.Description), needle) {
		return true
	}
	msgs, _ := openMessages(dk, id, texts.Messages[id])
	for _, m := range msgs {
		if !m.Altered && strings.Contains(strings.ToLower(m.Body), needle) {
			return true
		}
	}
	for _, n := range texts.Notes[id] {
		body, err := openNote(team, id, n)
		if err != nil {
			continue
		}
		hit := strings.Contains(strings.ToLower(string(body)), needle)
		clear(body)
		if hit {
			return true
		}
	}
	return false
}

// compareDeadlines orders known deadlines by date (descending if desc),
// cases without one last, as the list's SQL order does by week.
func compareDeadlines(a, b Deadline, desc bool) int {
	switch {
	case a.Known != b.Known && a.Known:
		return -1
	case a.Known != b.Known:
		return 1
	case desc:
		return strings.Compare(b.Date, a.Date)
	default:
		return strings.Compare(a.Date, b.Date)
	}
}

// Cases lists the reports of the session's teams, decrypted, newest first.
func (cs *Cases) Cases(ctx context.Context, s *OfficeSession, p Page) ([]Case, int, error) {
	cases, total, _, err := cs.CaseList(ctx, s, CaseFilter{Page: p})
	return cases, total, err
}

// openCase reads a case and the session's key for its team. A case of a
// team the session holds no key for is reported as not found, like one
// that does not exist: no one learns which case numbers other teams have.
func openCase(ctx context.Context, store caseReader, s *OfficeSession, id string) (CaseRow, *vault.KeyPair, error) {
	notFound := Errorf(ENotFound, "error.case.not_found")
	// A statistician holds no team keys anyway; checking the permission
	// as well keeps a mistake in key handing from opening cases to them.
	if !s.Can(PermCaseWork) {
		return CaseRow{}, nil, notFound
	}
	r, err := store.CaseRow(ctx, id)
	if err != nil {
		return CaseRow{}, nil, err
	}
	team, ok := s.Keys.Team(r.TeamID)
	if !ok {
		return CaseRow{}, nil, notFound
	}
	return r, team, nil
}

// Case returns one decrypted case.
func (cs *Cases) Case(ctx context.Context, s *OfficeSession, id string) (Case, error) {
	r, team, err := openCase(ctx, cs.store, s, id)
	if err != nil {
		return Case{}, opError("case open", err)
	}
	c, err := cs.decrypt(team, r)
	if err != nil {
		return Case{}, opError("case open", err)
	}
	// The dates move with the entry that says who opened the case; and
	// no case is shown whose opening the log did not take.
	if err := cs.audited(ctx, s, AuditCaseOpen, r.ID, "", func(ctx context.Context) error {
		if err := cs.copyFlags(ctx, r, c.Report); err != nil {
			return err
		}
		return cs.moveDates(ctx, team, r)
	}); err != nil {
		return Case{}, opError("case open", err)
	}
	return c, nil
}

// moveDates seals the plain incident day of a case triaged before issue 9
// and clears it. The server holds no data key at rest, so such a row can
// only be moved when a counsellor opens its case (or saves its record).
// Nothing to do for a case without a record, with sealed dates, or whose
// content (and with it its key) is deleted. It runs inside the unit of
// work that logs the opening: one key open and a two-byte seal are cheap.
func (cs *Cases) moveDates(ctx context.Context, team *vault.KeyPair, r CaseRow) error {
	if r.Classification == nil || r.DatesSealed != nil || r.ContentDeletedOn != "" {
		return nil
	}
	dk, err := team.OpenKey(r.SealedKey, vault.AD{Purpose: purposeSealedKey, Row: r.ID})
	if err != nil {
		return fmt.Errorf("case dates: %w", err)
	}
	return cs.store.SealCaseDates(ctx, r.ID, sealCaseDates(dk, r.ID, *r.Classification))
}

// copyFlags copies the working flags of a case that has none yet from
// its decrypted report (issue 13: the list filters wish and contact
// without decrypting every case). Like the classification, they are
// copied when a counsellor works on the case, the case page or a triage,
// always inside the unit of work that logs that work; nothing is copied
// at intake, where the report is sealed on arrival. A case whose content
// is deleted keeps none.
func (cs *Cases) copyFlags(ctx context.Context, r CaseRow, rep Report) error {
	if r.Flags != nil || r.ContentDeletedOn != "" {
		return nil
	}
	return cs.store.SetWorkFlags(ctx, map[string]WorkFlags{r.ID: workFlags(rep)})
}

// decrypt opens a case row with its team's key and computes its deadline
// for today.
func (cs *Cases) decrypt(team *vault.KeyPair, r CaseRow) (Case, error) {
	c, dk, err := cs.open(team, r)
	dk.Wipe()
	return c, err
}

// open is decrypt that also returns the report's data key (zero when the
// content is deleted); the caller wipes it.
func (cs *Cases) open(team *vault.KeyPair, r CaseRow) (Case, vault.Key, error) {
	if r.ContentDeletedOn != "" {
		// Retention deleted the content: there is nothing to decrypt, but
		// the case (its number, status and record) is still listed.
		return Case{ID: r.ID, CaseNo: r.CaseNo, TeamID: r.TeamID, TeamName: r.TeamName, ReceivedOn: r.ReceivedOn,
			Status: r.Status, AssigneeID: r.Assignee, AssigneeName: r.AssigneeName,
			Classification: r.Classification, ContentDeletedOn: r.ContentDeletedOn}, vault.Key{}, nil
	}
	dk, err := team.OpenKey(r.SealedKey, vault.AD{Purpose: purposeSealedKey, Row: r.ID})
	if err != nil {
		return Case{}, vault.Key{}, err
	}
	plain, err := dk.Open(r.Content, vault.AD{Purpose: purposeContent, Row: r.ID})
	if err != nil {
		dk.Wipe()
		return Case{}, vault.Key{}, err
	}
	defer clear(plain)
	c := Case{ID: r.ID, CaseNo: r.CaseNo, TeamID: r.TeamID, TeamName: r.TeamName, ReceivedOn: r.ReceivedOn,
		Status: r.Status, AssigneeID: r.Assignee, AssigneeName: r.AssigneeName}
	if err := json.Unmarshal(plain, &c.Report); err != nil {
		dk.Wipe()
		return Case{}, vault.Key{}, err
	}
	c.Language = c.Report.Language // sealed with the content, never in plain
	if r.Classification != nil {
		cls := *r.Classification
		if r.DatesSealed != nil {
			if cls.Day, err = openCaseDay(dk, r.ID, r.DatesSealed); err != nil {
				dk.Wipe()
				return Case{}, vault.Key{}, err
			}
		}
		c.Classification = &cls
		c.Deadline = cls.Deadline(cs.now())
	}
	return c, dk, nil
}

// CaseFile is everything the case page shows: the case, its record (or
// the form pre-filled from the report), history, notes, and the choices
// its forms offer.
type CaseFile struct {
	Case
	Form       ClassificationForm // the record as a form, or pre-filled from the report
	NextStatus []string           // the statuses the case may move to
	History    []StatusChange
	Notes      []Note
	Members    []Assignee // who the case can be assigned to
	OtherTeams []Team     // where the case can be moved to
	// Attachments are the reporter's files (reporting/attachments.go).
	Attachments []Attachment
	// Interpreter is the language an interpreter is needed for, "" for
	// none (interpreter.go); InterpreterAltered: the mark did not open.
	Interpreter        string
	InterpreterAltered bool
	// Altered lists the notes and files that were changed in the
	// database and are shown as altered (each also audited). The
	// thread's are returned by Replies.Messages.
	Altered []AlteredItem
}

// CaseFile opens a case with everything its page shows.
func (cs *Cases) CaseFile(ctx context.Context, s *OfficeSession, id string) (CaseFile, error) {
	r, team, err := openCase(ctx, cs.store, s, id)
	if err != nil {
		return CaseFile{}, opError("case file", err)
	}
	c, err := cs.decrypt(team, r)
	if err != nil {
		return CaseFile{}, opError("case file", err)
	}
	f := CaseFile{Case: c, NextStatus: Transitions[c.Status]}
	if c.Classification != nil {
		f.Form = c.Classification.Form()
	} else {
		f.Form = PrefillClassification(c.Report)
	}
	if f.History, err = cs.store.StatusHistory(ctx, id); err != nil {
		return CaseFile{}, opError("case file", err)
	}
	var altered []AlteredItem
	if f.Notes, altered, err = cs.notes(ctx, team, id); err != nil {
		return CaseFile{}, opError("case file", err)
	}
	f.Altered = append(f.Altered, altered...)
	if f.Members, err = cs.store.Assignees(ctx, []int64{c.TeamID}); err != nil {
		return CaseFile{}, opError("case file", err)
	}
	teams, err := cs.store.Teams(ctx)
	if err != nil {
		return CaseFile{}, opError("case file", err)
	}
	f.OtherTeams = slices.DeleteFunc(teams, func(t Team) bool { return t.ID == c.TeamID })
	if f.Attachments, altered, err = caseAttachments(ctx, cs.store, team, r); err != nil {
		return CaseFile{}, opError("case file", err)
	}
	f.Altered = append(f.Altered, altered...)
	if f.Interpreter, altered, err = cs.interpreter(ctx, team, r); err != nil {
		return CaseFile{}, opError("case file", err)
	}
	f.InterpreterAltered = len(altered) > 0
	f.Altered = append(f.Altered, altered...)
	// Everything is decrypted above, outside the unit of work (it holds
	// the only writer). The dates move, the opening and every altered
	// item are logged together; no case is shown whose opening the log
	// did not take.
	if err := cs.store.Atomically(ctx, func(ctx context.Context) error {
		if err := cs.moveDates(ctx, team, r); err != nil {
			return err
		}
		if err := cs.copyFlags(ctx, r, c.Report); err != nil {
			return err
		}
		if err := cs.audit(ctx, s, AuditCaseOpen, id, ""); err != nil {
			return err
		}
		return cs.auditAltered(ctx, s, id, f.Altered)
	}); err != nil {
		return CaseFile{}, opError("case file", err)
	}
	return f, nil
}

// notes opens a case's notes with its team's key. A note that does not
// open is kept in the list marked Altered and named in the second result.
func (cs *Cases) notes(ctx context.Context, team *vault.KeyPair, id string) ([]Note, []AlteredItem, error) {
	stored, err := cs.store.Notes(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	notes := make([]Note, 0, len(stored))
	var altered []AlteredItem
	for _, n := range stored {
		body, err := openNote(team, id, n)
		if err != nil {
			notes = append(notes, Note{ID: n.ID, Altered: true})
			altered = append(altered, AlteredItem{AlteredNote, n.ID})
			continue
		}
		notes = append(notes, Note{ID: n.ID, Author: n.UserName, Day: n.At.Format(time.DateOnly), Body: string(body)})
	}
	return notes, altered, nil
}

// Classify validates the triage form and stores the case's statistical
// record, with the AGG deadline it implies.
func (cs *Cases) Classify(ctx context.Context, s *OfficeSession, id string, f ClassificationForm) error {
	r, team, err := openCase(ctx, cs.store, s, id)
	if err != nil {
		return opError("classify", err)
	}
	c, err := f.Validate(r.Status, cs.now())
	if err != nil {
		return err
	}
	c.ReportID = id
	detail := "created"
	if r.Classification != nil {
		c.ClosedOn, detail = r.Classification.ClosedOn, "updated"
	}
	// The day is sealed under the data key; once retention has deleted
	// the content there is no key left, and the day is not kept at all.
	d := CaseDates{Week: c.DeadlineWeek()}
	var rep Report
	if r.ContentDeletedOn == "" {
		dk, err := team.OpenKey(r.SealedKey, vault.AD{Purpose: purposeSealedKey, Row: id})
		if err != nil {
			return opError("classify", err)
		}
		d = sealCaseDates(dk, id, c)
		dk.Wipe()
		if r.Flags == nil { // the report is opened only to copy its flags
			open, err := cs.decrypt(team, r)
			if err != nil {
				return opError("classify", err)
			}
			rep = open.Report
		}
	}
	return opError("classify", cs.audited(ctx, s, AuditClassify, id, detail, func(ctx context.Context) error {
		if err := cs.copyFlags(ctx, r, rep); err != nil {
			return err
		}
		return cs.store.PutClassification(ctx, c, d)
	}))
}

// StatusForm is the status change form as typed.
type StatusForm struct {
	To            string
	ClosingReason string // required when closing
}

// ChangeStatus moves a case along the workflow. Closing needs the case's
// record and a closing reason, which go into the record with the day;
// reopening a closed case clears them.
func (cs *Cases) ChangeStatus(ctx context.Context, s *OfficeSession, id string, f StatusForm) error {
	r, _, err := openCase(ctx, cs.store, s, id)
	if err != nil {
		return opError("change status", err)
	}
	errs := fieldErrors{}
	switch {
	case f.To == "":
		errs.add("status", "error.status.required")
	case !CanTransition(r.Status, f.To):
		errs.add("status", "error.status.not_allowed")
	}
	var closing *Closing
	switch {
	case f.To == StatusClosed && r.Classification == nil:
		errs.add("status", "error.status.classify_first")
	case f.To == StatusClosed && !known(ClosingReasons, f.ClosingReason):
		errs.add("closing_reason", "error.cls.closing_reason.required")
	case f.To == StatusClosed:
		closing = &Closing{On: cs.now().Format(time.DateOnly), Reason: f.ClosingReason}
	case r.Status == StatusClosed && f.To == StatusCounselling:
		closing = &Closing{} // reopened: no longer closed
	}
	if err := errs.err(); err != nil {
		return err
	}
	ch := StatusChange{ReportID: id, From: r.Status, To: f.To, UserID: s.User.ID, At: cs.now()}
	// The store moves the case only from r.Status, so the detail's "from"
	// is what the case really left.
	return opError("change status", cs.audited(ctx, s, AuditStatus, id, r.Status+"→"+f.To, func(ctx context.Context) error {
		return cs.store.ChangeStatus(ctx, ch, closing)
	}))
}

// Assign gives a case to a member of its team, or to nobody (userID 0).
func (cs *Cases) Assign(ctx context.Context, s *OfficeSession, id string, userID int64) error {
	r, _, err := openCase(ctx, cs.store, s, id)
	if err != nil {
		return opError("assign", err)
	}
	if userID != 0 {
		members, err := cs.store.Assignees(ctx, []int64{r.TeamID})
		if err != nil {
			return opError("assign", err)
		}
		if !slices.ContainsFunc(members, func(m Assignee) bool { return m.ID == userID }) {
			return fieldErrors{"assignee": "error.assign.not_member"}.err()
		}
	}
	detail := "none"
	if userID != 0 {
		detail = "user=" + strconv.FormatInt(userID, 10)
	}
	return opError("assign", cs.audited(ctx, s, AuditAssign, id, detail, func(ctx context.Context) error {
		return cs.store.Assign(ctx, id, r.TeamID, userID)
	}))
}

// AddNote stores an internal note, sealed to the case's team.
func (cs *Cases) AddNote(ctx context.Context, s *OfficeSession, id, body string) error {
	r, team, err := openCase(ctx, cs.store, s, id)
	if err != nil {
		return opError("add note", err)
	}
	body = strings.TrimSpace(body)
	switch n := utf8.RuneCountInString(body); {
	case n == 0:
		return fieldErrors{"body": "error.note.required"}.err()
	case n > MaxNote || !utf8.ValidString(body):
		return fieldErrors{"body": "error.note.too_long"}.err()
	}
	n := StoredNote{ID: newUUID(), ReportID: id, UserID: s.User.ID, At: cs.now()}
	// Sealed to the team's public key, never under the data key: the
	// reporter's receipt opens the data key, and notes are not for them.
	n.Body = team.Public().Seal([]byte(body), noteAD(id, n))
	return opError("add note", cs.audited(ctx, s, AuditNote, id, n.ID, func(ctx context.Context) error {
		return cs.store.AddNote(ctx, n, r.TeamID)
	}))
}

// Transfer moves a case to another team: its data key and every note are
// re-sealed to the target team's public key in one transaction. The
// session must hold the case's current team key (to open them); the
// target's public key is enough to seal. It reports whether the session
// can still open the case afterwards.
func (cs *Cases) Transfer(ctx context.Context, s *OfficeSession, id string, teamID int64) (bool, error) {
	r, team, err := openCase(ctx, cs.store, s, id)
	if err != nil {
		return false, opError("transfer", err)
	}
	// The case's key is sealed to the target's stored key: checked first.
	teams, err := cs.anchor.verifiedTeams(ctx, cs.store, cs.now())
	if err != nil {
		return false, opError("transfer", err)
	}
	i := slices.IndexFunc(teams, func(t Team) bool { return t.ID == teamID })
	switch {
	case i < 0:
		return false, fieldErrors{"team": "error.transfer.team"}.err()
	case teamID == r.TeamID:
		return false, fieldErrors{"team": "error.transfer.same_team"}.err()
	}
	target := teams[i].PublicKey
	if err := contentGone(r); err != nil {
		return false, err
	}
	keyAD := vault.AD{Purpose: purposeSealedKey, Row: id}
	dk, err := team.OpenKey(r.SealedKey, keyAD)
	if err != nil {
		return false, opError("transfer", err)
	}
	t := CaseTransfer{ReportID: id, From: r.TeamID, To: teamID, SealedKey: target.SealKey(dk, keyAD), Notes: map[string][]byte{}}
	notes, err := cs.store.Notes(ctx, id)
	if err != nil {
		return false, opError("transfer", err)
	}
	for _, n := range notes {
		plain, err := openNote(team, id, n)
		if isAltered(err) {
			// An altered note cannot be re-sealed, and moving the case
			// without it would lose it silently: refuse, and audit why.
			if err := cs.auditAltered(ctx, s, id, []AlteredItem{{AlteredNote, n.ID}}); err != nil {
				return false, opError("transfer", err)
			}
			return false, Errorf(EAltered, "binding.error.transfer")
		} else if err != nil {
			return false, opError("transfer", err)
		}
		// Re-sealed as version 2, also a note written before: every
		// write binds its author and time.
		t.Notes[n.ID] = target.Seal(plain, noteAD(id, n))
		clear(plain)
	}
	// Every key and note is re-sealed above; the unit only writes them.
	if err := cs.audited(ctx, s, AuditTransfer, id, fmt.Sprintf("%d→%d", r.TeamID, teamID), func(ctx context.Context) error {
		return cs.store.TransferCase(ctx, t)
	}); err != nil {
		return false, opError("transfer", err)
	}
	_, stillHeld := s.Keys.Team(teamID)
	return stillHeld, nil
}

// CaseTeams returns the teams whose keys the session holds and the case
// workers of those teams, each once, for the case list's filters.
func (cs *Cases) CaseTeams(ctx context.Context, s *OfficeSession) ([]Team, []Assignee, error) {
	held := s.Keys.Teams()
	if !s.Can(PermCaseWork) || len(held) == 0 {
		return nil, nil, nil
	}
	teams, err := cs.store.Teams(ctx)
	if err != nil {
		return nil, nil, opError("case teams", err)
	}
	teams = slices.DeleteFunc(teams, func(t Team) bool { return !slices.Contains(held, t.ID) })
	members, err := cs.store.Assignees(ctx, held)
	if err != nil {
		return nil, nil, opError("case teams", err)
	}
	// Sorted by name and ID: a member of several teams is adjacent to itself.
	return teams, slices.CompactFunc(members, func(a, b Assignee) bool { return a.ID == b.ID }), nil
}

// caseNumber is what the search field takes for a case number:
// "2026-0042", or "42" for the newest year's case 42.
var caseNumber = regexp.MustCompile(`^(?:([0-9]{4})-)?([0-9]{1,7})$`)

// FindCase finds a case of the session's teams by the number typed into
// the list's search field. ok is false when text is no case number or no
// case of the session's teams has it: a case of another team is not
// found, like one that does not exist, so its number says nothing.
func (cs *Cases) FindCase(ctx context.Context, s *OfficeSession, text string) (id string, ok bool, err error) {
	m := caseNumber.FindStringSubmatch(strings.TrimSpace(text))
	teams := s.Keys.Teams()
	if m == nil || len(teams) == 0 || !s.Can(PermCaseWork) {
		return "", false, nil
	}
	year, _ := strconv.Atoi(m[1]) // 0 without a year
	n, _ := strconv.Atoi(m[2])
	id, err = cs.store.CaseByNumber(ctx, teams, year, n)
	if ErrorCode(err) == ENotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, opError("find case", err)
	}
	return id, true, nil
}

// MaxBulk is the most cases one bulk change takes: one page of the list.
const MaxBulk = 50

// BulkChange is a change for the cases ticked on the list: a new status
// (with its closing reason when closing) and an assignee. Empty fields
// are left as they are.
type BulkChange struct {
	Status        string
	ClosingReason string
	Assignee      string // a user ID, "none" (nobody), or "" (unchanged)
}

// BulkResult says what a bulk change did: the numbers of the cases
// changed, and each refusal with its reason.
type BulkResult struct {
	Changed []string
	Refused []BulkRefusal
}

// BulkRefusal is a case a bulk change left alone, and why (a message ID).
type BulkRefusal struct {
	CaseNo string // "" for a case the session cannot open
	Msg    string
}

// Bulk applies one change to several cases, each as on its case page:
// the change of each case and its audit entry are one transaction, and a
// case the change does not fit (a status its status may not move to, an
// assignee outside its team) is refused and named, while the others are
// changed. An error other than a refusal stops at that case; the cases
// before it stay changed (each is whole and audited), and the result
// says which.
func (cs *Cases) Bulk(ctx context.Context, s *OfficeSession, ids []string, b BulkChange) (BulkResult, error) {
	var res BulkResult
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	switch {
	case len(ids) == 0:
		return res, fieldErrors{"ids": "case_list.bulk.none"}.err()
	case len(ids) > MaxBulk:
		return res, fieldErrors{"ids": "case_list.bulk.too_many"}.err()
	case b.Status == "" && b.Assignee == "":
		return res, fieldErrors{"action": "case_list.bulk.no_action"}.err()
	}
	var assignee int64
	switch b.Assignee {
	case "", "none":
	default:
		id, err := strconv.ParseInt(b.Assignee, 10, 64)
		if err != nil || id <= 0 {
			return res, fieldErrors{"assignee": "error.assign.not_member"}.err()
		}
		assignee = id
	}
	for _, id := range ids {
		r, _, err := openCase(ctx, cs.store, s, id)
		if ErrorCode(err) == ENotFound {
			res.Refused = append(res.Refused, BulkRefusal{Msg: "error.case.not_found"})
			continue
		}
		if err != nil {
			return res, opError("bulk change", err)
		}
		changed, refused := false, ""
		if b.Status != "" && b.Status != r.Status {
			err := cs.ChangeStatus(ctx, s, id, StatusForm{To: b.Status, ClosingReason: b.ClosingReason})
			if refused = refusal(err); refused == "" && err != nil {
				return res, opError("bulk change", err)
			}
			changed = err == nil
		}
		if refused == "" && b.Assignee != "" && assignee != r.Assignee {
			err := cs.Assign(ctx, s, id, assignee)
			if refused = refusal(err); refused == "" && err != nil {
				return res, opError("bulk change", err)
			}
			changed = changed || err == nil
		}
		switch {
		case refused != "":
			res.Refused = append(res.Refused, BulkRefusal{CaseNo: r.CaseNo, Msg: refused})
		case changed:
			res.Changed = append(res.Changed, r.CaseNo)
		}
	}
	return res, nil
}

// refusal is the message of a change refused for the case it was meant
// for (a field error, or a case gone or moved meanwhile); "" for success
// or a failure of the office itself.
func refusal(err error) string {
	if errs := FieldErrors(err); errs != nil {
		for _, k := range []string{"status", "closing_reason", "assignee"} {
			if msg, ok := errs[k]; ok {
				return msg
			}
		}
		for _, msg := range errs {
			return msg
		}
	}
	switch ErrorCode(err) {
	case ENotFound, EConflict:
		return "error.case.not_found"
	}
	return ""
}
