package storage_test

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// adminParams are deliberately unlike vault.DefaultParams, so that reading
// them back proves they came from the row and not from a default.
var adminParams = vault.Params{Time: 5, MemoryKiB: 19 * 1024, Threads: 3}

// ---- helpers ----

// mustOpen opens the database in dir and closes it when the test ends.
func mustOpen(t *testing.T, dir string) *storage.DB {
	t.Helper()
	db, err := storage.Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { db.Close() }) // closing twice is harmless
	return db
}

// openDB opens a fresh database in its own temporary directory.
func openDB(t *testing.T) *storage.DB {
	t.Helper()
	return mustOpen(t, t.TempDir())
}

// randomBytes returns n random bytes, for IDs, hashes and stand-in
// ciphertexts (storage never looks inside them).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// putSetupToken stores a fresh setup token's hash, as Office.Start does,
// and returns the token.
func putSetupToken(t *testing.T, db *storage.DB) string {
	t.Helper()
	token := vault.NewToken()
	if err := db.PutSetting(t.Context(), "setup_token", vault.HashToken(token)); err != nil {
		t.Fatalf("PutSetting(setup_token): %v", err)
	}
	return token
}

// firstAdmin builds what Office.Setup would pass to CreateFirstAdmin.
func firstAdmin(token string) reporting.FirstAdmin {
	return reporting.FirstAdmin{
		SetupTokenHash:    vault.HashToken(token),
		Team:              reporting.Team{Name: "Bochum", PublicKey: vault.NewKeyPair().Public(), Municipalities: reporting.Municipalities},
		RecoveryPublicKey: vault.NewKeyPair().Public(),
		RecoveryKey:       randomBytes(72),
		User: reporting.User{
			Name: "admin", Role: reporting.RoleAdmin, Salt: vault.NewSalt(),
			Params: adminParams, Verifier: randomBytes(32),
			PublicKey: vault.NewKeyPair().Public(), WrappedKey: randomBytes(57),
		},
		UserTeamKey: randomBytes(72),
	}
}

// setUp creates the first team and admin and returns them as stored.
func setUp(t *testing.T, db *storage.DB) (reporting.Team, reporting.User) {
	t.Helper()
	ctx := t.Context()
	a := firstAdmin(putSetupToken(t, db))
	if err := db.CreateFirstAdmin(ctx, a); err != nil {
		t.Fatalf("CreateFirstAdmin: %v", err)
	}
	teams, err := db.Teams(ctx)
	if err != nil || len(teams) != 1 {
		t.Fatalf("Teams() = %v, %v; want one team", teams, err)
	}
	u, err := db.UserByName(ctx, a.User.Name)
	if err != nil {
		t.Fatalf("UserByName: %v", err)
	}
	return teams[0], u
}

// addTeam inserts another team directly: the store has no method for it
// yet, and the team filter needs a second team to filter out.
func addTeam(t *testing.T, db *storage.DB, name string) int64 {
	t.Helper()
	pub := vault.NewKeyPair().Public()
	res, err := db.WriteConn().ExecContext(t.Context(),
		`INSERT INTO teams (name, public_key, municipalities) VALUES (?, ?, ?)`, name, pub[:], "herne")
	if err != nil {
		t.Fatalf("insert team %s: %v", name, err)
	}
	id, _ := res.LastInsertId()
	return id
}

// newReport returns a report row with a unique ID and lookup hash.
func newReport(teamID int64, receivedOn string) *reporting.StoredReport {
	return &reporting.StoredReport{
		ID:          fmt.Sprintf("%x", randomBytes(16)),
		TeamID:      teamID,
		ReceivedOn:  receivedOn,
		LookupHash:  randomBytes(32),
		KDFParams:   vault.Params{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}.String(),
		SealedKey:   randomBytes(80),
		ReporterKey: randomBytes(72),
		Content:     randomBytes(200),
		Status:      reporting.StatusNew,
	}
}

// createReports stores n reports of a team, oldest first.
func createReports(t *testing.T, db *storage.DB, teamID int64, receivedOn string, n int) []*reporting.StoredReport {
	t.Helper()
	out := make([]*reporting.StoredReport, n)
	for i := range out {
		out[i] = newReport(teamID, receivedOn)
		if err := db.CreateReport(t.Context(), out[i]); err != nil {
			t.Fatalf("CreateReport: %v", err)
		}
	}
	return out
}

