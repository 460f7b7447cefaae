package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// A team inserted by SQL with the attacker's key and Bochum: the reporter
// is told that nothing was stored (never a receipt for a report sealed to
// the attacker), and the admin's next office page warns about it.
func TestRogueTeamRefusedAndShownToAdmins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	admin := login(t, e)
	rogue := vault.NewKeyPair().Public()
	if _, err := rawDB(t, e).Exec(`INSERT INTO teams (name, public_key, municipalities) VALUES ('Rogue', ?, 'bochum')`, rogue[:]); err != nil {
		t.Fatal(err)
	}
	before := countReports(t, e)
	resp, body := submit(t, e, "de", validReport("Vermieter wollte nicht an uns vermieten."))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Es wurde nichts gespeichert") || receiptPattern.MatchString(body) {
		t.Fatalf("submission to a rogue team: status %d\n%s", resp.StatusCode, body)
	}
	if n := countReports(t, e); n != before {
		t.Errorf("%d reports stored, want %d", n, before)
	}
	_, page := getAs(t, admin, e.URL+"/office/account")
	if !strings.Contains(page, `id="integrity-alert"`) || !strings.Contains(page, "team:") {
		t.Errorf("the admin's next page shows no integrity warning:\n%s", page)
	}
}
