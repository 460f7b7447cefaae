package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// ---- helpers for ciphertext binding (issue 9, item 5) ----

// Texts of the bound items, each recognizable on a page.
const (
	bindReport     = "Binding: the landlord refused the flat"
	bindAnswer     = "Counsellor answer: we will call the landlord"
	bindReply      = "Reporter reply: thank you, here is the letter"
	bindNote       = "Internal note: landlord known from 2025"
	bindOwnFile    = "own-evidence.pdf"
	bindReplyFile  = "reply-letter.pdf"
	bindOtherPass  = "bernd's long password"
	bindAlteredCSS = `class="warning altered-item"`
)

// bindCase is a case with one item of each bound kind: a file of the
// report, a counsellor's answer, the reporter's reply with a file, and a
// note. The reporter's follow-up token is still live.
type bindCase struct {
	e       *env
	admin   *http.Cookie
	caseURL string
	caseID  string
	token   string
	other   int64 // another counsellor of the same team, for the note's author
}

func newBindCase(t *testing.T) *bindCase {
	t.Helper()
	e := newEnv(t, options{})
	admin := login(t, e)
	resp, page := attSubmit(t, e, "en", validReport(bindReport), []attFile{{Name: bindOwnFile, Data: attPDF(4 << 10)}})
	m := fuReceiptPattern.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("submission: status %d, no receipt", resp.StatusCode)
	}
	_, list := getAs(t, admin, e.URL+"/office/cases")
	ids := caseIDs(list)
	if len(ids) != 1 {
		t.Fatalf("%d cases listed, want 1", len(ids))
	}
	b := &bindCase{e: e, admin: admin, caseID: ids[0], caseURL: e.URL + "/office/cases/" + ids[0]}
	teamID, teamKey := firstTeamKey(t, e)
	b.other = addUser(t, e, "bernd", bindOtherPass, reporting.RoleCounsellor, map[int64]*vault.KeyPair{teamID: teamKey})

	if resp, body := postAs(t, admin, b.caseURL+"/messages", url.Values{"body": {bindAnswer}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("counsellor's message: status %d\n%s", resp.StatusCode, body)
	}
	if resp, body := postAs(t, admin, b.caseURL+"/notes", url.Values{"body": {bindNote}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("note: status %d\n%s", resp.StatusCode, body)
	}
	resp, page = fuOpen(t, e, "en", m[1])
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("opening with the receipt: status %d", resp.StatusCode)
	}
	b.token = fuToken(t, page)
	if resp, page := fumsgReply(t, e, "en", b.token, bindReply, []attFile{{Name: bindReplyFile, Data: attPDF(3 << 10)}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("reporter's reply: status %d\n%s", resp.StatusCode, page)
	}
	return b
}

// casePage returns the case page as the admin sees it; it must be a
// normal page, never an error.
func (b *bindCase) casePage(t *testing.T) string {
	t.Helper()
	resp, page := getAs(t, b.admin, b.caseURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("case page: status %d\n%s", resp.StatusCode, page)
	}
	return page
}

// reporterPage returns the follow-up page as the reporter sees it.
func (b *bindCase) reporterPage(t *testing.T) string {
	t.Helper()
	resp, page := fuPost(t, b.e, "/en/followup/view", url.Values{"token": {b.token}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("follow-up page: status %d\n%s", resp.StatusCode, page)
	}
	return page
}

// id returns one value from the database.
func (b *bindCase) id(t *testing.T, query string) string {
	t.Helper()
	var v string
	if err := rawDB(t, b.e).QueryRow(query).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// auditAltered returns the details of the case's "altered" audit entries.
func (b *bindCase) auditAltered(t *testing.T) []string {
	t.Helper()
	rows, err := rawDB(t, b.e).Query(`SELECT detail FROM audit WHERE action = ? AND report_id = ? ORDER BY id`, reporting.AuditAltered, b.caseID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		rows.Scan(&d)
		out = append(out, d)
	}
	return out
}

// article returns the HTML of the element with the given id attribute up
// to its closing tag (</article> or </li>), or "" if there is none.
func article(page, id string) string {
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := page[i:]
	end := len(rest)
	for _, tag := range []string{"</article>", "</li>"} {
		if j := strings.Index(rest, tag); j >= 0 && j < end {
			end = j
		}
	}
	return rest[:end]
}

var bindInternal = regexp.MustCompile(`(?i)internal error|vault:|ciphertext|reporting: `)

// ---- tests ----

// A database writer changes what a row says about its ciphertext: who
// wrote a message and when, which message a file belongs to, who wrote a
// note and when. The case page (and the reporter's page) then show that
// one item as altered — never with the changed meaning, never a 500 —
// the rest of the case stays readable, every altered item is audited and
// logged, and an altered file cannot be downloaded.
func TestBindingRefusesTamperedRows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// tamper changes the database and returns the element id of the
		// item that must show as altered and the text that must be gone.
		tamper   func(t *testing.T, b *bindCase) (elemID, gone string)
		kind     string
		reporter bool // the item is on the reporter's page too
	}{
		{"counsellor's answer flipped into the reporter's", func(t *testing.T, b *bindCase) (string, string) {
			id := b.id(t, `SELECT id FROM messages WHERE author = 'counsellor'`)
			tamper(t, b.e, `UPDATE messages SET author = 'reporter' WHERE id = '`+id+`'`)
			return "message-" + id, bindAnswer
		}, reporting.AlteredMessage, true},
		{"reporter's reply flipped into the counsellor's", func(t *testing.T, b *bindCase) (string, string) {
			id := b.id(t, `SELECT id FROM messages WHERE author = 'reporter'`)
			tamper(t, b.e, `UPDATE messages SET author = 'counsellor' WHERE id = '`+id+`'`)
			return "message-" + id, bindReply
		}, reporting.AlteredMessage, true},
		{"message moved to another day", func(t *testing.T, b *bindCase) (string, string) {
			id := b.id(t, `SELECT id FROM messages WHERE author = 'counsellor'`)
			tamper(t, b.e, `UPDATE messages SET day = '2026-01-02' WHERE id = '`+id+`'`)
			return "message-" + id, bindAnswer
		}, reporting.AlteredMessage, true},
		{"reply's file moved to the counsellor's message", func(t *testing.T, b *bindCase) (string, string) {
			id := b.id(t, `SELECT id FROM attachments WHERE message_id IS NOT NULL`)
			tamper(t, b.e, `UPDATE attachments SET message_id = (SELECT id FROM messages WHERE author = 'counsellor') WHERE id = '`+id+`'`)
			return "att-" + id, bindReplyFile
		}, reporting.AlteredAttachment, false},
		{"report's own file moved into the reply", func(t *testing.T, b *bindCase) (string, string) {
			id := b.id(t, `SELECT id FROM attachments WHERE message_id IS NULL`)
			tamper(t, b.e, `UPDATE attachments SET message_id = (SELECT id FROM messages WHERE author = 'reporter') WHERE id = '`+id+`'`)
			return "att-" + id, bindOwnFile
		}, reporting.AlteredAttachment, false},
		{"reply's file made one of the report's own", func(t *testing.T, b *bindCase) (string, string) {
			id := b.id(t, `SELECT id FROM attachments WHERE message_id IS NOT NULL`)
			tamper(t, b.e, `UPDATE attachments SET message_id = NULL WHERE id = '`+id+`'`)
			return "att-" + id, bindReplyFile
		}, reporting.AlteredAttachment, false},
		{"note given another author", func(t *testing.T, b *bindCase) (string, string) {
			id := b.id(t, `SELECT id FROM notes`)
			tamper(t, b.e, fmt.Sprintf(`UPDATE notes SET user_id = %d WHERE id = '%s'`, b.other, id))
			return "note-" + id, bindNote
		}, reporting.AlteredNote, false},
		{"note moved in time", func(t *testing.T, b *bindCase) (string, string) {
			id := b.id(t, `SELECT id FROM notes`)
			tamper(t, b.e, `UPDATE notes SET at = '2025-12-24T09:00:00Z' WHERE id = '`+id+`'`)
			return "note-" + id, bindNote
		}, reporting.AlteredNote, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBindCase(t)
			before := b.casePage(t)
			wantAll(t, "the untouched case page", before, bindAnswer, bindReply, bindNote, bindOwnFile, bindReplyFile)
			if strings.Contains(before, bindAlteredCSS) {
				t.Fatal("the untouched case shows an altered item")
			}

			elemID, gone := tc.tamper(t, b)
			page := b.casePage(t)
			item := article(page, elemID)
			if !strings.Contains(item, bindAlteredCSS) {
				t.Errorf("item %s not shown as altered: %q", elemID, item)
			}
			if strings.Contains(page, gone) {
				t.Errorf("the case page still shows %q under its changed meaning", gone)
			}
			if n := strings.Count(page, bindAlteredCSS); n != 1 {
				t.Errorf("%d items shown as altered, want 1", n)
			}
			for _, text := range []string{bindAnswer, bindReply, bindNote, bindOwnFile, bindReplyFile} {
				if text != gone && !strings.Contains(page, text) {
					t.Errorf("untouched item %q is gone from the case page", text)
				}
			}
			if m := bindInternal.FindString(page); m != "" {
				t.Errorf("the case page shows internal text %q", m)
			}
			detail := tc.kind + " " + strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(elemID, "message-"), "att-"), "note-")
			if got := b.auditAltered(t); len(got) != 1 || got[0] != detail {
				t.Errorf("audit entries for altered items = %q, want [%q]", got, detail)
			}
			if logs := b.e.Logs.String(); !strings.Contains(logs, "altered item shown as altered") || !strings.Contains(logs, "kind="+tc.kind) {
				t.Errorf("no log line for the altered %s:\n%s", tc.kind, logs)
			}

			rpage := b.reporterPage(t)
			if m := bindInternal.FindString(rpage); m != "" {
				t.Errorf("the reporter's page shows internal text %q", m)
			}
			if tc.reporter {
				if !strings.Contains(article(rpage, elemID), bindAlteredCSS) || strings.Contains(rpage, gone) {
					t.Errorf("the reporter's page shows the altered message as it is now:\n%s", article(rpage, elemID))
				}
			}
			if got := b.auditAltered(t); len(got) != 1 {
				// The reporter's look is not recorded (it would tell when
				// they come back); only the counsellor's was.
				t.Errorf("after the reporter's look: %d altered entries, want 1", len(got))
			}

			if tc.kind == reporting.AlteredAttachment {
				resp, body := getAs(t, b.admin, b.caseURL+"/attachments/"+strings.TrimPrefix(elemID, "att-"))
				if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "cannot be opened") && !strings.Contains(body, "nicht geöffnet") {
					t.Errorf("download of the altered file: status %d\n%s", resp.StatusCode, body)
				}
				if strings.Contains(body, "%PDF") || bindInternal.MatchString(body) {
					t.Errorf("download of the altered file delivered content or internal text")
				}
				if got := b.auditAltered(t); len(got) != 2 {
					t.Errorf("the refused download is not audited: %q", got)
				}
				if !strings.Contains(b.e.Logs.String(), "altered data refused") {
					t.Error("the refused download is not logged")
				}
			}
		})
	}
}

