package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/web"
	"github.com/planb-ruhr/meldestelle/reporting/web/captchaaudio"
)

// Fakes of the domain services, for tests of what the web layer alone
// decides: which role reaches which route, what the navigation offers,
// which language a page speaks, the CSRF check. They need neither SQLite
// nor argon2id, so such a test runs in milliseconds. Each fake embeds the
// interface it stands in for and implements only what those tests reach:
// a call to anything else panics, which the server answers with 500, so a
// test that strays onto a real service's ground fails rather than passes.
// Tests of what the services decide (validation, encryption, the
// authorization matrix, the receipt pages) stay on newEnv.

// fakePassword is every fake user's password.
const fakePassword = "ein langes geheimes Passwort"

// fakeUser is a user the fake sessions let in with fakePassword.
type fakeUser struct {
	name, role string
}

// newFakeServer starts the real web server on loopback on fake services,
// with the admin "anna" and the given users, and the first team "PLANB"
// with anna in it. The env it returns has no database: only URL, Logs,
// Admin and Pass are set, so that login and loginAs work as with newEnv.
func newFakeServer(t testing.TB, users ...fakeUser) *env {
	t.Helper()
	e := &env{Logs: &syncBuffer{}, Admin: "anna", Pass: fakePassword}
	users = append([]fakeUser{{e.Admin, reporting.RoleAdmin}}, users...)
	sessions := &fakeSessions{tokens: map[string]*reporting.OfficeSession{}}
	accounts := &fakeAccounts{}
	for i, u := range users {
		sessions.users = append(sessions.users, reporting.User{ID: int64(i + 1), Name: u.name, Role: u.role})
		accounts.rows = append(accounts.rows, reporting.UserRow{ID: int64(i + 1), Name: u.name, Role: u.role})
	}
	teams := &fakeTeams{users: sessions.users, teams: []reporting.TeamInfo{{
		Team:    reporting.Team{ID: 1, Name: "PLANB", Municipalities: []string{"bochum"}},
		Members: []reporting.Member{{ID: 1, Name: e.Admin, Role: reporting.RoleAdmin}},
	}}}
	tr, err := translations()
	if err != nil {
		t.Fatal(err)
	}
	submissions := reporting.NewSubmissions(time.Now)
	t.Cleanup(submissions.Close)
	logger := slog.New(slog.NewTextHandler(e.Logs, nil))
	e.Audio = captchaaudio.NewMixer()
	cfg := web.Config{Captchas: captchas, CaptchaAudio: e.Audio, Logger: logger, Now: time.Now}
	h, err := web.New(cfg, web.Services{
		Sessions:       sessions,
		Accounts:       accounts,
		TwoFactor:      fakeTwoFactor{},
		Teams:          teams,
		Cases:          fakeCases{},
		Reminders:      fakeReminders{},
		Replies:        fakeReplies{},
		ReplyTemplates: fakeReplyTemplates{},
		Attachments:    fakeAttachments{},
		Statistics:     fakeStatistics{},
		Retention:      fakeRetention{},
		Settings:       fakeSettings{},
		Audit:          fakeAudit{},
		Notifications:  fakeNotifications{},
		Intake:         fakeIntake{submissions: submissions},
		Followup:       fakeFollowup{},
		CaseExports:    fakeCaseExports{},
		NetworkExport:  fakeNetworkExport{},
	}, tr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = web.ServerErrorLog(logger)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		// What the server logged explains a status no fake should cause.
		if t.Failed() {
			t.Logf("server log:\n%s", e.Logs)
		}
	})
	e.URL, e.Handler = srv.URL, h
	return e
}

// fakeSessions lets the known users in with fakePassword and keeps their
// sessions by token.
type fakeSessions struct {
	web.SessionService
	users  []reporting.User
	mu     sync.Mutex
	tokens map[string]*reporting.OfficeSession
}

