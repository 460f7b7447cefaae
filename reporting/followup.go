package reporting

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Message authors.
const (
	AuthorReporter   = "reporter"
	AuthorCounsellor = "counsellor"
)

// AuditMessage records that a counsellor wrote to a reporter (detail: the
// message ID, never its text).
const AuditMessage = "message"

// MaxMessage is the longest message, in characters, either side may send.
const MaxMessage = 10000

// FollowupIdle is how long a reporter's follow-up token lives without use.
const FollowupIdle = 30 * time.Minute

// maxFollowupTokens bounds the token map, so a flood of logins with valid
// receipts cannot fill the memory; the oldest token goes first.
const maxFollowupTokens = 10000

// purposeMessage is the AD purpose of a message body. Messages are sealed
// under the report's data key because the reporter must read them too.
const purposeMessage = "message"

// messageAD is the version 2 AD of a message: its row, and the author and
// day its row shows, so that a reporter's message cannot be made a
// counsellor's (or the other way round) or moved to another day. The
// counsellor who wrote is not stored, so not bound.
func messageAD(reportID string, m StoredMessage) vault.AD {
	return messageADv1(reportID, m.ID).Bind(m.Author, m.Day)
}

// messageADv1 is the AD of messages written before version 2: only the
// row. Read, never written.
func messageADv1(reportID, messageID string) vault.AD {
	return vault.AD{Purpose: purposeMessage, Row: reportID + "/" + messageID}
}

// Reporter statuses: the case status in plain words for the reporter.
const (
	ReporterReceived   = "received"
	ReporterReading    = "reading"
	ReporterAnswered   = "answered"
	ReporterInProgress = "in_progress"
	ReporterClosed     = "closed"
)

// ReporterStatus says in plain words where a report stands, for its
// reporter: a counsellor's answer waiting for them wins over the status.
func ReporterStatus(status string, lastFromCounsellor bool) string {
	if lastFromCounsellor {
		return ReporterAnswered
	}
	switch status {
	case StatusNew:
		return ReporterReceived
	case StatusTriage:
		return ReporterReading
	case StatusCounselling, StatusIntervention, StatusReferred:
		return ReporterInProgress
	default: // closed, documented, withdrawn
		return ReporterClosed
	}
}

// StoredMessage is a messages row: the body is a ciphertext.
type StoredMessage struct {
	ID       string
	ReportID string
	Author   string // AuthorReporter or AuthorCounsellor
	Day      string // "2026-11-24": a day, never a time
	Body     []byte
}

// Message is a decrypted message of a thread.
type Message struct {
	ID     string
	Author string
	Day    string
	Body   string
	Files  []Attachment // the files sent with it (either side's messages)
	// Altered: the message did not open under what its row says (author,
	// day, report). Only ID is set; author and day are what was changed,
	// so they are not shown either.
	Altered bool
}

// MessageFlags are the case list's markers of one case.
type MessageFlags struct {
	Unread  bool // the reporter wrote and no counsellor has opened the case since
	Waiting bool // the last message is a counsellor's: waiting for the reporter
}

// FollowupStore keeps the reporter's way back: receipt lookup, messages both ways, withdrawal.
type FollowupStore interface {
	// ReportByLookup finds a report by its receipt's lookup hash;
	// ENotFound if none.
	ReportByLookup(ctx context.Context, lookup []byte) (StoredReport, error)
	// AddMessage stores a message and sets the report's markers: a
	// reporter's message makes it unread, a counsellor's marks it read and
	// waiting for the reporter. ENotFound if the report is gone.
	AddMessage(ctx context.Context, m StoredMessage) error
	// Messages lists a report's messages, oldest first.
	Messages(ctx context.Context, reportID string) ([]StoredMessage, error)
	// MarkMessagesRead clears a report's unread marker.
	MarkMessagesRead(ctx context.Context, reportID string) error
	// MessageFlags returns the markers of the given reports.
	MessageFlags(ctx context.Context, reportIDs []string) (map[string]MessageFlags, error)
	// WithdrawReport deletes a report and every row that refers to it
	// (content, messages, notes, record, history) and appends the audit
	// entries in one transaction, then checkpoints the WAL, so the bytes
	// leave the files. ENotFound (and nothing written) if gone. It needs
	// the writer for the checkpoint, so it never runs in a unit of work.
	WithdrawReport(ctx context.Context, reportID string, entries ...*AuditEntry) error
}

