package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// auditPerPage is the length of one page of the audit log.
const auditPerPage = 100

// auditData is one page of the audit log.
type auditData struct {
	Entries        []reporting.AuditEntry
	Case           string // filter: one case's entries
	Total          int
	Page, Pages    int
	PrevPage, Next int
	ChainOK        bool
	BrokenAt       int64
}

// auditLog shows the audit log to admins, newest first, with the state of
// the hash chain.
func (s *Server) auditLog(c *gin.Context) {
	page, err := strconv.Atoi(c.DefaultQuery("page", "1"))
	if err != nil || page < 1 {
		page = 1
	}
	d := auditData{Case: c.Query("case"), Page: page}
	d.Entries, d.Total, err = s.audit.AuditLog(c.Request.Context(), session(c), d.Case, reporting.Page{Limit: auditPerPage, Offset: (page - 1) * auditPerPage})
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Pages = max(1, (d.Total+auditPerPage-1)/auditPerPage)
	if page > 1 {
		d.PrevPage = page - 1
	}
	if page < d.Pages {
		d.Next = page + 1
	}
	d.BrokenAt, err = s.audit.VerifyAudit(c.Request.Context())
	if err != nil && reporting.ErrorCode(err) != reporting.EConflict {
		s.fail(c, err)
		return
	}
	d.ChainOK = err == nil
	s.render(c, http.StatusOK, "audit", view{Title: "audit.title", Data: d})
}
