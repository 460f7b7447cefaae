package web_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// The office statistics: a chart per table with a title beside the
// table, CSV that parses and counts a case with two grounds under both,
// JSON that parses; statisticians and admins only.
func TestStatisticsOfficePages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	two := reporting.Classification{Municipality: "bochum", Grounds: []string{"racism", "gender"}, Areas: []string{"housing"}, ReporterRole: "affected"}
	statsCases(t, e, 5, two)
	one := two
	one.Grounds, one.Municipality = []string{"racism"}, "herne"
	statsCases(t, e, 1, one)
	admin := login(t, e)
	year := strconv.Itoa(time.Now().Year())
	statistician, _ := accUser(t, e, admin, "stefan", "statistician")
	counsellor, _ := accUser(t, e, admin, "clara", "counsellor", "1")

	resp, page := getAs(t, statistician, e.URL+"/office/statistics?year="+year)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("statistician: status %d", resp.StatusCode)
	}
	i := strings.Index(page, `id="table-ground"`)
	if i < 0 {
		t.Fatal("no ground table")
	}
	ground := page[i:]
	ground = ground[:strings.Index(ground, "</section>")]
	svg := ground[strings.Index(ground, "<svg"):strings.Index(ground, "</svg>")]
	if !strings.Contains(svg, `aria-labelledby="caption-ground"`) || strings.Contains(svg, "style=") || !strings.Contains(svg, "<rect") {
		t.Errorf("chart without title or bars, or with a style attribute:\n%s", svg)
	}
	for _, want := range []string{"<th scope=\"row\">Rassismus, Antisemitismus, (zugeschriebene) ethnische Herkunft</th><td>6</td><td>100,0\u00a0%</td>",
		"<th scope=\"row\">Geschlecht</th><td>5</td>", "Ein Fall kann mehrfach zählen"} {
		if !strings.Contains(ground, want) {
			t.Errorf("ground table lacks %q:\n%s", want, ground)
		}
	}
	// Herne has one case: published as <5, with Bochum's 5 hidden as x
	// (not the zeros: Herne's 1 would be the hidden pair's sum).
	i = strings.Index(page, `id="table-municipality"`)
	mun := page[i : i+strings.Index(page[i:], "</section>")]
	if !strings.Contains(mun, "<th scope=\"row\">Herne</th><td>&lt;5</td><td>–</td>") || !strings.Contains(mun, "<th scope=\"row\">Bochum</th><td>x</td><td>–</td>") {
		t.Errorf("municipality table not suppressed as expected:\n%s", mun)
	}
	if strings.Contains(page, "publish") {
		t.Error("a statistician is offered publishing")
	}

	resp, body := getAs(t, statistician, e.URL+"/office/statistics.csv?year="+year)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	cells := map[string]string{}
	for _, l := range lines[1:] {
		cells[l[1]+"/"+l[2]+"/"+l[3]] = l[4]
	}
	for key, want := range map[string]string{"ground/racism/": "6", "ground/gender/": "5", "ground/total/": "6",
		"municipality/herne/": "<5", "municipality/bochum/": "x", "ground_area/racism/housing": "6", "ground_area/total/total": "11"} {
		if cells[key] != want {
			t.Errorf("CSV %s = %q, want %q", key, cells[key], want)
		}
	}
	_, body = getAs(t, admin, e.URL+"/office/statistics.csv?year="+year+"&table=area")
	lines, _ = csv.NewReader(strings.NewReader(body)).ReadAll()
	for _, l := range lines[1:] {
		if l[1] != "area" {
			t.Fatalf("table=area gives a line of %s", l[1])
		}
	}
	if resp, _ := getAs(t, admin, e.URL+"/office/statistics.csv?year="+year+"&table=nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown table: %d", resp.StatusCode)
	}

	_, body = getAs(t, statistician, e.URL+"/office/statistics.json?year="+year)
	var st reporting.Statistics
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Cases != 6 || st.K != 5 || len(st.Tables) != 12 {
		t.Fatalf("JSON: %v, %d cases, k %d, %d tables", err, st.Cases, st.K, len(st.Tables))
	}
	if strings.Contains(body, `"count": 1,`) {
		t.Error("the JSON carries a count below k")
	}

	resp, page = getAs(t, statistician, e.URL+"/office/statistics/report?year="+year)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `class="stats-report"`) || strings.Count(page, "<svg") != len(reporting.OneDimTables) {
		t.Errorf("report: %d, %d charts", resp.StatusCode, strings.Count(page, "<svg"))
	}
	// A typo in the year comes back in its field with the message next to it.
	if resp, page := getAs(t, admin, e.URL+"/office/statistics?year=20x6"); resp.StatusCode != http.StatusOK ||
		!strings.Contains(page, `value="20x6"`) || !strings.Contains(page, `id="year-error">Bitte geben Sie ein Jahr`) {
		t.Errorf("year=20x6: %d", resp.StatusCode)
	}
	if resp, _ := getAs(t, admin, e.URL+"/office/statistics.csv?year=abc"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("CSV year=abc: %d", resp.StatusCode)
	}

	for _, u := range []string{"/office/statistics", "/office/statistics.csv", "/office/statistics.json", "/office/statistics/report"} {
		if resp, _ := getAs(t, counsellor, e.URL+u); resp.StatusCode != http.StatusForbidden {
			t.Errorf("counsellor %s: %d, want 403", u, resp.StatusCode)
		}
		if resp, _ := get(t, e.URL+u); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/login" {
			t.Errorf("logged out %s: %d", u, resp.StatusCode)
		}
	}
	if resp, _ := postAs(t, statistician, e.URL+"/office/statistics/publish", url.Values{"year": {year}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("statistician publishes: %d", resp.StatusCode)
	}
}