// A case whose note was altered is not moved to another team: the note
// could not be re-sealed, and moving without it would lose it silently.
// The refusal is a clean page, audited, and the case stays where it was.
func TestBindingTransferRefusesAlteredNote(t *testing.T) {
	t.Parallel()
	b := newBindCase(t)
	herne, _ := addTeam(t, b.e, "Herne")
	id := b.id(t, `SELECT id FROM notes`)
	tamper(t, b.e, fmt.Sprintf(`UPDATE notes SET user_id = %d WHERE id = '%s'`, b.other, id))
	resp, body := postAs(t, b.admin, b.caseURL+"/transfer", url.Values{"team": {fmt.Sprint(herne)}})
	if resp.StatusCode != http.StatusConflict || bindInternal.MatchString(body) {
		t.Errorf("transfer with an altered note: status %d\n%s", resp.StatusCode, body)
	}
	if got := b.auditAltered(t); len(got) != 1 || got[0] != "note "+id {
		t.Errorf("audit entries = %q", got)
	}
	if team := b.id(t, `SELECT team_id FROM reports WHERE id = '`+b.caseID+`'`); team == fmt.Sprint(herne) {
		t.Error("the case was moved")
	}
	wantAll(t, "the case page after the refused transfer", b.casePage(t), bindAnswer, bindReply)
}

