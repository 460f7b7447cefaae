package reporting_test

import (
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// The setup link survives restarts until it is used: a second Start hands
// out the same token, and a fresh office under another server secret (the
// database alone, without secret.key) cannot reproduce it and hands out a
// new one, which replaces the old.
func TestSetupLinkStableAcrossStarts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := e.start(t)
	if again := e.start(t); again != token {
		t.Errorf("second Start = %q, want the same token %q", again, token)
	}
	if err := e.office.CheckSetupToken(t.Context(), token); err != nil {
		t.Errorf("the token of both starts is refused: %v", err)
	}

	other := reporting.NewOffice(e.db, e.kdf, fastParams, reporting.NewAnchor(vault.NewSecret()), e.clock.Now)
	t.Cleanup(other.Close)
	fresh, err := other.Start(t.Context())
	if err != nil || fresh == "" || fresh == token {
		t.Fatalf("Start under another secret = %q, %v; want a new token", fresh, err)
	}
	if err := e.office.CheckSetupToken(t.Context(), token); err == nil {
		t.Error("the old token still works after a new one was made")
	}
}
