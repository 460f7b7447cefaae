package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting/web/webtest"
)

// ---- helpers for the follow-up pages ----

var fuCaptchaParts = regexp.MustCompile(`/captcha/[^".]+(\.[a-z]+)?\.(png|wav)|name="captcha_id" value="[^"]+"`)

// fuCount counts rows of a table that belong to a report.
func fuCount(t testing.TB, e *env, table, reportID string) int {
	t.Helper()
	col := "report_id"
	if table == "reports" {
		col = "id"
	}
	var n int
	if err := rawDB(t, e).QueryRow(`SELECT count(*) FROM `+table+` WHERE `+col+` = ?`, reportID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fuEnvWithClock is newEnv with a clock the test controls.
func fuEnvWithClock(t *testing.T) (*env, *testClock) {
	t.Helper()
	clock := newTestClock(time.Date(2026, 5, 20, 10, 30, 0, 0, time.UTC))
	return newEnv(t, options{Now: clock.Now}), clock
}

// ---- tests ----

// The whole conversation: a reporter submits, a counsellor answers on the
// case page, the reporter opens the report with the receipt (typed with
// spaces), reads the answer and the status in plain words and replies;
// the counsellor sees the reply and the list marks it new. No follow-up
// response sets a cookie.
func TestFollowupConversation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	receipt := fuSubmit(t, e, validReport("Im Bus wurde ich beschimpft."))
	admin, caseURL := func() (*http.Cookie, string) {
		c := login(t, e)
		_, list := getAs(t, c, e.URL+"/office/cases")
		ids := caseIDs(list)
		if len(ids) != 1 {
			t.Fatalf("the list links %d cases, want 1", len(ids))
		}
		return c, e.URL + "/office/cases/" + ids[0]
	}()
	caseID := caseURL[strings.LastIndex(caseURL, "/")+1:]

	// Before any answer the reporter sees "received".
	resp, page := fuOpen(t, e, "en", receipt)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("opening with the receipt: status %d\n%s", resp.StatusCode, page)
	}
	wantAll(t, "the new report's page", page, "Your report has reached us.", `id="thread-empty"`)

	// An empty message is refused next to the field.
	resp, page = postAs(t, admin, caseURL+"/messages", url.Values{"body": {"   "}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-message-body"`) {
		t.Fatalf("empty message: status %d, want 422 with the error at the field", resp.StatusCode)
	}
	answer := "Guten Tag, danke für Ihre Meldung. Möchten Sie ein Gespräch?"
	resp, page = postAs(t, admin, caseURL+"/messages", url.Values{"body": {answer}})
	wantRedirect(t, "sending a message", resp, page, "/office/cases/"+caseID+"?saved=messages#messages")
	_, page = getAs(t, admin, caseURL)
	wantAll(t, "the case page after answering", page, answer, `id="message-form"`)
	_, list := getAs(t, admin, e.URL+"/office/cases")
	if !strings.Contains(list, `class="muted waiting"`) || strings.Contains(list, `class="unread"`) {
		t.Error("after the counsellor's answer the list should say 'waiting for reply' and nothing new")
	}
	var audited int
	rawDB(t, e).QueryRow(`SELECT count(*) FROM audit WHERE action = 'message' AND report_id = ? AND user_name = ?`, caseID, e.Admin).Scan(&audited)
	if audited != 1 {
		t.Errorf("%d audit entries for the message, want 1", audited)
	}
	if _, log := getAs(t, admin, e.URL+"/office/audit"); !strings.Contains(log, "Nachricht an die meldende Person") && !strings.Contains(log, "Message to the reporter") {
		t.Error("the audit log does not name the message action")
	}

	// The reporter comes back with the receipt, spaces and all.
	resp, page = fuOpen(t, e, "en", receipt)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("opening with the receipt: status %d\n%s", resp.StatusCode, page)
	}
	wantAll(t, "the reporter's page", page, "We have answered you.", "Guten Tag, danke für Ihre Meldung. Möchten Sie ein Gespräch?", "PLANB counselling")
	token := fuToken(t, page)
	if len(token) < 40 {
		t.Errorf("token %q is too short for 32 random bytes", token)
	}

	// An empty answer keeps the page with an error.
	resp, page = fuPost(t, e, "/en/followup/message", url.Values{"token": {token}, "message": {""}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-message"`) {
		t.Fatalf("empty answer: status %d, want 422 with the error at the field\n%s", resp.StatusCode, page)
	}
	reply := "Ja, gerne. Am besten vormittags."
	resp, page = fuPost(t, e, "/en/followup/message", url.Values{"token": {token}, "message": {reply}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("answering: status %d\n%s", resp.StatusCode, page)
	}
	wantAll(t, "the page after answering", page, `id="followup-sent"`, reply, "Your report has reached us.")
	if fuToken(t, page) != token {
		t.Error("the token changed after answering")
	}
	// Reloading the page after answering sends the form again: the same
	// answer is stored once.
	fuPost(t, e, "/en/followup/message", url.Values{"token": {token}, "message": {reply}})
	if n := fuCount(t, e, "messages", caseID); n != 2 {
		t.Errorf("%d messages after a reload, want 2 (answer and reply)", n)
	}

	// The counsellor's list marks the reply as new until the case is opened.
	_, list = getAs(t, admin, e.URL+"/office/cases")
	if !strings.Contains(list, `class="unread"`) || strings.Contains(list, `class="muted waiting"`) {
		t.Errorf("after the reporter's reply the list should mark it new:\n%s", list)
	}
	_, page = getAs(t, admin, caseURL)
	wantAll(t, "the case page with the reply", page, reply, "Meldende Person", answer)
	_, list = getAs(t, admin, e.URL+"/office/cases")
	if strings.Contains(list, `class="unread"`) {
		t.Error("the list still marks the reply new after the case was opened")
	}

	// Status in plain words follows the workflow once nobody awaits an answer.
	postAs(t, admin, caseURL+"/status", url.Values{"status": {"triage"}})
	_, page = fuPost(t, e, "/en/followup/view", url.Values{"token": {token}})
	wantAll(t, "the page in triage", page, "We are reading your report.")

	// Nothing about the reporter in the log: no receipt, no token.
	logs := e.FlushedLogs()
	for _, secret := range []string{token, strings.ReplaceAll(receipt, " ", ""), receipt} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// A wrong receipt (one digit off) and one nobody ever had give the very
// same page: same status, same message, the typed code not echoed. Only
// the captcha differs, as it does on every form.
func TestFollowupWrongAndUnknownReceiptSame(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	receipt := fuSubmit(t, e, validReport("Beleidigung im Laden."))
	digits := []byte(strings.ReplaceAll(receipt, " ", ""))
	digits[15] = '0' + (digits[15]-'0'+1)%10
	wrongResp, wrong := fuOpen(t, e, "de", string(digits))
	unknownResp, unknown := fuOpen(t, e, "de", "0000 0000 0000 0000")
	if wrongResp.StatusCode != unknownResp.StatusCode || wrongResp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("status wrong %d, unknown %d; want both 422", wrongResp.StatusCode, unknownResp.StatusCode)
	}
	if !strings.Contains(wrong, "Zu diesem Code gibt es keine Meldung.") || !strings.Contains(wrong, `id="err-receipt"`) {
		t.Errorf("no 'no report with this code' at the field:\n%s", wrong)
	}
	a, b := fuCaptchaParts.ReplaceAllString(wrong, ""), fuCaptchaParts.ReplaceAllString(unknown, "")
	if a != b {
		t.Errorf("wrong and unknown receipts give different pages:\n%s\n----\n%s", a, b)
	}
	if strings.Contains(wrong, string(digits)) {
		t.Error("the wrong receipt is echoed back")
	}
	// A code of the wrong length says so (that reveals nothing).
	_, page := fuOpen(t, e, "de", "1234")
	wantAll(t, "a short code", page, "Ein Code hat 16 Ziffern.", `value="1234"`)
}

// The captcha is checked first: with a wrong one, even the right receipt
// opens nothing, and the form comes back with the error at the captcha
// and the receipt still typed in.
func TestFollowupWrongCaptchaKeepsReceipt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	receipt := fuSubmit(t, e, validReport("Beleidigung im Amt."))
	_, page := get(t, e.URL+"/tr/followup")
	id := captchaID(t, page)
	wrong := "000000"
	if captchas.Solve(id) == wrong {
		wrong = "111111"
	}
	resp, page := post(t, e.URL+"/tr/followup", url.Values{"receipt": {receipt}, "captcha_id": {id}, "captcha_solution": {wrong}})
	fuNoCookie(t, "a wrong captcha", resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-captcha_solution"`) {
		t.Fatalf("wrong captcha: status %d, want 422 with the error at the captcha\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(page, `value="`+receipt+`"`) {
		t.Error("the receipt was not kept")
	}
	if fuTokenPattern.MatchString(page) {
		t.Error("a wrong captcha opened the report")
	}
}

// A token lives 30 minutes from its last use: each use renews it, and
// after 30 idle minutes an answer is refused, nothing is stored, and the
// reporter is back at the receipt form with a clear message.
func TestFollowupTokenExpires(t *testing.T) {
	t.Parallel()
	e, clock := fuEnvWithClock(t)
	receipt := fuSubmit(t, e, validReport("Beschimpfung auf dem Amt."))
	_, page := fuOpen(t, e, "en", receipt)
	token := fuToken(t, page)

	clock.Advance(25 * time.Minute)
	if _, page = fuPost(t, e, "/en/followup/view", url.Values{"token": {token}}); !strings.Contains(page, `id="answer"`) {
		t.Fatal("the token expired before 30 idle minutes")
	}
	clock.Advance(25 * time.Minute) // 50 minutes since opening, 25 idle
	if _, page = fuPost(t, e, "/en/followup/view", url.Values{"token": {token}}); !strings.Contains(page, `id="answer"`) {
		t.Fatal("using the token did not renew it")
	}
	clock.Advance(31 * time.Minute)
	resp, page := fuPost(t, e, "/en/followup/message", url.Values{"token": {token}, "message": {"Noch eine Frage"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="followup-notice"`) ||
		!strings.Contains(page, "Your session has ended") || !strings.Contains(page, `name="receipt"`) {
		t.Fatalf("expired token: status %d, want the receipt form with a notice\n%s", resp.StatusCode, page)
	}
	var n int
	rawDB(t, e).QueryRow(`SELECT count(*) FROM messages`).Scan(&n)
	if n != 0 {
		t.Errorf("%d messages stored with an expired token", n)
	}
	// Gone for good, and an invented token fares no better.
	for _, tok := range []string{token, "bm90LWEtdG9rZW4"} {
		if _, page = fuPost(t, e, "/en/followup/withdraw", url.Values{"token": {tok}}); !strings.Contains(page, `id="followup-notice"`) {
			t.Errorf("token %q still works", tok)
		}
	}
	if fuCount(t, e, "reports", func() string {
		var id string
		rawDB(t, e).QueryRow(`SELECT id FROM reports`).Scan(&id)
		return id
	}()) != 1 {
		t.Error("the report went away with an expired token")
	}
}

// Withdrawal: a confirmation step, then the report, its messages, notes,
// record and history are gone, the receipt opens nothing, the audit log
// says so, and not one byte of the report's ciphertexts or text is left
// in the database files, the WAL included.
func TestFollowupWithdrawLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	description := "Der Hausmeister hat mich rassistisch beleidigt, Zeuge Herr Q."
	contact := "kontakt-zurueckziehen@example.org"
	form := validReport(description)
	form.Set("contact", contact)
	receipt := fuSubmit(t, e, form)
	admin := login(t, e)
	_, list := getAs(t, admin, e.URL+"/office/cases")
	caseID := caseIDs(list)[0]
	caseURL := e.URL + "/office/cases/" + caseID
	if resp, body := postAs(t, admin, caseURL+"/classification", triage()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("classification: %d\n%s", resp.StatusCode, body)
	}
	postAs(t, admin, caseURL+"/status", url.Values{"status": {"triage"}})
	postAs(t, admin, caseURL+"/notes", url.Values{"body": {"Interne Notiz zum Fall"}})
	answer := "Eine Antwort, die nach dem Zurückziehen weg sein muss."
	postAs(t, admin, caseURL+"/messages", url.Values{"body": {answer}})
	_, page := fuOpen(t, e, "ar", receipt)
	token := fuToken(t, page)
	reply := "Eine Rückfrage der meldenden Person."
	fuPost(t, e, "/ar/followup/message", url.Values{"token": {token}, "message": {reply}})

	tables := []string{"reports", "messages", "notes", "classifications", "classification_grounds", "status_history"}
	for _, tb := range tables {
		if fuCount(t, e, tb, caseID) == 0 {
			t.Fatalf("setup: no %s row", tb)
		}
	}
	// The ciphertexts as stored: after the withdrawal none may be found.
	var secrets [][]byte
	db := rawDB(t, e)
	for _, q := range []string{
		`SELECT content FROM reports WHERE id = ?`, `SELECT sealed_key FROM reports WHERE id = ?`,
		`SELECT reporter_key FROM reports WHERE id = ?`, `SELECT lookup_hash FROM reports WHERE id = ?`,
		`SELECT body FROM messages WHERE report_id = ?`, `SELECT body FROM notes WHERE report_id = ?`,
	} {
		rows, err := db.Query(q, caseID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b []byte
			rows.Scan(&b)
			secrets = append(secrets, b[:32]) // 32 bytes are plenty to be unique
		}
		rows.Close()
	}
	for _, s := range []string{description, contact, answer, reply} {
		secrets = append(secrets, []byte(s))
	}

	// First step: a confirmation page; nothing is deleted yet.
	resp, page := fuPost(t, e, "/ar/followup/withdraw", url.Values{"token": {token}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="withdraw-confirm"`) {
		t.Fatalf("withdraw: status %d, want the confirmation page\n%s", resp.StatusCode, page)
	}
	if fuCount(t, e, "reports", caseID) != 1 {
		t.Fatal("the report was deleted before the confirmation")
	}
	// "No" leads back to the report.
	if _, page = fuPost(t, e, "/ar/followup/view", url.Values{"token": {fuToken(t, page)}}); !strings.Contains(page, reply) {
		t.Fatal("cancelling the withdrawal does not lead back to the report")
	}
	resp, page = fuPost(t, e, "/ar/followup/withdraw/confirm", url.Values{"token": {token}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="withdrawn"`) {
		t.Fatalf("confirming: status %d\n%s", resp.StatusCode, page)
	}

	for _, tb := range tables {
		if n := fuCount(t, e, tb, caseID); n != 0 {
			t.Errorf("%d %s rows left", n, tb)
		}
	}
	var detail, user string
	if err := db.QueryRow(`SELECT detail, user_name FROM audit WHERE action = 'delete' AND report_id = ?`, caseID).Scan(&detail, &user); err != nil {
		t.Errorf("no audit entry for the withdrawal: %v", err)
	} else if detail != "withdrawn by reporter" || user != "system" {
		t.Errorf("audit entry %q by %q", detail, user)
	}
	if _, page = fuPost(t, e, "/ar/followup/message", url.Values{"token": {token}, "message": {"noch da?"}}); !strings.Contains(page, `id="followup-notice"`) {
		t.Error("the token still works after the withdrawal")
	}
	if resp, _ = fuOpen(t, e, "ar", receipt); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("the receipt of a withdrawn report: status %d, want 422", resp.StatusCode)
	}
	if resp, _ = getAs(t, admin, caseURL); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the withdrawn case: status %d, want 404", resp.StatusCode)
	}

	for i, s := range secrets {
		for _, f := range webtest.FilesHolding(t, e.Dir, s) {
			t.Errorf("%s still holds secret #%d (%q…)", f, i, s[:8])
		}
	}
}
