package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"runtime"

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
// semaphore makes a flood wait in line instead.
type KDF struct {
	sem chan struct{}
}

// NewKDF returns a KDF that runs at most n derivations at once
// (runtime.NumCPU() when n < 1).
func NewKDF(n int) *KDF {
	if n < 1 {
		n = runtime.NumCPU()
	}
	return &KDF{sem: make(chan struct{}, n)}
}

// derive returns 64 bytes of argon2id(secret, salt). It waits for a free
// slot, or returns ctx's error if the caller gives up first.
func (k *KDF) derive(ctx context.Context, secret, salt []byte, p Params) ([]byte, error) {
	select {
	case k.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-k.sem }()
	return argon2.IDKey(secret, salt, p.Time, p.MemoryKiB, p.Threads, 64), nil
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
	v := sha256.Sum256(out[:32])
	kek, _ := keyFrom(out[32:])
	return Credentials{Verifier: v[:], KEK: kek}, nil
}

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
	l := sha256.Sum256(out[:32])
	key, _ := keyFrom(out[32:])
	return ReporterAccess{Lookup: l[:], Key: key}, nil
}

func publicOf(priv *[32]byte) (PublicKey, error) {
	b, err := curve25519.X25519(priv[:], curve25519.Basepoint)
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey(b), nil
}
