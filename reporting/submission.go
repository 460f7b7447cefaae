package reporting

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"sync"
	"time"

	"github.com/planb-ruhr/meldestelle/reporting/vault"
)

// SubmissionWindow is how long the receipt of a report stays in memory
// for a repeat of its form (a reload of the receipt page, a double tap,
// back and send again), so that the repeat shows the same code. A few
// minutes cover every reload a person makes on purpose or by accident;
// held longer, the code would sit in memory, where a memory dump finds
// it, for no one's benefit.
const SubmissionWindow = 10 * time.Minute

// SubmissionTokenLife is how long a form's submission token is accepted,
// and so how long a used token is remembered (by a keyed hash only). A
// token older than that is refused even if it was never used: a token
// forgotten as used could otherwise make a second report from a browser
// that restores a day-old tab and sends it again.
const SubmissionTokenLife = 24 * time.Hour

// maxHeldReceipts bounds the receipt codes held for repeats. A flood of
// real reports (each with a solved captcha and an argon2id run) pushes
// the oldest code out early; a repeat of it then says "already received"
// instead of showing the code, and never makes a second report.
const maxHeldReceipts = 1000

// maxUsedSubmissions bounds the remembered tokens, some 120 bytes each:
// 20,000 is far beyond the reports of a day for any office. Past it the
// oldest is forgotten; a repeat of that token then finds it unknown, but
// only within its day and only under a flood of real reports.
const maxUsedSubmissions = 20000

// submissionTokenSize is the length of a decoded token: 16 random bytes,
// the issue time (8 bytes, Unix seconds) and the HMAC-SHA256 tag.
const submissionTokenSize = 16 + 8 + 32

// submissionEncoding writes tokens with letters and digits only, so
// that html/template leaves them alone and the pre-rendered form can
// splice them in like a captcha ID.
var submissionEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Submission states: what a submission token says about its form.
const (
	// SubmissionFresh: the form has not been sent yet; the claim holds
	// the token until Done or Release.
	SubmissionFresh = iota
	// SubmissionRepeat: the report was stored within SubmissionWindow;
	// the claim's Receipt is the one shown then.
	SubmissionRepeat
	// SubmissionReceived: the report was stored, longer ago than the
	// window (or its code was pushed out); only that is known.
	SubmissionReceived
	// SubmissionInvalid: a token this process did not issue (forged,
	// from before a restart) or older than SubmissionTokenLife.
	SubmissionInvalid
)

// HeldReceipt is what a repeat of a stored form shows again.
type HeldReceipt struct {
	Code string // the receipt code as the receipt page showed it
	PDF  bool   // a PDF went with the report: the page warns again
}

// Submissions makes the report form's submission happen once per form:
// each rendered form carries a token (Issue), and a token is claimed
// before its report is stored. Everything lives in this process's memory
// only; nothing is written to the database or a log. The tokens are
// MACed with a key made at start, so a token not issued here is refused
// before it takes any memory, and a restart invalidates them all.
type Submissions struct {
	mac  *vault.MACKey // tags tokens
	seen *vault.MACKey // keys the map: a keyed hash, never the token
	now  func() time.Time

	mu      sync.Mutex
	entries map[[32]byte]*submission
	order   [][32]byte // stored submissions, oldest first
	held    int        // order[held:] may still hold their code
}

type submission struct {
	inFlight  chan struct{} // closed when the claim ends; nil once stored
	code      []byte        // the receipt while held; wiped after the window
	pdf       bool
	heldUntil time.Time
	usedUntil time.Time
}

// NewSubmissions returns an empty guard with a fresh key.
func NewSubmissions(now func() time.Time) *Submissions {
	// A fresh secret per process: the tokens need not outlive it, and
	// no copy of the database or of the secret file can make one.
	s := vault.NewSecret()
	return &Submissions{mac: s.MACKey("submission-token"), seen: s.MACKey("submission-seen"), now: now,
		entries: map[[32]byte]*submission{}}
}

// Issue returns a new token for one rendered form.
func (s *Submissions) Issue() string {
	b := make([]byte, 24, submissionTokenSize)
	rand.Read(b[:16])
	binary.BigEndian.PutUint64(b[16:], uint64(s.now().Unix()))
	return submissionEncoding.EncodeToString(append(b, s.mac.Sum(b)...))
}

// Valid reports whether token is one this process issued that is still
// accepted: the language switch keeps such a token, and replaces any
// other with a new one.
func (s *Submissions) Valid(token string) bool {
	_, ok := s.parse(token)
	return ok
}

