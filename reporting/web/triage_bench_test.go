package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
)

// BenchmarkTriageSave measures a full triage of one new case through the
// handler (session, decryption, the changes and their audit entries in one
// transaction, redirect) followed by the case page the browser loads
// after it. "panel" is issue 13's one save of the triage panel;
// "three-saves" is the case page before it (classification, status and
// assignee, each its own POST and page load), kept to compare in one run.
func BenchmarkTriageSave(b *testing.B) {
	e := newEnv(b, options{})
	ctx := context.Background()
	cookie := login(b, e)
	admin, err := e.DB.UserByName(ctx, e.Admin)
	if err != nil {
		b.Fatal(err)
	}
	assignee := strconv.FormatInt(admin.ID, 10)
	do := func(method, path string, form url.Values, want int) {
		var req *http.Request
		if form == nil {
			req = httptest.NewRequest(method, path, nil)
		} else {
			req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%s %s: status %d, want %d", method, path, rec.Code, want)
		}
	}
	b.Run("panel", func(b *testing.B) {
		ids := newCases(b, e, b.N)
		f := triage()
		for _, k := range []string{"subareas", "level", "incident_type", "reporter_role", "incident_date", "incident_day", "interventions"} {
			f.Del(k)
		}
		f.Set("status", "triage")
		f.Set("assignee", assignee)
		b.ResetTimer()
		for _, id := range ids {
			page := "/office/cases/" + id
			do("POST", page+"/triage", f, http.StatusSeeOther)
			do("GET", page+"?saved=triage", nil, http.StatusOK)
		}
	})
	b.Run("three-saves", func(b *testing.B) {
		ids := newCases(b, e, b.N)
		b.ResetTimer()
		for _, id := range ids {
			page := "/office/cases/" + id
			do("POST", page+"/classification", triage(), http.StatusSeeOther)
			do("GET", page, nil, http.StatusOK)
			do("POST", page+"/status", url.Values{"status": {"triage"}}, http.StatusSeeOther)
			do("GET", page, nil, http.StatusOK)
			do("POST", page+"/assignee", url.Values{"assignee": {assignee}}, http.StatusSeeOther)
			do("GET", page, nil, http.StatusOK)
		}
	})
}

// newCases submits n new reports and returns their IDs.
func newCases(b *testing.B, e *env, n int) []string {
	b.Helper()
	ctx := context.Background()
	for i := range n {
		if _, err := e.Services.Intake.Submit(ctx, reporting.Report{Role: "affected", Municipality: "herne", Grounds: []string{"racism"},
			Area: "housing", Description: "Bericht " + strconv.Itoa(i), Wish: "counselling", Language: "de"}); err != nil {
			b.Fatal(err)
		}
	}
	// The newest n: those just submitted.
	rows, err := rawDB(b, e).Query(`SELECT id FROM reports ORDER BY case_no DESC LIMIT ?`, n)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	if len(ids) != n {
		b.Fatalf("%d new cases, want %d", len(ids), n)
	}
	return ids
}
