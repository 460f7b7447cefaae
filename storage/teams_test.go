package storage_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/storage"
)

// insertUser stores a user with stand-in key material (storage never looks
// inside it) and returns its ID.
func insertUser(t *testing.T, db *storage.DB, name, role string, disabled bool) int64 {
	t.Helper()
	pub := vault.NewKeyPair().Public()
	res, err := db.WriteConn().ExecContext(t.Context(), `INSERT INTO users (name, role, salt, kdf_params, verifier_hash, public_key, private_key_wrapped, disabled)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, name, role, vault.NewSalt(), adminParams.String(), randomBytes(32), pub[:], randomBytes(57), disabled)
	if err != nil {
		t.Fatalf("insert user %s: %v", name, err)
	}
	id, _ := res.LastInsertId()
	return id
}

// newTeam is what Office.CreateTeam passes for a team taking munis.
func newTeam(read []reporting.Team, name string, creator int64, others []reporting.Team, munis ...string) reporting.NewTeam {
	return reporting.NewTeam{
		Team:        reporting.Team{Name: name, PublicKey: vault.NewKeyPair().Public(), Municipalities: munis},
		RecoveryKey: randomBytes(72),
		CreatorID:   creator,
		CreatorKey:  randomBytes(72),
		Read:        read,
		Others:      others,
	}
}

func teams(t *testing.T, db *storage.DB) []reporting.Team {
	t.Helper()
	list, err := db.Teams(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// A new team is stored with its recovery envelope, its creator's key and
// the municipalities taken from the other team, all or nothing.
func TestCreateTeam(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	first, admin := setUp(t, db)
	read := teams(t, db)

	rest := first
	rest.Municipalities = slices.DeleteFunc(slices.Clone(first.Municipalities), func(m string) bool { return m == "herne" })
	nt := newTeam(read, "Herne", admin.ID, []reporting.Team{rest}, "herne")
	id, err := db.CreateTeam(ctx, nt)
	if err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	got := teams(t, db)
	if len(got) != 2 || got[1].ID != id || got[1].Name != "Herne" || got[1].PublicKey != nt.Team.PublicKey ||
		!slices.Equal(got[1].Municipalities, []string{"herne"}) || !slices.Equal(got[0].Municipalities, rest.Municipalities) {
		t.Fatalf("teams after create = %+v", got)
	}
	rec, _ := db.RecoveryKeys(ctx)
	if len(rec) != 2 || rec[1].TeamID != id || !bytes.Equal(rec[1].Wrapped, nt.RecoveryKey) {
		t.Errorf("recovery envelopes = %+v", rec)
	}
	keys, _ := db.UserTeamKeys(ctx, admin.ID)
	if len(keys) != 2 || keys[1].TeamID != id || keys[1].PublicKey != nt.Team.PublicKey || !bytes.Equal(keys[1].Wrapped, nt.CreatorKey) {
		t.Errorf("creator's keys = %+v", keys)
	}

	// Planned from a stale snapshot: refused, nothing written.
	_, err = db.CreateTeam(ctx, newTeam(read, "Essen", admin.ID, nil, "essen"))
	wantCode(t, err, reporting.EConflict)
	// A taken name: refused, nothing written, not even the envelopes or
	// the other teams' changes.
	now := teams(t, db)
	shrunk := now[0]
	shrunk.Municipalities = []string{"bochum"}
	_, err = db.CreateTeam(ctx, newTeam(now, "Herne", admin.ID, []reporting.Team{shrunk}, "essen"))
	wantCode(t, err, reporting.EConflict)
	if after := teams(t, db); len(after) != 2 || !slices.Equal(after[0].Municipalities, now[0].Municipalities) {
		t.Errorf("a refused create changed the teams: %+v", after)
	}
	if rec, _ := db.RecoveryKeys(ctx); len(rec) != 2 {
		t.Errorf("a refused create left %d recovery envelopes, want 2", len(rec))
	}
	if keys, _ := db.UserTeamKeys(ctx, admin.ID); len(keys) != 2 {
		t.Errorf("a refused create left %d creator keys, want 2", len(keys))
	}
}

// UpdateTeams writes all changed teams or none, and refuses a plan made
// from teams that changed since.
func TestUpdateTeams(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	_, admin := setUp(t, db)
	if _, err := db.CreateTeam(ctx, newTeam(teams(t, db), "Herne", admin.ID, nil, "herne")); err != nil {
		t.Fatal(err)
	}
	read := teams(t, db)
	a, b := read[0], read[1]
	a.Municipalities = []string{"bochum"}
	b.Name, b.Municipalities = "Herne und mehr", []string{"herne", "essen"}
	if err := db.UpdateTeams(ctx, read, []reporting.Team{a, b}); err != nil {
		t.Fatalf("UpdateTeams: %v", err)
	}
	got := teams(t, db)
	if got[0].Name != a.Name || !slices.Equal(got[0].Municipalities, a.Municipalities) ||
		got[1].Name != "Herne und mehr" || !slices.Equal(got[1].Municipalities, b.Municipalities) {
		t.Errorf("teams = %+v", got)
	}
	// The old snapshot is stale now.
	wantCode(t, db.UpdateTeams(ctx, read, []reporting.Team{a}), reporting.EConflict)
	// A name clash rolls back every change of the call.
	now := teams(t, db)
	x, y := now[0], now[1]
	x.Municipalities = []string{"bochum", "marl"}
	y.Name = x.Name
	err := db.UpdateTeams(ctx, now, []reporting.Team{x, y})
	wantCode(t, err, reporting.EConflict)
	if reporting.MessageID(err) != "error.team.name_taken" {
		t.Errorf("message = %q", reporting.MessageID(err))
	}
	if after := teams(t, db); !slices.Equal(after[0].Municipalities, []string{"bochum"}) {
		t.Errorf("a refused update changed the first team: %+v", after[0])
	}
	// A team that is gone.
	gone := reporting.Team{ID: 99, Name: "Weg"}
	wantCode(t, db.UpdateTeams(ctx, now, []reporting.Team{gone}), reporting.ENotFound)
}

// Members are added only if they may hold keys, once each, and removed.
func TestTeamMembers(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	team, admin := setUp(t, db)
	berta := insertUser(t, db, "berta", reporting.RoleCounsellor, false)
	stats := insertUser(t, db, "stella", reporting.RoleStatistician, false)
	gone := insertUser(t, db, "gerd", reporting.RoleCounsellor, true)

	wrapped := randomBytes(72)
	if err := db.AddTeamMember(ctx, team.ID, berta, wrapped); err != nil {
		t.Fatalf("AddTeamMember: %v", err)
	}
	keys, _ := db.UserTeamKeys(ctx, berta)
	if len(keys) != 1 || keys[0].TeamID != team.ID || !bytes.Equal(keys[0].Wrapped, wrapped) {
		t.Errorf("berta's keys = %+v", keys)
	}
	err := db.AddTeamMember(ctx, team.ID, berta, randomBytes(72))
	wantCode(t, err, reporting.EConflict)
	if reporting.MessageID(err) != "error.team.already_member" {
		t.Errorf("adding twice: %q", reporting.MessageID(err))
	}
	for _, id := range []int64{stats, gone, 999} {
		err := db.AddTeamMember(ctx, team.ID, id, randomBytes(72))
		wantCode(t, err, reporting.EConflict)
		if reporting.MessageID(err) != "error.team.member_not_eligible" {
			t.Errorf("user %d: %q", id, reporting.MessageID(err))
		}
	}

	members, err := db.TeamMembers(ctx, team.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []reporting.Member{{ID: admin.ID, Name: "admin", Role: reporting.RoleAdmin}, {ID: berta, Name: "berta", Role: reporting.RoleCounsellor}}
	if !slices.Equal(members, want) {
		t.Errorf("TeamMembers = %+v, want %+v", members, want)
	}
	outside, err := db.UsersOutsideTeam(ctx, team.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantOutside := []reporting.Member{{ID: gone, Name: "gerd", Role: reporting.RoleCounsellor, Disabled: true}, {ID: stats, Name: "stella", Role: reporting.RoleStatistician}}
	if !slices.Equal(outside, wantOutside) {
		t.Errorf("UsersOutsideTeam = %+v, want %+v", outside, wantOutside)
	}

	if err := db.RemoveTeamMember(ctx, team.ID, berta); err != nil {
		t.Fatalf("RemoveTeamMember: %v", err)
	}
	if keys, _ := db.UserTeamKeys(ctx, berta); len(keys) != 0 {
		t.Errorf("berta still holds %+v", keys)
	}
	wantCode(t, db.RemoveTeamMember(ctx, team.ID, berta), reporting.ENotFound)
	if keys, _ := db.UserTeamKeys(ctx, admin.ID); len(keys) != 1 {
		t.Errorf("removing berta touched the admin's keys: %+v", keys)
	}
}
