package reporting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Security settings (issue 9). Once the office is set up, every one of
// them exists with a MAC under the server secret: they are written with
// their defaults at setup (and at `secret init` adoption), and a missing
// or unMACed row is an integrity failure, never the default. Otherwise a
// database writer could delete totp_required_roles to drop mandatory
// two-factor, or retention to reset how long content is kept.
//
// Covered here: totp_required_roles, retention, receipt_salt, receipt_kdf
// (the parameters for new reports), receipt_kdf_sets (every parameter set
// reports may still be derived with) and receipt_pepper. The audit
// chain's audit_keyed_from carries its own MAC (storage/audit.go) and is
// refused there when missing.

// settingReceiptKDFSets lists, as a JSON array of Params strings, every
// set of receipt parameters that reports may still be derived with; the
// current one (receipt_kdf) is always among them. MACed: a receipt
// lookup is tried under each, so a writer must not add a cheap one.
const settingReceiptKDFSets = "receipt_kdf_sets"

// maxReceiptSets bounds the sets in use: an unknown receipt costs one
// argon2id per set (two with legacy reports), so raising again waits
// until old reports have been upgraded at their follow-ups.
const maxReceiptSets = 4

// sign returns a setting with its MAC.
func (a *Anchor) sign(key string, value []byte) SignedSetting {
	return SignedSetting{Key: key, Value: value, MAC: a.SettingMAC(key, value)}
}

// requiredSettingSource is what reading a required security setting
// needs: the setting, and whether the office is set up yet.
type requiredSettingSource interface {
	settingSource
	CountUsers(ctx context.Context) (int, error)
}

// requiredSetting reads a security setting that must exist once the office
// is set up. Before setup (no user yet) a missing one is ENotFound, and
// the caller uses its default; after it, a missing row means someone
// deleted it, which is refused like a MAC mismatch.
func (a *Anchor) requiredSetting(ctx context.Context, store requiredSettingSource, now time.Time, key string) ([]byte, error) {
	v, err := a.setting(ctx, store, now, key)
	if ErrorCode(err) != ENotFound {
		return v, err
	}
	n, cerr := store.CountUsers(ctx)
	if cerr != nil {
		return nil, fmt.Errorf("setting %s: %w", key, cerr)
	}
	if n == 0 {
		return nil, err
	}
	return nil, a.refuse(ctx, store, now, "setting:"+key+" missing")
}

// defaultSettings are the office's security settings as setup writes
// them: no role must use two-factor yet, the default retention periods.
func (a *Anchor) defaultSettings() []SignedSetting {
	retention, _ := json.Marshal(RetentionSettings{ClosedMonths: DefaultRetentionClosedMonths, NewMonths: DefaultRetentionNewMonths})
	return []SignedSetting{a.sign(settingTOTPRoles, []byte("")), a.sign(settingRetention, retention)}
}

// receiptParams is the deployment's receipt derivation, as verified.
type receiptParams struct {
	salt    []byte
	current vault.Params   // for new reports
	sets    []vault.Params // every set in use, current first
	legacy  bool           // reports without the pepper may exist
}

func encodeSets(sets []vault.Params) []byte {
	s := make([]string, len(sets))
	for i, p := range sets {
		s[i] = p.String()
	}
	b, _ := json.Marshal(s)
	return b
}

// receiptSettingWriter is what ensureReceiptSettings writes with.
type receiptSettingWriter interface {
	PutSettingMACOnce(ctx context.Context, key string, value, mac []byte) (storedValue, storedMAC []byte, err error)
}

// ensureReceiptSettings creates the receipt settings with their MACs on
// a deployment not set up yet, each unless it is there already (two
// processes starting at once agree on one salt).
func ensureReceiptSettings(ctx context.Context, store receiptSettingWriter, anchor *Anchor, configured vault.Params) error {
	for _, s := range []SignedSetting{
		anchor.sign(settingReceiptSalt, vault.NewSalt()),
		anchor.sign(settingReceiptParams, []byte(configured.String())),
		anchor.sign(settingReceiptKDFSets, encodeSets([]vault.Params{configured})),
		// Nothing was derived without the pepper on a new deployment.
		anchor.sign(settingReceiptPepper, []byte("pepper")),
	} {
		if _, _, err := store.PutSettingMACOnce(ctx, s.Key, s.Value, s.MAC); err != nil {
			return fmt.Errorf("receipt settings: %w", err)
		}
	}
	return nil
}

