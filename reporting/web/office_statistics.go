package web

import "github.com/gin-gonic/gin"

// statisticsRoutes registers the statistics pages: the office's and the
// published public ones. (Issue 5, statistics work.)
func (s *Server) statisticsRoutes(pub, auth, admin *gin.RouterGroup) {}
