package web_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// The network export (issue 14) through the admin route: a CSV and a
// JSON download that are attachments and never cached, with the common
// Bochum cases and without the one Herne case (alone even as "Ruhr
// area", so suppressed, and said so); no report ID or report text in
// either; a k below the office's and an unknown format are refused; the
// statistics page links the export for admins only; every download is
// in the audit log.
func TestNetworkExportRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	common := reporting.Classification{Municipality: "bochum", Grounds: []string{"racism", "gender"},
		Subgrounds: []string{"antiziganism", "women"}, Areas: []string{"housing"}, ReporterRole: "affected"}
	ids := statsCases(t, e, 6, common)
	rare := common
	rare.Municipality = "herne"
	ids = append(ids, statsCases(t, e, 1, rare)...)
	admin := login(t, e)
	year := strconv.Itoa(time.Now().Year())
	base := e.URL + "/office/statistics/network-export?year=" + year

	resp, body := getAs(t, admin, base+"&format=csv")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("csv: status %d: %s", resp.StatusCode, body)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="network-export-`+year+`.csv"` || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("csv headers: Content-Disposition %q, Cache-Control %q", cd, resp.Header.Get("Cache-Control"))
	}
	r := csv.NewReader(strings.NewReader(body))
	r.Comment = '#'
	lines, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 7 || strings.Join(lines[0], ",") != strings.Join(reporting.NetColumns, ",") {
		t.Fatalf("csv: %d lines (want the header and the 6 Bochum rows):\n%s", len(lines), body)
	}
	for _, l := range lines[1:] {
		if got := strings.Join(l, ","); got != year+",bochum,,gender;racism,antiziganism;women,housing,,,affected,," {
			t.Errorf("csv row %q", got)
		}
	}
	if !strings.Contains(body, "records=7 rows=6 suppressed=1") || !strings.Contains(body, "# generalised municipality_to_ruhr rows=1") {
		t.Errorf("csv metadata does not say what was generalised and suppressed:\n%s", body)
	}

	resp, body = getAs(t, admin, base+"&format=json")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("json: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	var x reporting.NetworkExport
	if err := json.Unmarshal([]byte(body), &x); err != nil {
		t.Fatal(err)
	}
	if x.Version != reporting.NetworkExportVersion || x.K != reporting.StatsK || x.Records != 7 || x.Suppressed != 1 || len(x.Rows) != 6 || x.Rows[0].Region != "bochum" {
		t.Errorf("json: %+v", x)
	}
	for _, id := range ids {
		if strings.Contains(body, id) {
			t.Errorf("the export holds report ID %s", id)
		}
	}
	if strings.Contains(body, "Statistik") {
		t.Error("the export holds report text")
	}

	// A larger k: six Bochum cases are no longer enough alone, but all
	// seven together as "Ruhr area" are.
	_, body = getAs(t, admin, base+"&format=json&k=7")
	if err := json.Unmarshal([]byte(body), &x); err != nil || x.K != 7 || len(x.Rows) != 7 || x.Suppressed != 0 || x.Rows[0].Region != reporting.RegionRuhr {
		t.Errorf("k=7: %v %+v", err, x)
	}
	for _, bad := range []string{"&format=xlsx", "&k=4", "&k=many"} {
		if resp, _ := getAs(t, admin, base+bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", bad, resp.StatusCode)
		}
	}

	_, page := getAs(t, admin, e.URL+"/office/statistics?year="+year)
	if !strings.Contains(page, `href="/office/statistics/network-export?year=`+year+`&amp;format=csv"`) {
		t.Error("the admin's statistics page does not link the export")
	}
	statistician, _ := accUser(t, e, admin, "stefan", "statistician")
	_, page = getAs(t, statistician, e.URL+"/office/statistics?year="+year)
	if strings.Contains(page, "network-export") {
		t.Error("the statistician's page links the export")
	}

	entries, _, err := e.DB.AuditEntries(t.Context(), "", reporting.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, a := range entries {
		if a.Action == reporting.AuditNetworkExport {
			details = append(details, a.Detail)
		}
	}
	if want := "year=" + year + " format=json k=7|year=" + year + " format=json k=5|year=" + year + " format=csv k=5"; strings.Join(details, "|") != want {
		t.Errorf("audit %q, want %q", details, want)
	}
}
