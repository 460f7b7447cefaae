package vault

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/crypto/curve25519"
)

// SecretSize is the length of the server secret, in bytes.
const SecretSize = 32

// ErrNoSecret is returned by LoadSecret when the secret file does not exist.
var ErrNoSecret = errors.New("vault: no server secret file")

// Secret is the server secret: 32 random bytes kept in their own file,
// outside the database and outside its backups. It is the integrity
// anchor of the key hierarchy: keys derived from it MAC every public key
// and setting the crypto trusts, pepper the receipt lookup and key the
// audit chain, so a database writer without the file can neither swap a
// key nor test receipts offline nor rewrite the audit log unnoticed.
type Secret struct{ b [SecretSize]byte }

// NewSecret returns a fresh random secret held in memory only (tests and
// CreateSecret use it).
func NewSecret() *Secret {
	s := &Secret{}
	rand.Read(s.b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return s
}

// String redacts the secret, so that printing it by mistake (%v, a log
// line) shows nothing that could be used.
func (s *Secret) String() string { return "vault.Secret(redacted)" }

// GoString redacts the secret for %#v too.
func (s *Secret) GoString() string { return s.String() }

// CreateSecret writes a fresh secret to path with mode 0600 and returns it.
// It never replaces an existing file: a second setup must not silently
// invalidate every MAC made under the first secret.
func CreateSecret(path string) (*Secret, error) {
	s := NewSecret()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	if _, err := f.Write(s.b[:]); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("write secret file: %w", err)
	}
	// A secret that is lost in a crash right after setup would leave
	// MACs nobody can verify: it must be on disk before anything is
	// MACed under it.
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("sync secret file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close secret file: %w", err)
	}
	return s, nil
}

// LoadSecret reads the secret from path. It refuses a file that group or
// others may read or write (the secret is only as good as its file's
// permissions; a copy readable by a web user or backup job defeats it)
// and a file of the wrong length. ErrNoSecret if the file does not exist.
func LoadSecret(path string) (*Secret, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoSecret
	} else if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("secret file %s has mode %04o: group and others must have no access (chmod 600)", path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	defer clear(b)
	if len(b) != SecretSize {
		return nil, fmt.Errorf("secret file %s has %d bytes, want %d", path, len(b), SecretSize)
	}
	s := &Secret{}
	copy(s.b[:], b)
	return s, nil
}

// MACKey is a key derived from the Secret for one purpose. Keys of two
// purposes are independent, so a MAC made for one thing (a team's public
// key) can never be passed off as another (a user's).
type MACKey struct {
	purpose string
	b       [32]byte
}

// String redacts the key.
func (k *MACKey) String() string { return "vault.MACKey(" + k.purpose + ", redacted)" }

// MACKey derives the key of one purpose with HKDF-SHA256: the secret is
// uniformly random, so no slow KDF is needed, and the purpose as HKDF's
// info separates the keys.
func (s *Secret) MACKey(purpose string) *MACKey {
	b, err := hkdf.Key(sha256.New, s.b[:], nil, "meldestelle secret v1 "+purpose, 32)
	if err != nil {
		panic("vault: hkdf: " + err.Error()) // only for lengths > 255*32
	}
	k := &MACKey{purpose: purpose}
	copy(k.b[:], b)
	clear(b)
	return k
}

// Sum returns HMAC-SHA256 over the parts, each prefixed with its length,
// so that no two different lists of parts give the same input.
func (k *MACKey) Sum(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, k.b[:])
	var n [binary.MaxVarintLen64]byte
	for _, p := range parts {
		m.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		m.Write(p)
	}
	return m.Sum(nil)
}

// Verify reports in constant time whether mac is Sum(parts...).
func (k *MACKey) Verify(mac []byte, parts ...[]byte) bool {
	return hmac.Equal(mac, k.Sum(parts...))
}

// ErrLowOrder is returned for a public key that is a low-order point of
// Curve25519 (the all-zero key among them): every shared secret with it
// is the same known value, so whatever is sealed to it opens for anyone.
var ErrLowOrder = errors.New("vault: public key is a low-order point")

// Check refuses a low-order public key. curve25519.X25519 returns an
// error exactly when the shared secret would be all zeros.
func (p PublicKey) Check() error {
	var probe [32]byte
	probe[0] = 9 // any scalar will do: a low-order point gives zero for all
	if _, err := curve25519.X25519(probe[:], p[:]); err != nil {
		return ErrLowOrder
	}
	return nil
}

// ReceiptPeppered is Receipt with a pepper from the server secret mixed
// in: argon2id runs over HMAC(pepper, receipt digits) instead of the
// digits, so both the lookup index and the reporter key depend on the
// secret file. A copy of the database alone then cannot test a single
// receipt guess, however much argon2id work the attacker spends.
func (k *KDF) ReceiptPeppered(ctx context.Context, r Receipt, salt []byte, p Params, pepper *MACKey) (ReporterAccess, error) {
	in := pepper.Sum([]byte("receipt"), []byte(r.digits))
	defer clear(in)
	out, err := k.derive(ctx, in, salt, p)
	if err != nil {
		return ReporterAccess{}, err
	}
	defer clear(out)
	l := sha256.Sum256(out[:32])
	key, _ := keyFrom(out[32:])
	return ReporterAccess{Lookup: l[:], Key: key}, nil
}
