package reporting

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// ReapEvery is how often serve's reaper looks for expired sessions and
// follow-up tokens: a key outlives its session by at most this long.
const ReapEvery = time.Minute

// Reaper ends what has expired but nobody closed: office sessions past
// IdleTimeout or AbsoluteTimeout, reporters' follow-up tokens past
// FollowupIdle and invitations past InvitationLifetime. Each holds keys (a session its team keys, a token a
// report's data key); an abandoned one would otherwise keep them in
// memory, where a memory dump or an attacker on the host finds them.
type Reaper struct {
	sessions    SessionReaper
	invitations InvitationReaper
	followup    *Followup // nil: no public side in this process
	logger      *slog.Logger
}

// SessionReaper ends expired office sessions and says how many; the
// *Office is one.
type SessionReaper interface {
	ReapSessions(ctx context.Context) (int, error)
}

// InvitationReaper ends expired invitations; the accounts service is one.
type InvitationReaper interface {
	ReapInvitations(ctx context.Context) error
}

// NewReaper returns a reaper for the office's sessions, the expired
// invitations and the follow-up service's tokens (f may be nil).
func NewReaper(sessions SessionReaper, invitations InvitationReaper, f *Followup, logger *slog.Logger) *Reaper {
	if logger == nil {
		logger = slog.Default()
	}
	return &Reaper{sessions: sessions, invitations: invitations, followup: f, logger: logger}
}

// Reap ends every expired session and token once, using the services'
// own clocks, and returns how many of each it ended.
func (r *Reaper) Reap(ctx context.Context) (sessions, tokens int, err error) {
	sessions, err = r.sessions.ReapSessions(ctx)
	// Expired invitations go on the same timer, not only when an admin
	// happens to open the users page: their provisional keys (see
	// AcceptInvitation) must not outlive the link.
	err = errors.Join(err, r.invitations.ReapInvitations(ctx))
	if r.followup != nil {
		tokens = r.followup.ReapTokens()
	}
	return sessions, tokens, err
}

// Run reaps every interval until ctx ends; errors are logged and the
// next run tries again.
func (r *Reaper) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, _, err := r.Reap(ctx); err != nil && ctx.Err() == nil {
			r.logger.Error("reaper: sessions", "err", err)
		}
	}
}
