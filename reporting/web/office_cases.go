package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// casesPerPage is the length of one page of the case list.
const casesPerPage = 50

// casesData is one page of the case list.
type casesData struct {
	Cases          []reporting.Case
	Total          int
	Page, Pages    int
	PrevPage, Next int
}

// cases lists the cases of the user's teams, decrypted with their keys.
func (s *Server) cases(c *gin.Context) {
	page, err := strconv.Atoi(c.DefaultQuery("page", "1"))
	if err != nil || page < 1 {
		page = 1
	}
	list, total, err := s.office.Cases(c.Request.Context(), session(c), reporting.Page{Limit: casesPerPage, Offset: (page - 1) * casesPerPage})
	if err != nil {
		s.fail(c, err)
		return
	}
	d := casesData{Cases: list, Total: total, Page: page, Pages: max(1, (total+casesPerPage-1)/casesPerPage)}
	if page > 1 {
		d.PrevPage = page - 1
	}
	if page < d.Pages {
		d.Next = page + 1
	}
	s.render(c, http.StatusOK, "cases", view{Title: "cases.title", Data: d})
}

// caseDetail shows one decrypted case.
func (s *Server) caseDetail(c *gin.Context) {
	cs, err := s.office.Case(c.Request.Context(), session(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "case", view{Title: "case.title", Data: cs})
}
