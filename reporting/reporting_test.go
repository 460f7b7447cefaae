package reporting_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// fastParams keeps argon2id cheap in tests.
var fastParams = vault.Params{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}

const (
	adminName     = "admin"
	adminPassword = "korrekt-pferd-batterie"
	arabicText    = "تعرضت للتمييز في مكتب العمل"
)

// today is the fixed day of the tests' clock.
var today = time.Date(2026, 5, 20, 10, 30, 0, 0, time.UTC)

// ---- helpers ----

// clock is a controllable time source for the services.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a deployment on a real SQLite file.
type env struct {
	dir    string
	db     *storage.DB
	clock  *clock
	kdf    *vault.KDF
	office *reporting.Office
	anchor *reporting.Anchor
	// The office services of each area.
	cases       *reporting.Cases
	replies     *reporting.Replies
	attachments *reporting.Attachments

	areaServices // teams, statistics, retention, settings, audit log, notifications (areas_env_test.go)

	accounts  *reporting.Accounts
	twoFactor *reporting.TwoFactor
}

// newEnv opens a fresh database in a temporary directory and builds the
// office service on it.
func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatalf("storage.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{dir: dir, db: db, clock: &clock{t: today}, kdf: vault.NewKDF(2)}
	secret, err := vault.CreateSecret(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	e.anchor = reporting.NewAnchor(secret)
	db.SetAuditKey(e.anchor.AuditKey())
	e.office = reporting.NewOffice(db, e.kdf, fastParams, e.anchor, e.clock.Now)
	t.Cleanup(e.office.Close)
	e.cases, e.replies, e.attachments = reporting.NewCases(db, e.anchor, e.clock.Now), reporting.NewReplies(db, e.clock.Now), reporting.NewAttachments(db, e.clock.Now)
	e.areaServices = newAreaServices(t, e)
	e.accounts = reporting.NewAccounts(db, e.kdf, fastParams, e.anchor, e.office, e.office, e.clock.Now)
	e.twoFactor = reporting.NewTwoFactor(db, e.anchor, e.office, e.clock.Now)
	return e
}

// start runs Office.Start and fails unless it hands out a setup token.
func (e *env) start(t *testing.T) string {
	t.Helper()
	token, err := e.office.Start(t.Context())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if token == "" {
		t.Fatal("Start on an empty database returned no setup token")
	}
	return token
}

// setupForm is a valid first-run form for token.
func setupForm(token string) reporting.SetupForm {
	return reporting.SetupForm{Token: token, Team: "PLANB Ruhr", Username: adminName, Password: adminPassword, Confirm: adminPassword}
}

// setUp runs the first-run setup and returns the recovery key.
func (e *env) setUp(t *testing.T) string {
	t.Helper()
	key, err := e.office.Setup(t.Context(), setupForm(e.start(t)))
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	return key
}

// login logs the admin in.
func (e *env) login(t *testing.T) (string, *reporting.OfficeSession) {
	t.Helper()
	token, s, err := e.office.Login(t.Context(), adminName, adminPassword, "")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return token, s
}

// intake builds the public side on the same database.
func (e *env) intake(t *testing.T) *reporting.Intake {
	t.Helper()
	in, err := reporting.NewIntake(t.Context(), e.db, e.kdf, fastParams, e.anchor, nil, e.clock.Now)
	if err != nil {
		t.Fatalf("NewIntake: %v", err)
	}
	return in
}

// validForm is the smallest form that passes validation.
func validForm() reporting.ReportForm {
	return reporting.ReportForm{
		Role:         "affected",
		Municipality: "bochum",
		Grounds:      []string{"gender"},
		Area:         "work",
		Description:  "x",
		Wish:         "document_only",
		Consent:      true,
	}
}

// submit validates and submits a form in language lang.
func submit(t *testing.T, in *reporting.Intake, f reporting.ReportForm, lang string) (reporting.Report, reporting.Receipt) {
	t.Helper()
	r, err := f.Validate(lang, today)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	rc, err := in.Submit(t.Context(), r)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return r, rc
}

// appError returns err as an application error, failing if it is none.
func appError(t *testing.T, err error) *reporting.Error {
	t.Helper()
	var e *reporting.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want a *reporting.Error", err)
	}
	return e
}

