package reporting_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Each security setting is deleted, stripped of its MAC or changed by
// SQL on the file after setup, as a database writer without the secret
// file can. Read as "never set", a deletion would drop mandatory
// two-factor, reset retention or hand out receipts under new, cheaper
// parameters; each must be refused, audited and shown to the admins.
func TestSecuritySettingTamperingIsRefused(t *testing.T) {
	weak := vault.Params{Time: 1, MemoryKiB: 8, Threads: 1}
	attacks := []struct{ name, sql string }{
		{"deleted", `DELETE FROM settings WHERE key = ?`},
		{"unMACed", `UPDATE settings SET mac = NULL WHERE key = ?`},
		{"changed", `UPDATE settings SET value = CAST('x' || value AS BLOB) WHERE key = ?`},
	}
	// What the user would notice if the attack worked, per setting.
	checks := map[string]func(t *testing.T, e *env, in *reporting.Intake, rc reporting.Receipt) error{
		"totp_required_roles": func(t *testing.T, e *env, _ *reporting.Intake, _ reporting.Receipt) error {
			roles, err := e.twoFactor.TOTPRequiredRoles(t.Context())
			if err == nil && !slices.Contains(roles, reporting.RoleCounsellor) {
				t.Errorf("two-factor no longer required for counsellors: %v", roles)
			}
			return err
		},
		"retention": func(t *testing.T, e *env, _ *reporting.Intake, _ reporting.Receipt) error {
			set, err := e.retention.RetentionSettings(t.Context())
			if err == nil && set.ClosedMonths != 60 {
				t.Errorf("retention reset to %d months", set.ClosedMonths)
			}
			return err
		},
	}
	receipt := func(t *testing.T, e *env, _ *reporting.Intake, rc reporting.Receipt) error {
		// A restart reads the receipt settings: after an attack new
		// reports and follow-ups are refused, the office still starts.
		in := e.intake(t)
		_, errOpen := reporting.NewFollowup(in, e.clock.Now).Open(t.Context(), rc.Code.String())
		r, errs := validForm().Validate("de", today)
		if errs != nil {
			t.Fatal(errs)
		}
		_, errSubmit := in.Submit(t.Context(), r)
		if (errOpen == nil) != (errSubmit == nil) {
			t.Errorf("follow-up: %v, but submission: %v", errOpen, errSubmit)
		}
		return errOpen
	}
	for _, k := range []string{"receipt_salt", "receipt_kdf", "receipt_kdf_sets", "receipt_pepper"} {
		checks[k] = receipt
	}
	for key, check := range checks {
		for _, a := range attacks {
			t.Run(key+"/"+a.name, func(t *testing.T) {
				e := newEnv(t)
				e.setUp(t)
				in := e.intake(t)
				_, rc := submit(t, in, validForm(), "de")
				_, admin := e.login(t)
				if err := e.twoFactor.SetTOTPRequiredRoles(t.Context(), admin, []string{reporting.RoleCounsellor}); err != nil {
					t.Fatal(err)
				}
				if err := e.retention.SetRetention(t.Context(), admin, reporting.RetentionForm{ClosedMonths: "60", NewMonths: "6"}); err != nil {
					t.Fatal(err)
				}
				if err := check(t, e, in, rc); err != nil {
					t.Fatalf("before the attack: %v", err)
				}
				if res, err := e.rawDB(t).Exec(a.sql, key); err != nil {
					t.Fatal(err)
				} else if n, _ := res.RowsAffected(); n != 1 {
					t.Fatalf("%s: %d rows, the setting was not there after setup", key, n)
				}
				wantIntegrity(t, e, check(t, e, in, rc))
			})
		}
	}
	// The receipt parameters lowered to 8 KiB with their MAC kept.
	t.Run("receipt_kdf/downgraded", func(t *testing.T) {
		e := newEnv(t)
		e.setUp(t)
		in := e.intake(t)
		_, rc := submit(t, in, validForm(), "de")
		if _, err := e.rawDB(t).Exec(`UPDATE settings SET value = ? WHERE key = 'receipt_kdf'`, []byte(weak.String())); err != nil {
			t.Fatal(err)
		}
		wantIntegrity(t, e, receipt(t, e, in, rc))
	})
}

