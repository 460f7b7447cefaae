package storage_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// accT0 is the tests' "now" for invitations and locks.
var accT0 = time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC)

// accUser builds a user as Office.Invite (pending: empty verifier and
// wrapped key) or Office.Setup would.
func accUser(name, role string, pending bool) reporting.User {
	u := reporting.User{Name: name, Role: role, Salt: vault.NewSalt(), Params: adminParams,
		Verifier: randomBytes(32), PublicKey: vault.NewKeyPair().Public(), WrappedKey: randomBytes(57)}
	if pending {
		u.Verifier, u.WrappedKey = []byte{}, []byte{}
	}
	return u
}

// accCreate stores a user with keys for the given teams and, if inv is
// set, an invitation; it returns the user's ID.
func accCreate(t *testing.T, db *storage.DB, u reporting.User, inv *reporting.Invitation, teams ...int64) int64 {
	t.Helper()
	var keys []reporting.WrappedTeamKey
	for _, id := range teams {
		keys = append(keys, reporting.WrappedTeamKey{TeamID: id, Wrapped: randomBytes(72)})
	}
	id, err := db.CreateUser(t.Context(), u, keys, inv)
	if err != nil {
		t.Fatalf("CreateUser %s: %v", u.Name, err)
	}
	return id
}

// accSession stores a session for a user and returns its token hash.
func accSession(t *testing.T, db *storage.DB, userID int64) []byte {
	t.Helper()
	h := vault.HashToken(vault.NewToken())
	if err := db.CreateSession(t.Context(), reporting.Session{TokenHash: h, UserID: userID, Created: accT0, LastSeen: accT0}); err != nil {
		t.Fatal(err)
	}
	return h
}

func accAlive(t *testing.T, db *storage.DB, hash []byte) bool {
	t.Helper()
	err := db.TouchSession(t.Context(), hash, accT0)
	if err != nil && reporting.ErrorCode(err) != reporting.EUnauthorized {
		t.Fatal(err)
	}
	return err == nil
}

// The accounts migration adds the throttling columns and the invitations
// table, and existing users start unlocked.
func TestAccountsMigration(t *testing.T) {
	db := openDB(t)
	_, admin := setUp(t, db)
	st, err := db.LoginState(t.Context(), reporting.LoginBucket{UserID: admin.ID})
	if err != nil || st.Failures != 0 || !st.LockedUntil.IsZero() {
		t.Errorf("LoginState of the first admin = %+v, %v", st, err)
	}
	if !slices.Contains(appliedMigrations(t, db), "migrations/0003_accounts.sql") {
		t.Error("0003_accounts.sql not applied")
	}
}

