// Package reporting is Meldestelle's domain: reports, cases, teams, users
// and sessions; the vocabularies of the classification scheme; validation;
// and the services that take a report in and show it to a counsellor. It
// imports no web or SQL package: storage and web depend on it, not the
// other way round.
//
// The office side is split into services per area (Office, Accounts,
// TwoFactor, Cases, Teams, …), each built with its own store interface.
// Only the Office holds decrypted keys: the team keys a login unwraps live
// in that session's Keyring, in the Office's session map, until logout,
// expiry, revocation or shutdown wipes them. The other services keep none;
// a method that needs a team key is given the acting user's *OfficeSession
// and takes the key from it, and a service that must end sessions, hand a
// rotated key to live sessions or check a password with the login lockout
// reaches the map only through a small unexported interface that *Office
// implements. On the public side the Followup keeps a report's data key
// for a follow-up token the same way, in its own map.
package reporting

import (
	"context"
	"slices"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// Roles of office users.
const (
	RoleAdmin        = "admin"
	RoleCounsellor   = "counsellor"
	RoleStatistician = "statistician"
)

// Team is a group of counsellors with its own key pair, responsible for the
// reports from its municipalities.
type Team struct {
	ID             int64
	Name           string
	PublicKey      vault.PublicKey
	Municipalities []string
	// MAC is the integrity anchor's MAC over name, public key and
	// municipalities (Anchor.TeamMAC); nil for a row nobody MACed.
	MAC []byte
	// RotatePending says the team's key is still to be rotated: a user
	// lost their copy while the acting admin did not hold the key. Not
	// under the MAC (see migration 0041): clearing it only delays the
	// rotation.
	RotatePending bool
}

// Covers reports whether reports from municipality m go to this team.
func (t Team) Covers(m string) bool { return slices.Contains(t.Municipalities, m) }

// User is an office account. Nothing stored here opens a report: the
// verifier is a hash, the user's private key is wrapped under a key
// derived from the password, and team keys are sealed to the user's
// public key.
type User struct {
	ID         int64
	Name       string
	Role       string
	Salt       []byte
	Params     vault.Params
	Verifier   []byte
	PublicKey  vault.PublicKey
	WrappedKey []byte // the user's private key, wrapped under the password's KEK
	Disabled   bool
	// MAC is the integrity anchor's MAC over name, salt and public key
	// (Anchor.UserMAC); nil for a row nobody MACed.
	MAC []byte
}

// WrappedTeamKey is a team's private key sealed to one holder.
type WrappedTeamKey struct {
	TeamID    int64
	PublicKey vault.PublicKey
	Wrapped   []byte
}

// StoredReport is a report row: plain routing data and ciphertexts.
type StoredReport struct {
	ID          string // random UUID, also the AD row of its ciphertexts
	CaseNo      string // "2026-0042", assigned by the store
	TeamID      int64
	TeamName    string // filled in when read
	ReceivedOn  string // "2026-11-24": a day, never a time
	LookupHash  []byte // from the receipt; unique
	KDFParams   string // argon2id parameters of the receipt derivation
	SealedKey   []byte // data key sealed to the team
	ReporterKey []byte // data key wrapped under the reporter key
	Content     []byte // the Report as JSON, sealed under the data key
	Status      string
	// No Language: the report's language is part of Content only (issue
	// 9): a plain column would tell every database copy who wrote in
	// Arabic or Turkish, which in a small town narrows down who it was.
	// ContentDeletedOn is the day retention deleted the content ("" while
	// it is there); the ciphertexts and keys are empty then.
	ContentDeletedOn string
}

// FirstAdmin is everything the first start creates in one transaction.
type FirstAdmin struct {
	SetupTokenHash       []byte // must match the stored one; deleted with the setup
	Team                 Team
	RecoveryPublicKey    vault.PublicKey // kept in settings, for sealing later teams' keys
	RecoveryPublicKeyMAC []byte          // Anchor.SettingMAC of the recovery public key
	RecoveryKey          []byte          // the team key sealed to the recovery key pair
	User                 User
	UserTeamKey          []byte          // the team key sealed to the user's key pair
	Settings             []SignedSetting // security settings with their MACs, written with the rest
}

// SignedSetting is a setting with the integrity anchor's MAC over its key
// and value.
type SignedSetting struct {
	Key   string
	Value []byte
	MAC   []byte
}

// Session is a logged-in office session as stored: the token's hash only.
type Session struct {
	TokenHash []byte
	UserID    int64
	Created   time.Time
	LastSeen  time.Time
}

// Page selects a slice of a list.
type Page struct {
	Limit, Offset int
}

// Store is everything the domain needs from persistence, the union of the
// services' store interfaces. storage.DB implements it; every method is
// safe for concurrent use. Only the composition root (package wiring)
// takes it whole; each service is given its own narrower interface.
type Store interface {
	AuditStore
	AccountStore
	TOTPStore
	CaseStore
	InterpreterStore
	TeamStore
	FollowupStore
	AttachmentStore
	OutboxStore
	StatisticsStore
	RetentionStore
	ReminderStore      // issue 13: reminders
	ReminderMailStore  // issue 13: the reminder mail
	ReplyTemplateStore // issue 13: reply templates
	NetworkExportStore // issue 14: network export

	// Setting returns a deployment setting, or an ENotFound error.
	Setting(ctx context.Context, key string) ([]byte, error)
	// PutSettingOnce stores a setting unless one is already there and
	// returns the value now stored, so that two processes starting at once
	// agree on one salt.
	PutSettingOnce(ctx context.Context, key string, value []byte) ([]byte, error)
	// SettingMAC returns a setting and its MAC (nil when none is
	// stored), or an ENotFound error.
	SettingMAC(ctx context.Context, key string) (value, mac []byte, err error)
	// PutSettingMAC stores or replaces a setting with its MAC.
	PutSettingMAC(ctx context.Context, key string, value, mac []byte) error
	// PutSetting stores or replaces a setting.
	PutSetting(ctx context.Context, key string, value []byte) error
	// PutSettingMACOnce stores a setting with its MAC unless one is
	// there already, and returns the value and MAC now stored.
	PutSettingMACOnce(ctx context.Context, key string, value, mac []byte) (storedValue, storedMAC []byte, err error)
	// PutSettingsMAC stores or replaces settings with their MACs in one
	// transaction.
	PutSettingsMAC(ctx context.Context, settings []SignedSetting) error
	// UpgradeReceipt replaces a report's lookup hash, reporter key and
	// KDF parameters with those of r, if its lookup hash is still old.
	UpgradeReceipt(ctx context.Context, id string, old []byte, r StoredReport) error
	// CountReportsByKDF counts the reports whose kdf_params is one of
	// params.
	CountReportsByKDF(ctx context.Context, params []string) (int, error)

	// CountUsers returns how many office users exist.
	CountUsers(ctx context.Context) (int, error)
	// CreateFirstAdmin creates the first team, its recovery envelope and the
	// first admin, and consumes the setup token; ENotFound if the token is
	// not the stored one, EConflict if users exist already.
	CreateFirstAdmin(ctx context.Context, a FirstAdmin) error
	// Teams lists all teams.
	Teams(ctx context.Context) ([]Team, error)
	// UserByName finds an enabled or disabled user; ENotFound if none.
	UserByName(ctx context.Context, name string) (User, error)
	// User finds a user by ID; ENotFound if none.
	User(ctx context.Context, id int64) (User, error)
	// SetUserMAC stores the integrity anchor's MAC of a user row
	// (adopting a server secret); ENotFound if there is no such user.
	SetUserMAC(ctx context.Context, userID int64, mac []byte) error
	// UserTeamKeys lists the team keys sealed to a user.
	UserTeamKeys(ctx context.Context, userID int64) ([]WrappedTeamKey, error)
	// RecoveryKeys lists the team keys sealed to the recovery key pair.
	RecoveryKeys(ctx context.Context) ([]WrappedTeamKey, error)

	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// TouchSession records activity on a session; EUnauthorized if it is
	// gone (ended elsewhere: the user must log in again).
	TouchSession(ctx context.Context, tokenHash []byte, at time.Time) error
	// DeleteSession removes a session.
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// DeleteSessionsBefore removes sessions last seen before t (all of
	// them at start-up, since their keys died with the old process).
	DeleteSessionsBefore(ctx context.Context, t time.Time) error

	// CreateReport stores a report durably and sets its CaseNo.
	CreateReport(ctx context.Context, r *StoredReport) error
	// Reports lists the reports of the given teams, newest first, and the
	// total number of them.
	Reports(ctx context.Context, teamIDs []int64, p Page) ([]StoredReport, int, error)
	// Report finds one report; ENotFound if none.
	Report(ctx context.Context, id string) (StoredReport, error)
}