// wantCode fails unless err is an application error with the given code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := reporting.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

// ---- setup ----

// The first start hands out a one-time setup link; the setup form names
// each field a person got wrong; a wrong link is "not found"; success
// shows a recovery key that really opens the team's private key, and the
// link is dead afterwards.
func TestSetup(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	token := e.start(t)

	invalid := []struct {
		name   string
		change func(*reporting.SetupForm)
		field  string
		msg    string
	}{
		{"short password", func(f *reporting.SetupForm) { f.Password, f.Confirm = "kurz", "kurz" }, "password", "error.setup.password_short"},
		{"password one short", func(f *reporting.SetupForm) {
			f.Password = strings.Repeat("ä", reporting.MinPassword-1)
			f.Confirm = f.Password
		}, "password", "error.setup.password_short"},
		{"mismatch", func(f *reporting.SetupForm) { f.Confirm = adminPassword + "!" }, "confirm", "error.setup.password_mismatch"},
		{"empty username", func(f *reporting.SetupForm) { f.Username = "" }, "username", "error.setup.username"},
		{"blank username", func(f *reporting.SetupForm) { f.Username = "   " }, "username", "error.setup.username"},
		{"long username", func(f *reporting.SetupForm) { f.Username = strings.Repeat("a", 65) }, "username", "error.setup.username"},
		{"empty team", func(f *reporting.SetupForm) { f.Team = " " }, "team", "error.setup.team"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			f := setupForm(token)
			tt.change(&f)
			key, err := e.office.Setup(ctx, f)
			if key != "" {
				t.Errorf("Setup returned a recovery key for an invalid form")
			}
			wantCode(t, err, reporting.EInvalid)
			fields := reporting.FieldErrors(err)
			if len(fields) != 1 || fields[tt.field] != tt.msg {
				t.Errorf("FieldErrors = %v, want only %s: %s", fields, tt.field, tt.msg)
			}
		})
	}

	for name, bad := range map[string]string{"wrong token": vault.NewToken(), "empty token": ""} {
		t.Run(name, func(t *testing.T) {
			_, err := e.office.Setup(ctx, setupForm(bad))
			wantCode(t, err, reporting.ENotFound)
			wantCode(t, e.office.CheckSetupToken(ctx, bad), reporting.ENotFound)
		})
	}
	if n, _ := e.db.CountUsers(ctx); n != 0 {
		t.Fatalf("failed setups created %d users", n)
	}

	// Failed attempts did not use the link up.
	if err := e.office.CheckSetupToken(ctx, token); err != nil {
		t.Fatalf("CheckSetupToken after failed attempts: %v", err)
	}
	printed, err := e.office.Setup(ctx, setupForm(token))
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}

	recovery, err := vault.ParseRecoveryKey(printed)
	if err != nil {
		t.Fatalf("ParseRecoveryKey(%q): %v", printed, err)
	}
	// As a person would type it back from paper: lower case, spaces.
	if _, err := vault.ParseRecoveryKey(strings.ToLower(strings.ReplaceAll(printed, "-", " "))); err != nil {
		t.Errorf("recovery key typed back in lower case: %v", err)
	}
	teams, err := e.db.Teams(ctx)
	if err != nil || len(teams) != 1 {
		t.Fatalf("Teams = %v, %v", teams, err)
	}
	if teams[0].Name != "PLANB Ruhr" || !teams[0].Covers("marl") || !teams[0].Covers("online") {
		t.Errorf("first team = %+v, want one covering every municipality", teams[0])
	}
	envelopes, err := e.db.RecoveryKeys(ctx)
	if err != nil || len(envelopes) != 1 {
		t.Fatalf("RecoveryKeys = %v, %v", envelopes, err)
	}
	w := envelopes[0]
	teamKey, err := vault.RecoveryKeyPair(recovery).OpenKeyPair(w.Wrapped, w.PublicKey, vault.RecoveryAD(w.PublicKey))
	if err != nil {
		t.Fatalf("recovery key does not open the team key: %v", err)
	}
	if teamKey.Public() != teams[0].PublicKey {
		t.Error("recovered key belongs to another team")
	}
	ad := vault.AD{Purpose: "test", Row: "1"}
	if plain, err := teamKey.Open(teams[0].PublicKey.Seal([]byte("hallo"), ad), ad); err != nil || string(plain) != "hallo" {
		t.Errorf("recovered team key cannot open what is sealed to the team: %q, %v", plain, err)
	}
	if _, err := vault.RecoveryKeyPair(vault.NewKey()).OpenKeyPair(w.Wrapped, w.PublicKey, vault.RecoveryAD(w.PublicKey)); err == nil {
		t.Error("a random key opened the recovery envelope")
	}

	// The link is spent, and the next start hands out no new one.
	_, err = e.office.Setup(ctx, setupForm(token))
	wantCode(t, err, reporting.ENotFound)
	if again, err := e.office.Start(ctx); err != nil || again != "" {
		t.Errorf("Start after setup = %q, %v; want no token", again, err)
	}
	if _, _, err := e.office.Login(ctx, adminName, adminPassword, ""); err != nil {
		t.Errorf("the new admin cannot log in: %v", err)
	}
}