// validMessage trims a message and checks its length; field names the
// form field for the error and side the message file ("followup" for
// reporters, "followup.office" for counsellors).
func validMessage(body, field, side string) (string, error) {
	body = strings.TrimSpace(body)
	switch n := utf8.RuneCountInString(body); {
	case n == 0:
		return "", fieldErrors{field: side + ".error.message.required"}.err()
	case n > MaxMessage || !utf8.ValidString(body):
		return "", fieldErrors{field: side + ".error.message.too_long"}.err()
	}
	return body, nil
}

// openMessages opens a report's messages with its data key. A message
// that does not open is kept in the thread as altered and listed in the
// second result: the rest of the thread stays readable.
func openMessages(dk vault.Key, reportID string, stored []StoredMessage) ([]Message, []AlteredItem) {
	out := make([]Message, 0, len(stored))
	var altered []AlteredItem
	for _, m := range stored {
		body, err := openBound(dk.Open, m.Body, messageAD(reportID, m), messageADv1(reportID, m.ID))
		if err != nil {
			out = append(out, Message{ID: m.ID, Altered: true})
			altered = append(altered, AlteredItem{AlteredMessage, m.ID})
			continue
		}
		out = append(out, Message{ID: m.ID, Author: m.Author, Day: m.Day, Body: string(body)})
	}
	return out, altered
}

// attachFiles puts each message file with its message; stored are all
// attachments of the report, of which only those of a message count. A
// file that does not open under the message its row names is shown there
// as altered and listed in the result.
func attachFiles(dk vault.Key, msgs []Message, stored []StoredAttachment) []AlteredItem {
	var own []StoredAttachment
	for _, a := range stored {
		if a.MessageID != "" {
			own = append(own, a)
		}
	}
	if len(own) == 0 {
		return nil
	}
	files, altered := openAttachments(dk, own)
	byMsg := map[string][]Attachment{}
	for _, a := range files {
		byMsg[a.MessageID] = append(byMsg[a.MessageID], a)
	}
	for i := range msgs {
		msgs[i].Files = byMsg[msgs[i].ID]
	}
	return altered
}

// Replies is the office side of the follow-up: a counsellor's messages
// to a reporter, the thread on the case page and the case list's
// markers. It holds no keys: a thread opens with the team key from the
// *OfficeSession passed in. (Followup is the reporter's side.)
type Replies struct {
	auditor
	store RepliesStore
}

// RepliesStore is what the office side of the follow-up reads and
// writes: the case, its messages and their markers, the list of its
// files, and the audit log.
type RepliesStore interface {
	AuditStore
	// CaseRow finds one case; ENotFound if none (as in CaseStore).
	CaseRow(ctx context.Context, id string) (CaseRow, error)
	// AddMessage, Messages, MarkMessagesRead and MessageFlags are
	// FollowupStore's.
	AddMessage(ctx context.Context, m StoredMessage) error
	Messages(ctx context.Context, reportID string) ([]StoredMessage, error)
	MarkMessagesRead(ctx context.Context, reportID string) error
	MessageFlags(ctx context.Context, reportIDs []string) (map[string]MessageFlags, error)
	// Attachments lists the complete attachments of an existing report
	// (as in AttachmentStore).
	Attachments(ctx context.Context, reportID string) ([]StoredAttachment, error)
	// The files of a counsellor's message, stored as the reporter's are
	// (AttachmentStore's).
	attachmentWriter
}

// NewReplies returns the office side of the follow-up; now is the
// office's clock (a message's day, the audit entries).
func NewReplies(store RepliesStore, now func() time.Time) *Replies {
	return &Replies{auditor: auditor{log: store, now: now}, store: store}
}

// SendMessage stores a counsellor's message without files to the
// reporter of a case. Its errors are SendDraft's.
func (rp *Replies) SendMessage(ctx context.Context, s *OfficeSession, id, body string) error {
	d, err := rp.BeginMessage(ctx, s, id)
	if err != nil {
		return err
	}
	return rp.SendDraft(ctx, s, d, body)
}

// MessageDraft is a counsellor's message being received: its ID exists
// before it is stored, so that its files can be sealed while they stream
// in, before the rest of the form has been read.
type MessageDraft struct {
	MessageID string
	ReportID  string
	dk        vault.Key
}