// An invited user is stored with their team keys and the invitation in
// one go; the invitation is found by its token hash until it expires;
// accepting sets the credentials and deletes the invitation, once.
func TestAccountsInvitationStore(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	team, admin := setUp(t, db)
	hash := vault.HashToken(vault.NewToken())
	wrapped := randomBytes(72)
	inv := &reporting.Invitation{TokenHash: hash, WrappedKey: wrapped, Expires: accT0.Add(72 * time.Hour), CreatedBy: admin.ID}
	id := accCreate(t, db, accUser("berta", reporting.RoleCounsellor, true), inv, team.ID)

	got, err := db.Invitation(ctx, hash, accT0)
	if err != nil || got.UserID != id || !bytes.Equal(got.WrappedKey, wrapped) || !got.Expires.Equal(inv.Expires) || got.CreatedBy != admin.ID {
		t.Fatalf("Invitation = %+v, %v", got, err)
	}
	if keys, err := db.UserTeamKeys(ctx, id); err != nil || len(keys) != 1 || keys[0].TeamID != team.ID {
		t.Errorf("UserTeamKeys = %v, %v", keys, err)
	}
	u, err := db.User(ctx, id)
	if err != nil || len(u.Verifier) != 0 || len(u.WrappedKey) != 0 {
		t.Fatalf("pending user = %+v, %v; want empty verifier and key", u, err)
	}
	_, err = db.Invitation(ctx, hash, accT0.Add(72*time.Hour))
	wantCode(t, err, reporting.ENotFound)
	_, err = db.Invitation(ctx, vault.HashToken("other"), accT0)
	wantCode(t, err, reporting.ENotFound)
	accept := func(at time.Time, params vault.Params, verifier, key []byte, keys []reporting.WrappedTeamKey) error {
		return db.AcceptInvitation(ctx, reporting.Acceptance{TokenHash: hash, Now: at, Params: params, Verifier: verifier,
			WrappedKey: key, PublicKey: vault.NewKeyPair().Public(), MAC: randomBytes(32), Keys: keys})
	}
	newCopy := []reporting.WrappedTeamKey{{TeamID: team.ID, PublicKey: team.PublicKey, Wrapped: randomBytes(72)}}
	wantCode(t, accept(accT0.Add(72*time.Hour), adminParams, randomBytes(32), randomBytes(57), newCopy), reporting.ENotFound)
	// Every provisional copy must be replaced, or the link would still
	// open it: accepting without it is refused and changes nothing.
	wantCode(t, accept(accT0.Add(time.Hour), adminParams, randomBytes(32), randomBytes(57), nil), reporting.EConflict)
	if u, _ := db.User(ctx, id); len(u.Verifier) != 0 {
		t.Fatal("a refused accept set the password")
	}

	verifier, key := randomBytes(32), randomBytes(57)
	params := vault.Params{Time: 2, MemoryKiB: 9 * 1024, Threads: 1}
	if err := accept(accT0.Add(time.Hour), params, verifier, key, newCopy); err != nil {
		t.Fatalf("AcceptInvitation: %v", err)
	}
	u, _ = db.User(ctx, id)
	if !bytes.Equal(u.Verifier, verifier) || !bytes.Equal(u.WrappedKey, key) || u.Params != params {
		t.Errorf("after accepting: %+v", u)
	}
	if keys, _ := db.UserTeamKeys(ctx, id); len(keys) != 1 || !bytes.Equal(keys[0].Wrapped, newCopy[0].Wrapped) {
		t.Errorf("team key copies after accepting = %v, want the new one", keys)
	}
	wantCode(t, accept(accT0.Add(time.Hour), params, randomBytes(32), randomBytes(57), newCopy), reporting.ENotFound)
	if u2, _ := db.User(ctx, id); !bytes.Equal(u2.Verifier, verifier) {
		t.Error("a second accept overwrote the password")
	}

	// Names are unique; a refused user leaves nothing behind.
	_, err = db.CreateUser(ctx, accUser("berta", reporting.RoleAdmin, false), []reporting.WrappedTeamKey{{TeamID: team.ID, Wrapped: randomBytes(72)}}, nil)
	wantCode(t, err, reporting.EConflict)
	// Keys for a team that does not exist roll the whole user back.
	_, err = db.CreateUser(ctx, accUser("carla", reporting.RoleCounsellor, false), []reporting.WrappedTeamKey{{TeamID: team.ID + 99, Wrapped: randomBytes(72)}}, nil)
	if err == nil {
		t.Error("keys for an unknown team stored")
	}
	if _, err := db.UserByName(ctx, "carla"); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("half-created user left: %v", err)
	}
}

// Expired invitations are deleted; withdrawing deletes a user who never
// accepted, with their keys, and nobody else.
func TestAccountsWithdrawAndExpire(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	team, admin := setUp(t, db)
	old := vault.HashToken("old")
	fresh := vault.HashToken("fresh")
	oldID := accCreate(t, db, accUser("old", reporting.RoleCounsellor, true), &reporting.Invitation{TokenHash: old, WrappedKey: randomBytes(72), Expires: accT0}, team.ID)
	accCreate(t, db, accUser("fresh", reporting.RoleCounsellor, true), &reporting.Invitation{TokenHash: fresh, WrappedKey: randomBytes(72), Expires: accT0.Add(time.Hour)})

	if err := db.DeleteExpiredInvitations(ctx, accT0); err != nil {
		t.Fatal(err)
	}
	rows, err := db.UserRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		switch r.Name {
		case "old":
			if !r.Pending || !r.Expires.IsZero() {
				t.Errorf("expired invitation still there: %+v", r)
			}
		case "fresh":
			if !r.Pending || !r.Expires.Equal(accT0.Add(time.Hour)) {
				t.Errorf("fresh invitation: %+v", r)
			}
		}
	}

	wantCode(t, db.WithdrawInvitation(ctx, admin.ID), reporting.ENotFound)
	if err := db.WithdrawInvitation(ctx, oldID); err != nil {
		t.Fatalf("WithdrawInvitation: %v", err)
	}
	if _, err := db.User(ctx, oldID); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("withdrawn user still there: %v", err)
	}
	if keys, _ := db.UserTeamKeys(ctx, oldID); len(keys) != 0 {
		t.Error("withdrawn user's team keys still there")
	}
	if _, err := db.User(ctx, admin.ID); err != nil {
		t.Errorf("the admin went too: %v", err)
	}
}

