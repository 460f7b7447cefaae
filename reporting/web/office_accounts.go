package web

import "github.com/gin-gonic/gin"

// accountRoutes registers users, invitations, password change and
// sessions. off: no session needed (accepting an invitation); auth: any
// logged-in user; admin: admins only. (Issue 3, accounts work.)
func (s *Server) accountRoutes(off, auth, admin *gin.RouterGroup) {}