// loadReceiptParams reads and checks the receipt settings: each MACed,
// every parameter set at or above the floor, the current one among the
// sets and no set stronger than it (a writer who restores an older,
// weaker receipt_kdf row with its MAC would otherwise lower new
// receipts). On a deployment without users it creates them first. Sets no
// report uses any more are dropped from the list.
func loadReceiptParams(ctx context.Context, store IntakeStore, anchor *Anchor, configured, floor vault.Params, now time.Time) (receiptParams, error) {
	var rp receiptParams
	n, err := store.CountUsers(ctx)
	if err != nil {
		return rp, err
	}
	if n == 0 {
		if err := ensureReceiptSettings(ctx, store, anchor, configured); err != nil {
			return rp, err
		}
	}
	read := func(key string) ([]byte, error) {
		v, err := anchor.setting(ctx, store, now, key)
		if ErrorCode(err) == ENotFound {
			// Created above or at setup: gone means deleted.
			return nil, anchor.refuse(ctx, store, now, "setting:"+key+" missing")
		}
		return v, err
	}
	if rp.salt, err = read(settingReceiptSalt); err != nil {
		return rp, err
	}
	raw, err := read(settingReceiptParams)
	if err != nil {
		return rp, err
	}
	if rp.current, err = vault.ParseParams(string(raw)); err != nil {
		return rp, anchor.refuse(ctx, store, now, "setting:"+settingReceiptParams+" unreadable")
	}
	if raw, err = read(settingReceiptKDFSets); err != nil {
		return rp, err
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return rp, anchor.refuse(ctx, store, now, "setting:"+settingReceiptKDFSets+" unreadable")
	}
	rp.sets = []vault.Params{rp.current}
	listed := false
	for _, s := range list {
		p, err := vault.ParseParams(s)
		if err != nil {
			return rp, anchor.refuse(ctx, store, now, "setting:"+settingReceiptKDFSets+" unreadable")
		}
		if p == rp.current {
			listed = true
		} else if !slices.Contains(rp.sets, p) {
			rp.sets = append(rp.sets, p)
		}
	}
	for _, p := range rp.sets {
		if err := anchor.checkParams(ctx, store, now, "setting:"+settingReceiptKDFSets, p, floor); err != nil {
			return rp, err
		}
		if rp.current.Below(p) {
			return rp, anchor.refuse(ctx, store, now, "setting:"+settingReceiptParams+" weaker than a set in use")
		}
	}
	if !listed {
		return rp, anchor.refuse(ctx, store, now, "setting:"+settingReceiptParams+" not among the sets in use")
	}
	if raw, err = read(settingReceiptPepper); err != nil {
		return rp, err
	}
	rp.legacy = string(raw) == "legacy"
	return rp, pruneReceiptSets(ctx, store, anchor, &rp)
}

// pruneReceiptSets drops the sets no report is derived with any more, so
// that an unknown receipt costs no more derivations than needed.
func pruneReceiptSets(ctx context.Context, store IntakeStore, anchor *Anchor, rp *receiptParams) error {
	keep := rp.sets[:1:1]
	for _, p := range rp.sets[1:] {
		n, err := store.CountReportsByKDF(ctx, []string{p.String(), receiptPepperV1 + p.String()})
		if err != nil {
			return fmt.Errorf("receipt parameters in use: %w", err)
		}
		if n > 0 {
			keep = append(keep, p)
		}
	}
	if len(keep) == len(rp.sets) {
		return nil
	}
	rp.sets = keep
	s := anchor.sign(settingReceiptKDFSets, encodeSets(keep))
	if err := store.PutSettingsMAC(ctx, []SignedSetting{s}); err != nil {
		return fmt.Errorf("receipt parameters in use: %w", err)
	}
	return nil
}

// AuditReceiptKDF: the receipt parameters for new reports were raised
// (detail: the new parameters).
const AuditReceiptKDF = "receipt_kdf_raised"

