package web

import "github.com/gin-gonic/gin"

// RouteList lists every registered route, so the authorization matrix
// test can insist that no office route is left out of it.
func (s *Server) RouteList() []gin.RouteInfo { return s.engine.Routes() }
