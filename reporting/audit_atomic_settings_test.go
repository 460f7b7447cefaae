package reporting_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/i18n"
	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// spentOnAttempt is the shared login counter of clients without a device
// cookie: an attempt is counted before argon2id runs and cleared only
// after a full success, so a login that fails for any reason stays
// counted. It must count even when the log is down, or whoever can break
// the log guesses freely.
var spentOnAttempt = []string{"users.failed_count", "users.locked_until"}

// spentCode is the stored time step of the code typed with the password
// before a change to two-factor: a code once accepted never works again,
// even when the change it confirmed then fails (the person types the next
// one).
var spentCode = []string{"users.totp_last_step"}

// settingAtomicCases are the failing-audit cases of two-factor, teams, notifications, languages, identity, statistics, receipt parameters.
func settingAtomicCases() []atomicCase {
	// What a case's prepare keeps for its check, one variable a case.
	var (
		enrolling, disabling, recoding, creating, removing, member *reporting.OfficeSession
		sessions                                                   int
		mailer                                                     sentMails
	)
	return []atomicCase{
		{
			action: reporting.AuditTOTPEnable,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, s := e.login(t)
				en, err := e.twoFactor.BeginTOTP(t.Context(), s)
				if err != nil {
					t.Fatal(err)
				}
				secret := strings.ReplaceAll(en.Secret, " ", "")
				enrolling = s
				return func(ctx context.Context) error {
					_, err := e.twoFactor.EnableTOTP(ctx, s, adminPassword, totpCode(t, secret, e.clock.Now()))
					return err
				}
			},
			// The enrolment stays pending in the session: the user confirms
			// again without scanning a new QR code, which would not match
			// the one their app already holds.
			check: func(t *testing.T, e *env) {
				if _, err := e.twoFactor.TOTPQRCode(enrolling); err != nil {
					t.Errorf("the pending enrolment is gone after the failed confirmation: %v", err)
				}
			},
		},
		{
			action: reporting.AuditTOTPDisable,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s, secret := enrolledAdmin(t, e)
				disabling = s
				return func(ctx context.Context) error {
					e.clock.Advance(30 * time.Second)
					return e.twoFactor.DisableTOTP(ctx, s, adminPassword, totpCode(t, secret, e.clock.Now()))
				}
			},
			mayDiffer: spentCode,
			check:     stillEnrolled(&disabling),
		},
		{
			action: reporting.AuditTOTPRecoveryCodes,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s, secret := enrolledAdmin(t, e)
				recoding = s
				return func(ctx context.Context) error {
					e.clock.Advance(30 * time.Second)
					_, err := e.twoFactor.NewRecoveryCodes(ctx, s, adminPassword, totpCode(t, secret, e.clock.Now()))
					return err
				}
			},
			mayDiffer: spentCode,
			check:     stillEnrolled(&recoding),
		},
		{
			action: reporting.AuditTOTPRecoveryUsed,
			name:   "login",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				_, codes := e.enrol(t)
				sessions = e.office.SessionCount()
				// The same code both times: the failed login must leave it
				// unused, or a person locked out of their app loses a code
				// to an outage of the log.
				return func(ctx context.Context) error {
					_, _, err := e.office.Login(ctx, adminName, adminPassword, codes[0])
					return err
				}
			},
			mayDiffer: spentOnAttempt,
			check: func(t *testing.T, e *env) {
				if n := e.office.SessionCount(); n != sessions {
					t.Errorf("%d sessions after the failed login, want %d as before", n, sessions)
				}
			},
		},
		{
			action: reporting.AuditSettings,
			name:   "two_factor_roles",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				return func(ctx context.Context) error {
					return e.twoFactor.SetTOTPRequiredRoles(ctx, s, []string{reporting.RoleCounsellor})
				}
			},
		},
		{
			action: reporting.AuditSettings,
			name:   "public_languages",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				return func(ctx context.Context) error {
					_, err := e.settings.SetPublicLanguages(ctx, s, []string{"de", "en", "tr"}, []string{"de", "en"})
					return err
				}
			},
		},
		{
			action: reporting.AuditSettings,
			name:   "identity",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				return func(ctx context.Context) error {
					_, err := e.settings.SetIdentity(ctx, s, validIdentity())
					return err
				}
			},
		},
		{
			action: reporting.AuditSettings,
			name:   "logo_set",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				logo := testLogo(t)
				return func(ctx context.Context) error {
					_, err := e.settings.SetLogo(ctx, s, bytes.NewReader(logo))
					return err
				}
			},
		},
		{
			action: reporting.AuditSettings,
			name:   "logo_remove",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				if _, err := e.settings.SetLogo(t.Context(), s, bytes.NewReader(testLogo(t))); err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error { return e.settings.RemoveLogo(ctx, s) }
			},
		},
		{
			action: reporting.AuditTeamCreate,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				creating = s
				return func(ctx context.Context) error {
					_, err := e.teams.CreateTeam(ctx, s, reporting.TeamForm{Name: "Herne", Municipalities: []string{"herne"}})
					return err
				}
			},
			// The session gets the new team's key only once the team exists.
			check: func(t *testing.T, e *env) {
				if ids := creating.Keys.Teams(); len(ids) != 1 {
					t.Errorf("the admin's session holds keys of teams %v, want only the first team's", ids)
				}
			},
		},
		{
			action: reporting.AuditTeamUpdate,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				id := e.createTeam(t, s, "Herne", "herne")
				return func(ctx context.Context) error {
					return e.teams.UpdateTeam(ctx, s, id, reporting.TeamForm{Name: "Herne-Mitte", Municipalities: []string{"herne"}})
				}
			},
		},
		{
			action: reporting.AuditTeamMember,
			name:   "add",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				team := firstTeam(t, e, s)
				bob := e.addTeamUser(t, "bob", reporting.RoleCounsellor, false)
				return func(ctx context.Context) error { return e.teams.AddTeamMember(ctx, s, team.id, bob.ID) }
			},
		},
		{
			action: reporting.AuditTeamMember,
			name:   "remove",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				team := firstTeam(t, e, s)
				bob := e.addTeamUser(t, "bob", reporting.RoleCounsellor, false)
				e.addMember(t, s, team.id, bob.ID)
				removing, member = s, e.loginMember(t, "bob")
				return func(ctx context.Context) error { return e.teams.RemoveTeamMember(ctx, s, team.id, bob.ID) }
			},
			// Nothing was revoked: bob's live session keeps the team's key,
			// and the admin's key is still the team's stored one (not
			// rotated to a key the database never got).
			check: func(t *testing.T, e *env) {
				team := firstTeam(t, e, removing)
				stored := e.team(t, "PLANB Ruhr")
				if team.kp.Public() != stored.PublicKey {
					t.Error("the admin's session holds a team key that is not the stored one")
				}
				if _, held := member.Keys.Team(team.id); !held {
					t.Error("bob's session lost the team key although the removal failed")
				}
			},
		},
		{
			action: reporting.AuditNotifyEmail,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				return func(ctx context.Context) error {
					_, err := e.notifier.SetNotificationEmail(ctx, s, "admin@example.org")
					return err
				}
			},
		},
		{
			action: reporting.AuditOutboxSend,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				if _, err := e.notifier.SetNotificationEmail(t.Context(), s, "admin@example.org"); err != nil {
					t.Fatal(err)
				}
				tr, err := i18n.Load()
				if err != nil {
					t.Fatal(err)
				}
				n := reporting.NewNotifier(e.db, reporting.NotifierConfig{BaseURL: "https://melden.example.org", Mailer: &mailer,
					Texts: tr, Languages: i18n.OfficeLanguages, Now: e.clock.Now})
				if err := n.Enqueue(t.Context(), firstTeam(t, e, s).id, reporting.KindReport); err != nil {
					t.Fatal(err)
				}
				return func(ctx context.Context) error {
					_, err := n.SendOutboxNow(ctx, s)
					return err
				}
			},
			// Mail cannot be called back: with the log down none goes out.
			check: func(t *testing.T, e *env) {
				if n := mailer.count(); n != 0 {
					t.Errorf("%d mails sent although the request could not be recorded", n)
				}
			},
		},
		{
			action: reporting.AuditStatsPublish,
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				s := setUpAdmin(t, e)
				submit(t, e.intake(t), validForm(), "de")
				return func(ctx context.Context) error { return e.stats.PublishStatistics(ctx, s, today.Year()) }
			},
		},
		{
			action: reporting.AuditReceiptKDF,
			name:   "command_line",
			prepare: func(t *testing.T, e *env) func(ctx context.Context) error {
				e.setUp(t)
				e.intake(t) // stores the receipt parameters the raise starts from
				stronger := vault.Params{Time: 2, MemoryKiB: 9 * 1024, Threads: 1}
				return func(ctx context.Context) error {
					_, err := reporting.RaiseReceiptParams(ctx, e.db, e.anchor, vault.Floor(fastParams), stronger, e.clock.Now())
					return err
				}
			},
		},
	}
}