// ---- intake and reading ----

// What a reporter submits (in any script) is exactly what the counsellor
// reads after logging in, in the list and on the case page.
func TestSubmitAndReadBack(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	in := e.intake(t)
	ctx := t.Context()

	f := validForm()
	f.Role, f.Municipality, f.Area, f.Wish = "witness", "herne", "authorities", "contact_me"
	f.Grounds = []string{"anti_muslim", "religion"}
	f.IncidentDate = "14.05.2026"
	f.Description = arabicText + "\nالسطر الثاني"
	f.Contact = "Signal: +49 170 0000000"
	want, rc := submit(t, in, f, "ar")

	if rc.CaseNo != "2026-0001" {
		t.Errorf("CaseNo = %q, want 2026-0001", rc.CaseNo)
	}
	if code, err := vault.ParseReceipt(rc.Code.String()); err != nil || code != rc.Code {
		t.Errorf("receipt %q does not parse back: %v", rc.Code, err)
	}

	_, s := e.login(t)
	cases, total, err := e.cases.Cases(ctx, s, reporting.Page{Limit: 20})
	if err != nil {
		t.Fatalf("Cases: %v", err)
	}
	if total != 1 || len(cases) != 1 {
		t.Fatalf("Cases = %d of %d, want 1 of 1", len(cases), total)
	}
	c := cases[0]
	if !reflect.DeepEqual(c.Report, want) {
		t.Errorf("decrypted report = %+v\nwant %+v", c.Report, want)
	}
	if c.Report.Description != arabicText+"\nالسطر الثاني" || c.FirstLine() != arabicText {
		t.Errorf("description = %q, first line %q", c.Report.Description, c.FirstLine())
	}
	if c.CaseNo != rc.CaseNo || c.ReceivedOn != "2026-05-20" || c.Status != reporting.StatusNew ||
		c.Language != "ar" || c.TeamName != "PLANB Ruhr" {
		t.Errorf("case = %+v", c)
	}

	one, err := e.cases.Case(ctx, s, c.ID)
	if err != nil {
		t.Fatalf("Case: %v", err)
	}
	if !reflect.DeepEqual(one, c) {
		t.Errorf("Case = %+v\nCases[0] = %+v", one, c)
	}
	_, err = e.cases.Case(ctx, s, "00000000-0000-4000-8000-000000000000")
	wantCode(t, err, reporting.ENotFound)

	// A second report gets the next number and is listed first.
	second, rc2 := submit(t, in, validForm(), "de")
	if rc2.CaseNo != "2026-0002" || rc2.Code == rc.Code {
		t.Errorf("second receipt = %+v, first %+v", rc2, rc)
	}
	cases, total, err = e.cases.Cases(ctx, s, reporting.Page{Limit: 1})
	if err != nil || total != 2 || len(cases) != 1 || !reflect.DeepEqual(cases[0].Report, second) {
		t.Errorf("Cases(limit 1) = %+v, %d, %v; want the newest report", cases, total, err)
	}
}

