package reporting_test

import (
	"testing"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// An office session and a follow-up token that nobody ends take their
// keys with them once they expire: after the reaper runs, neither map
// holds them, their stored row is gone and the key bytes they held are
// zeros, while a session and a token still in use keep working.
func TestReaperWipesExpired(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	in := e.intake(t)
	_, receipt := submit(t, in, validForm(), "de")
	ctx := t.Context()
	f := reporting.NewFollowup(in, e.clock.Now)
	reaper := reporting.NewReaper(e.office, e.accounts, f, nil)

	oldToken, old := e.login(t)
	ring := old.Keys
	teams := ring.Teams()
	if len(teams) != 1 {
		t.Fatalf("session holds %d team keys, want 1", len(teams))
	}
	teamKey, _ := ring.Team(teams[0])
	oldFollowup, err := f.Open(ctx, receipt.Code.String())
	if err != nil {
		t.Fatalf("Followup.Open: %v", err)
	}
	dataKey := f.TokenKey(oldFollowup)
	if teamKey.IsZero() || dataKey == nil || dataKey.IsZero() {
		t.Fatal("keys are zero before anything expired")
	}

	// Nothing has expired yet: the reaper leaves everything alone.
	if s, n, err := reaper.Reap(ctx); err != nil || s != 0 || n != 0 {
		t.Fatalf("Reap before expiry = %d sessions, %d tokens, %v; want 0, 0", s, n, err)
	}

	e.clock.Advance(20 * time.Minute)
	liveToken, _ := e.login(t)
	liveFollowup, err := f.Open(ctx, receipt.Code.String())
	if err != nil {
		t.Fatalf("Followup.Open: %v", err)
	}
	e.clock.Advance(reporting.IdleTimeout - 20*time.Minute + time.Second)

	s, n, err := reaper.Reap(ctx)
	if err != nil || s != 1 || n != 1 {
		t.Fatalf("Reap = %d sessions, %d tokens, %v; want 1, 1", s, n, err)
	}
	if got := e.office.SessionCount(); got != 1 {
		t.Errorf("session map holds %d sessions after reaping, want only the live one", got)
	}
	if got := f.TokenCount(); got != 1 {
		t.Errorf("token map holds %d tokens after reaping, want only the live one", got)
	}
	if f.TokenKey(oldFollowup) != nil {
		t.Error("expired follow-up token still in the map")
	}
	if !teamKey.IsZero() {
		t.Error("expired session's team private key is not zeroed")
	}
	if !dataKey.IsZero() {
		t.Error("expired follow-up token's data key is not zeroed")
	}
	if len(ring.Teams()) != 0 {
		t.Error("expired session's keyring still lists teams")
	}
	if err := e.db.TouchSession(ctx, vault.HashToken(oldToken), e.clock.Now()); err == nil {
		t.Error("expired session's row still stored")
	}
	_, err = e.office.Session(ctx, oldToken)
	wantCode(t, err, reporting.EUnauthorized)
	wantCode(t, f.Check(oldFollowup), reporting.EUnauthorized)

	// The ones in use are untouched.
	if _, err := e.office.Session(ctx, liveToken); err != nil {
		t.Errorf("live session after reaping: %v", err)
	}
	if _, err := f.View(ctx, liveFollowup); err != nil {
		t.Errorf("live follow-up token after reaping: %v", err)
	}
}

// A key added to a session's ring after the session was wiped (a request
// that was still creating a team when the reaper ended the session) is
// wiped at once instead of staying on a ring nobody wipes again.
func TestKeyringRefusesKeysAfterWipe(t *testing.T) {
	ring := vault.NewKeyring()
	ring.Wipe()
	kp := vault.NewKeyPair()
	ring.Add(7, kp)
	if _, ok := ring.Team(7); ok {
		t.Error("a wiped ring took a new key")
	}
	if !kp.IsZero() {
		t.Error("key added to a wiped ring was not zeroed")
	}
}
