package web

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// The handlers depend on these interfaces, not on the concrete services
// of package reporting: each lists exactly the methods its handlers call
// (gotify's habit), so that a test of a page's rendering, validation or
// authorization can run on small fakes, without SQLite and argon2id, and
// so that which reporting type implements what is decided by the wiring
// in cmd alone.

// SessionService sets the office up and lets people in and out: the one
// service that holds the sessions, and with them every decrypted team key.
type SessionService interface {
	CheckSetupToken(ctx context.Context, token string) error
	Setup(ctx context.Context, f reporting.SetupForm) (string, error)
	LoginFrom(ctx context.Context, a reporting.LoginAttempt) (reporting.LoginResult, error)
	Session(ctx context.Context, token string) (*reporting.OfficeSession, error)
	Logout(ctx context.Context, token string) error
	// IntegrityAlerts are shown to those who may see them on every page.
	IntegrityAlerts() []string
}

// AccountService is the accounts page, a user's own account and the
// invitations.
type AccountService interface {
	Users(ctx context.Context, s *reporting.OfficeSession) ([]reporting.UserRow, error)
	Account(ctx context.Context, s *reporting.OfficeSession) (reporting.Account, error)
	InviteTeams(ctx context.Context, s *reporting.OfficeSession) ([]reporting.Team, error)
	Invite(ctx context.Context, s *reporting.OfficeSession, f reporting.InviteForm) (reporting.Invited, error)
	Invitation(ctx context.Context, token string) (string, error)
	AcceptInvitation(ctx context.Context, f reporting.AcceptForm) error
	WithdrawInvitation(ctx context.Context, s *reporting.OfficeSession, userID int64) error
	SetDisabled(ctx context.Context, s *reporting.OfficeSession, userID int64, disabled bool) error
	SetRole(ctx context.Context, s *reporting.OfficeSession, userID int64, role string) error
	ChangePassword(ctx context.Context, s *reporting.OfficeSession, f reporting.PasswordForm) error
	RevokeSession(ctx context.Context, s *reporting.OfficeSession, id string) error
	UnlockLogin(ctx context.Context, s *reporting.OfficeSession, userID int64) error
}

// TwoFactorService is the second factor: a user's enrolment and the
// roles that must have one.
type TwoFactorService interface {
	TOTPStatus(ctx context.Context, s *reporting.OfficeSession) (reporting.TOTPStatus, error)
	BeginTOTP(ctx context.Context, s *reporting.OfficeSession) (reporting.TOTPEnrolment, error)
	TOTPQRCode(s *reporting.OfficeSession) ([]byte, error)
	EnableTOTP(ctx context.Context, s *reporting.OfficeSession, password, code string) ([]string, error)
	DisableTOTP(ctx context.Context, s *reporting.OfficeSession, password, code string) error
	NewRecoveryCodes(ctx context.Context, s *reporting.OfficeSession, password, code string) ([]string, error)
	TOTPRequiredRoles(ctx context.Context) ([]string, error)
	SetTOTPRequiredRoles(ctx context.Context, s *reporting.OfficeSession, roles []string) error
	NeedsTOTPEnrolment(ctx context.Context, s *reporting.OfficeSession) (bool, error)
}

// TeamService is the teams pages.
type TeamService interface {
	TeamOverview(ctx context.Context, s *reporting.OfficeSession) ([]reporting.TeamInfo, error)
	TeamDetail(ctx context.Context, s *reporting.OfficeSession, id int64) (reporting.TeamInfo, error)
	CreateTeam(ctx context.Context, s *reporting.OfficeSession, f reporting.TeamForm) (int64, error)
	UpdateTeam(ctx context.Context, s *reporting.OfficeSession, id int64, f reporting.TeamForm) error
	AddTeamMember(ctx context.Context, s *reporting.OfficeSession, teamID, userID int64) error
	RemoveTeamMember(ctx context.Context, s *reporting.OfficeSession, teamID, userID int64) error
}

// CaseService is the case list, a case's page and the case work on it.
type CaseService interface {
	CaseList(ctx context.Context, s *reporting.OfficeSession, f reporting.CaseFilter) ([]reporting.Case, int, reporting.CaseFilter, error)
	CaseFile(ctx context.Context, s *reporting.OfficeSession, id string) (reporting.CaseFile, error)
	CaseTeams(ctx context.Context, s *reporting.OfficeSession) ([]reporting.Team, []reporting.Assignee, error)
	Classify(ctx context.Context, s *reporting.OfficeSession, id string, f reporting.ClassificationForm) error
	ClassifyDetails(ctx context.Context, s *reporting.OfficeSession, id string, f reporting.ClassificationForm) error
	Triage(ctx context.Context, s *reporting.OfficeSession, id string, f reporting.TriageForm) error
	ChangeStatus(ctx context.Context, s *reporting.OfficeSession, id string, f reporting.StatusForm) error
	Assign(ctx context.Context, s *reporting.OfficeSession, id string, userID int64) error
	AddNote(ctx context.Context, s *reporting.OfficeSession, id, body string) error
	Transfer(ctx context.Context, s *reporting.OfficeSession, id string, teamID int64) (bool, error)
	SetInterpreter(ctx context.Context, s *reporting.OfficeSession, id string, f reporting.InterpreterForm) error
	FindCase(ctx context.Context, s *reporting.OfficeSession, text string) (string, bool, error)
	Bulk(ctx context.Context, s *reporting.OfficeSession, ids []string, b reporting.BulkChange) (reporting.BulkResult, error)
}

