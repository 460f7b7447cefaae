package reporting

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// AuditIntegrity: a MAC did not match, a public key was a low-order point
// or stored KDF parameters were below the floor; the action was refused.
const AuditIntegrity = "integrity"

// Anchor is the integrity anchor outside the database: MAC keys derived
// from the server secret (vault.Secret). Every public key the crypto seals
// to, and every security setting, carries a MAC under one of them; a row a
// database writer inserted or changed has none that matches, and is
// refused before anything is sealed, routed or unlocked with it.
//
// One Anchor is shared by Intake and Office, so that a mismatch found while
// routing a report is shown to the admins on their next office page.
type Anchor struct {
	teams, users, settings *vault.MACKey
	pepper                 *vault.MACKey
	audit                  *vault.MACKey
	setup                  *vault.MACKey // derives the first-run setup link (office.go)

	mu     sync.Mutex
	alerts []string
}

// NewAnchor derives the anchor's keys from the server secret.
func NewAnchor(s *vault.Secret) *Anchor {
	return &Anchor{
		teams:    s.MACKey("team"),
		users:    s.MACKey("user"),
		settings: s.MACKey("setting"),
		pepper:   s.MACKey("receipt-pepper"),
		audit:    s.MACKey("audit-chain"),
		setup:    s.MACKey("setup-link"),
	}
}

// setupToken is the setup link's token for a stored random seed: an HMAC
// under a key only the server secret gives, so the seed alone (in the
// database and its backups) does not open the link.
func (a *Anchor) setupToken(seed []byte) string {
	return hex.EncodeToString(a.setup.Sum(seed))
}

// AuditKey is the key of the audit chain's HMACs, for the store.
func (a *Anchor) AuditKey() *vault.MACKey { return a.audit }

// TeamMAC is the MAC of a team row: name, public key and municipalities,
// everything that decides where a report goes and to whom it is sealed.
func (a *Anchor) TeamMAC(t Team) []byte {
	return a.teams.Sum([]byte(t.Name), t.PublicKey[:], []byte(strings.Join(t.Municipalities, ",")))
}

// UserMAC is the MAC of a user row: name, salt (which the envelopes' AD
// names) and public key (to which team keys are sealed).
func (a *Anchor) UserMAC(u User) []byte {
	return a.users.Sum([]byte(u.Name), u.Salt, u.PublicKey[:])
}

// SettingMAC is the MAC of a setting's key and value.
func (a *Anchor) SettingMAC(key string, value []byte) []byte {
	return a.settings.Sum([]byte(key), value)
}

// Alerts returns the integrity failures seen since the process started,
// oldest first, for the admins' office pages.
func (a *Anchor) Alerts() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.alerts)
}

// maxAlerts bounds the list: a writer who keeps tampering must not grow
// the process's memory; the audit log has every event.
const maxAlerts = 20

// refuse records an integrity failure (the admins' warning and an audit
// entry) and returns the error that refuses the action. what names the
// row, never any content.
func (a *Anchor) refuse(ctx context.Context, store AuditStore, now time.Time, what string) error {
	a.mu.Lock()
	if !slices.Contains(a.alerts, what) && len(a.alerts) < maxAlerts {
		a.alerts = append(a.alerts, what)
	}
	a.mu.Unlock()
	// The refusal stands even if the audit entry cannot be written.
	_ = store.AppendAudit(context.WithoutCancel(ctx), &AuditEntry{At: now, UserName: "system", Action: AuditIntegrity, Detail: what})
	return Errorf(EConflict, "error.integrity")
}

// teamSource is what reading checked teams needs: the teams, and the
// audit log a refused one is recorded in.
type teamSource interface {
	AuditStore
	Teams(ctx context.Context) ([]Team, error)
}

// settingSource is what reading a MACed setting needs.
type settingSource interface {
	AuditStore
	SettingMAC(ctx context.Context, key string) (value, mac []byte, err error)
}