// parse checks a token's tag and age and returns its map key.
func (s *Submissions) parse(token string) ([32]byte, bool) {
	var key [32]byte
	if len(token) != submissionEncoding.EncodedLen(submissionTokenSize) {
		return key, false
	}
	b, err := submissionEncoding.DecodeString(token)
	// The decoder ignores the last character's unused bits: only the
	// spelling Issue writes is taken, so one token has one spelling.
	if err != nil || len(b) != submissionTokenSize || submissionEncoding.EncodeToString(b) != token || !s.mac.Verify(b[24:], b[:24]) {
		return key, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[16:24])), 0)
	if s.now().Sub(issued) > SubmissionTokenLife {
		return key, false
	}
	copy(key[:], s.seen.Sum(b[:24]))
	return key, true
}

// SubmissionClaim is the answer to a claimed token: its state and, for
// a fresh one, the hold on it until Done or Release.
type SubmissionClaim struct {
	State   int         // a Submission* state
	Receipt HeldReceipt // with SubmissionRepeat
	s       *Submissions
	key     [32]byte
	e       *submission // with SubmissionFresh, until Done or Release
}

// Claim looks a token up. A fresh token is marked in flight for the
// caller; a second claim of it meanwhile (a double tap) waits until the
// first ends and then sees the report it stored, or, if it stored none,
// takes over. It fails only when ctx ends while waiting.
func (s *Submissions) Claim(ctx context.Context, token string) (*SubmissionClaim, error) {
	key, ok := s.parse(token)
	if !ok {
		return &SubmissionClaim{State: SubmissionInvalid}, nil
	}
	for {
		s.mu.Lock()
		s.prune(s.now())
		e := s.entries[key]
		switch {
		case e == nil:
			e = &submission{inFlight: make(chan struct{})}
			s.entries[key] = e
			s.mu.Unlock()
			return &SubmissionClaim{State: SubmissionFresh, s: s, key: key, e: e}, nil
		case e.inFlight != nil:
			wait := e.inFlight
			s.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		case e.code != nil:
			r := HeldReceipt{Code: string(e.code), PDF: e.pdf}
			s.mu.Unlock()
			return &SubmissionClaim{State: SubmissionRepeat, Receipt: r}, nil
		default:
			s.mu.Unlock()
			return &SubmissionClaim{State: SubmissionReceived}, nil
		}
	}
}

// Done records that the claimed form's report is stored, with the
// receipt its page shows, and ends the claim.
func (c *SubmissionClaim) Done(r HeldReceipt) {
	if c == nil || c.e == nil {
		return
	}
	s, e := c.s, c.e
	c.e = nil
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e.code, e.pdf = []byte(r.Code), r.PDF
	e.heldUntil, e.usedUntil = now.Add(SubmissionWindow), now.Add(SubmissionTokenLife)
	close(e.inFlight)
	e.inFlight = nil
	s.order = append(s.order, c.key)
	s.prune(now)
}

// Release ends a claim whose form stored nothing (an error, a wrong
// captcha, a refused file): the token may be sent again. After Done it
// does nothing, so it can be deferred.
func (c *SubmissionClaim) Release() {
	if c == nil || c.e == nil {
		return
	}
	s, e := c.s, c.e
	c.e = nil
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, c.key)
	close(e.inFlight)
}

// prune wipes the codes past their window and forgets the tokens past
// their life, and the oldest of each beyond the bounds; s.mu must be held.
// Both deadlines grow in the order of storing, so the oldest are in front.
func (s *Submissions) prune(now time.Time) {
	for len(s.order) > 0 {
		e := s.entries[s.order[0]]
		if len(s.order) <= maxUsedSubmissions && now.Before(e.usedUntil) {
			break
		}
		wipe(e)
		delete(s.entries, s.order[0])
		s.order = s.order[1:]
		s.held = max(s.held-1, 0)
	}
	for s.held < len(s.order) {
		e := s.entries[s.order[s.held]]
		if len(s.order)-s.held <= maxHeldReceipts && now.Before(e.heldUntil) {
			break
		}
		wipe(e)
		s.held++
	}
}

// wipe overwrites a held receipt code: the window has ended.
func wipe(e *submission) {
	clear(e.code)
	e.code = nil
}

// Reap wipes the codes whose window has ended and forgets expired
// tokens, without waiting for the next submission; serve's reaper runs
// it with the follow-up tokens (Followup.ReapTokens).
func (s *Submissions) Reap() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune(s.now())
}

// Close wipes every held code, for shutdown.
func (s *Submissions) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		if e.inFlight == nil {
			wipe(e)
		}
	}
}