// CaseExportService is the case file export (issue 13).
type CaseExportService interface {
	ExportCaseNo(ctx context.Context, s *reporting.OfficeSession, id string) (string, error)
	ExportCase(ctx context.Context, s *reporting.OfficeSession, id string, f reporting.CaseExportForm) (reporting.CaseExportFile, error)
}

// Printer prints an HTML document to PDF (reporting/pdfprint); it is
// Config's, not a service: nil is a valid choice (no Chromium).
type Printer interface {
	Print(ctx context.Context, html []byte) ([]byte, error)
}

// ReminderService is the reminders (Wiedervorlage) of the case page and
// the start page's box of those due.
type ReminderService interface {
	SetReminder(ctx context.Context, s *reporting.OfficeSession, id string, f reporting.ReminderForm) error
	DoneReminder(ctx context.Context, s *reporting.OfficeSession, id string) error
	CaseReminder(ctx context.Context, s *reporting.OfficeSession, id string) (*reporting.Reminder, error)
	DueReminders(ctx context.Context, s *reporting.OfficeSession) ([]reporting.Reminder, error)
}

// ReplyService is the office side of the conversation with a reporter.
type ReplyService interface {
	SendMessage(ctx context.Context, s *reporting.OfficeSession, id, body string) error
	// BeginMessage, AddMessageAttachment, DiscardMessageAttachments and
	// SendDraft send a message with files (issue 13).
	BeginMessage(ctx context.Context, s *reporting.OfficeSession, id string) (reporting.MessageDraft, error)
	AddMessageAttachment(ctx context.Context, d reporting.MessageDraft, name string, body io.Reader) (reporting.Attachment, error)
	DiscardMessageAttachments(ctx context.Context, ids []string) error
	SendDraft(ctx context.Context, s *reporting.OfficeSession, d reporting.MessageDraft, body string) error
	Messages(ctx context.Context, s *reporting.OfficeSession, id string) ([]reporting.Message, error)
	MessageFlags(ctx context.Context, s *reporting.OfficeSession, ids []string) (map[string]reporting.MessageFlags, error)
}

// ReplyTemplateService is the reply templates (issue 13): the admins'
// settings page and the picker next to the case page's composer.
type ReplyTemplateService interface {
	Templates(ctx context.Context, s *reporting.OfficeSession) ([]reporting.ReplyTemplate, error)
	Template(ctx context.Context, s *reporting.OfficeSession, id int64) (reporting.ReplyTemplate, error)
	SaveTemplate(ctx context.Context, s *reporting.OfficeSession, known []string, t reporting.ReplyTemplate) (int64, error)
	DeleteTemplate(ctx context.Context, s *reporting.OfficeSession, id int64) error
}

// AttachmentService opens a case's attachment for the office: to download,
// or to show a photo or voice message inside the case page.
type AttachmentService interface {
	OpenAttachment(ctx context.Context, s *reporting.OfficeSession, reportID, id string) (reporting.Attachment, func(w io.Writer) error, error)
	PreviewAttachment(ctx context.Context, s *reporting.OfficeSession, reportID, id string) (reporting.Attachment, func(w io.Writer) error, error)
}

// StatisticsService is the office's statistics and the published ones.
type StatisticsService interface {
	Statistics(ctx context.Context, s *reporting.OfficeSession, year int) (reporting.Statistics, error)
	PublishStatistics(ctx context.Context, s *reporting.OfficeSession, year int) error
	PublishedYears(ctx context.Context) ([]int, error)
	Published(ctx context.Context, year int) (reporting.Statistics, time.Time, error)
}

// NetworkExportService is the k-anonymous record export for the
// reporting network (issue 14).
type NetworkExportService interface {
	Export(ctx context.Context, s *reporting.OfficeSession, year, k int, format string) (reporting.NetworkExport, error)
	K() int
}

// RetentionService is the retention settings and what is due; the
// privacy page states the periods.
type RetentionService interface {
	RetentionSettings(ctx context.Context) (reporting.RetentionSettings, error)
	SetRetention(ctx context.Context, s *reporting.OfficeSession, f reporting.RetentionForm) error
	RetentionDueList(ctx context.Context, s *reporting.OfficeSession) ([]reporting.RetentionDue, error)
}