// RaiseReceiptParams makes p the receipt parameters of new reports (for
// `meldestelle kdf raise`, with the server stopped). p must be at least
// the floor and at least the current parameters in memory and passes,
// and differ from them. Reports made before keep their parameters until
// their reporter's next successful follow-up re-derives them under p;
// until then their set stays in use, and each unknown receipt costs one
// argon2id per set. It returns the sets in use afterwards.
func RaiseReceiptParams(ctx context.Context, store IntakeStore, anchor *Anchor, floor, p vault.Params, now time.Time) ([]vault.Params, error) {
	// A database that cannot be read is told apart from one not set up,
	// and keeps its cause for errors.Is.
	n, err := store.CountUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("raise receipt parameters: count users: %w", err)
	}
	if n == 0 {
		return nil, errors.New("raise receipt parameters: the office is not set up yet")
	}
	rp, err := loadReceiptParams(ctx, store, anchor, p, floor, now)
	if err != nil {
		return nil, fmt.Errorf("raise receipt parameters: %w", err)
	}
	switch {
	case p.Below(floor):
		return nil, fmt.Errorf("raise receipt parameters: %s is below the floor %s", p, floor)
	case p == rp.current:
		return nil, fmt.Errorf("raise receipt parameters: %s are the current parameters already", p)
	case p.Below(rp.current):
		return nil, fmt.Errorf("raise receipt parameters: %s is weaker than the current %s in memory or passes; parameters can only be raised", p, rp.current)
	case len(rp.sets) >= maxReceiptSets:
		return nil, fmt.Errorf("raise receipt parameters: %d parameter sets are still in use by reports not yet upgraded; wait until their reporters have come back (each set costs one argon2id per unknown receipt)", len(rp.sets))
	}
	sets := append([]vault.Params{p}, rp.sets...)
	signed := []SignedSetting{
		anchor.sign(settingReceiptKDFSets, encodeSets(sets)),
		anchor.sign(settingReceiptParams, []byte(p.String())),
	}
	// The parameters and the entry that records them commit together: no
	// raise stands unrecorded, and a failed entry leaves the old ones.
	err = store.Atomically(ctx, func(ctx context.Context) error {
		if err := store.PutSettingsMAC(ctx, signed); err != nil {
			return err
		}
		if err := store.AppendAudit(ctx, &AuditEntry{At: now, UserName: "system", Action: AuditReceiptKDF, Detail: p.String()}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("raise receipt parameters: %w", err)
	}
	return sets, nil
}

// adoptSettings lists the security settings `secret init` is about to
// MAC: those stored as they are, the missing ones with their defaults
// (which is what the deployment ran with), and the receipt settings.
func (o *Office) adoptSettings(ctx context.Context) ([]SignedSetting, []string, error) {
	var out []SignedSetting
	var shown []string
	for _, d := range o.anchor.defaultSettings() {
		v, err := o.store.Setting(ctx, d.Key)
		switch {
		case ErrorCode(err) == ENotFound:
			out = append(out, d)
			shown = append(shown, fmt.Sprintf("setting %s = %q (none stored: the default)", d.Key, d.Value))
			continue
		case err != nil:
			return nil, nil, err
		}
		out = append(out, o.anchor.sign(d.Key, v))
		shown = append(shown, fmt.Sprintf("setting %s = %q", d.Key, v))
	}
	salt, err := o.store.Setting(ctx, settingReceiptSalt)
	if ErrorCode(err) == ENotFound {
		// Never started as a server: no receipt was issued.
		salt = vault.NewSalt()
	} else if err != nil {
		return nil, nil, err
	}
	params := o.params
	raw, err := o.store.Setting(ctx, settingReceiptParams)
	if err == nil {
		if params, err = vault.ParseParams(string(raw)); err != nil {
			return nil, nil, fmt.Errorf("the stored receipt parameters are unreadable: %w", err)
		}
	} else if ErrorCode(err) != ENotFound {
		return nil, nil, err
	}
	if params.Below(o.floor) {
		return nil, nil, fmt.Errorf("the stored receipt parameters %s are below the floor %s: restore the database from a backup", params, o.floor)
	}
	// Every report from before the secret was derived without the pepper.
	pepper := []byte("pepper")
	if n, err := o.store.CountReportsByKDF(ctx, []string{params.String()}); err != nil {
		return nil, nil, err
	} else if n > 0 {
		pepper = []byte("legacy")
	}
	out = append(out,
		o.anchor.sign(settingReceiptSalt, salt),
		o.anchor.sign(settingReceiptParams, []byte(params.String())),
		o.anchor.sign(settingReceiptKDFSets, encodeSets([]vault.Params{params})),
		o.anchor.sign(settingReceiptPepper, pepper))
	shown = append(shown, fmt.Sprintf("receipt parameters %s, salt %x…, receipts %s", params, salt[:4], map[string]string{"pepper": "all peppered", "legacy": "from before the pepper exist"}[string(pepper)]))
	return out, shown, nil
}