// A note that an unaltered transfer re-seals keeps its binding: after the
// move, changing its author is still refused for the new team.
func TestBindingSurvivesTransfer(t *testing.T) {
	t.Parallel()
	b := newBindCase(t)
	herne, herneKey := addTeam(t, b.e, "Herne")
	addUser(t, b.e, "carl", "carl's long password", reporting.RoleCounsellor, map[int64]*vault.KeyPair{herne: herneKey})
	if resp, body := postAs(t, b.admin, b.caseURL+"/transfer", url.Values{"team": {fmt.Sprint(herne)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("transfer: status %d\n%s", resp.StatusCode, body)
	}
	carl := loginAs(t, b.e, "carl", "carl's long password")
	_, page := getAs(t, carl, b.caseURL)
	wantAll(t, "the moved case", page, bindNote)
	id := b.id(t, `SELECT id FROM notes`)
	tamper(t, b.e, fmt.Sprintf(`UPDATE notes SET user_id = %d WHERE id = '%s'`, b.other, id))
	_, page = getAs(t, carl, b.caseURL)
	if strings.Contains(page, bindNote) || !strings.Contains(article(page, "note-"+id), bindAlteredCSS) {
		t.Errorf("the moved note opened under another author:\n%s", article(page, "note-"+id))
	}
}