// With the audit log down, no change of two-factor, teams, notifications, languages, identity, statistics, receipt parameters stands.
func TestAuditFailureSettings(t *testing.T) {
	runAtomicCases(t, settingAtomicCases())
}

// setUpAdmin sets the office up and logs the admin in.
func setUpAdmin(t *testing.T, e *env) *reporting.OfficeSession {
	t.Helper()
	e.setUp(t)
	_, s := e.login(t)
	return s
}

// enrolledAdmin sets the office up with two-factor on for the admin and
// returns a session logged in with a code, and the secret.
func enrolledAdmin(t *testing.T, e *env) (*reporting.OfficeSession, string) {
	t.Helper()
	e.setUp(t)
	secret, _ := e.enrol(t)
	_, s := e.loginWithCode(t, totpCode(t, secret, e.clock.Now()))
	return s, secret
}

// stillEnrolled checks that the admin's two-factor, as the session *s
// sees it, is on with every recovery code, as before the failed change.
func stillEnrolled(s **reporting.OfficeSession) func(t *testing.T, e *env) {
	return func(t *testing.T, e *env) {
		t.Helper()
		st, err := e.twoFactor.TOTPStatus(t.Context(), *s)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Enabled || st.RecoveryCodes != reporting.RecoveryCodeCount {
			t.Errorf("two-factor after the failed change: %+v, want on with %d recovery codes", st, reporting.RecoveryCodeCount)
		}
	}
}

// testLogo is a small PNG.
func testLogo(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 8))
	for x := range 16 {
		img.Set(x, 4, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sentMails is a Mailer that counts what it was given.
type sentMails struct {
	mu sync.Mutex
	n  int
}

func (m *sentMails) Send(context.Context, string, string, string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	return nil
}

func (m *sentMails) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}