// UserRows lists everyone by name with teams, state flags and last login.
func TestAccountsUserRows(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	team, admin := setUp(t, db)
	herne := addTeam(t, db, "Herne")
	b := accCreate(t, db, accUser("Berta", reporting.RoleCounsellor, false), nil, herne, team.ID)
	accCreate(t, db, accUser("carla", reporting.RoleStatistician, false), nil)
	if err := db.RecordLogin(ctx, b, "2026-05-19"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserDisabled(ctx, b, true); err != nil {
		t.Fatal(err)
	}
	rows, err := db.UserRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join([]string{r.Name, r.Role, strings.Join(r.Teams, "+"), r.LastLogin}, " "))
		if (r.Name == "Berta") != r.Disabled || r.Pending {
			t.Errorf("%s: disabled %v, pending %v", r.Name, r.Disabled, r.Pending)
		}
	}
	want := []string{admin.Name + " admin Bochum ", "Berta counsellor Bochum+Herne 2026-05-19", "carla statistician  "}
	if !slices.Equal(got, want) {
		t.Errorf("UserRows = %q, want %q", got, want)
	}
}

// Disabling deletes the user's sessions in the same transaction, and the
// last active admin can be neither disabled nor demoted — invited or
// disabled admins do not count as active.
func TestAccountsKeepAnAdmin(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	team, admin := setUp(t, db)
	accCreate(t, db, accUser("invited-admin", reporting.RoleAdmin, true), &reporting.Invitation{TokenHash: randomBytes(32), WrappedKey: randomBytes(72), Expires: accT0.Add(time.Hour)})

	wantCode(t, db.SetUserDisabled(ctx, admin.ID, true), reporting.EConflict)
	wantCode(t, db.SetUserRole(ctx, admin.ID, reporting.RoleCounsellor), reporting.EConflict)
	if u, _ := db.User(ctx, admin.ID); u.Disabled || u.Role != reporting.RoleAdmin {
		t.Fatalf("the last admin changed: %+v", u)
	}

	second := accCreate(t, db, accUser("zweite", reporting.RoleAdmin, false), nil, team.ID)
	s := accSession(t, db, second)
	other := accSession(t, db, admin.ID)
	if err := db.SetUserDisabled(ctx, second, true); err != nil {
		t.Fatalf("disable the second admin: %v", err)
	}
	if accAlive(t, db, s) {
		t.Error("the disabled user's session survived")
	}
	if !accAlive(t, db, other) {
		t.Error("another user's session went too")
	}
	// With the second admin disabled, the first is the last again.
	wantCode(t, db.SetUserDisabled(ctx, admin.ID, true), reporting.EConflict)
	if err := db.SetUserDisabled(ctx, second, false); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserRole(ctx, admin.ID, reporting.RoleCounsellor); err != nil {
		t.Fatalf("demote with another admin around: %v", err)
	}
	wantCode(t, db.SetUserRole(ctx, second, reporting.RoleStatistician), reporting.EConflict)
	wantCode(t, db.SetUserDisabled(ctx, 999, true), reporting.ENotFound)
	wantCode(t, db.SetUserRole(ctx, 999, reporting.RoleAdmin), reporting.ENotFound)
}

