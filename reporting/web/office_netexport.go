package web

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// networkExportRoutes registers the record export for the NRW reporting
// network (issue 14). It is behind the publishing permission (admins
// only), not the statistics one: like publishing, it lets figures leave
// the office, and a statistician reads the tables but hands nothing out.
// PermSettings would fit the role today too, but it is about configuring
// the office, and if the roles are ever split the export belongs with
// publishing.
func (s *Server) networkExportRoutes(publish *gin.RouterGroup, svc NetworkExportService) {
	x := &networkExporter{s: s, svc: svc}
	publish.GET("/statistics/network-export", x.export)
}

// networkExporter serves the export through its service.
type networkExporter struct {
	s   *Server
	svc NetworkExportService
}

// export downloads the k-anonymous records of ?year= as ?format=csv
// (default) or json, with ?k= to ask for a larger k than the office's.
func (x *networkExporter) export(c *gin.Context) {
	year, ok := x.s.statsYear(c)
	if !ok {
		return
	}
	format := c.DefaultQuery("format", "csv")
	if format != "csv" && format != "json" {
		x.s.errorPage(c, http.StatusBadRequest, "error.netexport.format")
		return
	}
	k := 0
	if v := c.Query("k"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < x.svc.K() || n > 1000 {
			x.s.errorPage(c, http.StatusBadRequest, "error.netexport.k")
			return
		}
		k = n
	}
	// The service writes the audit entry before it returns the rows.
	out, err := x.svc.Export(c.Request.Context(), session(c), year, k, format)
	if err != nil {
		x.s.fail(c, err)
		return
	}
	var buf bytes.Buffer
	write, ctype := reporting.WriteNetworkCSV, "text/csv; charset=utf-8"
	if format == "json" {
		write, ctype = reporting.WriteNetworkJSON, "application/json"
	}
	if err := write(&buf, out); err != nil {
		x.s.fail(c, err)
		return
	}
	// The rows are coarse, but they are the office's records: no cache
	// keeps a copy.
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="network-export-`+strconv.Itoa(year)+`.`+format+`"`)
	c.Data(http.StatusOK, ctype, buf.Bytes())
}
