package web

import "github.com/gin-gonic/gin"

// teamRoutes registers team administration and moving a case to another
// team. (Issue 3, teams work.)
func (s *Server) teamRoutes(work, admin *gin.RouterGroup) {}
