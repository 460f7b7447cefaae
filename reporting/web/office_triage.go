package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// caseRoutes registers the case work under /office/cases/:id: triage,
// status, assignment, notes and moving a case to another team. Each is a
// plain form POST that redirects back to the case page (POST/redirect/GET);
// a form with mistakes comes back on the case page, as typed.
func (s *Server) caseRoutes(work *gin.RouterGroup) {
	work.POST("/cases/:id/triage", s.triageCase)
	work.POST("/cases/:id/classification", s.classifyCase)
	work.POST("/cases/:id/status", s.changeStatus)
	work.POST("/cases/:id/assignee", s.assignCase)
	work.POST("/cases/:id/notes", s.addNote)
	work.POST("/cases/:id/transfer", s.transferCase)
	work.POST("/cases/bulk", s.bulkCases)
}

// caseDone answers a case form's action: back to the case page at the
// form's section on success, where the page confirms the save next to the
// form's button (?saved=); the case page with the form as typed and its
// errors (422) on a validation error.
func (s *Server) caseDone(c *gin.Context, section string, err error, keep func(*caseForms, map[string]string)) {
	if errs := reporting.FieldErrors(err); errs != nil {
		s.showCase(c, http.StatusUnprocessableEntity, func(f *caseForms) {
			keep(f, errs)
			f.Failed = section
		})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	// section is one of the handlers' fixed names, and the ID was found by
	// the service in the session's teams. The office logs no query
	// strings (server.go), so the confirmation leaves no trace.
	c.Redirect(http.StatusSeeOther, "/office/cases/"+c.Param("id")+"?saved="+section+"#"+section)
}

// triageCase saves the triage panel: status, assignee and the short
// classification in one POST.
func (s *Server) triageCase(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	pf := c.Request.PostForm
	f := reporting.TriageForm{
		Status: pf.Get("status"), ClosingReason: pf.Get("closing_reason"), Assignee: pf.Get("assignee"),
		Grounds: pf["grounds"], Subgrounds: pf["subgrounds"], Areas: pf["areas"],
		Municipality: pf.Get("municipality"), Forms: pf["forms"], AGGRelevant: pf.Get("agg_relevant"),
	}
	s.caseDone(c, "triage", s.cases.Triage(c.Request.Context(), session(c), c.Param("id"), f),
		func(fs *caseForms, errs map[string]string) { fs.Triage, fs.TriageErr = f, errs })
}

// shortFields are the classification fields of the triage panel. A POST to
// /classification that carries none of them is the detailed form.
var shortFields = []string{"grounds", "subgrounds", "areas", "municipality", "forms", "agg_relevant"}

// classifyCase stores the detailed classification, merged into the stored
// record so that the triage panel's fields stay as they are. A form that
// carries the short fields as well (the whole record, as before the
// triage panel) replaces the record.
func (s *Server) classifyCase(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	pf := c.Request.PostForm
	f := reporting.ClassificationForm{
		IncidentDate: pf.Get("incident_date"), IncidentDay: pf.Get("incident_day"),
		Municipality: pf.Get("municipality"), Grounds: pf["grounds"], Subgrounds: pf["subgrounds"],
		Areas: pf["areas"], Subareas: pf["subareas"], Forms: pf["forms"], Level: pf.Get("level"),
		IncidentType: pf.Get("incident_type"), ReporterRole: pf.Get("reporter_role"),
		AGGRelevant: pf.Get("agg_relevant"), Interventions: pf["interventions"], ClosingReason: pf.Get("closing_reason"),
	}
	save, whole := s.cases.ClassifyDetails, false
	for _, k := range shortFields {
		if _, ok := pf[k]; ok {
			save, whole = s.cases.Classify, true
			break
		}
	}
	s.caseDone(c, "classification", save(c.Request.Context(), session(c), c.Param("id"), f),
		func(fs *caseForms, errs map[string]string) {
			fs.ClassErr = errs
			if whole {
				// The short fields' errors belong to the triage panel,
				// which shows them with what was typed.
				fs.Class, fs.TriageErr = f, errs
				fs.Triage.Grounds, fs.Triage.Subgrounds, fs.Triage.Areas = f.Grounds, f.Subgrounds, f.Areas
				fs.Triage.Municipality, fs.Triage.Forms, fs.Triage.AGGRelevant = f.Municipality, f.Forms, f.AGGRelevant
				return
			}
			// The detailed form was typed; the panel's fields stay as stored.
			fs.Class.Subareas, fs.Class.IncidentType, fs.Class.Level = f.Subareas, f.IncidentType, f.Level
			fs.Class.ReporterRole, fs.Class.IncidentDate, fs.Class.IncidentDay = f.ReporterRole, f.IncidentDate, f.IncidentDay
			fs.Class.Interventions, fs.Class.ClosingReason = f.Interventions, f.ClosingReason
		})
}

// changeStatus moves the case along the workflow. The case page saves the
// status with the triage panel; this route stays for a status change
// alone (scripts, tests), and its errors show in the panel.
func (s *Server) changeStatus(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	f := reporting.StatusForm{To: c.Request.PostForm.Get("status"), ClosingReason: c.Request.PostForm.Get("closing_reason")}
	s.caseDone(c, "triage", s.cases.ChangeStatus(c.Request.Context(), session(c), c.Param("id"), f),
		func(fs *caseForms, errs map[string]string) {
			fs.Triage.Status, fs.Triage.ClosingReason, fs.TriageErr = f.To, f.ClosingReason, errs
		})
}

// assignCase gives the case to a member of its team, or to nobody. Like
// changeStatus, kept beside the triage panel, which shows its errors.
func (s *Server) assignCase(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	raw := c.Request.PostForm.Get("assignee")
	id, err := strconv.ParseInt(raw, 10, 64)
	if raw == "" {
		id, err = 0, nil
	}
	if err != nil || id < 0 {
		id = -1 // not a user: refused as "not a member" below
	}
	s.caseDone(c, "triage", s.cases.Assign(c.Request.Context(), session(c), c.Param("id"), id),
		func(fs *caseForms, errs map[string]string) { fs.Triage.Assignee, fs.TriageErr = raw, errs })
}

// addNote adds an internal note.
func (s *Server) addNote(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	body := c.Request.PostForm.Get("body")
	s.caseDone(c, "notes", s.cases.AddNote(c.Request.Context(), session(c), c.Param("id"), body),
		func(fs *caseForms, errs map[string]string) { fs.Note, fs.NoteErr = body, errs })
}

// transferCase moves the case to another team. A user who cannot open
// the case there lands on the case list, with a notice.
func (s *Server) transferCase(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		s.badBody(c, err)
		return
	}
	team, _ := strconv.ParseInt(c.Request.PostForm.Get("team"), 10, 64)
	held, err := s.cases.Transfer(c.Request.Context(), session(c), c.Param("id"), team)
	if err == nil && !held {
		c.Redirect(http.StatusSeeOther, "/office/cases?moved=1")
		return
	}
	s.caseDone(c, "transfer", err,
		func(fs *caseForms, errs map[string]string) { fs.Team, fs.TransferErr = team, errs })
}