// BeginMessage opens a case for a counsellor's message and starts it.
// Its files are shown only once the message is stored (SendDraft).
func (rp *Replies) BeginMessage(ctx context.Context, s *OfficeSession, id string) (MessageDraft, error) {
	r, team, err := openCase(ctx, rp.store, s, id)
	if err != nil {
		return MessageDraft{}, opError("send message", err)
	}
	dk, err := dataKey(team, r)
	if err != nil {
		return MessageDraft{}, opError("send message", err)
	}
	return MessageDraft{MessageID: newUUID(), ReportID: id, dk: dk}, nil
}

// AddMessageAttachment cleans, seals under the case's data key and stores
// one file of the message d, through the very pipeline of a reporter's
// files (metadata stripped, type told by content, size limits). An
// EInvalid error's message ID suits the upload field.
func (rp *Replies) AddMessageAttachment(ctx context.Context, d MessageDraft, name string, body io.Reader) (Attachment, error) {
	if d.MessageID == "" {
		return Attachment{}, Errorf(ENotFound, "error.not_found")
	}
	att, err := addAttachment(ctx, rp.store, d.ReportID, d.MessageID, d.dk, name, body)
	return att, opError("add message attachment", err)
}

// DiscardMessageAttachments deletes the files of a message that was not
// stored after all.
func (rp *Replies) DiscardMessageAttachments(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return opError("discard message attachments", rp.store.DeleteAttachments(ctx, ids))
}

// SendDraft stores the counsellor's message d, sealed under the case's
// data key so that the receipt opens it. Its files, added before, become
// visible with the message row, which is written in one transaction with
// its audit entry: no file reaches the reporter without the entry. The
// case is opened again, so a session that lost the team meanwhile sends
// nothing. On an error the caller discards the files.
func (rp *Replies) SendDraft(ctx context.Context, s *OfficeSession, d MessageDraft, body string) error {
	r, team, err := openCase(ctx, rp.store, s, d.ReportID)
	if err != nil {
		return opError("send message", err)
	}
	if body, err = validMessage(body, "body", "followup.office"); err != nil {
		return err
	}
	dk, err := dataKey(team, r)
	if err != nil {
		return opError("send message", err)
	}
	m := StoredMessage{ID: d.MessageID, ReportID: d.ReportID, Author: AuthorCounsellor, Day: rp.now().Format(time.DateOnly)}
	m.Body = dk.Seal([]byte(body), messageAD(d.ReportID, m))
	return opError("send message", rp.audited(ctx, s, AuditMessage, d.ReportID, m.ID, func(ctx context.Context) error {
		return rp.store.AddMessage(ctx, m)
	}))
}

// Messages opens a case's message thread for a counsellor and marks the
// reporter's messages read. The caller has opened (and audited) the case.
// Messages and files that were altered in the database are in the thread
// marked Altered, and each is audited.
func (rp *Replies) Messages(ctx context.Context, s *OfficeSession, id string) ([]Message, error) {
	r, team, err := openCase(ctx, rp.store, s, id)
	if err != nil {
		return nil, opError("messages", err)
	}
	if r.ContentDeletedOn != "" {
		return nil, nil // retention deleted the messages with the key
	}
	dk, err := dataKey(team, r)
	if err != nil {
		return nil, opError("messages", err)
	}
	stored, err := rp.store.Messages(ctx, id)
	if err != nil {
		return nil, opError("messages", err)
	}
	msgs, altered := openMessages(dk, id, stored)
	files, err := rp.store.Attachments(ctx, id)
	if err != nil {
		return nil, opError("messages", err)
	}
	altered = append(altered, attachFiles(dk, msgs, files)...)
	// Read only when every altered item is logged: a thread the log did
	// not take is not shown, so it is not marked read either.
	if err := rp.store.Atomically(ctx, func(ctx context.Context) error {
		if err := rp.auditAltered(ctx, s, id, altered); err != nil {
			return err
		}
		return rp.store.MarkMessagesRead(ctx, id)
	}); err != nil {
		return nil, opError("messages", err)
	}
	return msgs, nil
}

// MessageFlags returns the case list's markers for the given cases; the
// caller lists only cases the session may see.
func (rp *Replies) MessageFlags(ctx context.Context, s *OfficeSession, ids []string) (map[string]MessageFlags, error) {
	if !s.Can(PermCaseWork) || len(ids) == 0 {
		return nil, nil
	}
	flags, err := rp.store.MessageFlags(ctx, ids)
	return flags, opError("message flags", err)
}

