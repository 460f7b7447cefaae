package reporting_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/anchortest"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Each attack of issue 9 is made by writing to the SQLite file directly,
// as someone with the database but without the secret file can; each must
// be refused, audited and shown to the admins.

func wantIntegrity(t *testing.T, e *env, err error) {
	t.Helper()
	if reporting.ErrorCode(err) != reporting.EConflict || reporting.MessageID(err) != "error.integrity" {
		t.Fatalf("got %v, want the integrity refusal", err)
	}
	if len(e.office.IntegrityAlerts()) == 0 {
		t.Error("no warning for the admins")
	}
	if !slices.ContainsFunc(e.auditActions(t), func(a string) bool { return strings.HasPrefix(a, reporting.AuditIntegrity+":") }) {
		t.Error("the refusal is not in the audit log")
	}
}

// Swapping a member's public key for the attacker's: the admin's next
// AddTeamMember would seal the team key to the attacker.
func TestAnchorSwappedUserKey(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, admin := e.login(t)
	team := firstTeam(t, e, admin)
	id := e.addUser(t, "berta", "ein anderes langes Passwort", reporting.RoleCounsellor)
	attacker := vault.NewKeyPair().Public()
	if _, err := e.rawDB(t).Exec(`UPDATE users SET public_key = ? WHERE id = ?`, attacker[:], id); err != nil {
		t.Fatal(err)
	}
	wantIntegrity(t, e, e.teams.AddTeamMember(t.Context(), admin, team.id, id))
	if keys, _ := e.db.UserTeamKeys(t.Context(), id); len(keys) != 0 {
		t.Errorf("a team key was sealed to the swapped key: %v", keys)
	}
	// The swapped user cannot log in either.
	_, _, err := e.office.Login(t.Context(), "berta", "ein anderes langes Passwort", "")
	wantIntegrity(t, e, err)
}

// Swapping the recovery public key: every later team would be sealed to
// the attacker.
func TestAnchorSwappedRecoveryKey(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, admin := e.login(t)
	attacker := vault.NewKeyPair().Public()
	if _, err := e.rawDB(t).Exec(`UPDATE settings SET value = ? WHERE key = 'recovery_public_key'`, attacker[:]); err != nil {
		t.Fatal(err)
	}
	_, err := e.teams.CreateTeam(t.Context(), admin, reporting.TeamForm{Name: "Bochum", Municipalities: []string{"bochum"}})
	wantIntegrity(t, e, err)
	if teams, _ := e.db.Teams(t.Context()); len(teams) != 1 {
		t.Errorf("%d teams after the refused creation, want 1", len(teams))
	}
}

// A team inserted by SQL with the attacker's key and a municipality: new
// reports from there would be sealed to the attacker.
func TestAnchorRogueTeam(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	in := e.intake(t)
	rogue := vault.NewKeyPair().Public()
	if _, err := e.rawDB(t).Exec(`INSERT INTO teams (name, public_key, municipalities) VALUES ('Rogue', ?, 'herne')`, rogue[:]); err != nil {
		t.Fatal(err)
	}
	r, errs := validForm().Validate("de", today)
	if errs != nil {
		t.Fatal(errs)
	}
	r.Municipality = "herne"
	_, err := in.Submit(t.Context(), r)
	wantIntegrity(t, e, err)
	var n int
	if err := e.rawDB(t).QueryRow(`SELECT count(*) FROM reports`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d reports stored (%v), want none", n, err)
	}
}

// A team key set to the all-zero point: anything sealed to it opens for
// anyone. The MAC is recomputed as if the attacker had it, so only the
// low-order check stands between them and the reports.
func TestAnchorZeroPointTeamKey(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	in := e.intake(t)
	var zero vault.PublicKey
	if err := zero.Check(); err == nil {
		t.Fatal("the all-zero key passes the low-order check")
	}
	if _, err := e.rawDB(t).Exec(`UPDATE teams SET public_key = ? WHERE id = 1`, zero[:]); err != nil {
		t.Fatal(err)
	}
	anchortest.SignRows(t, e.rawDB(t), e.anchor)
	r, errs := validForm().Validate("de", today)
	if errs != nil {
		t.Fatal(errs)
	}
	_, err := in.Submit(t.Context(), r)
	wantIntegrity(t, e, err)
}

// A user's KDF parameters lowered to 8 KiB and one pass: refused at login
// before any password is checked with them.
func TestAnchorDowngradedKDFParams(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	weak := vault.Params{Time: 1, MemoryKiB: 8, Threads: 1}
	if _, err := e.rawDB(t).Exec(`UPDATE users SET kdf_params = ?`, weak.String()); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.office.Login(t.Context(), adminName, adminPassword, "")
	wantIntegrity(t, e, err)
	if !weak.Below(vault.Floor(vault.DefaultParams)) || vault.MinParams.Below(vault.Floor(vault.DefaultParams)) {
		t.Error("the production floor does not sit at OWASP's minimum")
	}
}