func (f *fakeSessions) LoginFrom(_ context.Context, a reporting.LoginAttempt) (reporting.LoginResult, error) {
	i := slices.IndexFunc(f.users, func(u reporting.User) bool { return u.Name == a.Name })
	if i < 0 || a.Password != fakePassword {
		return reporting.LoginResult{}, reporting.Errorf(reporting.EUnauthorized, "error.login.failed")
	}
	s := &reporting.OfficeSession{User: f.users[i]}
	token := randomHex()
	f.mu.Lock()
	f.tokens[token] = s
	f.mu.Unlock()
	return reporting.LoginResult{Token: token, Session: s, Device: randomHex()}, nil
}

func (f *fakeSessions) Session(_ context.Context, token string) (*reporting.OfficeSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.tokens[token]; ok {
		return s, nil
	}
	return nil, reporting.Errorf(reporting.EUnauthorized, "error.login.required")
}

func (f *fakeSessions) IntegrityAlerts() []string { return nil }

func randomHex() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// fakeTeams keeps the teams in memory, so that a test sees whether a
// request changed them.
type fakeTeams struct {
	web.TeamService
	users []reporting.User
	mu    sync.Mutex
	teams []reporting.TeamInfo
}

func (f *fakeTeams) TeamOverview(context.Context, *reporting.OfficeSession) ([]reporting.TeamInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.teams), nil
}

func (f *fakeTeams) TeamDetail(_ context.Context, _ *reporting.OfficeSession, id int64) (reporting.TeamInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.teams {
		if t.ID == id {
			return t, nil
		}
	}
	return reporting.TeamInfo{}, reporting.Errorf(reporting.ENotFound, "error.team.not_found")
}

func (f *fakeTeams) CreateTeam(_ context.Context, _ *reporting.OfficeSession, form reporting.TeamForm) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := int64(len(f.teams) + 1)
	f.teams = append(f.teams, reporting.TeamInfo{Team: reporting.Team{ID: id, Name: form.Name, Municipalities: form.Municipalities}})
	return id, nil
}

func (f *fakeTeams) UpdateTeam(_ context.Context, _ *reporting.OfficeSession, id int64, form reporting.TeamForm) error {
	return f.change(id, func(t *reporting.TeamInfo) { t.Name, t.Municipalities = form.Name, form.Municipalities })
}

func (f *fakeTeams) AddTeamMember(_ context.Context, _ *reporting.OfficeSession, teamID, userID int64) error {
	for _, u := range f.users {
		if u.ID == userID {
			return f.change(teamID, func(t *reporting.TeamInfo) {
				t.Members = append(t.Members, reporting.Member{ID: u.ID, Name: u.Name, Role: u.Role})
			})
		}
	}
	return reporting.Errorf(reporting.ENotFound, "error.not_found")
}

func (f *fakeTeams) RemoveTeamMember(_ context.Context, _ *reporting.OfficeSession, teamID, userID int64) error {
	return f.change(teamID, func(t *reporting.TeamInfo) {
		t.Members = slices.DeleteFunc(t.Members, func(m reporting.Member) bool { return m.ID == userID })
	})
}

func (f *fakeTeams) change(id int64, do func(*reporting.TeamInfo)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.teams {
		if f.teams[i].ID == id {
			do(&f.teams[i])
			return nil
		}
	}
	return reporting.Errorf(reporting.ENotFound, "error.team.not_found")
}

// fakeAccounts keeps the user list in memory, so that a test sees whether
// a request invited, disabled or changed someone.
type fakeAccounts struct {
	web.AccountService
	mu   sync.Mutex
	rows []reporting.UserRow
}

func (f *fakeAccounts) Account(_ context.Context, s *reporting.OfficeSession) (reporting.Account, error) {
	return reporting.Account{User: s.User}, nil
}

func (f *fakeAccounts) Users(context.Context, *reporting.OfficeSession) ([]reporting.UserRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rows := slices.Clone(f.rows)
	for i, r := range rows {
		switch {
		case r.Disabled:
			rows[i].State = reporting.StateDisabled
		case r.Pending:
			rows[i].State = reporting.StateInvited
		default:
			rows[i].State = reporting.StateActive
		}
	}
	return rows, nil
}

