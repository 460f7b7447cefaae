// Package wiring builds every service of package reporting on one store and
// hands them to the web layer. It is the composition root that the server,
// the load tool and the web tests share: the one place that sees the whole
// store, so that each service still receives only its own store interface.
package wiring

import (
	"context"
	"fmt"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting"
	"github.com/planb-ruhr/meldestelle/reporting/vault"
	"github.com/planb-ruhr/meldestelle/reporting/web"
)

// Config is what the services are built with besides the store.
type Config struct {
	KDF    *vault.KDF
	Params vault.Params // argon2id parameters for new receipts and users
	Anchor *reporting.Anchor
	Now    func() time.Time
	// StatsK is the small-cell threshold of the statistics; 0: StatsK.
	StatsK int
	// Notify configures the notification mails; the zero value queues
	// them and sends none (commands other than serve).
	Notify reporting.NotifierConfig
}

// Services are the domain's services on one store.
type Services struct {
	Intake    *reporting.Intake
	Office    *reporting.Office
	Accounts  *reporting.Accounts
	TwoFactor *reporting.TwoFactor
	Teams     *reporting.Teams
	Cases     *reporting.Cases
	Reminders *reporting.Reminders
	Replies   *reporting.Replies
	// ReplyTemplates: issue 13.
	ReplyTemplates *reporting.ReplyTemplates
	Attachments    *reporting.Attachments
	Stats          *reporting.Stats
	Retention      *reporting.Retention
	Settings       *reporting.Settings
	AuditTrail     *reporting.AuditTrail
	Notifier       *reporting.Notifier
	CaseExports    *reporting.CaseExports
	// NetworkExports: issue 14, the record export for the network.
	NetworkExports *reporting.NetworkExports
}

// New builds every service on store.
func New(ctx context.Context, store reporting.Store, cfg Config) (*Services, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Notify.Now == nil {
		cfg.Notify.Now = cfg.Now
	}
	if cfg.StatsK == 0 {
		cfg.StatsK = reporting.StatsK
	}
	now := cfg.Now
	s := &Services{Notifier: reporting.NewNotifier(store, cfg.Notify)}
	var err error
	if s.Intake, err = reporting.NewIntake(ctx, store, cfg.KDF, cfg.Params, cfg.Anchor, s.Notifier, now); err != nil {
		return nil, fmt.Errorf("intake: %w", err)
	}
	if s.Stats, err = reporting.NewStats(store, cfg.StatsK, now); err != nil {
		return nil, fmt.Errorf("statistics: %w", err)
	}
	if s.NetworkExports, err = reporting.NewNetworkExports(store, cfg.StatsK, now); err != nil {
		return nil, fmt.Errorf("network export: %w", err)
	}
	// The Office holds the sessions and their keys; the services that
	// must reach other live sessions get it through a narrow interface.
	s.Office = reporting.NewOffice(store, cfg.KDF, cfg.Params, cfg.Anchor, now)
	s.Accounts = reporting.NewAccounts(store, cfg.KDF, cfg.Params, cfg.Anchor, s.Office, s.Office, now)
	s.TwoFactor = reporting.NewTwoFactor(store, cfg.Anchor, s.Office, now)
	s.Teams = reporting.NewTeams(store, s.Office, cfg.Anchor, now)
	s.Cases = reporting.NewCases(store, cfg.Anchor, now)
	s.Reminders = reporting.NewReminders(store, now)
	s.Replies = reporting.NewReplies(store, now)
	s.ReplyTemplates = reporting.NewReplyTemplates(store, now)
	s.Attachments = reporting.NewAttachments(store, now)
	s.Retention = reporting.NewRetention(store, cfg.Anchor, now)
	s.Settings = reporting.NewSettings(store, now)
	s.AuditTrail = reporting.NewAuditTrail(store)
	s.CaseExports = reporting.NewCaseExports(store, now)
	return s, nil
}

// Web is what the web layer is given: each service behind the interface
// the handlers declare for it. followup holds the reporters' tokens; the
// caller keeps it too, for the reaper.
func (s *Services) Web(followup *reporting.Followup) web.Services {
	return web.Services{
		Sessions:       s.Office,
		Accounts:       s.Accounts,
		TwoFactor:      s.TwoFactor,
		Teams:          s.Teams,
		Cases:          s.Cases,
		Reminders:      s.Reminders,
		Replies:        s.Replies,
		ReplyTemplates: s.ReplyTemplates,
		Attachments:    s.Attachments,
		Statistics:     s.Stats,
		Retention:      s.Retention,
		Settings:       s.Settings,
		Audit:          s.AuditTrail,
		Notifications:  s.Notifier,
		Intake:         s.Intake,
		Followup:       followup,
		CaseExports:    s.CaseExports,
		NetworkExport:  s.NetworkExports,
	}
}

// Close ends every office session, wiping its keys.
func (s *Services) Close() { s.Office.Close() }
