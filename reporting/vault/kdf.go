package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/curve25519"
)

// Params are argon2id cost parameters. They are stored next to everything
// derived with them, so that they can be raised later without locking out
// existing users or receipts.
type Params struct {
	Time      uint32 // passes
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

// DefaultParams is RFC 9106's second recommended setting: t=3, 64 MiB.
var DefaultParams = Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// String encodes the parameters as "argon2id$v=19$m=65536,t=3,p=4", the
// PHC notation, for storage.
func (p Params) String() string {
	return fmt.Sprintf("argon2id$v=%d$m=%d,t=%d,p=%d", argon2.Version, p.MemoryKiB, p.Time, p.Threads)
}

// ParseParams decodes parameters written by Params.String.
func ParseParams(s string) (Params, error) {
	var p Params
	var v int
	_, err := fmt.Sscanf(s, "argon2id$v=%d$m=%d,t=%d,p=%d", &v, &p.MemoryKiB, &p.Time, &p.Threads)
	// Sscanf stops at the last number: comparing with the canonical form
	// refuses trailing junk, spaces and anything else String would not write.
	if err != nil || v != argon2.Version || p.Time == 0 || p.MemoryKiB < 8*uint32(p.Threads) || p.Threads == 0 || p.String() != s {
		return Params{}, fmt.Errorf("vault: bad argon2id parameters %q", s)
	}
	return p, nil
}

// KDF runs argon2id with bounded concurrency. Each call holds
// Params.MemoryKiB of memory (64 MiB by default), so an unbounded number of
// parallel logins or submissions could exhaust the machine's memory; the
// pool makes a flood wait in line instead.
//
// The line has lanes (see Lane): a KDF returned by Lane shares the pool of
// the KDF it came from and queues in its own lane, so that a flood of new
// reports cannot keep counsellors from logging in or reporters from
// reading their answers.
type KDF struct {
	pool *kdfPool
	lane Lane
}

// Lane is a priority class of argon2id work. A freed slot goes to the
// waiter in the lowest-numbered non-empty lane, first come first served
// within a lane.
type Lane int

// The lanes, highest priority first.
const (
	// LaneOffice is for logins and password checks of office users: few,
	// and a counsellor who cannot log in during a flood cannot help anyone.
	LaneOffice Lane = iota
	// LaneFollowup is for receipt checks of reporters coming back.
	LaneFollowup
	// LaneIntake is for new reports: the lane a flood of submissions fills.
	LaneIntake
	numLanes
)

// NewKDF returns a KDF that runs at most n derivations at once
// (runtime.NumCPU() when n < 1), in the office lane.
func NewKDF(n int) *KDF {
	if n < 1 {
		n = runtime.NumCPU()
	}
	return &KDF{pool: &kdfPool{free: n, size: n}, lane: LaneOffice}
}

// Lane returns a KDF that shares k's pool of slots and queues in lane l.
func (k *KDF) Lane(l Lane) *KDF {
	if l < 0 || l >= numLanes {
		panic(fmt.Sprintf("vault: no argon2id lane %d", l))
	}
	return &KDF{pool: k.pool, lane: l}
}

// Concurrency is the number of derivations that run at once.
func (k *KDF) Concurrency() int { return k.pool.size }

// kdfPool hands out size slots. Invariant: waiters exist only while free
// is 0; a released slot passes straight to the next waiter.
type kdfPool struct {
	mu      sync.Mutex
	size    int
	free    int
	waiting [numLanes][]*kdfWaiter
	// granted, if set, runs as each derivation gets its slot (tests
	// record the order in which callers were served).
	granted func(ctx context.Context)
}

type kdfWaiter struct {
	ready   chan struct{} // closed when the slot is handed over
	granted bool          // set under mu together with close(ready)
}

// acquire waits for a slot in lane l, or returns ctx's error if the
// caller gives up first; a caller that gives up leaves the queue.
func (p *kdfPool) acquire(ctx context.Context, l Lane) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	if p.free > 0 {
		p.free--
		p.mu.Unlock()
		return nil
	}
	w := &kdfWaiter{ready: make(chan struct{})}
	p.waiting[l] = append(p.waiting[l], w)
	p.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	if w.granted {
		// The slot arrived as the caller gave up: pass it on, or it is
		// lost for good.
		p.mu.Unlock()
		p.release()
		return ctx.Err()
	}
	q := p.waiting[l]
	for i, x := range q {
		if x == w {
			p.waiting[l] = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	return ctx.Err()
}

// release gives the slot to the first waiter of the highest-priority lane,
// or back to the pool.
func (p *kdfPool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.waiting {
		if q := p.waiting[l]; len(q) > 0 {
			w := q[0]
			q[0] = nil
			p.waiting[l] = q[1:]
			w.granted = true
			close(w.ready)
			return
		}
	}
	p.free++
}

// queued is the number of callers waiting in lane l (for tests).
func (p *kdfPool) queued(l Lane) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiting[l])
}

