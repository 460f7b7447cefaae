// Package anchortest helps tests that build databases by SQL: it signs
// their team and user rows as the office would (reporting.Anchor).
package anchortest

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// SignRows MACs every team and user row under the anchor, as the office
// does when it writes them. Fixtures that insert rows by SQL (more teams
// and users than the forms make quickly) call it to stand for the office;
// the attack tests are the ones that do not.
func SignRows(t testing.TB, db *sql.DB, a *reporting.Anchor) {
	t.Helper()
	type row struct {
		id             int64
		name           string
		salt, pub      []byte
		municipalities string
	}
	read := func(q string, team bool) []row {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			var err error
			if team {
				err = rows.Scan(&r.id, &r.name, &r.pub, &r.municipalities)
			} else {
				err = rows.Scan(&r.id, &r.name, &r.salt, &r.pub)
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	for _, r := range read(`SELECT id, name, public_key, municipalities FROM teams`, true) {
		var munis []string
		if r.municipalities != "" {
			munis = strings.Split(r.municipalities, ",")
		}
		mac := a.TeamMAC(reporting.Team{Name: r.name, PublicKey: vault.PublicKey(r.pub), Municipalities: munis})
		if _, err := db.Exec(`UPDATE teams SET mac = ? WHERE id = ?`, mac, r.id); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range read(`SELECT id, name, salt, public_key FROM users`, false) {
		mac := a.UserMAC(reporting.User{Name: r.name, Salt: r.salt, PublicKey: vault.PublicKey(r.pub)})
		if _, err := db.Exec(`UPDATE users SET mac = ? WHERE id = ?`, mac, r.id); err != nil {
			t.Fatal(err)
		}
	}
}
