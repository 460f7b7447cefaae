package web

import "github.com/gin-gonic/gin"

// caseRoutes registers the case work under /office/cases/:id: triage,
// status, assignment, notes. (Issue 3, triage work.)
func (s *Server) caseRoutes(work *gin.RouterGroup) {}