// derive returns 64 bytes of argon2id(secret, salt). It waits for a free
// slot in k's lane, or returns ctx's error if the caller gives up first.
func (k *KDF) derive(ctx context.Context, secret, salt []byte, p Params) ([]byte, error) {
	if err := k.pool.acquire(ctx, k.lane); err != nil {
		return nil, err
	}
	defer k.pool.release()
	if k.pool.granted != nil {
		k.pool.granted(ctx)
	}
	return argon2.IDKey(secret, salt, p.Time, p.MemoryKiB, p.Threads, 64), nil
}

// MemoryHeadroom is what the server's Go heap needs besides the argon2id
// buffers: about 20 MiB of live heap when idle (templates, translations,
// pre-rendered pages, goroutine stacks), the capped captcha store (about
// 9 MiB), and the garbage of requests between two collections. The limit
// counts only Go's memory; the process's resident size adds the binary,
// SQLite's C heap and what a collection that falls behind under load lets
// through, 25–90 MiB in the floods of BENCHMARKS.md (issue 8). 32 MiB
// keeps 2 CPUs × 64 MiB + headroom = 160 MiB, so the process stays under
// the 256 MiB the service promises; with 96 MiB a 10-minute GET flood
// reached 274 MiB, with 48 MiB 264 MiB. Less headroom means more frequent
// collections while both argon2id slots are busy, which costs little:
// the argon2id blocks hold no pointers, so a collection only walks the
// small rest of the heap.
const MemoryHeadroom = 32 << 20

// MemoryLimit is the Go memory limit for a server that runs n argon2id
// derivations with parameters p at once (n < 1: the number of CPUs):
// n buffers of p.MemoryKiB plus MemoryHeadroom. Under a flood every slot
// is busy and each derivation allocates its buffer afresh, so without a
// limit the garbage of finished derivations piles up until the next
// collection; with it the collector runs before the heap grows past what
// the slots actually hold.
func MemoryLimit(n int, p Params) int64 {
	if n < 1 {
		n = runtime.NumCPU()
	}
	return int64(n)*int64(p.MemoryKiB)*1024 + MemoryHeadroom
}

// NewSalt returns 16 random bytes for a user's or a deployment's salt.
func NewSalt() []byte {
	s := make([]byte, 16)
	rand.Read(s)
	return s
}

// Credentials is what one argon2id derivation of a password yields: a
// login verifier and a key-encryption key for the user's team keys. Both
// come from one derivation so that a login costs one argon2id call, and the
// stored verifier is a hash of the first half only, so the database never
// holds anything that opens the second.
type Credentials struct {
	Verifier []byte // SHA-256 of the first half: stored
	KEK      Key    // second half: wraps team keys, never stored
}

// Password derives a user's credentials from their password.
func (k *KDF) Password(ctx context.Context, password string, salt []byte, p Params) (Credentials, error) {
	out, err := k.derive(ctx, []byte(password), salt, p)
	if err != nil {
		return Credentials{}, err
	}
	// argon2id's output is the KEK in plain and the verifier's preimage:
	// cleared once both are made, so freed memory holds neither.
	defer clear(out)
	v := sha256.Sum256(out[:32])
	kek, _ := keyFrom(out[32:])
	return Credentials{Verifier: v[:], KEK: kek}, nil
}

// Wipe overwrites the KEK with zeros, once the login or password change
// that needed it is over.
func (c *Credentials) Wipe() { c.KEK.Wipe() }

// Matches reports in constant time whether c's verifier is the stored one.
func (c Credentials) Matches(stored []byte) bool {
	return subtle.ConstantTimeCompare(c.Verifier, stored) == 1
}

// ReporterAccess is what one argon2id derivation of a receipt yields: the
// index under which the report is found, and the reporter key that wraps
// the report's data key.
type ReporterAccess struct {
	Lookup []byte // SHA-256 of the first half: stored, unique
	Key    Key    // second half: never stored
}

// Receipt derives the lookup index and reporter key from a receipt and the
// deployment's salt. With 10^16 receipts and 64 MiB per guess, a stolen
// database does not let anyone find which receipt opens which report.
func (k *KDF) Receipt(ctx context.Context, r Receipt, salt []byte, p Params) (ReporterAccess, error) {
	out, err := k.derive(ctx, []byte(r.digits), salt, p)
	if err != nil {
		return ReporterAccess{}, err
	}
	defer clear(out) // the reporter key in plain, as for Password
	l := sha256.Sum256(out[:32])
	key, _ := keyFrom(out[32:])
	return ReporterAccess{Lookup: l[:], Key: key}, nil
}

// Wipe overwrites the reporter key with zeros, once the report's data key
// is wrapped or unwrapped.
func (a *ReporterAccess) Wipe() { a.Key.Wipe() }

func publicOf(priv *[32]byte) (PublicKey, error) {
	b, err := curve25519.X25519(priv[:], curve25519.Basepoint)
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey(b), nil
}
