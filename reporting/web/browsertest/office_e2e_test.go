package browsertest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// counsellorNote is the internal note of the end-to-end walk: German and
// Arabic in one text, as a counsellor writes after a call in the
// reporter's language.
const counsellorNote = "Rückruf am Dienstag – Gespräch auf Arabisch: اتصلت بها وشرحت لها خياراتها. Sie möchte eine Beschwerde an das Wohnungsamt schicken."

// officeLabels are the office's texts the walk looks for, in one language
// (the message IDs are in the comments).
type officeLabels struct {
	statusNew, statusTriage, statusCounselling string // status.*
	reporter                                   string // triage.history.reporter
	stored                                     string // triage.cls.stored
	deadline                                   string // triage.deadline.date with 2026-05-14
	auditClassify, auditStatus, auditNote      string // audit.action.*
}

// officeLabelsByLang holds officeLabels for both office languages: which one
// the pages use depends on the browser's Accept-Language.
var officeLabelsByLang = map[string]officeLabels{
	"en": {
		statusNew: "Received", statusTriage: "Triage", statusCounselling: "Counselling",
		reporter:      "Report received",
		stored:        "Classified. These codes stay as anonymous statistics, even after the case is deleted.",
		deadline:      "AGG deadline: claims must be made by 2026-05-14 at the latest.",
		auditClassify: "Classified", auditStatus: "Status changed", auditNote: "Note added",
	},
	"de": {
		statusNew: "Eingegangen", statusTriage: "In Sichtung", statusCounselling: "In Beratung",
		reporter:      "Meldung eingegangen",
		stored:        "Eingeordnet. Diese Angaben bleiben als anonyme Statistik erhalten, auch wenn der Fall gelöscht wird.",
		deadline:      "AGG-Frist: Ansprüche bis spätestens 2026-05-14 geltend machen.",
		auditClassify: "Eingeordnet", auditStatus: "Status geändert", auditNote: "Notiz hinzugefügt",
	},
}