// Followup is the reporter's way back to their report with the receipt.
// Access lives in an opaque token held in this process's memory only: no
// cookie, nothing in the database, nothing in a URL.
type Followup struct {
	intake *Intake // stores the files of messages and sends notifications
	store  IntakeStore
	kdf    *vault.KDF // the receipt salt and parameter sets are the intake's
	now    func() time.Time

	mu     sync.Mutex
	tokens map[string]*followupAccess // by hex of the token's hash
}

type followupAccess struct {
	reportID  string
	key       vault.Key
	lastSeen  time.Time
	lastReply string // hash of the last answer sent with this token
}

// NewFollowup returns the follow-up service; it derives receipts with the
// intake's deployment salt and parameter sets.
func NewFollowup(in *Intake, now func() time.Time) *Followup {
	// Receipt checks get their own lane, ahead of new reports.
	return &Followup{intake: in, store: in.store, kdf: in.kdf.Lane(vault.LaneFollowup), now: now,
		tokens: map[string]*followupAccess{}}
}

// ReporterView is a report as its reporter sees it on the follow-up page.
type ReporterView struct {
	CaseNo     string
	ReceivedOn string
	Status     string // a Reporter* code
	Messages   []Message
	// Report is what the reporter sent, opened with the key from their
	// receipt; nil when retention has deleted it or it did not open.
	Report *Report
	// Altered: the report's content did not open (its row was changed).
	Altered bool
	// Files are the files sent with the report itself; the files of
	// messages are with their messages.
	Files []Attachment
}

// errUnknownReceipt is the one answer to a receipt that opens nothing,
// whether no report has it or it is wrong: nobody learns which.
func errUnknownReceipt() error {
	return fieldErrors{"receipt": "followup.error.unknown"}.err()
}