// A report cannot be submitted before the office exists: there is no team
// to encrypt it to, and the reporter must not get a receipt for it.
func TestSubmitBeforeSetup(t *testing.T) {
	e := newEnv(t)
	r, err := validForm().Validate("de", today)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := e.intake(t).Submit(t.Context(), r)
	wantCode(t, err, reporting.EConflict)
	if rc.CaseNo != "" || rc.Code.String() != "" {
		t.Errorf("receipt %+v issued for an unstored report", rc)
	}
}

// The receipt salt and argon2id parameters are fixed at the first start
// and read back afterwards, so receipts issued earlier keep working when
// the configured parameters change.
func TestIntakeKeepsStoredReceiptParams(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	e.intake(t)
	salt, err := e.db.Setting(t.Context(), "receipt_salt")
	if err != nil {
		t.Fatal(err)
	}
	stronger := vault.Params{Time: 2, MemoryKiB: 16 * 1024, Threads: 1}
	in, err := reporting.NewIntake(t.Context(), e.db, e.kdf, stronger, e.anchor, nil, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, in, validForm(), "de")
	if again, _ := e.db.Setting(t.Context(), "receipt_salt"); !bytes.Equal(again, salt) {
		t.Error("receipt salt changed on restart")
	}
	_, s := e.login(t)
	rows, _, err := e.db.Reports(t.Context(), s.Keys.Teams(), reporting.Page{Limit: 1})
	if err != nil || len(rows) != 1 {
		t.Fatalf("Reports = %v, %v", rows, err)
	}
	if rows[0].KDFParams != "pepper1$"+fastParams.String() {
		t.Errorf("report derived with %s, want the stored %s", rows[0].KDFParams, fastParams)
	}
}

// ---- login and sessions ----

// A wrong password and an unknown user name look exactly the same to the
// person trying, so the login form does not reveal who has an account.
func TestLoginFailuresLookAlike(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	tests := []struct{ name, user, password string }{
		{"wrong password", adminName, adminPassword + "x"},
		{"empty password", adminName, ""},
		{"unknown user", "nobody", adminPassword},
		{"user name in other case", "ADMIN", adminPassword},
	}
	var ids []string
	for _, tt := range tests {
		token, s, err := e.office.Login(t.Context(), tt.user, tt.password, "")
		if token != "" || s != nil {
			t.Errorf("%s: got a session", tt.name)
		}
		ae := appError(t, err)
		if ae.Code != reporting.EUnauthorized {
			t.Errorf("%s: code %q, want %q", tt.name, ae.Code, reporting.EUnauthorized)
		}
		ids = append(ids, ae.MessageID)
	}
	for i, id := range ids {
		if id != ids[0] {
			t.Errorf("%s: message %q differs from %s: %q", tests[i].name, id, tests[0].name, ids[0])
		}
	}

	// Surrounding spaces in the user name are forgiven.
	if _, _, err := e.office.Login(t.Context(), " "+adminName+" ", adminPassword, ""); err != nil {
		t.Errorf("login with padded user name: %v", err)
	}
}