// An admin publishes a year; the public page then lists it and shows its
// tables in every language, right to left in Arabic, and later records do
// not change the published figures.
func TestStatisticsPublish(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	statsCases(t, e, 7, reporting.Classification{Municipality: "bochum", Grounds: []string{"racism"}, Areas: []string{"housing"}, ReporterRole: "affected"})
	admin := login(t, e)
	year := strconv.Itoa(time.Now().Year())
	if _, page := get(t, e.URL+"/de/statistics"); !strings.Contains(page, `id="no-statistics"`) {
		t.Error("public page before publishing does not say that nothing is published")
	}
	resp, _ := postAs(t, admin, e.URL+"/office/statistics/publish", url.Values{"year": {year}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/office/statistics?year="+year+"&published=1" {
		t.Fatalf("publish: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	statsCases(t, e, 3, reporting.Classification{Municipality: "bochum", Grounds: []string{"racism"}, Areas: []string{"housing"}, ReporterRole: "affected"})

	resp, page := get(t, e.URL+"/ar/statistics")
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) > 0 {
		t.Fatalf("public page: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	for _, want := range []string{`dir="rtl"`, `lang="ar"`, "/ar/statistics?year=" + year, "بماذا تعلّق الأمر؟", `<td><bdi dir="ltr">7</bdi></td>`, "مجموع الحالات"} {
		if !strings.Contains(page, want) {
			t.Errorf("Arabic public page lacks %q", want)
		}
	}
	if strings.Contains(page, `<bdi dir="ltr">10</bdi>`) {
		t.Error("the public page shows live figures, not the snapshot")
	}
	for _, l := range []string{"de", "en", "tr"} {
		if resp, page := get(t, e.URL+"/"+l+"/statistics?year="+year); resp.StatusCode != http.StatusOK || !strings.Contains(page, `<bdi dir="ltr">7</bdi>`) {
			t.Errorf("%s: %d", l, resp.StatusCode)
		}
	}
	if resp, _ := get(t, e.URL+"/de/statistics?year=1999"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unpublished year: %d", resp.StatusCode)
	}
	if _, audit := getAs(t, admin, e.URL+"/office/audit"); !strings.Contains(audit, "Statistik veröffentlicht") {
		t.Error("publishing is not in the audit log")
	}
}

// A backup taken while reports keep arriving is a sound database that the
// office's keys open: the admin logs in on the copy and reads a case.
func TestBackupDuringSubmissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	ctx := context.Background()
	intake, err := reporting.NewIntake(ctx, e.DB, vault.NewKDF(0), testParams, e.Anchor, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var submitted int
	var submitErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			if _, err := intake.Submit(ctx, statsReport("Bericht während der Sicherung")); err != nil {
				submitErr = err
				close(first)
				return
			}
			submitted++
			if i == 0 {
				close(first)
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	<-first
	dir := t.TempDir()
	path := filepath.Join(dir, storage.FileName)
	backupErr := e.DB.Backup(ctx, path)
	close(stop)
	wg.Wait()
	if submitErr != nil || backupErr != nil {
		t.Fatalf("submit: %v; backup: %v", submitErr, backupErr)
	}

	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	raw.Close()

	db, err := storage.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The secret file is not in the backup; the operator keeps it apart
	// and brings it back with the copy.
	db.SetAuditKey(e.Anchor.AuditKey())
	office := reporting.NewOffice(db, vault.NewKDF(0), testParams, e.Anchor, time.Now)
	defer office.Close()
	_, sess, err := office.Login(ctx, e.Admin, e.Pass, "")
	if err != nil {
		t.Fatalf("login on the backup: %v", err)
	}
	teams, _ := db.Teams(ctx)
	reports, n, err := db.Reports(ctx, []int64{teams[0].ID}, reporting.Page{Limit: 1})
	if err != nil || n == 0 || n > submitted {
		t.Fatalf("backup holds %d reports of %d submitted (%v)", n, submitted, err)
	}
	c, err := reporting.NewCases(db, e.Anchor, time.Now).Case(ctx, sess, reports[0].ID)
	if err != nil || c.Report.Description != "Bericht während der Sicherung" {
		t.Fatalf("case from the backup: %q, %v", c.Report.Description, err)
	}
}