// wantCode fails unless err is an application error with the given code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := reporting.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

// appliedMigrations returns the names recorded in schema_migrations.
func appliedMigrations(t *testing.T, db *storage.DB) []string {
	t.Helper()
	rows, err := db.ReadConn().QueryContext(t.Context(), `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// migrationFiles lists the .sql files of migrations/ in the source tree,
// as the embed records them.
func migrationFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, "migrations/"+e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatal("no migration files found")
	}
	return names
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// ---- Open and migrations ----

// A fresh deployment gets a private data directory and database file
// (nobody else on the machine may see who reported when), and the full
// schema.
func TestOpenFromEmpty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	db := mustOpen(t, dir)

	if got := perm(t, dir); got != 0o700 {
		t.Errorf("data dir mode = %v, want 0700", got)
	}
	if got := perm(t, filepath.Join(dir, storage.FileName)); got != 0o600 {
		t.Errorf("db file mode = %v, want 0600", got)
	}
	if db.Path() != filepath.Join(dir, storage.FileName) {
		t.Errorf("Path() = %q", db.Path())
	}

	if got, want := appliedMigrations(t, db), migrationFiles(t); !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %q, want %q", got, want)
	}

	rows, err := db.ReadConn().QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	for _, want := range []string{"schema_migrations", "settings", "teams", "recovery_envelopes", "users",
		"user_team_keys", "sessions", "case_counters", "reports"} {
		if !slices.Contains(tables, want) {
			t.Errorf("table %s missing; have %q", want, tables)
		}
	}

	// The WAL inherits the file's mode: a write must not leave a readable
	// -wal file next to the private database.
	if err := db.PutSetting(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	wal := filepath.Join(dir, storage.FileName+"-wal")
	if got := perm(t, wal); got != 0o600 {
		t.Errorf("-wal mode = %v, want 0600", got)
	}
}

// A database file left with a permissive mode (copied in, restored from a
// backup) is made private again when opened.
func TestOpenTightensExistingFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, storage.FileName)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	mustOpen(t, dir)
	if got := perm(t, path); got != 0o600 {
		t.Errorf("db file mode = %v, want 0600", got)
	}
}

// Restarting the server keeps every report and setting and applies no
// migration twice (a second CREATE TABLE would refuse to start).
func TestReopenKeepsDataAndAppliesNothingTwice(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := mustOpen(t, dir)
	team, _ := setUp(t, db)
	if err := db.PutSetting(ctx, "receipt_salt", []byte("salt-1234")); err != nil {
		t.Fatal(err)
	}
	before := createReports(t, db, team.ID, "2026-05-20", 1)[0]
	migrationsBefore := appliedMigrations(t, db)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for range 2 {
		db = mustOpen(t, dir)
		if got := appliedMigrations(t, db); !slices.Equal(got, migrationsBefore) {
			t.Errorf("migrations after reopen = %q, want %q", got, migrationsBefore)
		}
		v, err := db.Setting(ctx, "receipt_salt")
		if err != nil || string(v) != "salt-1234" {
			t.Errorf("Setting after reopen = %q, %v", v, err)
		}
		got, err := db.Report(ctx, before.ID)
		if err != nil {
			t.Fatalf("Report after reopen: %v", err)
		}
		if got.CaseNo != before.CaseNo || !bytes.Equal(got.Content, before.Content) {
			t.Errorf("report after reopen = %+v, want %+v", got, before)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}

	// The case counter survives too: the next report does not reuse a number.
	db = mustOpen(t, dir)
	next := createReports(t, db, team.ID, "2026-05-21", 1)[0]
	if next.CaseNo != "2026-0002" {
		t.Errorf("case number after reopen = %s, want 2026-0002", next.CaseNo)
	}
}

// The durability and privacy settings are really in effect, not just
// written in the DSN: WAL, synchronous=FULL (a receipt is only shown for a
// report on disk), foreign keys, secure_delete (deleted content does not
// linger in free pages). Read connections refuse writes.
func TestPragmasInEffect(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	pragma := func(conn *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	tests := []struct {
		conn       string
		name, want string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "synchronous", "2"},
		{"write", "foreign_keys", "1"},
		{"write", "secure_delete", "1"},
		{"write", "busy_timeout", "5000"},
		{"write", "query_only", "0"},
		{"read", "journal_mode", "wal"},
		{"read", "foreign_keys", "1"},
		{"read", "query_only", "1"},
	}
	for _, tt := range tests {
		conn := db.WriteConn()
		if tt.conn == "read" {
			conn = db.ReadConn()
		}
		if got := pragma(conn, tt.name); got != tt.want {
			t.Errorf("%s connection: PRAGMA %s = %s, want %s", tt.conn, tt.name, got, tt.want)
		}
	}
	if _, err := db.ReadConn().ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('x', 'y')`); err == nil {
		t.Error("read pool accepted a write")
	}
}

