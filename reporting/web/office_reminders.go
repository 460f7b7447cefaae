package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// reminderRoutes registers the reminder (Wiedervorlage) forms of the case
// page: set (or replace) the case's reminder, and mark it done. Both are
// plain form POSTs that redirect back to the reminder on the case page
// with a confirmation (POST/redirect/GET).
func (s *Server) reminderRoutes(work *gin.RouterGroup) {
	work.POST("/cases/:id/reminder", s.setReminder)
	work.POST("/cases/:id/reminder/done", s.doneReminder)
}

// reminderBox is what the reminder partial of the case page shows besides
// its form (caseForms.Reminder): the open reminder, and which action was
// just confirmed ("saved", "done" or "").
type reminderBox struct {
	Open      *reporting.Reminder
	Confirmed string
}

// dueBox is the start page's box of what is due: the reminders due today
// or overdue and the open cases whose AGG deadline is near or passed.
type dueBox struct {
	Reminders []reporting.Reminder
	Deadlines []reporting.Case
}

// dueDeadlines bounds the deadline warnings the box shows; the list's
// "deadline soon" filter shows them all.
const dueDeadlines = 20

// caseReminder fills the case page's reminder block: the open reminder,
// the form pre-filled with it, and the confirmation of the redirect.
func (s *Server) caseReminder(c *gin.Context, d *caseData) error {
	rem, err := s.reminders.CaseReminder(c.Request.Context(), session(c), d.File.ID)
	if err != nil {
		return err
	}
	d.Reminder = reminderBox{Open: rem}
	if q := c.Query("reminder"); q == "saved" || q == "done" {
		d.Reminder.Confirmed = q
	}
	if rem != nil && !rem.Altered {
		d.F.Reminder = reporting.ReminderForm{Due: rem.Due, Reason: rem.Reason}
	}
	return nil
}

// setReminder sets the case's reminder, replacing the open one.
func (s *Server) setReminder(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	f := reporting.ReminderForm{Due: c.Request.PostForm.Get("due"), Reason: c.Request.PostForm.Get("reason")}
	s.reminderDone(c, "saved", s.reminders.SetReminder(c.Request.Context(), session(c), c.Param("id"), f),
		func(fs *caseForms, errs map[string]string) {
			fs.Reminder, fs.ReminderErr = f, errs
			// A date input holds a date or nothing: what is not one (sent
			// by hand) comes back empty, next to its error.
			if _, err := time.Parse(time.DateOnly, f.Due); err != nil {
				fs.Reminder.Due = ""
			}
		})
}

// doneReminder clears the case's reminder.
func (s *Server) doneReminder(c *gin.Context) {
	s.reminderDone(c, "done", s.reminders.DoneReminder(c.Request.Context(), session(c), c.Param("id")),
		func(*caseForms, map[string]string) {})
}

// reminderDone answers a reminder form: back to the reminder with its
// confirmation on success, else as every case form does (caseDone).
func (s *Server) reminderDone(c *gin.Context, confirm string, err error, keep func(*caseForms, map[string]string)) {
	if err != nil {
		s.caseDone(c, "reminder", err, keep)
		return
	}
	// The case ID came through the service, which found the case in the
	// session's teams; the confirmation is one of two fixed words.
	c.Redirect(http.StatusSeeOther, "/office/cases/"+c.Param("id")+"?reminder="+confirm+"#reminder")
}

// loadDueBox fills the start page's box: the due reminders and the AGG
// deadline warnings of the session's teams.
func (s *Server) loadDueBox(c *gin.Context) (dueBox, error) {
	ctx, sess := c.Request.Context(), session(c)
	var box dueBox
	var err error
	if box.Reminders, err = s.reminders.DueReminders(ctx, sess); err != nil {
		return box, err
	}
	warn, _, _, err := s.cases.CaseList(ctx, sess, reporting.CaseFilter{DeadlineSoon: true, Status: "open",
		Sort: reporting.SortDeadline, Page: reporting.Page{Limit: dueDeadlines}})
	if err != nil {
		return box, err
	}
	for _, cs := range warn {
		// The filter goes by the deadline's week; only the decrypted case
		// knows whether it needs the warning today.
		if cs.DeadlineWarning() {
			box.Deadlines = append(box.Deadlines, cs)
		}
	}
	return box, nil
}