// Deleting an audit entry and recomputing the chain after it, without
// the secret: `audit verify` finds it.
func TestAnchorAuditDeleteAndRecompute(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	e.login(t)
	e.login(t)
	ctx := context.Background()
	if id, err := e.db.VerifyAudit(ctx); err != nil || id != 0 {
		t.Fatalf("intact chain: %d, %v", id, err)
	}
	raw := e.rawDB(t)
	entries, n, err := e.db.AuditEntries(ctx, "", reporting.Page{Limit: 100})
	if err != nil || n < 3 {
		t.Fatalf("entries %d, %v", n, err)
	}
	slices.Reverse(entries) // oldest first
	victim := entries[1].ID
	if _, err := raw.Exec(`DELETE FROM audit WHERE id = ?`, victim); err != nil {
		t.Fatal(err)
	}
	// The attacker renumbers and rehashes everything after it with the
	// only hash they can compute: the unkeyed one.
	prev := entries[0].Hash
	var rest []reporting.AuditEntry
	for _, x := range entries[2:] {
		x.ID--
		x.PrevHash = prev
		x.Hash = x.ChainHash(prev)
		prev = x.Hash
		rest = append(rest, x)
	}
	if _, err := raw.Exec(`DELETE FROM audit WHERE id > ?`, victim); err != nil {
		t.Fatal(err)
	}
	for _, x := range rest {
		if _, err := raw.Exec(`INSERT INTO audit (id, at, user_id, user_name, action, report_id, detail, prev_hash, hash) VALUES (?, ?, nullif(?, 0), ?, ?, nullif(?, ''), ?, ?, ?)`,
			x.ID, x.At.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"), x.UserID, x.UserName, x.Action, x.ReportID, x.Detail, x.PrevHash, x.Hash); err != nil {
			t.Fatal(err)
		}
	}
	head, _ := json.Marshal(struct {
		ID   int64  `json:"id"`
		Hash []byte `json:"hash"`
	}{rest[len(rest)-1].ID, rest[len(rest)-1].Hash})
	if _, err := raw.Exec(`UPDATE settings SET value = ? WHERE key = 'audit_head'`, head); err != nil {
		t.Fatal(err)
	}
	// Even dropping the record that the chain is keyed does not help.
	if _, err := raw.Exec(`DELETE FROM settings WHERE key = 'audit_keyed_from'`); err != nil {
		t.Fatal(err)
	}
	if id, err := e.db.VerifyAudit(ctx); err == nil {
		t.Fatalf("audit verify passed a rewritten chain (%d)", id)
	}
}