// A report for a team that does not exist is refused rather than stored
// where no counsellor can ever read it (foreign keys enforced).
func TestCreateReportUnknownTeamRefused(t *testing.T) {
	db := openDB(t)
	setUp(t, db)
	if err := db.CreateReport(t.Context(), newReport(999, "2026-05-20")); err == nil {
		t.Fatal("CreateReport for team 999 succeeded")
	}
	if list, total, _ := db.Reports(t.Context(), []int64{999}, reporting.Page{Limit: 10}); total != 0 || len(list) != 0 {
		t.Errorf("report for unknown team stored: %d rows", total)
	}
}

// ---- reports ----

// Fifty people pressing "send" at once all get a receipt: no submission
// fails with "database is locked", every case number is unique and they
// run without gaps; counsellors reading meanwhile see no errors either.
func TestConcurrentSubmissions(t *testing.T) {
	const n = 50
	db := openDB(t)
	team, _ := setUp(t, db)
	ctx := t.Context()

	start := make(chan struct{})
	var writers, readers sync.WaitGroup
	errs := make(chan error, 2*n)
	reports := make([]*reporting.StoredReport, n)
	for i := range n {
		reports[i] = newReport(team.ID, "2026-05-20")
		writers.Go(func() {
			<-start
			if err := db.CreateReport(ctx, reports[i]); err != nil {
				errs <- fmt.Errorf("CreateReport %d: %w", i, err)
			}
		})
	}
	// Readers run until the last writer is done, each at least once.
	done := make(chan struct{})
	for range 8 {
		readers.Go(func() {
			<-start
			for {
				if _, _, err := db.Reports(ctx, []int64{team.ID}, reporting.Page{Limit: 20}); err != nil {
					errs <- fmt.Errorf("Reports: %w", err)
					return
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	close(start)
	writers.Wait()
	close(done)
	readers.Wait()
	close(errs)

	for err := range errs {
		if strings.Contains(err.Error(), "database is locked") || strings.Contains(err.Error(), "busy") {
			t.Errorf("lock error reached the caller: %v", err)
		} else {
			t.Errorf("unexpected error: %v", err)
		}
	}

	var got []string
	for _, r := range reports {
		got = append(got, r.CaseNo)
	}
	slices.Sort(got)
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, fmt.Sprintf("2026-%04d", i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("case numbers = %q, want 2026-0001..2026-%04d", got, n)
	}
	if _, total, err := db.Reports(ctx, []int64{team.ID}, reporting.Page{Limit: 1}); err != nil || total != n {
		t.Errorf("Reports total = %d, %v; want %d", total, err, n)
	}
}

// Case numbers count per year of arrival: the first report of 2027 is
// 2027-0001, and a late 2026 report continues 2026's sequence.
func TestCaseNumbersRestartPerYear(t *testing.T) {
	db := openDB(t)
	team, _ := setUp(t, db)
	tests := []struct{ receivedOn, want string }{
		{"2026-01-01", "2026-0001"},
		{"2026-12-31", "2026-0002"},
		{"2027-01-01", "2027-0001"},
		{"2027-06-15", "2027-0002"},
		{"2026-12-31", "2026-0003"},
		{"2028-02-29", "2028-0001"},
	}
	for _, tt := range tests {
		r := newReport(team.ID, tt.receivedOn)
		if err := db.CreateReport(t.Context(), r); err != nil {
			t.Fatalf("CreateReport(%s): %v", tt.receivedOn, err)
		}
		if r.CaseNo != tt.want {
			t.Errorf("report received %s: case %s, want %s", tt.receivedOn, r.CaseNo, tt.want)
		}
	}
}

// A second report with the same lookup hash (the same receipt) is refused
// instead of making one receipt open two reports, and it uses up no case
// number.
func TestCreateReportDuplicateLookupHash(t *testing.T) {
	db := openDB(t)
	team, _ := setUp(t, db)
	first := createReports(t, db, team.ID, "2026-05-20", 1)[0]
	dup := newReport(team.ID, "2026-05-20")
	dup.LookupHash = first.LookupHash
	if err := db.CreateReport(t.Context(), dup); err == nil {
		t.Fatal("duplicate lookup hash stored")
	}
	if dup.CaseNo != "" {
		t.Errorf("failed report got case number %s", dup.CaseNo)
	}
	if next := createReports(t, db, team.ID, "2026-05-20", 1)[0]; next.CaseNo != "2026-0002" {
		t.Errorf("next case number = %s, want 2026-0002 (the failed insert must roll back)", next.CaseNo)
	}
}

// A counsellor sees only their team's reports, page by page, newest first,
// with the right total; a missing report is "not found", not an error page.
func TestReportsPaginationAndTeams(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	teamA, _ := setUp(t, db)
	teamB := addTeam(t, db, "Herne")
	a := createReports(t, db, teamA.ID, "2026-05-20", 5)
	b := createReports(t, db, teamB, "2026-05-21", 2)
	a = append(a, createReports(t, db, teamA.ID, "2026-05-22", 1)...) // interleaved: newest of all

	ids := func(rs []reporting.StoredReport) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	newestFirst := func(rs []*reporting.StoredReport) []string {
		var out []string
		for _, r := range slices.Backward(rs) {
			out = append(out, r.ID)
		}
		return out
	}
	allA, allB := newestFirst(a), newestFirst(b)

	tests := []struct {
		name      string
		teams     []int64
		page      reporting.Page
		want      []string
		wantTotal int
	}{
		{"A first page", []int64{teamA.ID}, reporting.Page{Limit: 4}, allA[:4], 6},
		{"A second page", []int64{teamA.ID}, reporting.Page{Limit: 4, Offset: 4}, allA[4:], 6},
		{"A past the end", []int64{teamA.ID}, reporting.Page{Limit: 4, Offset: 8}, nil, 6},
		{"B only", []int64{teamB}, reporting.Page{Limit: 10}, allB, 2},
		{"both teams", []int64{teamA.ID, teamB}, reporting.Page{Limit: 3}, []string{allA[0], allB[0], allB[1]}, 8},
		{"unknown team", []int64{999}, reporting.Page{Limit: 10}, nil, 0},
		{"no teams", nil, reporting.Page{Limit: 10}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := db.Reports(ctx, tt.teams, tt.page)
			if err != nil {
				t.Fatalf("Reports: %v", err)
			}
			if total != tt.wantTotal {
				t.Errorf("total = %d, want %d", total, tt.wantTotal)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("ids = %q, want %q", ids(got), tt.want)
			}
			for _, r := range got {
				if !slices.Contains(tt.teams, r.TeamID) {
					t.Errorf("report %s of team %d listed for teams %v", r.ID, r.TeamID, tt.teams)
				}
			}
		})
	}

	// Report reads back exactly what was written, plus the team's name.
	want := *b[0]
	want.TeamName = "Herne"
	got, err := db.Report(ctx, b[0].ID)
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Report = %+v\nwant     %+v", got, want)
	}
	if got.CaseNo != "2026-0006" {
		t.Errorf("case number = %s, want 2026-0006", got.CaseNo)
	}

	_, err = db.Report(ctx, "00000000-0000-4000-8000-000000000000")
	wantCode(t, err, reporting.ENotFound)
}

// ---- settings ----

// Two processes starting at once agree on one receipt salt: the first
// value stored wins and is returned to both.
func TestPutSettingOnce(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	_, err := db.Setting(ctx, "receipt_salt")
	wantCode(t, err, reporting.ENotFound)

	first, err := db.PutSettingOnce(ctx, "receipt_salt", []byte("first"))
	if err != nil || string(first) != "first" {
		t.Fatalf("PutSettingOnce = %q, %v", first, err)
	}
	second, err := db.PutSettingOnce(ctx, "receipt_salt", []byte("second"))
	if err != nil || string(second) != "first" {
		t.Errorf("second PutSettingOnce = %q, %v; want the first value", second, err)
	}
	if err := db.PutSetting(ctx, "receipt_salt", []byte("replaced")); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Setting(ctx, "receipt_salt"); err != nil || string(v) != "replaced" {
		t.Errorf("Setting after PutSetting = %q, %v", v, err)
	}
}

// ---- accounts ----

// The setup link works once, only with the right token, and the first
// admin's argon2id parameters are read back from storage exactly as
// stored (so raising the defaults later never locks anyone out).
func TestCreateFirstAdmin(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	token := putSetupToken(t, db)

	wrong := firstAdmin(vault.NewToken())
	wantCode(t, db.CreateFirstAdmin(ctx, wrong), reporting.ENotFound)
	if n, err := db.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers after wrong token = %d, %v; want 0", n, err)
	}
	if teams, _ := db.Teams(ctx); len(teams) != 0 {
		t.Fatalf("wrong token created teams: %v", teams)
	}

	a := firstAdmin(token)
	if err := db.CreateFirstAdmin(ctx, a); err != nil {
		t.Fatalf("CreateFirstAdmin with the right token: %v", err)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}

	// Consumed: the same link does nothing a second time.
	again := firstAdmin(token)
	again.User.Name = "intruder"
	wantCode(t, db.CreateFirstAdmin(ctx, again), reporting.ENotFound)
	_, err := db.Setting(ctx, "setup_token")
	wantCode(t, err, reporting.ENotFound)
	// And a fresh token cannot create a second first admin.
	again.SetupTokenHash = vault.HashToken(putSetupToken(t, db))
	wantCode(t, db.CreateFirstAdmin(ctx, again), reporting.EConflict)

	if got, err := db.Setting(ctx, "recovery_public_key"); err != nil || !bytes.Equal(got, a.RecoveryPublicKey[:]) {
		t.Errorf("recovery public key = %x, %v; want %x", got, err, a.RecoveryPublicKey[:])
	}
	u, err := db.UserByName(ctx, "admin")
	if err != nil {
		t.Fatalf("UserByName: %v", err)
	}
	if u.Params != adminParams {
		t.Errorf("Params = %+v, want %+v", u.Params, adminParams)
	}
	if u.Name != a.User.Name || u.Role != reporting.RoleAdmin || u.Disabled ||
		!bytes.Equal(u.Salt, a.User.Salt) || !bytes.Equal(u.Verifier, a.User.Verifier) ||
		u.PublicKey != a.User.PublicKey || !bytes.Equal(u.WrappedKey, a.User.WrappedKey) {
		t.Errorf("user = %+v, want %+v", u, a.User)
	}
	byID, err := db.User(ctx, u.ID)
	if err != nil || fmt.Sprint(byID) != fmt.Sprint(u) {
		t.Errorf("User(%d) = %+v, %v; want %+v", u.ID, byID, err, u)
	}
	_, err = db.UserByName(ctx, "intruder")
	wantCode(t, err, reporting.ENotFound)
	_, err = db.User(ctx, u.ID+1)
	wantCode(t, err, reporting.ENotFound)

	teams, err := db.Teams(ctx)
	if err != nil || len(teams) != 1 {
		t.Fatalf("Teams = %v, %v", teams, err)
	}
	team := teams[0]
	if team.Name != "Bochum" || team.PublicKey != a.Team.PublicKey || !slices.Equal(team.Municipalities, reporting.Municipalities) {
		t.Errorf("team = %+v, want %+v", team, a.Team)
	}

	for name, tc := range map[string]struct {
		get  func() ([]reporting.WrappedTeamKey, error)
		want []byte
	}{
		"UserTeamKeys": {func() ([]reporting.WrappedTeamKey, error) { return db.UserTeamKeys(ctx, u.ID) }, a.UserTeamKey},
		"RecoveryKeys": {func() ([]reporting.WrappedTeamKey, error) { return db.RecoveryKeys(ctx) }, a.RecoveryKey},
	} {
		keys, err := tc.get()
		if err != nil || len(keys) != 1 {
			t.Errorf("%s = %v, %v; want one key", name, keys, err)
			continue
		}
		if k := keys[0]; k.TeamID != team.ID || k.PublicKey != team.PublicKey || !bytes.Equal(k.Wrapped, tc.want) {
			t.Errorf("%s = %+v, want team %d with the stored envelope", name, k, team.ID)
		}
	}
}

// ---- sessions ----

// Office sessions can be created, kept alive, ended one by one, and
// cleared wholesale (at start-up, when their keys died with the old
// process).
func TestSessions(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	_, u := setUp(t, db)
	t0 := time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC)

	newSession := func() []byte {
		h := vault.HashToken(vault.NewToken())
		if err := db.CreateSession(ctx, reporting.Session{TokenHash: h, UserID: u.ID, Created: t0, LastSeen: t0}); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		return h
	}
	alive := func(h []byte, at time.Time) bool {
		t.Helper()
		err := db.TouchSession(ctx, h, at)
		if err != nil && reporting.ErrorCode(err) != reporting.EUnauthorized {
			t.Fatalf("TouchSession: unexpected error %v", err)
		}
		return err == nil
	}

	busy, idle, ended := newSession(), newSession(), newSession()
	if !alive(busy, t0.Add(time.Hour)) {
		t.Fatal("TouchSession on a new session failed")
	}
	if err := db.DeleteSession(ctx, ended); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if alive(ended, t0) {
		t.Error("deleted session still touchable")
	}
	if err := db.DeleteSession(ctx, ended); err != nil {
		t.Errorf("deleting a deleted session: %v", err)
	}

	// Clear what was last seen before t0+30min: the idle session goes, the
	// busy one (touched at t0+1h) stays: last_seen counts, not created.
	if err := db.DeleteSessionsBefore(ctx, t0.Add(30*time.Minute)); err != nil {
		t.Fatalf("DeleteSessionsBefore: %v", err)
	}
	if alive(idle, t0.Add(time.Hour)) {
		t.Error("idle session survived DeleteSessionsBefore")
	}
	if !alive(busy, t0.Add(time.Hour)) {
		t.Error("busy session was deleted")
	}

	// At start-up every session goes.
	if err := db.DeleteSessionsBefore(ctx, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if alive(busy, t0.Add(24*time.Hour)) {
		t.Error("session survived the start-up clear")
	}

	// A session must belong to a user.
	err := db.CreateSession(ctx, reporting.Session{TokenHash: vault.HashToken("x"), UserID: u.ID + 100, Created: t0, LastSeen: t0})
	if err == nil {
		t.Error("session for an unknown user stored")
	}
}

// ---- crash safety ----

// A report is committed to the files the moment CreateReport returns: the
// files as a kill -9 would leave them (copied while the database is still
// open, never closed or checkpointed) open elsewhere with the report in
// them. (That the commit is also fsynced is synchronous=FULL, checked in
// TestPragmasInEffect; a power cut cannot be simulated here.)
func TestCommittedReportSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	team, _ := setUp(t, db)
	r := newReport(team.ID, "2026-11-24")
	if err := db.CreateReport(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	crashed := t.TempDir()
	for _, name := range []string{storage.FileName, storage.FileName + "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(crashed, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	after := mustOpen(t, crashed)
	got, err := after.Report(t.Context(), r.ID)
	if err != nil {
		t.Fatalf("the acknowledged report is gone after the crash: %v", err)
	}
	if got.CaseNo != r.CaseNo || !bytes.Equal(got.Content, r.Content) {
		t.Errorf("after the crash: case %s, content intact %v; want %s", got.CaseNo, bytes.Equal(got.Content, r.Content), r.CaseNo)
	}
}