func (f *fakeAccounts) InviteTeams(context.Context, *reporting.OfficeSession) ([]reporting.Team, error) {
	return []reporting.Team{{ID: 1, Name: "PLANB"}}, nil
}

func (f *fakeAccounts) Invite(_ context.Context, _ *reporting.OfficeSession, form reporting.InviteForm) (reporting.Invited, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows = append(f.rows, reporting.UserRow{ID: int64(len(f.rows) + 1), Name: form.Name, Role: form.Role, Pending: true})
	return reporting.Invited{Token: randomHex(), Expires: time.Now().Add(reporting.InvitationLifetime)}, nil
}

func (f *fakeAccounts) SetDisabled(_ context.Context, _ *reporting.OfficeSession, userID int64, disabled bool) error {
	return f.change(userID, func(r *reporting.UserRow) { r.Disabled = disabled })
}

func (f *fakeAccounts) SetRole(_ context.Context, _ *reporting.OfficeSession, userID int64, role string) error {
	return f.change(userID, func(r *reporting.UserRow) { r.Role = role })
}

func (f *fakeAccounts) WithdrawInvitation(_ context.Context, _ *reporting.OfficeSession, userID int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows = slices.DeleteFunc(f.rows, func(r reporting.UserRow) bool { return r.ID == userID && r.Pending })
	return nil
}

func (f *fakeAccounts) change(id int64, do func(*reporting.UserRow)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.rows {
		if f.rows[i].ID == id {
			do(&f.rows[i])
			return nil
		}
	}
	return reporting.Errorf(reporting.ENotFound, "error.not_found")
}

// fakeTwoFactor asks no one for a second factor.
type fakeTwoFactor struct{ web.TwoFactorService }

func (fakeTwoFactor) NeedsTOTPEnrolment(context.Context, *reporting.OfficeSession) (bool, error) {
	return false, nil
}

// fakeCases has no cases.
type fakeCases struct{ web.CaseService }

func (fakeCases) CaseList(_ context.Context, _ *reporting.OfficeSession, f reporting.CaseFilter) ([]reporting.Case, int, reporting.CaseFilter, error) {
	return nil, 0, f, nil
}

func (fakeCases) FindCase(context.Context, *reporting.OfficeSession, string) (string, bool, error) {
	return "", false, nil
}

func (fakeCases) CaseTeams(context.Context, *reporting.OfficeSession) ([]reporting.Team, []reporting.Assignee, error) {
	return nil, nil, nil
}

// fakeReminders has no reminders.
type fakeReminders struct{ web.ReminderService }

func (fakeReminders) DueReminders(context.Context, *reporting.OfficeSession) ([]reporting.Reminder, error) {
	return nil, nil
}

func (fakeReminders) CaseReminder(context.Context, *reporting.OfficeSession, string) (*reporting.Reminder, error) {
	return nil, nil
}

// fakeNetworkExport refuses every export (issue 14).
type fakeNetworkExport struct{ web.NetworkExportService }

func (fakeNetworkExport) K() int { return reporting.StatsK }

func (fakeNetworkExport) Export(context.Context, *reporting.OfficeSession, int, int, string) (reporting.NetworkExport, error) {
	return reporting.NetworkExport{}, reporting.Errorf(reporting.ENotFound, "error.not_found")
}

// fakeStatistics has an empty year and nothing published.
type fakeStatistics struct{ web.StatisticsService }

func (fakeStatistics) Statistics(_ context.Context, _ *reporting.OfficeSession, year int) (reporting.Statistics, error) {
	return reporting.Statistics{Year: year}, nil
}

func (fakeStatistics) PublishedYears(context.Context) ([]int, error) { return nil, nil }

// fakeRetention keeps content for a year and has nothing due.
type fakeRetention struct{ web.RetentionService }