// teams reads the teams and checks each one's MAC and public key. Every
// routing decision and every seal to a team key goes through here: a team
// inserted or changed by SQL is refused, as is a low-order key.
func (a *Anchor) verifiedTeams(ctx context.Context, store teamSource, now time.Time) ([]Team, error) {
	teams, err := store.Teams(ctx)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	for _, t := range teams {
		if err := a.checkTeam(t); err != nil {
			return nil, a.refuse(ctx, store, now, fmt.Sprintf("team:%d %v", t.ID, err))
		}
	}
	return teams, nil
}

// goodTeams reads the teams and returns those whose MAC and key check
// out; each other one is refused as in verifiedTeams (audited, shown to
// the admins) but does not stop the caller. Login uses it: a rogue team
// must not lock every admin out, or nobody would see the warning.
func (a *Anchor) goodTeams(ctx context.Context, store teamSource, now time.Time) ([]Team, error) {
	teams, err := store.Teams(ctx)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	good := teams[:0:0]
	for _, t := range teams {
		if err := a.checkTeam(t); err != nil {
			_ = a.refuse(ctx, store, now, fmt.Sprintf("team:%d %v", t.ID, err))
			continue
		}
		good = append(good, t)
	}
	return good, nil
}

func (a *Anchor) checkTeam(t Team) error {
	if !a.teams.Verify(t.MAC, []byte(t.Name), t.PublicKey[:], []byte(strings.Join(t.Municipalities, ","))) {
		return fmt.Errorf("mac mismatch")
	}
	if err := t.PublicKey.Check(); err != nil {
		return fmt.Errorf("low-order key")
	}
	return nil
}

// checkUser verifies a user row read from the store before its public key
// is sealed to or its key pair unwrapped.
func (a *Anchor) checkUser(ctx context.Context, store AuditStore, now time.Time, u User) error {
	why := ""
	switch {
	case !a.users.Verify(u.MAC, []byte(u.Name), u.Salt, u.PublicKey[:]):
		why = "mac mismatch"
	case u.PublicKey.Check() != nil:
		why = "low-order key"
	default:
		return nil
	}
	return a.refuse(ctx, store, now, fmt.Sprintf("user:%d %s", u.ID, why))
}

// setting reads a MACed setting; ENotFound if it is not there, the
// integrity error if its MAC does not match.
func (a *Anchor) setting(ctx context.Context, store settingSource, now time.Time, key string) ([]byte, error) {
	v, mac, err := store.SettingMAC(ctx, key)
	if err != nil {
		return nil, err
	}
	if !a.settings.Verify(mac, []byte(key), v) {
		return nil, a.refuse(ctx, store, now, "setting:"+key+" mac mismatch")
	}
	return v, nil
}

// recoveryPublic reads the recovery public key and checks its MAC and
// that it is no low-order point: every new team's key is sealed to it.
func (a *Anchor) recoveryPublic(ctx context.Context, store settingSource, now time.Time) (vault.PublicKey, error) {
	raw, err := a.setting(ctx, store, now, settingRecoveryPublicKey)
	if err != nil {
		return vault.PublicKey{}, err
	}
	if len(raw) != len(vault.PublicKey{}) {
		return vault.PublicKey{}, a.refuse(ctx, store, now, "setting:"+settingRecoveryPublicKey+" length")
	}
	pub := vault.PublicKey(raw)
	if pub.Check() != nil {
		return vault.PublicKey{}, a.refuse(ctx, store, now, "setting:"+settingRecoveryPublicKey+" low-order key")
	}
	return pub, nil
}

// checkParams refuses KDF parameters below the floor: a database writer
// who lowers them makes each guess of a password or receipt cheap.
func (a *Anchor) checkParams(ctx context.Context, store AuditStore, now time.Time, what string, p, floor vault.Params) error {
	if p.Below(floor) {
		return a.refuse(ctx, store, now, what+" kdf below floor")
	}
	return nil
}

// AuditSecretInit: an existing deployment adopted a server secret; the
// rows it MACed were trusted as they were (trust on first use).
const AuditSecretInit = "secret_init"