// After logout the session token is worthless and the keys it held are
// gone from memory: even a handler still holding the session cannot
// decrypt with it.
func TestLogoutWipes(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	submit(t, e.intake(t), validForm(), "de")
	ctx := t.Context()
	token, s := e.login(t)

	if got, err := e.office.Session(ctx, token); err != nil || got != s {
		t.Fatalf("Session before logout = %v, %v", got, err)
	}
	teams := s.Keys.Teams()
	if len(teams) != 1 {
		t.Fatalf("session holds %d team keys, want 1", len(teams))
	}
	if err := e.office.Logout(ctx, token); err != nil {
		t.Fatalf("Logout: %v", err)
	}

	_, err := e.office.Session(ctx, token)
	wantCode(t, err, reporting.EUnauthorized)
	if _, ok := s.Keys.Team(teams[0]); ok {
		t.Error("team key still on the ring after logout")
	}
	if cases, total, err := e.cases.Cases(ctx, s, reporting.Page{Limit: 10}); err != nil || len(cases) != 0 || total != 0 {
		t.Errorf("Cases with a logged-out session = %d of %d, %v; want nothing", len(cases), total, err)
	}
	if err := e.db.TouchSession(ctx, vault.HashToken(token), e.clock.Now()); err == nil {
		t.Error("session row still stored after logout")
	}
	// Logging out twice, or with a made-up token, is harmless.
	if err := e.office.Logout(ctx, token); err != nil {
		t.Errorf("second Logout: %v", err)
	}
	_, err = e.office.Session(ctx, vault.NewToken())
	wantCode(t, err, reporting.EUnauthorized)
}