// A role change ends the user's sessions; to statistician it removes every
// team key.
func TestAccountsSetUserRole(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	team, _ := setUp(t, db)
	herne := addTeam(t, db, "Herne")
	b := accCreate(t, db, accUser("berta", reporting.RoleCounsellor, false), nil, team.ID, herne)
	s := accSession(t, db, b)
	if err := db.SetUserRole(ctx, b, reporting.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if accAlive(t, db, s) {
		t.Error("session survived a role change")
	}
	if keys, _ := db.UserTeamKeys(ctx, b); len(keys) != 2 {
		t.Errorf("promotion changed the keys: %d", len(keys))
	}
	if err := db.SetUserRole(ctx, b, reporting.RoleStatistician); err != nil {
		t.Fatal(err)
	}
	if keys, _ := db.UserTeamKeys(ctx, b); len(keys) != 0 {
		t.Errorf("statistician keeps %d team keys", len(keys))
	}
	if u, _ := db.User(ctx, b); u.Role != reporting.RoleStatistician {
		t.Errorf("role = %q", u.Role)
	}
}

// A password change replaces the credentials only if nobody changed them
// meanwhile, and ends every other session of the user.
func TestAccountsChangePassword(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	_, admin := setUp(t, db)
	keep, other := accSession(t, db, admin.ID), accSession(t, db, admin.ID)
	verifier, key := randomBytes(32), randomBytes(57)
	params := vault.Params{Time: 2, MemoryKiB: 9 * 1024, Threads: 1}

	wantCode(t, db.ChangePassword(ctx, admin.ID, randomBytes(32), params, verifier, key, nil, nil, keep), reporting.EConflict)
	if !accAlive(t, db, other) {
		t.Fatal("a refused change ended a session")
	}
	if err := db.ChangePassword(ctx, admin.ID, admin.Verifier, params, verifier, key, nil, nil, keep); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	u, _ := db.User(ctx, admin.ID)
	if !bytes.Equal(u.Verifier, verifier) || !bytes.Equal(u.WrappedKey, key) || u.Params != params || !bytes.Equal(u.Salt, admin.Salt) {
		t.Errorf("after the change: %+v", u)
	}
	if !accAlive(t, db, keep) || accAlive(t, db, other) {
		t.Error("want the current session kept and the other ended")
	}
	// The old verifier no longer matches: a second change based on it fails.
	wantCode(t, db.ChangePassword(ctx, admin.ID, admin.Verifier, params, randomBytes(32), key, nil, nil, keep), reporting.EConflict)
}

// A session is only created for a user who is still enabled, with the
// role and password the login checked, and never for an invited user.
func TestAccountsCreateUserSession(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	_, admin := setUp(t, db)
	pending := accCreate(t, db, accUser("berta", reporting.RoleCounsellor, true), nil)
	newSession := func(userID int64) reporting.Session {
		return reporting.Session{TokenHash: vault.HashToken(vault.NewToken()), UserID: userID, Created: accT0, LastSeen: accT0}
	}
	for name, tc := range map[string]struct {
		user     int64
		role     string
		verifier []byte
	}{
		"role changed":     {admin.ID, reporting.RoleCounsellor, admin.Verifier},
		"password changed": {admin.ID, reporting.RoleAdmin, randomBytes(32)},
		"invited":          {pending, reporting.RoleCounsellor, []byte{}},
		"unknown user":     {999, reporting.RoleAdmin, admin.Verifier},
	} {
		s := newSession(tc.user)
		wantCode(t, db.CreateUserSession(ctx, s, tc.role, tc.verifier), reporting.EUnauthorized)
		if accAlive(t, db, s.TokenHash) {
			t.Errorf("%s: session stored", name)
		}
	}
	s := newSession(admin.ID)
	if err := db.CreateUserSession(ctx, s, admin.Role, admin.Verifier); err != nil || !accAlive(t, db, s.TokenHash) {
		t.Fatalf("CreateUserSession: %v", err)
	}
	second := accCreate(t, db, accUser("zweite", reporting.RoleAdmin, false), nil)
	if err := db.SetUserDisabled(ctx, admin.ID, true); err != nil {
		t.Fatal(err)
	}
	if accAlive(t, db, s.TokenHash) {
		t.Error("disabling left the session")
	}
	wantCode(t, db.CreateUserSession(ctx, newSession(admin.ID), admin.Role, admin.Verifier), reporting.EUnauthorized)
	if err := db.DeleteUserSessions(ctx, second); err != nil {
		t.Fatal(err)
	}
}

// An attempt is counted before it is evaluated: while the counter is
// unlocked each reservation counts up and sets the lock the caller computes
// from the count (rounded up to a second, never shortened by a later
// smaller one); while it is locked a reservation is refused and counts
// nothing. Clearing resets the counter; recording a login does not.
func TestAccountsLoginThrottle(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	_, admin := setUp(t, db)
	shared := reporting.LoginBucket{UserID: admin.ID}
	var seen []int
	lock := func(n int) time.Time {
		seen = append(seen, n)
		if n < 3 {
			return time.Time{}
		}
		return accT0.Add(time.Duration(n) * time.Second).Add(time.Millisecond)
	}
	reserve := func(b reporting.LoginBucket, at time.Time, lock func(int) time.Time) bool {
		t.Helper()
		ok, err := db.ReserveLoginAttempt(ctx, b, at, lock)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	state := func(b reporting.LoginBucket) reporting.LoginState {
		t.Helper()
		st, err := db.LoginState(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	for i := range 3 {
		if !reserve(shared, accT0, lock) {
			t.Fatalf("attempt %d refused before any lock", i+1)
		}
	}
	if reserve(shared, accT0.Add(3*time.Second), lock) {
		t.Error("an attempt while locked was allowed")
	}
	if !slices.Equal(seen, []int{1, 2, 3}) {
		t.Errorf("lock saw counts %v; the refused attempt must not count", seen)
	}
	if st := state(shared); st.Failures != 3 || !st.LockedUntil.Equal(accT0.Add(4*time.Second)) {
		t.Errorf("LoginState = %+v; want 3 failures, locked until t0+4s", st)
	}
	if !reserve(shared, accT0.Add(4*time.Second), lock) {
		t.Error("an attempt once the lock passed was refused")
	}
	if !reserve(shared, accT0.Add(5*time.Second), func(int) time.Time { return accT0 }) {
		t.Error("an attempt once the lock passed was refused")
	}
	if st := state(shared); st.Failures != 5 || !st.LockedUntil.Equal(accT0.Add(5*time.Second)) {
		t.Errorf("a shorter lock shortened the running one: %+v", st)
	}
	if err := db.RecordLogin(ctx, admin.ID, "2026-05-20"); err != nil {
		t.Fatal(err)
	}
	if st := state(shared); st.Failures != 5 {
		t.Errorf("recording the day cleared the counter: %+v", st)
	}
	if err := db.ClearLoginFailures(ctx, shared, accT0); err != nil {
		t.Fatal(err)
	}
	if st := state(shared); st.Failures != 0 || !st.LockedUntil.IsZero() {
		t.Errorf("after a login: %+v", st)
	}
	_, err := db.ReserveLoginAttempt(ctx, reporting.LoginBucket{UserID: 999}, accT0, lock)
	wantCode(t, err, reporting.ENotFound)
	_, err = db.LoginState(ctx, reporting.LoginBucket{UserID: 999})
	wantCode(t, err, reporting.ENotFound)
}

// A known device has its own counter: failures on it leave the shared
// counter alone and the other way round; a device is found by its token's
// hash only, and only as a device of its own user. Each user keeps at most
// the given number of devices, and devices unused too long go.
func TestAccountsLoginDevices(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	_, admin := setUp(t, db)
	other := accCreate(t, db, accUser("berta", reporting.RoleCounsellor, false), nil)
	lock := func(n int) time.Time {
		if n < 2 {
			return time.Time{}
		}
		return accT0.Add(time.Hour)
	}
	hash := randomBytes(32)
	dev, err := db.AddLoginDevice(ctx, reporting.LoginDevice{UserID: admin.ID, TokenHash: hash, Created: accT0, LastUsed: accT0}, 10, accT0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := db.LoginDevice(ctx, hash); err != nil || d.ID != dev || d.UserID != admin.ID || !d.LastUsed.Equal(accT0) {
		t.Fatalf("LoginDevice = %+v, %v", d, err)
	}
	_, err = db.LoginDevice(ctx, randomBytes(32))
	wantCode(t, err, reporting.ENotFound)

	device, shared := reporting.LoginBucket{UserID: admin.ID, Device: dev}, reporting.LoginBucket{UserID: admin.ID}
	for range 3 {
		if _, err := db.ReserveLoginAttempt(ctx, shared, accT0, lock); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := db.ReserveLoginAttempt(ctx, device, accT0, lock); err != nil || !ok {
		t.Fatalf("the device's attempt after the shared lock: %v, %v; want allowed", ok, err)
	}
	if st, _ := db.LoginState(ctx, device); st.Failures != 1 || !st.LockedUntil.IsZero() {
		t.Errorf("device counter %+v; want its own single failure", st)
	}
	if st, _ := db.LoginState(ctx, shared); st.Failures != 2 {
		t.Errorf("shared counter %+v; want 2 (the third attempt was refused)", st)
	}
	// Someone else's device is no device of this user.
	_, err = db.ReserveLoginAttempt(ctx, reporting.LoginBucket{UserID: other, Device: dev}, accT0, lock)
	wantCode(t, err, reporting.ENotFound)
	if err := db.ClearLoginFailures(ctx, device, accT0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if d, _ := db.LoginDevice(ctx, hash); !d.LastUsed.Equal(accT0.Add(time.Minute)) {
		t.Errorf("last use %v after a login from the device", d.LastUsed)
	}
	if st, _ := db.LoginState(ctx, shared); st.Failures != 2 {
		t.Errorf("a login from the device cleared the shared counter: %+v", st)
	}

	// Eleven more devices: the user keeps the ten used last.
	var hashes [][]byte
	for i := range 11 {
		h := randomBytes(32)
		hashes = append(hashes, h)
		at := accT0.Add(time.Duration(i+2) * time.Minute)
		if _, err := db.AddLoginDevice(ctx, reporting.LoginDevice{UserID: admin.ID, TokenHash: h, Created: at, LastUsed: at}, 10, accT0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	for i, h := range append([][]byte{hash}, hashes...) {
		_, err := db.LoginDevice(ctx, h)
		if kept := i >= 2; kept != (err == nil) {
			t.Errorf("device %d: kept %v, lookup error %v", i, kept, err)
		}
	}
	// A device of another user, added a day later, expires all of them.
	if _, err := db.AddLoginDevice(ctx, reporting.LoginDevice{UserID: other, TokenHash: randomBytes(32), Created: accT0, LastUsed: accT0}, 10, accT0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LoginDevice(ctx, hashes[10]); reporting.ErrorCode(err) != reporting.ENotFound {
		t.Errorf("an expired device is still there: %v", err)
	}
}

// Unlocking clears the shared counter and every device counter of the user
// and writes its audit entry in the same transaction; an unknown user
// changes nothing and writes no entry.
func TestAccountsUnlockLogin(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	_, admin := setUp(t, db)
	lock := func(int) time.Time { return accT0.Add(time.Hour) }
	dev, err := db.AddLoginDevice(ctx, reporting.LoginDevice{UserID: admin.ID, TokenHash: randomBytes(32), Created: accT0, LastUsed: accT0}, 10, accT0)
	if err != nil {
		t.Fatal(err)
	}
	buckets := []reporting.LoginBucket{{UserID: admin.ID}, {UserID: admin.ID, Device: dev}}
	for _, b := range buckets {
		if _, err := db.ReserveLoginAttempt(ctx, b, accT0, lock); err != nil {
			t.Fatal(err)
		}
	}
	e := &reporting.AuditEntry{At: accT0, UserName: "system", Action: reporting.AuditLoginUnlock, Detail: "user=1"}
	if err := db.UnlockLogin(ctx, admin.ID, e); err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets {
		if st, _ := db.LoginState(ctx, b); st.Failures != 0 || !st.LockedUntil.IsZero() {
			t.Errorf("%+v after unlock: %+v", b, st)
		}
	}
	wantCode(t, db.UnlockLogin(ctx, 999, &reporting.AuditEntry{At: accT0, UserName: "system", Action: reporting.AuditLoginUnlock}), reporting.ENotFound)
	entries, total, err := db.AuditEntries(ctx, "", reporting.Page{Limit: 10})
	if err != nil || total != 1 || entries[0].Action != reporting.AuditLoginUnlock {
		t.Errorf("audit = %+v (%d), %v; want the one unlock", entries, total, err)
	}
}