func (fakeRetention) RetentionSettings(context.Context) (reporting.RetentionSettings, error) {
	return reporting.RetentionSettings{ClosedMonths: 12, NewMonths: 12}, nil
}

func (fakeRetention) RetentionDueList(context.Context, *reporting.OfficeSession) ([]reporting.RetentionDue, error) {
	return nil, nil
}

// fakeSettings has no identity, no logo and every language on.
type fakeSettings struct{ web.SettingsService }

func (fakeSettings) Identity(context.Context) (reporting.Identity, error) {
	return reporting.Identity{}, nil
}

func (fakeSettings) Logo(context.Context) (reporting.Logo, error) { return reporting.Logo{}, nil }

func (fakeSettings) PublicLanguagesOff(context.Context) ([]string, error) { return nil, nil }

func (fakeSettings) OfficeZone(context.Context) (*time.Location, error) { return time.UTC, nil }

// fakeAudit has an empty, intact audit log.
type fakeAudit struct{ web.AuditService }

func (fakeAudit) AuditLog(context.Context, *reporting.OfficeSession, string, reporting.Page) ([]reporting.AuditEntry, int, error) {
	return nil, 0, nil
}

func (fakeAudit) VerifyAudit(context.Context) (int64, error) { return 0, nil }

// fakeReplies has no messages.
type fakeReplies struct{ web.ReplyService }

func (fakeReplies) MessageFlags(context.Context, *reporting.OfficeSession, []string) (map[string]reporting.MessageFlags, error) {
	return map[string]reporting.MessageFlags{}, nil
}

// fakeReplyTemplates has no reply templates.
type fakeReplyTemplates struct{ web.ReplyTemplateService }

func (fakeReplyTemplates) Templates(context.Context, *reporting.OfficeSession) ([]reporting.ReplyTemplate, error) {
	return nil, nil
}

// fakeIntake hands out submission tokens (the real, in-memory guard: the
// form pages carry one) and takes no reports.
type fakeIntake struct {
	web.IntakeService
	submissions *reporting.Submissions
}

func (f fakeIntake) Submissions() *reporting.Submissions { return f.submissions }

// The services no fake test reaches yet.
type (
	fakeAttachments   struct{ web.AttachmentService }
	fakeNotifications struct{ web.NotificationService }
	fakeFollowup      struct{ web.FollowupService }
)

// web.New refuses to build a server that lacks a service, naming it,
// rather than one that fails on the first request to a page.
func TestNewNeedsEveryService(t *testing.T) {
	t.Parallel()
	tr, err := translations()
	if err != nil {
		t.Fatal(err)
	}
	svc := web.Services{
		Sessions: &fakeSessions{}, Accounts: &fakeAccounts{}, TwoFactor: fakeTwoFactor{}, Teams: &fakeTeams{},
		Replies: fakeReplies{}, ReplyTemplates: fakeReplyTemplates{}, Attachments: fakeAttachments{}, Statistics: fakeStatistics{}, Retention: fakeRetention{},
		Settings: fakeSettings{}, Audit: fakeAudit{}, Notifications: fakeNotifications{}, Intake: fakeIntake{}, Followup: fakeFollowup{},
	}
	_, err = web.New(web.Config{Logger: slog.New(slog.DiscardHandler)}, svc, tr)
	if err == nil || !strings.Contains(err.Error(), "Cases") {
		t.Errorf("a server without a case service: error %v, want one naming Cases", err)
	}
}

// fakeCaseExports finds no case.
type fakeCaseExports struct{}

func (fakeCaseExports) ExportCaseNo(context.Context, *reporting.OfficeSession, string) (string, error) {
	return "", reporting.Errorf(reporting.ENotFound, "error.case.not_found")
}

func (fakeCaseExports) ExportCase(context.Context, *reporting.OfficeSession, string, reporting.CaseExportForm) (reporting.CaseExportFile, error) {
	return reporting.CaseExportFile{}, reporting.Errorf(reporting.ENotFound, "error.case.not_found")
}