// TestEndToEndCounsellorTriageWithTOTP walks a counsellor's day in a real
// browser with JavaScript off, with the real argon2id parameters: a report
// comes in; the admin sets up two-factor on the account page, reading the
// secret off the page; a login without the code is refused at the code
// field, one with it gets in; the counsellor opens the case, classifies it,
// moves it to triage and then to counselling, and writes a note in German
// and Arabic; the audit log lists every step and none of the note's text.
func TestEndToEndCounsellorTriageWithTOTP(t *testing.T) {
	ctx := newBrowser(t)
	e := webtest.New(t, webtest.Options{Params: vault.DefaultParams})
	start := time.Now()
	defer func() { t.Logf("counsellor walk took %v", time.Since(start).Round(time.Millisecond)) }()

	// A report comes in through the public form. The reporter ticked
	// antiziganism and gender, chose housing, and gave March 14 2026.
	resp, body := webtest.Submit(t, e, "de", webtest.ValidReport("Die Vermieterin wollte uns die Wohnung nicht geben, weil wir Roma sind."))
	if resp.StatusCode != http.StatusOK || !webtest.ReceiptPattern.MatchString(body) {
		t.Fatalf("submitting the report: status %d, no receipt:\n%s", resp.StatusCode, body)
	}

	// fillLogin opens the login page and types name, password and code
	// (none when code is "").
	fillLogin := func(code string) {
		t.Helper()
		resp := browserRun(t, ctx, "open the login", chromedp.NavigateResponse(e.URL+"/office/login"))
		wantDocStatus(t, "GET /office/login", resp, http.StatusOK)
		browserDo(t, ctx, "type name and password",
			chromedp.Click(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), e.Admin),
			chromedp.Click(chromedp.ID("password")),
			chromedp.SendKeys(chromedp.ID("password"), e.Pass),
		)
		if code != "" {
			browserDo(t, ctx, "type the code", chromedp.Click(chromedp.ID("totp")), chromedp.SendKeys(chromedp.ID("totp"), code))
		}
	}

	// The admin's first login, still without two-factor, lands on the
	// case list.
	fillLogin("")
	resp2 := clickAndLoad(t, ctx, "first login", chromedp.ID("submit"), chromedp.CSS("table.cases"))
	wantDocStatus(t, "first login", resp2, http.StatusOK)
	lang := browserRun(t, ctx, "read the office's language", chromedp.AttributeValue(chromedp.CSS("html"), "lang")).Value
	l, ok := officeLabelsByLang[lang]
	if !ok {
		t.Fatalf(`the office page has <html lang=%q>, want "de" or "en"`, lang)
	}
	t.Logf("the office speaks %q to this browser", lang)

	// Two-factor, set up as a person does: read the secret off the page
	// into the app (here: totp.GenerateCode), confirm with password and
	// the app's code.
	resp2 = browserRun(t, ctx, "open the two-factor page", chromedp.NavigateResponse(e.URL+"/office/account/totp"))
	wantDocStatus(t, "GET /office/account/totp", resp2, http.StatusOK)
	secret := strings.ReplaceAll(browserRun(t, ctx, "read the secret", chromedp.Text(chromedp.ID("totp-secret"))), " ", "")
	enrolledAt := time.Now()
	enrolCode, err := totp.GenerateCode(secret, enrolledAt)
	if err != nil {
		t.Fatalf("the page's secret %q is not a TOTP secret: %v", secret, err)
	}
	browserDo(t, ctx, "confirm with password and code",
		chromedp.Click(chromedp.ID("enable-password")),
		chromedp.SendKeys(chromedp.ID("enable-password"), e.Pass),
		chromedp.Click(chromedp.ID("enable-code")),
		chromedp.SendKeys(chromedp.ID("enable-code"), enrolCode),
	)
	resp2 = clickAndLoad(t, ctx, "turn two-factor on", chromedp.ID("enable-submit"), chromedp.ID("recovery-codes"))
	wantDocStatus(t, "turn two-factor on", resp2, http.StatusOK)
	browserDo(t, ctx, "log out",
		chromedp.Click(chromedp.CSS(`form[action="/office/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID("totp")))

	// Without the code: refused, the message at the code field, the name
	// kept.
	fillLogin("")
	resp2 = clickAndLoad(t, ctx, "log in without the code", chromedp.ID("submit"), chromedp.ID("totp-error"))
	wantDocStatus(t, "log in without the code", resp2, http.StatusUnauthorized)
	saveScreenshot(t, ctx, "counsellor-login-no-code.png")
	if got := browserRun(t, ctx, "read the code's error", chromedp.Text(chromedp.ID("totp-error"))); got == "" {
		t.Error("the refused login shows no message at the code field")
	}
	if got := browserRun(t, ctx, "find the error's field", chromedp.AttributeValue(chromedp.CSS(".field.invalid input"), "id")).Value; got != "totp" {
		t.Errorf("the field marked invalid holds #%s, want #totp", got)
	}
	if name := browserRun(t, ctx, "read the user name", chromedp.Value(chromedp.ID("username"))); name != e.Admin {
		t.Errorf("after the refused login the user name reads %q, want %q", name, e.Admin)
	}

	// With the code of the next time step: the enrolment used this one,
	// and the server takes no code twice but accepts one step ahead.
	// Computing it spares waiting 30 seconds.
	loginCode, err := totp.GenerateCode(secret, enrolledAt.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	fillLogin(loginCode)
	resp2 = clickAndLoad(t, ctx, "log in with the code", chromedp.ID("submit"), chromedp.CSS("table.cases"))
	wantDocStatus(t, "log in with the code", resp2, http.StatusOK)
	if loc := browserRun(t, ctx, "read the location", chromedp.Location()); !strings.HasSuffix(loc, "/office/cases") {
		t.Errorf("after the login with the code the browser is at %s, want /office/cases", loc)
	}
	saveScreenshot(t, ctx, "counsellor-cases.png")

	// The case, from the list.
	rows := browserRun(t, ctx, "list the cases", chromedp.Nodes(chromedp.CSSAll("table.cases tbody tr")))
	if len(rows) != 1 {
		t.Fatalf("the case list has %d rows, want 1", len(rows))
	}
	resp2 = clickAndLoad(t, ctx, "open the case", chromedp.CSS("table.cases tbody tr td a"), chromedp.ID("triage-form"))
	wantDocStatus(t, "open the case", resp2, http.StatusOK)
	caseURL := strings.SplitN(browserRun(t, ctx, "read the case's address", chromedp.Location()), "#", 2)[0]
	if got := browserRun(t, ctx, "read the status", chromedp.Text(chromedp.ID("status"))); got != l.statusNew {
		t.Errorf("a new case shows the status %q, want %q", got, l.statusNew)
	}

	// Triage with one save: the panel comes pre-filled with the
	// reporter's choices (racism with antiziganism, gender, housing); the
	// counsellor adds a ground with a sub-ground, a sub-ground, an area,
	// two forms and AGG relevance, and moves the case to triage.
	shortChecked := map[string][]string{
		"grounds":    {"racism", "gender", "religion"},
		"subgrounds": {"antiziganism", "language", "islam"},
		"areas":      {"work", "housing"},
		"forms":      {"direct", "denied_access"},
	}
	tick := func(form string, boxes map[string][]string) {
		for name, values := range boxes {
			for _, v := range values {
				sel := form + ` input[name="` + name + `"][value="` + v + `"]`
				if browserRun(t, ctx, "read "+sel, chromedp.JavascriptAttribute[bool](chromedp.CSS(sel), "checked")) {
					continue // pre-filled from the report
				}
				browserDo(t, ctx, "tick "+sel, chromedp.Click(chromedp.CSS(sel)))
			}
		}
	}
	tick("#triage-form", shortChecked)
	chooseOption(t, ctx, "tp-agg_relevant", "agg_relevant")
	chooseOption(t, ctx, "tp-status", "triage")
	resp2 = clickAndLoad(t, ctx, "save the triage", chromedp.ID("triage-submit"), chromedp.ID("saved-triage"))
	wantDocStatus(t, "save the triage", resp2, http.StatusOK)
	if got := browserRun(t, ctx, "read the status", chromedp.Text(chromedp.ID("status"))); got != l.statusTriage {
		t.Errorf("after the triage the status reads %q, want %q", got, l.statusTriage)
	}
	if got := browserRun(t, ctx, "read the classification's state", chromedp.Text(chromedp.ID("cls-state"))); got != l.stored {
		t.Errorf("after saving, the classification says %q, want %q", got, l.stored)
	}
	// The detailed classification: collapsed until opened (no script:
	// <details> is the browser's own).
	browserDo(t, ctx, "open the detailed classification", chromedp.Click(chromedp.CSS("#cls-details summary")))
	tick("#cls-form", map[string][]string{"subareas": {"hiring"}})
	wantSelected := map[string]string{
		"cls-level":         "institutional",
		"cls-incident_type": "discrimination",
		"tp-agg_relevant":   "agg_relevant",
	}
	chooseOption(t, ctx, "cls-level", "institutional")
	chooseOption(t, ctx, "cls-incident_type", "discrimination")
	resp2 = clickAndLoad(t, ctx, "save the detailed classification", chromedp.ID("cls-submit"), chromedp.ID("saved-classification"))
	wantDocStatus(t, "save the detailed classification", resp2, http.StatusOK)
	saveScreenshot(t, ctx, "counsellor-case-classified.png")
	wantChecked := map[string][]string{"subareas": {"hiring"}}
	for k, v := range shortChecked {
		wantChecked[k] = v
	}
	// What the server rendered as checked and selected (attributes, not
	// what the browser may keep of a form), exactly the choices made.
	checked := map[string][]string{}
	for _, a := range browserRun(t, ctx, "read the ticked boxes", chromedp.AttributesAll(chromedp.CSSAll(`#triage-form input[type="checkbox"][checked], #cls-form input[type="checkbox"][checked]`))) {
		checked[a["name"]] = append(checked[a["name"]], a["value"])
	}
	for name, want := range wantChecked {
		got := slices.Sorted(slices.Values(checked[name]))
		if want := slices.Sorted(slices.Values(want)); !slices.Equal(got, want) {
			t.Errorf("after saving, %s ticked: %v, want %v", name, got, want)
		}
	}
	for name, got := range checked {
		if _, ok := wantChecked[name]; !ok {
			t.Errorf("after saving, %s ticked: %v, want none", name, got)
		}
	}
	for id, want := range wantSelected {
		got := browserRun(t, ctx, "read #"+id, chromedp.AttributeValue(chromedp.CSS("#"+id+" option[selected]"), "value"))
		if got.Value != want {
			t.Errorf("after saving, #%s has %q selected, want %q", id, got.Value, want)
		}
	}
	// AGG-relevant in work: the two-month deadline from 14 March.
	if got := browserRun(t, ctx, "read the deadline", chromedp.Text(chromedp.CSS("#deadline p strong"))); got != l.deadline {
		t.Errorf("the AGG deadline reads %q, want %q", got, l.deadline)
	}

	// On to counselling through the panel; the history names who did each.
	chooseOption(t, ctx, "tp-status", "counselling")
	resp2 = clickAndLoad(t, ctx, "change the status to counselling", chromedp.ID("triage-submit"), chromedp.ID("saved-triage"))
	wantDocStatus(t, "change the status to counselling", resp2, http.StatusOK)
	if got := browserRun(t, ctx, "read the status", chromedp.Text(chromedp.ID("status"))); got != l.statusCounselling {
		t.Errorf("after the change to counselling the status reads %q, want %q", got, l.statusCounselling)
	}
	history := tableText(t, ctx, "#history table tbody")
	wantHistory := [][]string{
		{l.reporter, "", l.statusNew},
		{e.Admin, l.statusNew, l.statusTriage},
		{e.Admin, l.statusTriage, l.statusCounselling},
	}
	if len(history) != len(wantHistory) {
		t.Fatalf("the history has %d rows, want %d: %q", len(history), len(wantHistory), history)
	}
	for i, row := range history {
		if len(row) != 4 || !slices.Equal(row[1:], wantHistory[i]) {
			t.Errorf("history row %d: %q, want [when] + %q", i+1, row, wantHistory[i])
		}
	}

	// An internal note in German and Arabic.
	browserDo(t, ctx, "write the note",
		chromedp.Click(chromedp.ID("note-body")),
		chromedp.SendKeys(chromedp.ID("note-body"), counsellorNote))
	resp2 = clickAndLoad(t, ctx, "save the note", chromedp.ID("note-submit"), chromedp.CSS("article.note"))
	wantDocStatus(t, "save the note", resp2, http.StatusOK)
	saveScreenshot(t, ctx, "counsellor-case.png")
	notes := browserRun(t, ctx, "count the notes", chromedp.Nodes(chromedp.CSSAll("article.note")))
	if len(notes) != 1 {
		t.Fatalf("%d notes on the case page, want 1", len(notes))
	}
	if got := normalizeText(browserRun(t, ctx, "read the note", chromedp.TextContent(chromedp.CSS("article.note .note-body")))); got != counsellorNote {
		t.Errorf("the note reads %q, want %q", got, counsellorNote)
	}
	if got := browserRun(t, ctx, "read the note's author", chromedp.Text(chromedp.CSS("article.note .meta"))); !strings.HasPrefix(got, e.Admin+", ") {
		t.Errorf("the note's byline is %q, want it to start with %q", got, e.Admin+", ")
	}
	if got := browserRun(t, ctx, "read the note field", chromedp.Value(chromedp.ID("note-body"))); got != "" {
		t.Errorf("after saving, the note field still holds %q", got)
	}
	// Everything above is stored, not just shown once: a fresh load shows
	// the same.
	resp2 = browserRun(t, ctx, "reload the case", chromedp.NavigateResponse(caseURL))
	wantDocStatus(t, "reload the case", resp2, http.StatusOK)
	if got := browserRun(t, ctx, "read the status", chromedp.Text(chromedp.ID("status"))); got != l.statusCounselling {
		t.Errorf("reloaded, the status reads %q, want %q", got, l.statusCounselling)
	}
	if got := normalizeText(browserRun(t, ctx, "read the note", chromedp.TextContent(chromedp.CSS("article.note .note-body")))); got != counsellorNote {
		t.Errorf("reloaded, the note reads %q", got)
	}

	// The audit log: every step, by whom, and codes only: the note's text
	// is nowhere on the page.
	resp2 = browserRun(t, ctx, "open the audit log", chromedp.NavigateResponse(e.URL+"/office/audit"))
	wantDocStatus(t, "GET /office/audit", resp2, http.StatusOK)
	browserDo(t, ctx, "wait for the audit log", chromedp.WaitVisible(chromedp.CSS("table.audit")))
	saveScreenshot(t, ctx, "counsellor-audit.png")
	count := map[string]int{}
	details := map[string][]string{}
	for _, row := range tableText(t, ctx, "table.audit tbody") {
		if len(row) != 6 {
			t.Fatalf("audit row %q has %d cells, want 6", row, len(row))
		}
		action := row[3]
		count[action]++
		if row[4] != "" && row[2] != e.Admin {
			t.Errorf("audit row %q: the case work is by %q, want %q", row, row[2], e.Admin)
		}
		details[action] = append(details[action], row[5])
	}
	// Two records saved: the triage panel's, then the detailed one; the
	// second status change left the record as it was, so no entry.
	for action, want := range map[string]int{l.auditClassify: 2, l.auditStatus: 2, l.auditNote: 1} {
		if count[action] != want {
			t.Errorf("the audit log lists %q %d times, want %d (all: %v)", action, count[action], want, count)
		}
	}
	// Newest first.
	if got, want := details[l.auditClassify], []string{"updated", "created"}; !slices.Equal(got, want) {
		t.Errorf("the classification entries' details are %q, want %q", got, want)
	}
	if got, want := details[l.auditStatus], []string{"triage→counselling", "new→triage"}; !slices.Equal(got, want) {
		t.Errorf("the status entries' details are %q, want %q", got, want)
	}
	page := browserRun(t, ctx, "read the audit page", chromedp.OuterHTML(chromedp.CSS("html")))
	for _, part := range []string{counsellorNote, "Rückruf", "اتصلت بها", "Wohnungsamt"} {
		if strings.Contains(page, part) {
			t.Errorf("the audit log shows the note's text %q", part)
		}
	}

	// Back on the case list, the case is in counselling, with its deadline.
	resp2 = clickAndLoad(t, ctx, "go to the case list", chromedp.CSS(`nav a[href="/office/cases"]`), chromedp.ID("filters"))
	wantDocStatus(t, "go to the case list", resp2, http.StatusOK)
	list := tableText(t, ctx, "table.cases tbody")
	// The first cell is the bulk actions' check box (issue 13), then the
	// eight cells of the case (no team column: the admin has one team;
	// status and assignee share a cell since the list fits 1280 px).
	if len(list) != 1 || len(list[0]) != 9 || list[0][0] != "" {
		t.Fatalf("the case list reads %q, want one row of a check box and 8 cells", list)
	}
	row := list[0][1:]
	if got := row[2]; !strings.HasPrefix(got, l.statusCounselling+" ") {
		t.Errorf("the case list shows the status %q, want %q first", got, l.statusCounselling)
	}
	if got := row[6]; !strings.HasPrefix(got, "2026-05-14") {
		t.Errorf("the case list shows the AGG deadline %q, want 2026-05-14", got)
	}
}

// tableText reads the rows of a table body as the browser shows them: one
// slice of cell texts per row, each cell's lines joined by a space (a
// cell may set a line of its own, as the case list's markers do).
func tableText(t *testing.T, ctx context.Context, tbody string) [][]string {
	t.Helper()
	sel, _ := json.Marshal(tbody + " > tr")
	return browserRun(t, ctx, "read "+tbody, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll(`+string(sel)+`),
		tr => Array.from(tr.cells, td => td.innerText.replace(/\s+/g, ' ').trim()))`))
}