// Setup writes every security setting with its MAC and the defaults: the
// office reads them as set, not as missing.
func TestSetupWritesSecuritySettings(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	for _, key := range []string{"totp_required_roles", "retention", "receipt_salt", "receipt_kdf", "receipt_kdf_sets", "receipt_pepper", "audit_keyed_from"} {
		var n int
		if err := e.rawDB(t).QueryRow(`SELECT count(*) FROM settings WHERE key = ? AND (mac IS NOT NULL OR key = 'audit_keyed_from')`, key).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s: %d MACed rows after setup (%v)", key, n, err)
		}
	}
	if roles, err := e.twoFactor.TOTPRequiredRoles(t.Context()); err != nil || len(roles) != 0 {
		t.Errorf("two-factor roles after setup: %v, %v", roles, err)
	}
	if set, err := e.retention.RetentionSettings(t.Context()); err != nil || set.ClosedMonths != reporting.DefaultRetentionClosedMonths {
		t.Errorf("retention after setup: %+v, %v", set, err)
	}
	if len(e.office.IntegrityAlerts()) != 0 {
		t.Errorf("alerts on a clean setup: %v", e.office.IntegrityAlerts())
	}
}

// Deleting audit_keyed_from (the record that the chain is keyed) does not
// turn the keyed chain back into an unkeyed one: verify fails and no
// entry is appended unkeyed.
func TestAuditKeyedFromDeletedIsRefused(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	e.login(t)
	if _, err := e.rawDB(t).Exec(`DELETE FROM settings WHERE key = 'audit_keyed_from'`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.VerifyAudit(t.Context()); err == nil {
		t.Error("audit verify passed without the record of its key")
	}
	if _, _, err := e.office.Login(t.Context(), adminName, adminPassword, ""); err == nil {
		t.Error("a login was audited into a chain whose key record is gone")
	}
}

func receiptSets(t *testing.T, e *env) []string {
	t.Helper()
	var raw []byte
	if err := e.rawDB(t).QueryRow(`SELECT value FROM settings WHERE key = 'receipt_kdf_sets'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var sets []string
	if err := json.Unmarshal(raw, &sets); err != nil {
		t.Fatal(err)
	}
	return sets
}

func reportKDF(t *testing.T, e *env, caseNo string) (string, []byte) {
	t.Helper()
	var params string
	var lookup []byte
	if err := e.rawDB(t).QueryRow(`SELECT kdf_params, lookup_hash FROM reports WHERE case_no = ?`, caseNo).Scan(&params, &lookup); err != nil {
		t.Fatal(err)
	}
	return params, lookup
}

// Raising the receipt parameters: new reports use the new set, an old
// receipt still opens (tried under each set in use) and is re-derived
// under the new set at that follow-up, after which the old set falls out
// of use. Lowering them again, by the command or by SQL, is refused.
func TestRaiseReceiptParams(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	floor := vault.Floor(fastParams)
	old := e.intake(t)
	_, oldRc := submit(t, old, validForm(), "de")
	var oldRow [2][]byte
	if err := e.rawDB(t).QueryRow(`SELECT value, mac FROM settings WHERE key = 'receipt_kdf'`).Scan(&oldRow[0], &oldRow[1]); err != nil {
		t.Fatal(err)
	}

	stronger := vault.Params{Time: 2, MemoryKiB: 9 * 1024, Threads: 1}
	if _, err := reporting.RaiseReceiptParams(ctx, e.db, e.anchor, floor, fastParams, e.clock.Now()); err == nil {
		t.Error("raising to the current parameters was accepted")
	}
	sets, err := reporting.RaiseReceiptParams(ctx, e.db, e.anchor, floor, stronger, e.clock.Now())
	if err != nil {
		t.Fatalf("raise: %v", err)
	}
	if len(sets) != 2 || sets[0] != stronger {
		t.Errorf("sets after raise: %v", sets)
	}
	if _, err := reporting.RaiseReceiptParams(ctx, e.db, e.anchor, floor, vault.Params{Time: 1, MemoryKiB: 10 * 1024, Threads: 1}, e.clock.Now()); err == nil {
		t.Error("fewer passes than the current parameters were accepted")
	}
	if !slices.Contains(e.auditActions(t), reporting.AuditReceiptKDF+":"+stronger.String()) {
		t.Error("the raise is not in the audit log")
	}

	in := e.intake(t) // the server's restart
	_, newRc := submit(t, in, validForm(), "de")
	if p, _ := reportKDF(t, e, newRc.CaseNo); p != "pepper1$"+stronger.String() {
		t.Errorf("new report derived with %s, want %s", p, stronger)
	}
	f := reporting.NewFollowup(in, e.clock.Now)
	if _, err := f.Open(ctx, newRc.Code.String()); err != nil {
		t.Fatalf("new receipt: %v", err)
	}
	before, lookup := reportKDF(t, e, oldRc.CaseNo)
	if before != "pepper1$"+fastParams.String() {
		t.Fatalf("old report's parameters before its follow-up: %s", before)
	}
	token, err := f.Open(ctx, oldRc.Code.String())
	if err != nil {
		t.Fatalf("an old receipt no longer opens after the raise: %v", err)
	}
	if v, err := f.View(ctx, token); err != nil || v.CaseNo != oldRc.CaseNo {
		t.Fatalf("old report's view: %+v, %v", v, err)
	}
	after, newLookup := reportKDF(t, e, oldRc.CaseNo)
	if after != "pepper1$"+stronger.String() || vault.Equal(lookup, newLookup) {
		t.Errorf("old report not re-derived at its follow-up: %s", after)
	}
	// It opens under the new set alone now, also after a restart, which
	// drops the old set as no report uses it.
	in = e.intake(t)
	if got := receiptSets(t, e); !slices.Equal(got, []string{stronger.String()}) {
		t.Errorf("sets in use after every report was upgraded: %v", got)
	}
	if _, err := reporting.NewFollowup(in, e.clock.Now).Open(ctx, oldRc.Code.String()); err != nil {
		t.Fatalf("upgraded receipt: %v", err)
	}

	// Rolling receipt_kdf back to its old row, MAC and all (from a
	// backup): weaker than a set in use, refused.
	if _, err := e.rawDB(t).Exec(`UPDATE settings SET value = ?, mac = ? WHERE key = 'receipt_kdf'`, oldRow[0], oldRow[1]); err != nil {
		t.Fatal(err)
	}
	in = e.intake(t)
	r, errs := validForm().Validate("de", today)
	if errs != nil {
		t.Fatal(errs)
	}
	_, err = in.Submit(ctx, r)
	wantIntegrity(t, e, err)
}

// A receipt from before the pepper is re-derived with the pepper at its
// next follow-up: afterwards a database copy alone cannot test it.
func TestLegacyReceiptUpgradedToPepper(t *testing.T) {
	e := newEnv(t)
	e.setUp(t)
	ctx := t.Context()
	in := e.intake(t)
	_, rc := submit(t, in, validForm(), "de")
	raw := e.rawDB(t)
	var id string
	var salt, sealed []byte
	if err := raw.QueryRow(`SELECT value FROM settings WHERE key = 'receipt_salt'`).Scan(&salt); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(`SELECT id, sealed_key FROM reports`).Scan(&id, &sealed); err != nil {
		t.Fatal(err)
	}
	_, admin := e.login(t)
	dk, err := firstTeam(t, e, admin).kp.OpenKey(sealed, vault.AD{Purpose: "report-key", Row: id})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := e.kdf.Receipt(ctx, rc.Code, salt, fastParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE reports SET lookup_hash = ?, reporter_key = ?, kdf_params = ? WHERE id = ?`,
		plain.Lookup, plain.Key.Wrap(dk, vault.AD{Purpose: "reporter-key", Row: id}), fastParams.String(), id); err != nil {
		t.Fatal(err)
	}
	legacy := []byte("legacy")
	if err := e.db.PutSettingMAC(ctx, "receipt_pepper", legacy, e.anchor.SettingMAC("receipt_pepper", legacy)); err != nil {
		t.Fatal(err)
	}
	if _, err := reporting.NewFollowup(e.intake(t), e.clock.Now).Open(ctx, rc.Code.String()); err != nil {
		t.Fatalf("legacy receipt: %v", err)
	}
	params, lookup := reportKDF(t, e, rc.CaseNo)
	if params != "pepper1$"+fastParams.String() || vault.Equal(lookup, plain.Lookup) {
		t.Errorf("legacy report not peppered at its follow-up: %s", params)
	}
}
