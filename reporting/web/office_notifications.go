package web

import "github.com/gin-gonic/gin"

// notificationRoutes registers the admin's view of the notification
// outbox. (Issue 4, notifications work.)
func (s *Server) notificationRoutes(admin *gin.RouterGroup) {}