// SettingsService is the organisation's identity, its logo and the
// public languages, which the public side shows.
type SettingsService interface {
	Identity(ctx context.Context) (reporting.Identity, error)
	SetIdentity(ctx context.Context, s *reporting.OfficeSession, f reporting.Identity) (reporting.Identity, error)
	Logo(ctx context.Context) (reporting.Logo, error)
	SetLogo(ctx context.Context, s *reporting.OfficeSession, body io.Reader) (reporting.Logo, error)
	RemoveLogo(ctx context.Context, s *reporting.OfficeSession) error
	PublicLanguagesOff(ctx context.Context) ([]string, error)
	SetPublicLanguages(ctx context.Context, s *reporting.OfficeSession, known, on []string) ([]string, error)
	// OfficeZone is the zone every office page shows its times in.
	OfficeZone(ctx context.Context) (*time.Location, error)
	SetOfficeZone(ctx context.Context, s *reporting.OfficeSession, name string) (*time.Location, error)
}

// AuditService is the audit log page and its check.
type AuditService interface {
	AuditLog(ctx context.Context, s *reporting.OfficeSession, reportID string, p reporting.Page) ([]reporting.AuditEntry, int, error)
	VerifyAudit(ctx context.Context) (int64, error)
}

// NotificationService is a user's notification address and the outbox.
// Sending itself is Config.Notifier's.
type NotificationService interface {
	NotificationEmail(ctx context.Context, s *reporting.OfficeSession) (string, error)
	SetNotificationEmail(ctx context.Context, s *reporting.OfficeSession, email string) (string, error)
	Outbox(ctx context.Context, s *reporting.OfficeSession) ([]reporting.OutboxMail, error)
	SendOutboxNow(ctx context.Context, s *reporting.OfficeSession) (int, error)
}

// IntakeService takes reports in: the public form's drafts, their
// attachments and the submission tokens.
type IntakeService interface {
	NewDraft() reporting.Draft
	AddAttachment(ctx context.Context, reportID string, dk vault.Key, name string, body io.Reader) (reporting.Attachment, error)
	DiscardAttachments(ctx context.Context, ids []string) error
	SubmitDraft(ctx context.Context, d reporting.Draft, r reporting.Report) (reporting.Receipt, error)
	Submissions() *reporting.Submissions
}

// FollowupService is the reporter's side of the follow-up: a receipt
// opens the report, its replies and its withdrawal.
type FollowupService interface {
	Open(ctx context.Context, receipt string) (string, error)
	Check(token string) error
	View(ctx context.Context, token string) (reporting.ReporterView, error)
	BeginReply(token string) (reporting.ReplyDraft, error)
	AddReplyAttachment(ctx context.Context, d reporting.ReplyDraft, name string, body io.Reader) (reporting.Attachment, error)
	DiscardReplyAttachments(ctx context.Context, ids []string) error
	SendReply(ctx context.Context, d reporting.ReplyDraft, body string, fileIDs []string) error
	OpenFile(ctx context.Context, token, id string) (reporting.Attachment, func(w io.Writer) error, error)
	Withdraw(ctx context.Context, token string) error
}

// Services are the domain services the handlers call, one per area.
// Every field is required: which type implements which is the caller's
// business (cmd/meldestelle wires them).
type Services struct {
	Sessions  SessionService
	Accounts  AccountService
	TwoFactor TwoFactorService
	Teams     TeamService
	Cases     CaseService
	Reminders ReminderService
	Replies   ReplyService
	// ReplyTemplates: issue 13.
	ReplyTemplates ReplyTemplateService
	Attachments    AttachmentService
	Statistics     StatisticsService
	Retention      RetentionService
	Settings       SettingsService
	Audit          AuditService
	Notifications  NotificationService
	Intake         IntakeService
	Followup       FollowupService
	CaseExports    CaseExportService
	NetworkExport  NetworkExportService // issue 14
}

// check names the first missing service: a server that would fail on
// its first request to a page is better not started.
func (svc Services) check() error {
	for _, f := range []struct {
		name    string
		missing bool
	}{
		{"Sessions", svc.Sessions == nil},
		{"Accounts", svc.Accounts == nil},
		{"TwoFactor", svc.TwoFactor == nil},
		{"Teams", svc.Teams == nil},
		{"Cases", svc.Cases == nil},
		{"Reminders", svc.Reminders == nil},
		{"Replies", svc.Replies == nil},
		{"ReplyTemplates", svc.ReplyTemplates == nil},
		{"Attachments", svc.Attachments == nil},
		{"Statistics", svc.Statistics == nil},
		{"Retention", svc.Retention == nil},
		{"Settings", svc.Settings == nil},
		{"Audit", svc.Audit == nil},
		{"Notifications", svc.Notifications == nil},
		{"Intake", svc.Intake == nil},
		{"Followup", svc.Followup == nil},
		{"CaseExports", svc.CaseExports == nil},
		{"NetworkExport", svc.NetworkExport == nil},
	} {
		if f.missing {
			return fmt.Errorf("web: no %s service", f.name)
		}
	}
	return nil
}
