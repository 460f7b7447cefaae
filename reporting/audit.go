package reporting

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Audit actions. An entry says who did what to which case and when, never
// any content.
const (
	AuditSetup         = "setup"
	AuditLogin         = "login"
	AuditLoginFailed   = "login_failed"
	AuditLogout        = "logout"
	AuditCaseOpen      = "case_open" // a case was decrypted and shown
	AuditCaseList      = "case_list" // a page of the case list was decrypted
	AuditClassify      = "classify"
	AuditStatus        = "status"
	AuditAssign        = "assign"
	AuditNote          = "note"
	AuditTransfer      = "transfer"
	AuditUserInvite    = "user_invite"
	AuditUserAccept    = "user_accept"
	AuditUserDisable   = "user_disable"
	AuditUserEnable    = "user_enable"
	AuditUserRole      = "user_role"
	AuditPassword      = "password_change"
	AuditTOTPEnable    = "totp_enable"
	AuditTOTPDisable   = "totp_disable"
	AuditSessionRevoke = "session_revoke"
	AuditTeamCreate    = "team_create"
	AuditTeamUpdate    = "team_update"
	AuditTeamMember    = "team_member"
	AuditSettings      = "settings"
	AuditRecover       = "recover"
	AuditExport        = "export"
	AuditDelete        = "delete"
	// AuditAttachmentOpen: an attachment was decrypted and downloaded.
	AuditAttachmentOpen = "attachment_open"
	// AuditInterpreter: a case was marked "interpreter needed", or the
	// mark removed (detail "set" or "cleared"; the language is sealed).
	AuditInterpreter = "interpreter"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID       int64
	At       time.Time
	UserID   int64  // 0 for the system
	UserName string // as it was at the time
	Action   string
	ReportID string // "" when no case is concerned
	Detail   string // codes only
	PrevHash []byte
	Hash     []byte
}

// ChainHash computes an entry's hash from its fields and the previous
// entry's hash. Every field is length-prefixed, so no two different
// entries hash the same input.
func (e AuditEntry) ChainHash(prev []byte) []byte {
	h := sha256.New()
	field := func(s string) {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	field(string(prev))
	field(strconv.FormatInt(e.ID, 10))
	field(e.At.UTC().Format(time.RFC3339Nano))
	field(strconv.FormatInt(e.UserID, 10))
	field(e.UserName)
	field(e.Action)
	field(e.ReportID)
	field(e.Detail)
	return h.Sum(nil)
}

// ChainMAC computes an entry's keyed hash: HMAC-SHA256 under the audit
// key derived from the server secret, over the same length-prefixed
// fields as ChainHash. Without the secret file nobody can recompute the
// chain after deleting or editing an entry.
func (e AuditEntry) ChainMAC(key *vault.MACKey, prev []byte) []byte {
	return key.Sum(prev,
		[]byte(strconv.FormatInt(e.ID, 10)),
		[]byte(e.At.UTC().Format(time.RFC3339Nano)),
		[]byte(strconv.FormatInt(e.UserID, 10)),
		[]byte(e.UserName),
		[]byte(e.Action),
		[]byte(e.ReportID),
		[]byte(e.Detail))
}

// UnitOfWork runs several store calls as one transaction.
type UnitOfWork interface {
	// Atomically runs fn so that every store call fn makes with the
	// context it is given commits together when fn returns nil, or not at
	// all. fn holds the store's only writer while it runs: it makes store
	// calls and cheap checks, never argon2id or other slow work.
	Atomically(ctx context.Context, fn func(ctx context.Context) error) error
}

// AuditStore keeps the hash-chained audit log.
type AuditStore interface {
	UnitOfWork
	// AppendAudit adds an entry at the end of the chain, setting its ID,
	// PrevHash and Hash.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// AuditEntries lists entries, newest first, optionally only those of
	// one case, and the total.
	AuditEntries(ctx context.Context, reportID string, p Page) ([]AuditEntry, int, error)
	// VerifyAudit walks the whole chain and returns the ID of the first
	// entry that does not fit (0 and nil when all is intact), or an
	// EConflict error describing a broken chain.
	VerifyAudit(ctx context.Context) (int64, error)
}

// auditor writes audit entries; every office service embeds one. It
// holds only the audit part of the store, so a service's own store
// interface says what else it touches.
type auditor struct {
	log AuditStore
	now func() time.Time
}

// audited runs change and writes its audit entry in one unit of work:
// both commit or neither does, so no change ever stands without its entry,
// and a failed audit write leaves nothing changed behind the error the user
// sees. Slow work (argon2id, decryption) belongs before it, not in change.
func (a auditor) audited(ctx context.Context, s *OfficeSession, action, reportID, detail string, change func(ctx context.Context) error) error {
	return a.log.Atomically(ctx, func(ctx context.Context) error {
		if err := change(ctx); err != nil {
			return err
		}
		return a.audit(ctx, s, action, reportID, detail)
	})
}

// audit writes an audit entry for a session's user (nil: the system).
// Alone it is for events that change nothing (a case opened, a failed
// login); a change writes its entry through audited, or audit called
// inside the change's own unit of work.
func (a auditor) audit(ctx context.Context, s *OfficeSession, action, reportID, detail string) error {
	e := &AuditEntry{At: a.now(), Action: action, ReportID: reportID, Detail: detail, UserName: "system"}
	if s != nil {
		e.UserID, e.UserName = s.User.ID, s.User.Name
	}
	return a.log.AppendAudit(ctx, e)
}

// reporterDay is 00:00 of t's day in t's zone, which is the office's (the
// clock runs in it). Events that come from reporters (a submission, a
// message, a withdrawal) are recorded to the day only, in the audit log
// and wherever else they leave a time: the minute someone wrote could
// help identify them, and the log's order is kept by its IDs anyway.
func reporterDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// auditUser writes an audit entry for a user who has no session (yet).
func (a auditor) auditUser(ctx context.Context, u User, action, detail string) error {
	return a.log.AppendAudit(ctx, &AuditEntry{At: a.now(), UserID: u.ID, UserName: u.Name, Action: action, Detail: detail})
}

// AuditTrail shows the audit log to admins and checks its chain. It
// writes nothing: the services write their own entries (auditor).
type AuditTrail struct {
	store AuditStore
}

// NewAuditTrail returns the audit log service.
func NewAuditTrail(store AuditStore) *AuditTrail { return &AuditTrail{store: store} }

// AuditLog returns a page of the audit log for an admin.
func (at *AuditTrail) AuditLog(ctx context.Context, s *OfficeSession, reportID string, p Page) ([]AuditEntry, int, error) {
	if err := allow(s, PermAudit); err != nil {
		return nil, 0, err
	}
	entries, total, err := at.store.AuditEntries(ctx, reportID, p)
	return entries, total, opError("audit log", err)
}

// VerifyAudit checks the audit chain.
func (at *AuditTrail) VerifyAudit(ctx context.Context) (int64, error) {
	id, err := at.store.VerifyAudit(ctx)
	return id, opError("verify audit", err)
}

// entry is the audit entry of an action by the session's user, for a
// store method that appends it in its own transaction (a revocation).
func (a auditor) entry(s *OfficeSession, action, detail string) *AuditEntry {
	return &AuditEntry{At: a.now(), UserID: s.User.ID, UserName: s.User.Name, Action: action, Detail: detail}
}