// With a copy of the database but not the secret file, even the right
// receipt cannot be confirmed offline: the unpeppered derivation (all a
// database copy allows) matches no lookup hash and opens no reporter key.
// A report from before the pepper still opens with its receipt.
func TestAnchorOfflineReceiptCheckFails(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	in := e.intake(t)
	_, rc := submit(t, in, validForm(), "de")
	ctx := t.Context()
	raw := e.rawDB(t)
	var id, params string
	var salt, lookup, reporterKey, sealedKey []byte
	if err := raw.QueryRow(`SELECT value FROM settings WHERE key = 'receipt_salt'`).Scan(&salt); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(`SELECT id, kdf_params, lookup_hash, reporter_key, sealed_key FROM reports`).Scan(&id, &params, &lookup, &reporterKey, &sealedKey); err != nil {
		t.Fatal(err)
	}
	p, err := vault.ParseParams(strings.TrimPrefix(params, "pepper1$"))
	if err != nil {
		t.Fatal(err)
	}
	// The attacker's best case: they guessed the right receipt.
	guess, err := e.kdf.Receipt(ctx, rc.Code, salt, p)
	if err != nil {
		t.Fatal(err)
	}
	if vault.Equal(guess.Lookup, lookup) {
		t.Fatal("the right receipt is confirmed by the database alone (lookup hash)")
	}
	if _, err := guess.Key.Unwrap(reporterKey, vault.AD{Purpose: "reporter-key", Row: id}); err == nil {
		t.Fatal("the right receipt opens the reporter key with the database alone")
	}
	// A guessed secret does no better.
	other, err := e.kdf.ReceiptPeppered(ctx, rc.Code, salt, p, vault.NewSecret().MACKey("receipt-pepper"))
	if err != nil {
		t.Fatal(err)
	}
	if vault.Equal(other.Lookup, lookup) {
		t.Fatal("another secret's pepper finds the report")
	}
	// The reporter, through the server, gets in.
	if _, err := reporting.NewFollowup(in, e.clock.Now).Open(ctx, rc.Code.String()); err != nil {
		t.Fatalf("follow-up with the receipt: %v", err)
	}

	// Make it a report from before the pepper (as an old deployment has).
	_, admin := e.login(t)
	team := firstTeam(t, e, admin)
	dk, err := team.kp.OpenKey(sealedKey, vault.AD{Purpose: "report-key", Row: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE reports SET lookup_hash = ?, reporter_key = ?, kdf_params = ? WHERE id = ?`,
		guess.Lookup, guess.Key.Wrap(dk, vault.AD{Purpose: "reporter-key", Row: id}), p.String(), id); err != nil {
		t.Fatal(err)
	}
	legacy := []byte("legacy")
	if err := e.db.PutSettingMAC(ctx, "receipt_pepper", legacy, e.anchor.SettingMAC("receipt_pepper", legacy)); err != nil {
		t.Fatal(err)
	}
	if _, err := reporting.NewFollowup(e.intake(t), e.clock.Now).Open(ctx, rc.Code.String()); err != nil {
		t.Fatalf("a report from before the pepper no longer opens: %v", err)
	}
}

// Parameters raised in the configuration reach existing users at their
// next login: the stored parameters change, the password still works
// (with the stronger ones), and the user's team keys still open.
func TestLoginRaisesKDFParams(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	stronger := vault.Params{Time: 2, MemoryKiB: 9 * 1024, Threads: 1}
	office := reporting.NewOffice(e.db, e.kdf, stronger, e.anchor, e.clock.Now)
	t.Cleanup(office.Close)
	if _, s, err := office.Login(t.Context(), adminName, adminPassword, ""); err != nil || len(s.Keys.Teams()) != 1 {
		t.Fatalf("login with raised parameters: %v", err)
	}
	u, err := e.db.UserByName(t.Context(), adminName)
	if err != nil || u.Params != stronger {
		t.Fatalf("stored parameters after login: %v (%v), want %v", u.Params, err, stronger)
	}
	_, s, err := office.Login(t.Context(), adminName, adminPassword, "")
	if err != nil || len(s.Keys.Teams()) != 1 {
		t.Fatalf("second login: %v", err)
	}
	if !slices.Contains(e.auditActions(t), "login:kdf_raised") {
		t.Error("the raise is not in the audit log")
	}
}

// Dropping mandatory two-factor by SQL (the admin required it for
// counsellors) is refused rather than obeyed.
func TestAnchorChangedSecuritySetting(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	_, admin := e.login(t)
	if err := e.twoFactor.SetTOTPRequiredRoles(t.Context(), admin, []string{reporting.RoleCounsellor}); err != nil {
		t.Fatal(err)
	}
	if roles, err := e.twoFactor.TOTPRequiredRoles(t.Context()); err != nil || !slices.Equal(roles, []string{reporting.RoleCounsellor}) {
		t.Fatalf("roles %v, %v", roles, err)
	}
	if _, err := e.rawDB(t).Exec(`UPDATE settings SET value = x'' WHERE key = 'totp_required_roles'`); err != nil {
		t.Fatal(err)
	}
	_, err := e.twoFactor.TOTPRequiredRoles(t.Context())
	wantIntegrity(t, e, err)
}

// A rogue team does not lock the office out: the admin still logs in
// with the real team's key (the rogue one never reaches the ring) and is
// warned.
func TestAnchorRogueTeamDoesNotLockOutAdmins(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	rogue := vault.NewKeyPair()
	pub := rogue.Public()
	raw := e.rawDB(t)
	res, err := raw.Exec(`INSERT INTO teams (name, public_key, municipalities) VALUES ('Rogue', ?, 'herne')`, pub[:])
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	// The attacker also seals their team key to the admin (anyone can).
	admin, err := e.db.UserByName(t.Context(), adminName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO user_team_keys (user_id, team_id, wrapped) VALUES (?, ?, ?)`, admin.ID, id,
		admin.PublicKey.SealKeyPair(rogue, vault.TeamKeyAD("user:"+hex.EncodeToString(admin.Salt), pub))); err != nil {
		t.Fatal(err)
	}
	_, s := e.login(t)
	if teams := s.Keys.Teams(); len(teams) != 1 || teams[0] == id {
		t.Errorf("keys on the ring: %v, want only the first team's", teams)
	}
	if len(e.office.IntegrityAlerts()) == 0 {
		t.Error("no warning for the admin")
	}
}