// Open checks a receipt and returns a fresh token for the report it opens.
func (f *Followup) Open(ctx context.Context, receipt string) (string, error) {
	code, err := vault.ParseReceipt(receipt)
	if err != nil {
		return "", fieldErrors{"receipt": "followup.error.format"}.err()
	}
	if f.intake.fault != nil {
		return "", f.intake.fault
	}
	r, access, upgrade, err := f.find(ctx, code)
	if err != nil {
		// Coded (the unknown receipt) it stays as it is: the pages for an
		// unknown and a wrong receipt must not differ by a byte.
		return "", opError("open follow-up", err)
	}
	defer access.Wipe() // only the data key it opens lives on, in the token map
	dk, err := access.Key.Unwrap(r.ReporterKey, vault.AD{Purpose: purposeReporterKey, Row: r.ID})
	if err != nil {
		// The lookup matched, so the key must open; if not, answer as for
		// an unknown receipt rather than tell anything apart.
		return "", errUnknownReceipt()
	}
	if upgrade {
		f.upgrade(ctx, code, r, dk, access.Lookup)
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prune(now)
	f.tokens[tokenKey(token)] = &followupAccess{reportID: r.ID, key: dk, lastSeen: now}
	dk.Wipe() // the map holds the only copy that lives on
	return token, nil
}

// find looks a receipt up under each parameter set in use, current
// first, with the pepper; then, if reports from before the pepper may
// exist, under each set without it. An unknown receipt thus costs one
// argon2id per set (twice that with legacy reports): the price of
// raising the parameters, bounded by maxReceiptSets. upgrade says the
// report was not derived with the current set and the pepper.
func (f *Followup) find(ctx context.Context, code vault.Receipt) (StoredReport, vault.ReporterAccess, bool, error) {
	in := f.intake
	try := func(p vault.Params, peppered bool) (StoredReport, vault.ReporterAccess, error) {
		var access vault.ReporterAccess
		var err error
		if peppered {
			access, err = f.kdf.ReceiptPeppered(ctx, code, in.salt, p, in.anchor.pepper)
		} else {
			access, err = f.kdf.Receipt(ctx, code, in.salt, p)
		}
		if err != nil {
			return StoredReport{}, access, err
		}
		r, err := f.store.ReportByLookup(ctx, access.Lookup)
		if err == nil && !peppered && strings.HasPrefix(r.KDFParams, receiptPepperV1) {
			// Only a report from before the pepper may be found without it.
			err = errUnknownReceipt()
		}
		if err != nil {
			access.Wipe()
		}
		return r, access, err
	}
	modes := []bool{true}
	if in.legacyReceipts {
		modes = append(modes, false)
	}
	for _, peppered := range modes {
		for i, p := range in.sets {
			r, access, err := try(p, peppered)
			if err == nil {
				return r, access, i > 0 || !peppered, nil
			}
			if ErrorCode(err) != ENotFound {
				return r, access, false, err
			}
		}
	}
	return StoredReport{}, vault.ReporterAccess{}, false, errUnknownReceipt()
}

// upgrade re-derives a report's receipt under the current parameters and
// the pepper, after the reporter proved the receipt: a new lookup hash and
// the data key wrapped under the new reporter key, in one statement. The
// old parameter set then falls out of use (settings.go prunes it). A
// failure leaves the report as it was, still opening with the old set,
// and does not fail the reporter's follow-up.
func (f *Followup) upgrade(ctx context.Context, code vault.Receipt, r StoredReport, dk vault.Key, old []byte) {
	in := f.intake
	access, err := f.kdf.ReceiptPeppered(ctx, code, in.salt, in.params, in.anchor.pepper)
	if err != nil {
		return
	}
	defer access.Wipe()
	up := StoredReport{
		LookupHash:  access.Lookup,
		ReporterKey: access.Key.Wrap(dk, vault.AD{Purpose: purposeReporterKey, Row: r.ID}),
		KDFParams:   receiptPepperV1 + in.params.String(),
	}
	if err := f.store.UpgradeReceipt(context.WithoutCancel(ctx), r.ID, old, up); err != nil {
		// No report ID, nothing of the reporter: only that it failed.
		slog.Warn("receipt upgrade failed", "err", err)
	}
}

func tokenKey(token string) string { return hex.EncodeToString(vault.HashToken(token)) }

// prune drops expired tokens, and the oldest when there are too many;
// f.mu must be held.
func (f *Followup) prune(now time.Time) {
	var oldest string
	for k, a := range f.tokens {
		if now.Sub(a.lastSeen) > FollowupIdle {
			f.drop(k)
		} else if oldest == "" || a.lastSeen.Before(f.tokens[oldest].lastSeen) {
			oldest = k
		}
	}
	if len(f.tokens) >= maxFollowupTokens {
		f.drop(oldest)
	}
}

// drop forgets a token and wipes the report's data key it held; f.mu must
// be held. Copies handed to requests still running live on until those
// end; the map's copy is the one that would otherwise outlive the token.
func (f *Followup) drop(key string) {
	if a, ok := f.tokens[key]; ok {
		a.key.Wipe()
		delete(f.tokens, key)
	}
}

// Close drops every token and wipes its data key, and wipes the receipt
// codes held for repeated forms, for shutdown.
func (f *Followup) Close() {
	f.intake.submissions.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.tokens {
		f.drop(k)
	}
}

// ReapTokens drops every token idle for longer than FollowupIdle and wipes
// its data key. Without it a reporter who walked away would leave their
// report's key in memory until the next reporter came back. It returns how
// many tokens ended. The receipt codes held for repeated forms whose
// window has ended are wiped on the same timer (Submissions.Reap).
func (f *Followup) ReapTokens() int {
	f.intake.submissions.Reap()
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, a := range f.tokens {
		if now.Sub(a.lastSeen) > FollowupIdle {
			f.drop(k)
			n++
		}
	}
	return n
}

// access returns the live access of a token and refreshes it;
// EUnauthorized when it is unknown or idle for longer than FollowupIdle.
func (f *Followup) access(token string) (followupAccess, error) {
	expired := Errorf(EUnauthorized, "followup.error.expired")
	if token == "" {
		return followupAccess{}, expired
	}
	key := tokenKey(token)
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.tokens[key]
	if !ok {
		return followupAccess{}, expired
	}
	if now.Sub(a.lastSeen) > FollowupIdle {
		f.drop(key)
		return followupAccess{}, expired
	}
	a.lastSeen = now
	return *a, nil
}

// forget drops a token.
func (f *Followup) forget(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop(tokenKey(token))
}

// Check reports whether a token is still live (and refreshes it).
func (f *Followup) Check(token string) error {
	_, err := f.access(token)
	return err
}

// View returns the report of a token as its reporter sees it.
func (f *Followup) View(ctx context.Context, token string) (ReporterView, error) {
	a, err := f.access(token)
	if err != nil {
		return ReporterView{}, err
	}
	r, err := f.store.Report(ctx, a.reportID)
	if ErrorCode(err) == ENotFound { // withdrawn meanwhile, in another tab
		f.forget(token)
		return ReporterView{}, Errorf(EUnauthorized, "followup.error.expired")
	} else if err != nil {
		return ReporterView{}, opError("view follow-up", err)
	}
	stored, err := f.store.Messages(ctx, a.reportID)
	if err != nil {
		return ReporterView{}, opError("view follow-up", err)
	}
	// Altered messages and files are shown as such, but neither audited
	// nor logged here: an entry made when the reporter looks would tell
	// whoever altered a row (and can read the audit log or the logs) when
	// the reporter comes back. The office audits them when a counsellor
	// opens the case.
	msgs, _ := openMessages(a.key, a.reportID, stored)
	files, err := f.store.Attachments(ctx, a.reportID)
	if err != nil {
		return ReporterView{}, opError("view follow-up", err)
	}
	attachFiles(a.key, msgs, files)
	last := len(msgs) > 0 && msgs[len(msgs)-1].Author == AuthorCounsellor
	v := ReporterView{CaseNo: r.CaseNo, ReceivedOn: r.ReceivedOn, Status: ReporterStatus(r.Status, last), Messages: msgs}
	if r.ContentDeletedOn == "" {
		// The reporter sees what they sent, as the receipt page promises:
		// opened with the data key their receipt unwrapped, like the
		// messages. Not audited, for the same reason as altered messages.
		v.Report, v.Altered = openContent(a.key, r)
		var own []StoredAttachment
		for _, st := range files {
			if st.MessageID == "" {
				own = append(own, st)
			}
		}
		v.Files, _ = openAttachments(a.key, own)
	}
	return v, nil
}

// openContent opens a report's content with its data key; altered says it
// did not open or parse.
func openContent(dk vault.Key, r StoredReport) (rep *Report, altered bool) {
	plain, err := dk.Open(r.Content, vault.AD{Purpose: purposeContent, Row: r.ID})
	if err != nil {
		return nil, true
	}
	defer clear(plain)
	rep = &Report{}
	if err := json.Unmarshal(plain, rep); err != nil {
		return nil, true
	}
	return rep, false
}

// ReplyDraft is a reporter's message being received: its ID exists
// before it is stored, so that its files can be sealed while they stream
// in, before the rest of the form has been read.
type ReplyDraft struct {
	MessageID string
	token     string
	access    followupAccess
}

// BeginReply checks a token and starts a reporter's message.
func (f *Followup) BeginReply(token string) (ReplyDraft, error) {
	a, err := f.access(token)
	if err != nil {
		return ReplyDraft{}, err
	}
	return ReplyDraft{MessageID: newUUID(), token: token, access: a}, nil
}

// AddReplyAttachment cleans, seals and stores one file of the message d,
// as Intake.AddAttachment does for a report's files; it is shown only
// once the message is stored. An EInvalid error's message ID suits the
// upload field.
func (f *Followup) AddReplyAttachment(ctx context.Context, d ReplyDraft, name string, body io.Reader) (Attachment, error) {
	if d.MessageID == "" {
		return Attachment{}, Errorf(EUnauthorized, "followup.error.expired")
	}
	att, err := f.intake.addAttachment(ctx, d.access.reportID, d.MessageID, d.access.key, name, body)
	return att, opError("add reply attachment", err)
}

// DiscardReplyAttachments deletes the files of a message that was not
// stored after all.
func (f *Followup) DiscardReplyAttachments(ctx context.Context, ids []string) error {
	return opError("discard reply attachments", f.intake.discardAttachments(ctx, ids))
}

// Reply stores a reporter's message without files, sealed under the
// report's data key. Its errors are SendReply's, named "send reply".
func (f *Followup) Reply(ctx context.Context, token, body string) error {
	d, err := f.BeginReply(token)
	if err != nil {
		return err
	}
	return f.SendReply(ctx, d, body, nil)
}

// SendReply stores the reporter's message d, sealed under the report's
// data key, together with the files fileIDs added to it before, and
// notifies the report's team. On an error the caller discards the files.
func (f *Followup) SendReply(ctx context.Context, d ReplyDraft, body string, fileIDs []string) error {
	a, err := f.access(d.token)
	if err != nil {
		return err
	}
	if body, err = validMessage(body, "message", "followup"); err != nil {
		return err
	}
	// The page after an answer is the POST's response (no redirect: the
	// token must not go into a URL), so reloading it sends the answer
	// again; the same text twice in a row with one token is taken once,
	// and the files sent again with it are dropped.
	sum := hex.EncodeToString(vault.HashToken(body))
	f.mu.Lock()
	live, ok := f.tokens[tokenKey(d.token)]
	repeat := ok && live.lastReply == sum
	f.mu.Unlock()
	if repeat {
		return opError("send reply", f.intake.discardAttachments(ctx, fileIDs))
	}
	// The day only: the time a reporter writes could help identify them.
	m := StoredMessage{ID: d.MessageID, ReportID: a.reportID, Author: AuthorReporter, Day: f.now().Format(time.DateOnly)}
	m.Body = a.key.Seal([]byte(body), messageAD(a.reportID, m))
	if err := f.store.AddMessage(ctx, m); ErrorCode(err) == ENotFound {
		f.forget(d.token)
		return Errorf(EUnauthorized, "followup.error.expired")
	} else if err != nil {
		return opError("send reply", err)
	}
	f.mu.Lock()
	if live, ok := f.tokens[tokenKey(d.token)]; ok {
		live.lastReply = sum
	}
	f.mu.Unlock()
	// The team as it is now (triage may have moved the case). As for a
	// new report the mail says only that something is new for the team;
	// it never fails the reporter's request, whose message is stored.
	if r, err := f.store.Report(ctx, a.reportID); err == nil {
		f.intake.notify.Enqueue(context.WithoutCancel(ctx), r.TeamID, KindMessage)
	}
	return nil
}

// OpenFile returns the meta data of a file the reporter sent, with the
// report or with one of their own follow-up messages, and a function that
// streams its cleaned, decrypted content into w, as Attachments.OpenAttachment
// does; also a file a counsellor sent with a message to them. Only the
// token's report: ENotFound for anything else, and for a file whose
// message is not stored (yet).
func (f *Followup) OpenFile(ctx context.Context, token, id string) (Attachment, func(w io.Writer) error, error) {
	a, err := f.access(token)
	if err != nil {
		return Attachment{}, nil, err
	}
	notFound := Errorf(ENotFound, "error.not_found")
	// The report is part of the lookup: a token opens its own files only.
	st, err := f.store.Attachment(ctx, a.reportID, id)
	if ErrorCode(err) == ENotFound {
		return Attachment{}, nil, notFound
	} else if err != nil {
		return Attachment{}, nil, opError("open file", err)
	}
	fk, meta, err := openAttachmentKey(a.key, st)
	if isAltered(err) {
		// Not audited, as in View: it would tell when the reporter looks.
		return Attachment{}, nil, notFound
	} else if err != nil {
		return Attachment{}, nil, opError("open file", err)
	}
	// The case number for the file's name, as the counsellors get it.
	r, err := f.store.Report(ctx, a.reportID)
	if err != nil {
		return Attachment{}, nil, opError("open file", err)
	}
	return Attachment{ID: st.ID, ReportID: st.ReportID, MessageID: st.MessageID, Download: DownloadName(r.CaseNo, st.Seq, meta.Type), AttachmentMeta: meta},
		decryptStream(ctx, f.store, fk, st), nil
}

// Withdraw deletes the token's report with everything that refers to it,
// including the statistical record, and ends the token. The audit entry
// is the system's: the reporter is nobody the office knows.
func (f *Followup) Withdraw(ctx context.Context, token string) error {
	a, err := f.access(token)
	if err != nil {
		return err
	}
	// To the day only (reporterDay): a withdrawal is a reporter's act.
	entry := &AuditEntry{At: reporterDay(f.now()), UserName: "system", Action: AuditDelete,
		ReportID: a.reportID, Detail: "withdrawn by reporter"}
	// The store deletes and logs in one transaction (and scrubs the files
	// after it): never a deleted report without its entry, nor an entry
	// for a report still there.
	err = f.store.WithdrawReport(ctx, a.reportID, entry)
	if ErrorCode(err) == ENotFound {
		// Already gone (two requests with the same token at once): the
		// request is still logged, as every withdrawal was before.
		err = f.store.AppendAudit(ctx, entry)
	}
	if err != nil {
		return opError("withdraw report", err)
	}
	// Only now: if the log failed, the report is still there and the
	// reporter can try again with the same token.
	f.forget(token)
	return nil
}