// AdoptSecret MACs the keys and security settings of a deployment that
// predates the server secret, under the office's anchor: every team, every
// user, the recovery public key and the two-factor and retention
// settings (with the defaults for those never stored, settings.go). It
// trusts them as they are now (trust on first use), so it
// first hands the list to confirm, which shows it to the operator and
// returns false to stop without changing anything. Low-order keys are
// refused, not trusted.
//
// keyChain starts keying the audit log with the new secret (the store's
// KeyAuditChain); it runs with the MACs and the adoption's own entry in
// one unit of work, so a failure anywhere leaves the deployment as it was
// and the command can simply run again.
func (o *Office) AdoptSecret(ctx context.Context, confirm func(trusted []string) bool, keyChain func(ctx context.Context) error) error {
	teams, err := o.store.Teams(ctx)
	if err != nil {
		return fmt.Errorf("secret init: %w", err)
	}
	users, err := o.store.UserRows(ctx)
	if err != nil {
		return fmt.Errorf("secret init: %w", err)
	}
	var trusted []string
	for _, t := range teams {
		if t.PublicKey.Check() != nil {
			return fmt.Errorf("secret init: team %d (%s) has a low-order public key: restore the database from a backup", t.ID, t.Name)
		}
		trusted = append(trusted, fmt.Sprintf("team %d %q key %x… municipalities %s", t.ID, t.Name, t.PublicKey[:8], strings.Join(t.Municipalities, ",")))
	}
	full := make([]User, 0, len(users))
	for _, r := range users {
		u, err := o.store.User(ctx, r.ID)
		if err != nil {
			return fmt.Errorf("secret init: %w", err)
		}
		if u.PublicKey.Check() != nil {
			return fmt.Errorf("secret init: user %d (%s) has a low-order public key: restore the database from a backup", u.ID, u.Name)
		}
		full = append(full, u)
		trusted = append(trusted, fmt.Sprintf("user %d %q (%s) key %x…", u.ID, u.Name, u.Role, u.PublicKey[:8]))
	}
	recovery, err := o.store.Setting(ctx, settingRecoveryPublicKey)
	if err != nil {
		return fmt.Errorf("secret init: recovery key: %w", err)
	}
	if len(recovery) != len(vault.PublicKey{}) || vault.PublicKey(recovery).Check() != nil {
		return fmt.Errorf("secret init: the stored recovery public key is not a valid key")
	}
	trusted = append(trusted, fmt.Sprintf("recovery public key %x…", recovery[:8]))
	settings := []SignedSetting{o.anchor.sign(settingRecoveryPublicKey, recovery)}
	// Every security setting gets its row and MAC now: from here on a
	// missing one is a deletion, not "never set" (settings.go).
	more, shown, err := o.adoptSettings(ctx)
	if err != nil {
		return fmt.Errorf("secret init: %w", err)
	}
	settings = append(settings, more...)
	trusted = append(trusted, shown...)
	if !confirm(trusted) {
		return Errorf(EConflict, "error.integrity.not_confirmed")
	}
	signed := o.anchor.signTeams(slices.Clone(teams))
	return o.store.Atomically(ctx, func(ctx context.Context) error {
		// Keyed from the next entry on, which is the adoption's own.
		if err := keyChain(ctx); err != nil {
			return err
		}
		if err := o.store.UpdateTeams(ctx, teams, signed); err != nil {
			return fmt.Errorf("secret init: teams: %w", err)
		}
		for _, u := range full {
			if err := o.store.SetUserMAC(ctx, u.ID, o.anchor.UserMAC(u)); err != nil {
				return fmt.Errorf("secret init: user %d: %w", u.ID, err)
			}
		}
		if err := o.store.PutSettingsMAC(ctx, settings); err != nil {
			return fmt.Errorf("secret init: settings: %w", err)
		}
		return o.audit(ctx, nil, AuditSecretInit, "", fmt.Sprintf("teams=%d users=%d", len(teams), len(full)))
	})
}