// A session left alone for longer than IdleTimeout is refused (someone
// walked away from a shared computer); one in use stays alive, but not
// beyond AbsoluteTimeout.
func TestSessionTimeouts(t *testing.T) {
	tests := []struct {
		name  string
		steps []time.Duration // clock advances, each followed by a Session call
		alive bool
	}{
		{"used right away", []time.Duration{0}, true},
		{"idle just under the limit", []time.Duration{reporting.IdleTimeout - time.Second}, true},
		{"idle exactly the limit", []time.Duration{reporting.IdleTimeout}, true},
		{"idle past the limit", []time.Duration{reporting.IdleTimeout + time.Second}, false},
		{"idle two hours", []time.Duration{2 * time.Hour}, false},
		{"used every 20 minutes for 3 hours", repeat(20*time.Minute, 9), true},
		{"used, then idle past the limit", []time.Duration{20 * time.Minute, reporting.IdleTimeout + time.Second}, false},
		{"used every 20 minutes past the absolute limit", repeat(20*time.Minute, int(reporting.AbsoluteTimeout/(20*time.Minute))+1), false},
	}
	e := newEnv(t)
	e.setUp(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			token, s := e.login(t)
			var err error
			for i, d := range tt.steps {
				e.clock.Advance(d)
				_, err = e.office.Session(ctx, token)
				if err != nil && i < len(tt.steps)-1 {
					t.Fatalf("session refused at step %d: %v", i, err)
				}
			}
			if tt.alive {
				if err != nil {
					t.Fatalf("session refused: %v", err)
				}
				return
			}
			wantCode(t, err, reporting.EUnauthorized)
			if len(s.Keys.Teams()) != 0 {
				t.Error("expired session's keys not wiped")
			}
			// Refused for good: asking again does not revive it.
			_, err = e.office.Session(ctx, token)
			wantCode(t, err, reporting.EUnauthorized)
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// ---- at rest ----

// A copy of the data directory (database, WAL, shared memory), taken while
// the server runs or after it stopped, contains no report text, contact or
// receipt.
func TestNothingReadableAtRest(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	in := e.intake(t)

	const asciiMarker = "Zeugin-XQ7-Hausmeister-Diskriminierung"
	const contactMarker = "reporter.marker-5521@example.org"
	const arabicContact = "واتساب فاطمة"
	f := validForm()
	f.Wish = "contact_me"
	f.Description = asciiMarker + " " + arabicText
	f.Contact = contactMarker + " " + arabicContact
	_, rc := submit(t, in, f, "ar")
	_, rc2 := submit(t, in, f, "ar") // a second copy: more chances to leak

	secrets := map[string]string{
		"description (ASCII)":   asciiMarker,
		"description (Arabic)":  arabicText,
		"contact (ASCII)":       contactMarker,
		"contact (Arabic)":      arabicContact,
		"receipt digits":        strings.ReplaceAll(rc.Code.String(), " ", ""),
		"receipt as shown":      rc.Code.String(),
		"second receipt digits": strings.ReplaceAll(rc2.Code.String(), " ", ""),
	}
	scan := func(when string, wantWAL bool) {
		t.Helper()
		entries, err := os.ReadDir(e.dir)
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		sawWAL := false
		for _, ent := range entries {
			b, err := os.ReadFile(filepath.Join(e.dir, ent.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(ent.Name(), "-wal") && len(b) > 0 {
				sawWAL = true
			}
			for what, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s: %s readable in %s", when, what, ent.Name())
				}
			}
			all = append(all, b...)
		}
		if wantWAL && !sawWAL {
			t.Fatalf("%s: no -wal file with content; the WAL was not covered", when)
		}
		// The scan itself works: plain routing data is there to be found.
		if !bytes.Contains(all, []byte(rc.CaseNo)) {
			t.Fatalf("%s: case number %s not found in the files; the scan reads nothing", when, rc.CaseNo)
		}
	}

	scan("while open, before any checkpoint", true)
	// Reading the case decrypts only in memory.
	_, s := e.login(t)
	if _, _, err := e.cases.Cases(t.Context(), s, reporting.Page{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	scan("while open, after reading", true)
	if err := e.db.Checkpoint(t.Context()); err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	scan("after a checkpoint", false)
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	scan("after close", false)
}

// ---- validation ----

// The public form accepts what a reporter can reasonably type and, for
// everything else, names the field and the reason, so the form comes back
// with the message next to that field.
func TestReportFormValidate(t *testing.T) {
	valid := validForm()
	want := reporting.Report{
		Role: "affected", Municipality: "bochum", Grounds: []string{"gender"}, Area: "work",
		Description: "x", Wish: "document_only", Language: "tr",
	}
	tests := []struct {
		name   string
		change func(*reporting.ReportForm)
		want   func(*reporting.Report) // nil: the form is invalid
		field  string
		msg    string
	}{
		{name: "valid minimal form", change: func(*reporting.ReportForm) {}, want: func(*reporting.Report) {}},

		// Only what happened and the consent are required (issue 11):
		// every other question left empty is stored as not_stated.
		{name: "missing role", change: func(f *reporting.ReportForm) { f.Role = "" }, want: func(r *reporting.Report) { r.Role = "not_stated" }},
		{name: "missing municipality", change: func(f *reporting.ReportForm) { f.Municipality = "" }, want: func(r *reporting.Report) { r.Municipality = "not_stated" }},
		{name: "missing grounds", change: func(f *reporting.ReportForm) { f.Grounds = nil }, want: func(r *reporting.Report) { r.Grounds = []string{"not_stated"} }},
		{name: "not_stated beside a ground", change: func(f *reporting.ReportForm) { f.Grounds = []string{"not_stated", "age"} }, want: func(r *reporting.Report) { r.Grounds = []string{"age"} }},
		{name: "missing area", change: func(f *reporting.ReportForm) { f.Area = "" }, want: func(r *reporting.Report) { r.Area = "not_stated" }},
		{name: "missing wish", change: func(f *reporting.ReportForm) { f.Wish = "" }, want: func(r *reporting.Report) { r.Wish = "not_stated" }},
		{name: "missing description", change: func(f *reporting.ReportForm) { f.Description = "" }, field: "description", msg: "error.description.required"},
		{name: "blank description", change: func(f *reporting.ReportForm) { f.Description = " \n\t " }, field: "description", msg: "error.description.required"},
		{name: "no consent", change: func(f *reporting.ReportForm) { f.Consent = false }, field: "consent", msg: "error.consent.required"},

		// Unknown codes (a tampered or outdated form).
		{name: "unknown role", change: func(f *reporting.ReportForm) { f.Role = "admin" }, field: "role", msg: "error.role.required"},
		{name: "unknown municipality", change: func(f *reporting.ReportForm) { f.Municipality = "berlin" }, field: "municipality", msg: "error.municipality.required"},
		{name: "unknown ground", change: func(f *reporting.ReportForm) { f.Grounds = []string{"gender", "martian"} }, field: "grounds", msg: "error.grounds.unknown"},
		{name: "label instead of code", change: func(f *reporting.ReportForm) { f.Grounds = []string{"Rassismus"} }, field: "grounds", msg: "error.grounds.unknown"},
		{name: "unknown area", change: func(f *reporting.ReportForm) { f.Area = "moon" }, field: "area", msg: "error.area.required"},
		{name: "unknown wish", change: func(f *reporting.ReportForm) { f.Wish = "revenge" }, field: "wish", msg: "error.wish.required"},

		// Grounds.
		{name: "racism sub-grounds imply racism", change: func(f *reporting.ReportForm) {
			f.Grounds = []string{"antisemitism", "gender", "anti_black", "antisemitism"}
		}, want: func(r *reporting.Report) {
			r.Grounds = []string{"racism", "gender"}
			r.Subgrounds = []string{"anti_black", "antisemitism"}
		}},
		{name: "racism and a sub-ground", change: func(f *reporting.ReportForm) { f.Grounds = []string{"racism", "language"} },
			want: func(r *reporting.Report) { r.Grounds, r.Subgrounds = []string{"racism"}, []string{"language"} }},
		{name: "grounds in vocabulary order, once", change: func(f *reporting.ReportForm) { f.Grounds = []string{"age", "religion", "age"} },
			want: func(r *reporting.Report) { r.Grounds = []string{"religion", "age"} }},

		// Description length counts characters, not bytes.
		{name: "description at the limit in Arabic", change: func(f *reporting.ReportForm) { f.Description = strings.Repeat("ت", reporting.MaxDescription) },
			want: func(r *reporting.Report) { r.Description = strings.Repeat("ت", reporting.MaxDescription) }},
		{name: "description over the limit", change: func(f *reporting.ReportForm) { f.Description = strings.Repeat("ت", reporting.MaxDescription+1) },
			field: "description", msg: "error.description.too_long"},
		{name: "description trimmed", change: func(f *reporting.ReportForm) { f.Description = "\n  " + arabicText + "  \n" },
			want: func(r *reporting.Report) { r.Description = arabicText }},
		{name: "description not UTF-8", change: func(f *reporting.ReportForm) { f.Description = "ab\xffcd" },
			field: "description", msg: "error.description.too_long"},

		// Contact.
		{name: "contact_me without contact", change: func(f *reporting.ReportForm) { f.Wish = "contact_me" }, field: "contact", msg: "error.contact.required"},
		{name: "contact_me with blank contact", change: func(f *reporting.ReportForm) { f.Wish, f.Contact = "contact_me", "   " }, field: "contact", msg: "error.contact.required"},
		{name: "contact_me with contact", change: func(f *reporting.ReportForm) { f.Wish, f.Contact = "contact_me", " a@example.org " },
			want: func(r *reporting.Report) { r.Wish, r.Contact = "contact_me", "a@example.org" }},
		{name: "callback without contact", change: func(f *reporting.ReportForm) { f.Callback = true }, field: "contact", msg: "error.callback.contact"},
		{name: "callback with blank contact", change: func(f *reporting.ReportForm) { f.Callback, f.Contact = true, " \n " }, field: "contact", msg: "error.callback.contact"},
		{name: "callback with a number, no wish", change: func(f *reporting.ReportForm) { f.Callback, f.Contact, f.Wish = true, " 0234 123456 ", "" },
			want: func(r *reporting.Report) { r.Callback, r.Contact, r.Wish = true, "0234 123456", "contact_me" }},
		{name: "callback keeps a chosen wish", change: func(f *reporting.ReportForm) { f.Callback, f.Contact = true, "0234 123456" },
			want: func(r *reporting.Report) { r.Callback, r.Contact = true, "0234 123456" }},
		{name: "contact too long", change: func(f *reporting.ReportForm) { f.Contact = strings.Repeat("a", reporting.MaxContact+1) }, field: "contact", msg: "error.contact.too_long"},

		// Incident dates as people type them.
		{name: "date empty", change: func(f *reporting.ReportForm) { f.IncidentDate = "" }, want: func(*reporting.Report) {}},
		{name: "date blank", change: func(f *reporting.ReportForm) { f.IncidentDate = "  " }, want: func(*reporting.Report) {}},
	}
	dates := []struct {
		in, day, out, msg string
	}{
		{"2026-05", "", "2026-05", ""},
		{"2026-05-14", "", "2026-05-14", ""},
		{"05/2026", "", "2026-05", ""},
		{"14.05.2026", "", "2026-05-14", ""},
		{"5.2026", "", "2026-05", ""},
		{"1/5/2026", "", "2026-05-01", ""},
		{" 2026-5 ", "", "2026-05", ""},
		{"2026-05-20", "", "2026-05-20", ""}, // today
		{"29.02.2024", "", "2024-02-29", ""},
		{"2026-13", "", "", "error.incident_date.format"},
		{"2026-00", "", "", "error.incident_date.format"},
		{"31.02.2026", "", "", "error.incident_date.format"},
		{"00.05.2026", "", "", "error.incident_date.format"},
		{"29.02.2026", "", "", "error.incident_date.format"},
		{"foo", "", "", "error.incident_date.format"},
		{"2026", "", "", "error.incident_date.format"},
		{"14.05.26", "", "", "error.incident_date.format"},
		{"1900-01", "", "", "error.incident_date.format"},
		{"2026-06", "", "", "error.incident_date.future"},
		{"21.05.2026", "", "", "error.incident_date.future"},
		{"2027-01-01", "", "", "error.incident_date.future"},
		// The optional day field completes a month.
		{"2026-05", "14", "2026-05-14", ""},
		{"2026-05", " 3 ", "2026-05-03", ""},
		{"2026-02", "30", "", "error.incident_date.format"},
		{"2026-05", "x", "", "error.incident_date.format"},
		{"2026-05", "21", "", "error.incident_date.future"},
	}
	for _, d := range dates {
		tt := struct {
			name   string
			change func(*reporting.ReportForm)
			want   func(*reporting.Report)
			field  string
			msg    string
		}{name: "date " + d.in + " day " + d.day, change: func(f *reporting.ReportForm) { f.IncidentDate, f.IncidentDay = d.in, d.day }, field: "incident_date", msg: d.msg}
		if d.msg == "" {
			tt.want = func(r *reporting.Report) { r.IncidentDate = d.out }
		}
		tests = append(tests, tt)
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := valid
			f.Grounds = append([]string(nil), valid.Grounds...)
			tt.change(&f)
			before := f
			got, err := f.Validate("tr", today)
			if !reflect.DeepEqual(f, before) {
				t.Error("Validate changed the form: it must come back as typed")
			}
			if tt.want == nil {
				wantCode(t, err, reporting.EInvalid)
				fields := reporting.FieldErrors(err)
				if len(fields) != 1 || fields[tt.field] != tt.msg {
					t.Errorf("FieldErrors = %v, want only %s: %s", fields, tt.field, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v (fields %v)", err, reporting.FieldErrors(err))
			}
			w := want
			w.Grounds = append([]string(nil), want.Grounds...)
			tt.want(&w)
			if !reflect.DeepEqual(got, w) {
				t.Errorf("Validate = %+v\nwant       %+v", got, w)
			}
		})
	}

	// An empty form names exactly the two required fields.
	_, err := reporting.ReportForm{}.Validate("de", today)
	fields := reporting.FieldErrors(err)
	if len(fields) != 2 || fields["description"] == "" || fields["consent"] == "" {
		t.Errorf("empty form: errors %v, want description and consent only", fields)
	}

	// The shortest report: what happened and the consent.
	r, err := reporting.ReportForm{Description: "Man hat mich beschimpft.", Consent: true}.Validate("de", today)
	if err != nil {
		t.Fatalf("text-only report refused: %v (fields %v)", err, reporting.FieldErrors(err))
	}
	ns := "not_stated"
	if r.Role != ns || r.Municipality != ns || r.Area != ns || r.Wish != ns || !reflect.DeepEqual(r.Grounds, []string{ns}) || r.IncidentDate != "" {
		t.Errorf("text-only report stored as %+v, want not_stated in every optional question", r)
	}
}
