package storage_test

import (
	"bytes"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// A removal with its team key rotation is one transaction: a rotation
// made for a key or members that are no longer stored is refused, and
// then the removed user keeps their copy and nothing else changes; the
// rotation that fits writes the team row, the chain link, every member's
// and the recovery copy and the audit entry together.
func TestRevokeIsOneTransaction(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	team, admin := setUp(t, db)
	alice := accCreate(t, db, accUser("alice", reporting.RoleCounsellor, false), nil, team.ID)
	next := vault.NewKeyPair().Public()
	rot := func(old vault.PublicKey, members map[int64][]byte) reporting.Revocation {
		tm := team
		tm.PublicKey, tm.MAC = next, randomBytes(32)
		return reporting.Revocation{UserID: alice, TeamID: team.ID, Audit: &reporting.AuditEntry{At: accT0, UserName: "admin", Action: reporting.AuditTeamMember, Detail: "remove"},
			Rotations: []reporting.TeamRotation{{Team: tm, OldPublicKey: old, Previous: randomBytes(80), Members: members, RecoveryKey: randomBytes(80)}}}
	}
	copies := func() int {
		keys, err := db.UserTeamKeys(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	adminCopy := randomBytes(80)
	// A stale key (another admin rotated first) and a member set that
	// lacks someone are both refused, and roll the removal back.
	wantCode(t, db.Revoke(ctx, rot(vault.NewKeyPair().Public(), map[int64][]byte{admin.ID: adminCopy})), reporting.EConflict)
	wantCode(t, db.Revoke(ctx, rot(team.PublicKey, map[int64][]byte{})), reporting.EConflict)
	if copies() != 1 {
		t.Fatal("a refused revocation deleted the removed user's copy")
	}
	if err := db.Revoke(ctx, rot(team.PublicKey, map[int64][]byte{admin.ID: adminCopy})); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if copies() != 0 {
		t.Error("the removed user still holds a copy")
	}
	teams, _ := db.Teams(ctx)
	if teams[0].PublicKey != next {
		t.Error("the team row kept its old key")
	}
	if keys, _ := db.UserTeamKeys(ctx, admin.ID); len(keys) != 1 || !bytes.Equal(keys[0].Wrapped, adminCopy) {
		t.Error("the remaining member's copy was not replaced")
	}
	chain, err := db.PreviousTeamKeys(ctx, team.ID)
	if err != nil || len(chain) != 1 || chain[0].PublicKey != team.PublicKey || chain[0].Successor != next {
		t.Errorf("chain = %+v, %v; want the old key sealed to the new", chain, err)
	}
	entries, _, err := db.AuditEntries(ctx, "", reporting.Page{Limit: 10})
	if err != nil || len(entries) == 0 || entries[0].Detail != "remove" {
		t.Errorf("audit = %+v, %v; want the removal's entry", entries, err)
	}
}
