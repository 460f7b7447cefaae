package web

import "github.com/gin-gonic/gin"

// followupRoutes registers the reporter's follow-up pages under /{lang}/
// and the counsellor's message composer under /office/cases/:id. (Issue 4,
// follow-up work.)
func (s *Server) followupRoutes(pub, work *gin.RouterGroup) {}
