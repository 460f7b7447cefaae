package web

import (
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// EmptyFormPages answers the empty report form (page "form") or receipt
// form (page "followup") of lang with captchaID and, on the report form,
// the submission token twice: as a GET writes it from the pre-rendered
// parts and as the template renders it. ok is false when the pre-rendered
// page refused the ID or the token.
func (s *Server) EmptyFormPages(page, lang, captchaID, token string) (pre, tmpl *httptest.ResponseRecorder, ok bool) {
	ctx := func(w http.ResponseWriter, path string) *gin.Context {
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest("GET", "/"+lang+path, nil)
		c.Set(langKey, lang)
		return c
	}
	pre, tmpl = httptest.NewRecorder(), httptest.NewRecorder()
	switch page {
	case "form":
		ok = s.site().empty.report.write(ctx(pre, "/"), http.StatusOK, captchaID, token) == nil
		s.renderForm(ctx(tmpl, "/"), http.StatusOK, reporting.ReportForm{}, nil, captchaID, token)
	case "followup":
		ok = s.site().empty.followup.write(ctx(pre, "/followup"), http.StatusOK, captchaID, "") == nil
		s.renderFollowupForm(ctx(tmpl, "/followup"), http.StatusOK, followupFormData{}, captchaID)
	default:
		panic("EmptyFormPages: no page " + page)
	}
	return pre, tmpl, ok
}
