package reporting_test

import (
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// ---- helpers (revocation) ----

// dbCopy takes a consistent copy of the test database, as a backup or a
// stolen file would be, and opens it read-only for the attacker.
func dbCopy(t *testing.T, e *env, name string) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".db")
	if _, err := accDB(t, e).ExecContext(t.Context(), fmt.Sprintf("VACUUM INTO '%s'", path)); err != nil {
		t.Fatalf("copy database: %v", err)
	}
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// copyBlobs reads one or two BLOB columns of every row of a query.
func copyBlobs(t *testing.T, db *sql.DB, query string) [][2][]byte {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][2][]byte
	for rows.Next() {
		var r [2][]byte
		dest := []any{&r[0], &r[1]}[:len(cols)]
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// copyUser reads a user's row from a database copy, with what the
// password unlocks: their own key pair.
func copyUser(t *testing.T, e *env, db *sql.DB, name, password string) *vault.KeyPair {
	t.Helper()
	var u reporting.User
	var pub []byte
	var params string
	err := db.QueryRowContext(t.Context(), `SELECT salt, kdf_params, public_key, private_key_wrapped FROM users WHERE name = ?`, name).
		Scan(&u.Salt, &params, &pub, &u.WrappedKey)
	if err != nil {
		t.Fatalf("user %s in the copy: %v", name, err)
	}
	u.Name, u.PublicKey = name, vault.PublicKey(pub)
	if u.Params, err = vault.ParseParams(params); err != nil {
		t.Fatal(err)
	}
	return e.userKeyPair(t, u, password)
}

// attack plays someone holding a database copy and some private keys (a
// former member's own key pair, the team keys they once held, an
// invitation's provisional pair): every sealed envelope in the copy (a
// member's team key, a recovery envelope, a previous key of a chain) is
// tried with every key held, under every AD the code could have used,
// until nothing new opens. It returns every key pair gained.
func attack(t *testing.T, db *sql.DB, held ...*vault.KeyPair) []*vault.KeyPair {
	t.Helper()
	var pubs []vault.PublicKey
	for _, q := range []string{`SELECT public_key FROM teams`, `SELECT public_key FROM users`,
		`SELECT public_key FROM team_previous_keys`, `SELECT successor_key FROM team_previous_keys`} {
		for _, r := range copyBlobs(t, db, q) {
			if p := vault.PublicKey(r[0]); !slices.Contains(pubs, p) {
				pubs = append(pubs, p)
			}
		}
	}
	holders := []string{"recovery"}
	for _, r := range copyBlobs(t, db, `SELECT salt FROM users`) {
		holders = append(holders, "user:"+hex.EncodeToString(r[0]))
	}
	for _, p := range pubs {
		holders = append(holders, fmt.Sprintf("successor:%x", p[:]))
	}
	var sealed [][]byte
	for _, q := range []string{`SELECT wrapped FROM user_team_keys`, `SELECT wrapped FROM recovery_envelopes`, `SELECT wrapped FROM team_previous_keys`} {
		for _, r := range copyBlobs(t, db, q) {
			sealed = append(sealed, r[0])
		}
	}
	keys := slices.Clone(held)
	for grew := true; grew; {
		grew = false
		for _, ct := range sealed {
			for _, k := range keys {
				for _, pub := range pubs {
					if slices.ContainsFunc(keys, func(h *vault.KeyPair) bool { return h.Public() == pub }) {
						continue
					}
					for _, h := range holders {
						if kp, err := k.OpenKeyPair(ct, pub, vault.TeamKeyAD(h, pub)); err == nil {
							keys, grew = append(keys, kp), true
						}
					}
				}
			}
		}
	}
	return keys
}

// opensReport reports whether any of the keys opens a report's data key
// in the database copy.
func opensReport(t *testing.T, db *sql.DB, id string, keys []*vault.KeyPair) bool {
	t.Helper()
	var sealedKey []byte
	if err := db.QueryRowContext(t.Context(), `SELECT sealed_key FROM reports WHERE id = ?`, id).Scan(&sealedKey); err != nil {
		t.Fatalf("report %s in the copy: %v", id, err)
	}
	return slices.ContainsFunc(keys, func(k *vault.KeyPair) bool {
		_, err := k.OpenKey(sealedKey, sealedKeyAD(id))
		return err == nil
	})
}

// reads fails unless the session lists and opens every one of the cases.
func reads(t *testing.T, e *env, who string, s *reporting.OfficeSession, ids ...string) {
	t.Helper()
	listed := e.caseIDs(t, s)
	for _, id := range ids {
		if !slices.Contains(listed, id) {
			t.Errorf("%s's case list lacks %s", who, id)
		}
		if _, err := e.cases.Case(t.Context(), s, id); err != nil {
			t.Errorf("%s cannot open case %s: %v", who, id, err)
		}
	}
}

// teamKeyOf returns a team's current private key as a member's session
// holds it.
func teamKeyOf(t *testing.T, s *reporting.OfficeSession, teamID int64) *vault.KeyPair {
	t.Helper()
	kp, ok := s.Keys.Team(teamID)
	if !ok {
		t.Fatalf("the session holds no key of team %d", teamID)
	}
	return kp
}

// ---- removal ----

// A member removed from a team, with their password, the team key they
// held and a copy of the database taken afterwards, cannot open a report
// filed after the removal: the team's key was rotated. Remaining members
// (in their live sessions and after logging in again), a new admin made
// with the recovery key, and a second rotation later all still read the
// reports from before and after.
func TestRevokeRemovedMemberCannotReadLaterReports(t *testing.T) {
	e := newEnv(t)
	recoveryKey := e.setUp(t)
	_, admin := e.login(t)
	ctx := t.Context()
	teamA := e.team(t, "PLANB Ruhr")
	alice := e.addTeamUser(t, "alice", reporting.RoleCounsellor, false)
	carol := e.addTeamUser(t, "carol", reporting.RoleCounsellor, false)
	e.addMember(t, admin, teamA.ID, alice.ID)
	e.addMember(t, admin, teamA.ID, carol.ID)
	in := e.intake(t)
	before := e.submitIn(t, in, "bochum", "vor dem Austritt")
	sa, sc := e.loginMember(t, "alice"), e.loginMember(t, "carol")
	// What alice could keep: the team key her session held.
	oldKey := teamKeyOf(t, sa, teamA.ID).Copy()

	if err := e.teams.RemoveTeamMember(ctx, admin, teamA.ID, alice.ID); err != nil {
		t.Fatalf("RemoveTeamMember: %v", err)
	}
	if got := e.team(t, "PLANB Ruhr"); got.PublicKey == teamA.PublicKey {
		t.Fatal("the team's public key did not change on removal")
	}
	if _, held := sa.Keys.Team(teamA.ID); held {
		t.Error("alice's live session still holds the team key")
	}
	if !slices.ContainsFunc(e.auditDetails(t, reporting.AuditTeamMember), func(d string) bool {
		return d == fmt.Sprintf("remove user:alice team:%d rotated", teamA.ID)
	}) {
		t.Errorf("no audit entry for the rotation: %q", e.auditDetails(t, reporting.AuditTeamMember))
	}
	after := e.submitIn(t, in, "bochum", "nach dem Austritt")

	stolen := dbCopy(t, e, "after-removal")
	keys := attack(t, stolen, copyUser(t, e, stolen, "alice", memberPassword), oldKey)
	// The attack works on what she was allowed to read: the old key
	// opens the earlier report in the copy.
	if !opensReport(t, stolen, before, keys) {
		t.Fatal("the attacker's keys do not open the report from before the removal: the attack is broken")
	}
	if opensReport(t, stolen, after, keys) {
		t.Fatal("a removed member with a later database copy opens a report filed after the removal")
	}

	// Remaining members: live sessions got the new key, new logins walk
	// the chain; the recovery key reaches both too.
	reads(t, e, "carol (live session)", sc, before, after)
	reads(t, e, "admin (live session)", admin, before, after)
	reads(t, e, "carol (new login)", e.loginMember(t, "carol"), before, after)
	if _, err := e.accounts.Recover(ctx, recoveryKey, "rita", "ein neues langes Passwort"); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	_, rita := accLogin(t, e, "rita", "ein neues langes Passwort")
	reads(t, e, "a recovered admin", rita, before, after)

	// A second rotation chains behind the first: a fresh login still
	// opens the report from before both.
	if err := e.teams.RemoveTeamMember(ctx, admin, teamA.ID, carol.ID); err != nil {
		t.Fatalf("RemoveTeamMember(carol): %v", err)
	}
	after2 := e.submitIn(t, in, "bochum", "nach dem zweiten Austritt")
	_, fresh := e.login(t)
	reads(t, e, "admin (new login, two rotations)", fresh, before, after, after2)
	if _, err := e.cases.Case(ctx, sc, after2); err == nil {
		t.Error("carol's live session opens a case filed after her removal")
	}
}

// A member cannot be removed by an admin whose session lacks the team's
// key: the old key could not be chained under the new one.
func TestRevokeNeedsTeamKey(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, admin := e.login(t)
	teamA := e.team(t, "PLANB Ruhr")
	alice := e.addTeamUser(t, "alice", reporting.RoleCounsellor, false)
	e.addMember(t, admin, teamA.ID, alice.ID)
	e.addTeamUser(t, "other", reporting.RoleAdmin, false)
	other := e.loginMember(t, "other")
	err := e.teams.RemoveTeamMember(t.Context(), other, teamA.ID, alice.ID)
	wantCode(t, err, reporting.EConflict)
	if got := e.team(t, "PLANB Ruhr"); got.PublicKey != teamA.PublicKey {
		t.Error("a refused removal changed the team key")
	}
}

// ---- disabling ----

// Disabling a user takes every team key from them: with their password
// and a later copy of the database they open no report filed after it,
// in any of their teams. Enabling them again gives back nothing, while
// the remaining members read everything.
func TestRevokeDisabledUserCannotReadLaterReports(t *testing.T) {
	e := newEnv(t)
	admin, a, b, alice, _ := twoTeams(t, e)
	ctx := t.Context()
	e.addMember(t, admin, b.ID, alice.ID)
	in := e.intake(t)
	beforeA, beforeB := e.submitIn(t, in, "bochum", "A vorher"), e.submitIn(t, in, "herne", "B vorher")
	sa := e.loginMember(t, "alice")
	oldA, oldB := teamKeyOf(t, sa, a.ID).Copy(), teamKeyOf(t, sa, b.ID).Copy()
	sb := e.loginMember(t, "bob")

	if err := e.accounts.SetDisabled(ctx, admin, alice.ID, true); err != nil {
		t.Fatalf("SetDisabled: %v", err)
	}
	if len(sa.Keys.Teams()) != 0 {
		t.Error("the disabled user's session still holds team keys")
	}
	afterA, afterB := e.submitIn(t, in, "bochum", "A nachher"), e.submitIn(t, in, "herne", "B nachher")

	stolen := dbCopy(t, e, "after-disable")
	keys := attack(t, stolen, copyUser(t, e, stolen, "alice", memberPassword), oldA, oldB)
	if !opensReport(t, stolen, beforeA, keys) || !opensReport(t, stolen, beforeB, keys) {
		t.Fatal("the attacker's keys do not open the reports from before: the attack is broken")
	}
	for _, id := range []string{afterA, afterB} {
		if opensReport(t, stolen, id, keys) {
			t.Errorf("a disabled user with a later database copy opens report %s filed after", id)
		}
	}
	reads(t, e, "bob (live session)", sb, beforeB, afterB)
	reads(t, e, "admin", admin, beforeA, afterA, beforeB, afterB)

	if err := e.accounts.SetDisabled(ctx, admin, alice.ID, false); err != nil {
		t.Fatalf("enable: %v", err)
	}
	if s := e.loginMember(t, "alice"); len(s.Keys.Teams()) != 0 {
		t.Errorf("enabled again, alice holds the keys of teams %v without being added", s.Keys.Teams())
	}
}

// ---- invitations ----

// An invitation link together with a copy of the database taken before
// the invitee accepted opens nothing the user receives after accepting:
// acceptance gives them a fresh key pair, and a team key given later is
// sealed to that one.
func TestRevokeInvitationLinkOpensNothingLater(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, admin := e.login(t)
	ctx := t.Context()
	teamA := e.team(t, "PLANB Ruhr")
	token := accInvite(t, e, admin, "dora", reporting.RoleCounsellor, teamA.ID)
	early := dbCopy(t, e, "before-accept")

	// The attacker's start: the link's token and the early copy give
	// the provisional key pair.
	var salt, pub, wrapped []byte
	err := early.QueryRowContext(ctx, `SELECT u.salt, u.public_key, i.private_key_wrapped FROM users u JOIN invitations i ON i.user_id = u.id WHERE u.name = 'dora'`).
		Scan(&salt, &pub, &wrapped)
	if err != nil {
		t.Fatal(err)
	}
	provisional, err := vault.InvitationKey(token, salt).UnwrapKeyPair(wrapped, vault.PublicKey(pub), vault.InvitationAD("user:"+hex.EncodeToString(salt)))
	if err != nil {
		t.Fatalf("the token does not open the invitation in the copy: the attack is broken: %v", err)
	}

	password := "doras langes Passwort"
	if err := e.accounts.AcceptInvitation(ctx, reporting.AcceptForm{Token: token, Password: password, Confirm: password}); err != nil {
		t.Fatalf("AcceptInvitation: %v", err)
	}
	dora, err := e.db.UserByName(ctx, "dora")
	if err != nil {
		t.Fatal(err)
	}
	if dora.PublicKey == provisional.Public() {
		t.Fatal("accepting kept the invitation's key pair")
	}
	herne := e.createTeam(t, admin, "Herne", "herne")
	e.addMember(t, admin, herne, dora.ID)
	later := e.submitIn(t, e.intake(t), "herne", "nach der Annahme")

	reads(t, e, "dora", accLoginS(t, e, "dora", password), later)
	stolen := dbCopy(t, e, "after-accept")
	if keys := attack(t, stolen, provisional); opensReport(t, stolen, later, keys) {
		t.Fatal("the invitation link and an early database copy open a report of a team given after acceptance")
	}
	// Nor does a rotation reach the provisional pair: dora's copies are
	// all sealed to her own key now.
	if keys := attack(t, stolen, provisional); len(keys) != 1 {
		t.Errorf("the provisional pair opens %d envelopes in a copy taken after acceptance, want none", len(keys)-1)
	}
}

func accLoginS(t *testing.T, e *env, name, password string) *reporting.OfficeSession {
	t.Helper()
	_, s := accLogin(t, e, name, password)
	return s
}

// Expired invitations vanish on the reaper's timer, with the team key
// copies sealed to their provisional key pair, without an admin opening
// the users page; a live invitation stays.
func TestRevokeReaperDeletesExpiredInvitations(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, admin := e.login(t)
	ctx := t.Context()
	teamA := e.team(t, "PLANB Ruhr")
	accInvite(t, e, admin, "erik", reporting.RoleCounsellor, teamA.ID)
	e.clock.Advance(reporting.InvitationLifetime - time.Hour)
	_, admin = e.login(t)
	liveToken := accInvite(t, e, admin, "fatma", reporting.RoleCounsellor, teamA.ID)
	e.clock.Advance(time.Hour + time.Second)

	if _, _, err := reporting.NewReaper(e.office, e.accounts, nil, nil).Reap(ctx); err != nil {
		t.Fatalf("Reap: %v", err)
	}
	conn := accDB(t, e)
	count := func(q string) int {
		var n int
		if err := conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.name = 'erik'`); n != 0 {
		t.Error("the expired invitation is still stored after the reaper ran")
	}
	if n := count(`SELECT count(*) FROM user_team_keys k JOIN users u ON u.id = k.user_id WHERE u.name = 'erik'`); n != 0 {
		t.Error("the expired invitee still holds a team key copy")
	}
	if _, err := e.accounts.Invitation(ctx, liveToken); err != nil {
		t.Errorf("the live invitation went too: %v", err)
	}
	erik, err := e.db.UserByName(ctx, "erik")
	if err != nil {
		t.Fatal(err)
	}
	// Nor can the expired invitee be given a key any more.
	if err := e.teams.AddTeamMember(ctx, admin, teamA.ID, erik.ID); err == nil {
		t.Error("a team key was sealed to an expired invitation's provisional key")
	}
}

// Making a member a statistician takes their team keys like disabling
// does: the team's key is rotated, and their password with a later
// database copy opens no report filed after it.
func TestRevokeStatisticianLosesLaterReports(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, admin := e.login(t)
	teamA := e.team(t, "PLANB Ruhr")
	alice := e.addTeamUser(t, "alice", reporting.RoleCounsellor, false)
	e.addMember(t, admin, teamA.ID, alice.ID)
	oldKey := teamKeyOf(t, e.loginMember(t, "alice"), teamA.ID).Copy()
	if err := e.accounts.SetRole(t.Context(), admin, alice.ID, reporting.RoleStatistician); err != nil {
		t.Fatalf("SetRole: %v", err)
	}
	if got := e.team(t, "PLANB Ruhr"); got.PublicKey == teamA.PublicKey {
		t.Fatal("the team's key was not rotated when its member became a statistician")
	}
	after := e.submitIn(t, e.intake(t), "bochum", "danach")
	stolen := dbCopy(t, e, "after-role")
	if opensReport(t, stolen, after, attack(t, stolen, copyUser(t, e, stolen, "alice", memberPassword), oldKey)) {
		t.Fatal("a member made statistician opens a later report with a database copy")
	}
	reads(t, e, "admin", admin, after)
}
