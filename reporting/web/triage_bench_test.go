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

// BenchmarkTriageSave measures a full triage of one new case as the case
// page does it today: the classification, the status and the assignee,
// each its own POST through the handler (session, decryption, the change
// and its audit entry in one transaction, redirect) followed by the case
// page the browser loads after it. Item 1 of issue 13 folds the three
// saves into one; this is the number it starts from.
func BenchmarkTriageSave(b *testing.B) {
	e := newEnv(b, options{})
	ctx := context.Background()
	cookie := login(b, e)
	admin, err := e.DB.UserByName(ctx, e.Admin)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, b.N)
	for i := range ids {
		if _, err := e.Services.Intake.Submit(ctx, reporting.Report{Role: "affected", Municipality: "herne", Grounds: []string{"racism"},
			Area: "housing", Description: "Bericht " + strconv.Itoa(i), Wish: "counselling", Language: "de"}); err != nil {
			b.Fatal(err)
		}
	}
	rows, err := rawDB(b, e).Query(`SELECT id FROM reports ORDER BY case_no`)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; rows.Next(); i++ {
		if err := rows.Scan(&ids[i]); err != nil {
			b.Fatal(err)
		}
	}
	rows.Close()
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
	b.ResetTimer()
	for _, id := range ids {
		page := "/office/cases/" + id
		do("POST", page+"/classification", triage(), http.StatusSeeOther)
		do("GET", page, nil, http.StatusOK)
		do("POST", page+"/status", url.Values{"status": {"triage"}}, http.StatusSeeOther)
		do("GET", page, nil, http.StatusOK)
		do("POST", page+"/assignee", url.Values{"assignee": {strconv.FormatInt(admin.ID, 10)}}, http.StatusSeeOther)
		do("GET", page, nil, http.StatusOK)
	}
}
