// Package vault holds Meldestelle's key hierarchy and every use of key
// material: symmetric sealing with XChaCha20-Poly1305, team key pairs
// (X25519, nacl/box), argon2id derivations for passwords and receipts,
// receipts, recovery keys and the session keyring.
//
// No other package touches key bytes. Callers get opaque types (Key,
// TeamKey, Keyring) and ciphertexts ([]byte) that they store as they are.
package vault

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/nacl/box"
)

// version1 is the first byte of every ciphertext this package writes, so
// that a later format can be told apart from this one and old rows still
// open after an upgrade.
const version1 byte = 1

// ErrOpen is returned when a ciphertext does not open: wrong key, altered
// bytes, a ciphertext moved to another row or purpose, or an unknown
// version. The causes are deliberately not told apart.
var ErrOpen = errors.New("vault: ciphertext does not open")

// AD is the associated data that binds a ciphertext to its row and purpose.
// Opening with any other AD fails, so a ciphertext copied from one report
// (or one column) to another cannot be opened there.
type AD struct {
	Purpose string // what the ciphertext is, e.g. "report-content"
	Row     string // which row it belongs to, e.g. the report ID
}

func (ad AD) bytes() []byte {
	return fmt.Appendf(nil, "meldestelle\x00%d\x00%s\x00%s", version1, ad.Purpose, ad.Row)
}

// Key is a 32-byte symmetric key for XChaCha20-Poly1305.
type Key struct{ b [32]byte }

// NewKey returns a fresh random key.
func NewKey() Key {
	var k Key
	rand.Read(k.b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return k
}

func keyFrom(b []byte) (Key, error) {
	var k Key
	if len(b) != len(k.b) {
		return k, ErrOpen
	}
	copy(k.b[:], b)
	return k, nil
}

// Seal encrypts plain under k, bound to ad. The result is
// version || 24-byte random nonce || ciphertext+tag.
func (k Key) Seal(plain []byte, ad AD) []byte {
	aead, _ := chacha20poly1305.NewX(k.b[:]) // only fails on a wrong key length
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = version1
	rand.Read(out[1:])
	return aead.Seal(out, out[1:], plain, ad.bytes())
}

// Open decrypts a ciphertext made by Seal with the same key and ad.
func (k Key) Open(ct []byte, ad AD) ([]byte, error) {
	aead, _ := chacha20poly1305.NewX(k.b[:])
	if len(ct) < 1+aead.NonceSize()+aead.Overhead() || ct[0] != version1 {
		return nil, ErrOpen
	}
	nonce, body := ct[1:1+aead.NonceSize()], ct[1+aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, body, ad.bytes())
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// Wrap seals another key under k.
func (k Key) Wrap(inner Key, ad AD) []byte { return k.Seal(inner.b[:], ad) }

// Unwrap opens a key sealed by Wrap.
func (k Key) Unwrap(ct []byte, ad AD) (Key, error) {
	b, err := k.Open(ct, ad)
	if err != nil {
		return Key{}, err
	}
	return keyFrom(b)
}

// PublicKey is a team's X25519 public key. It is stored in plain: anyone
// may seal to it, only holders of the private key can open.
type PublicKey [32]byte

// TeamKey is a team's X25519 key pair. The private half exists in plain
// only in process memory: in the database it is always wrapped.
type TeamKey struct {
	pub, priv [32]byte
}

// NewTeamKey generates a fresh team key pair.
func NewTeamKey() *TeamKey {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		panic("vault: no randomness: " + err.Error())
	}
	return &TeamKey{pub: *pub, priv: *priv}
}

// Public returns the team's public key.
func (t *TeamKey) Public() PublicKey { return t.pub }

// Seal encrypts plain to the public key p so that only the team's private
// key opens it. box.SealAnonymous has no associated data, so the AD's hash
// travels inside the authenticated message and is checked on opening: the
// binding to row and purpose is the same as with Key.Seal.
func (p PublicKey) Seal(plain []byte, ad AD) []byte {
	tag := sha256.Sum256(ad.bytes())
	msg := append(tag[:], plain...)
	pub := [32]byte(p)
	out, err := box.SealAnonymous([]byte{version1}, msg, &pub, rand.Reader)
	if err != nil {
		panic("vault: no randomness: " + err.Error())
	}
	return out
}

// SealKey seals a symmetric key to the team.
func (p PublicKey) SealKey(k Key, ad AD) []byte { return p.Seal(k.b[:], ad) }

// Open decrypts a ciphertext made by PublicKey.Seal for this team and ad.
func (t *TeamKey) Open(ct []byte, ad AD) ([]byte, error) {
	if len(ct) < 1 || ct[0] != version1 {
		return nil, ErrOpen
	}
	msg, ok := box.OpenAnonymous(nil, ct[1:], &t.pub, &t.priv)
	if !ok || len(msg) < sha256.Size {
		return nil, ErrOpen
	}
	tag := sha256.Sum256(ad.bytes())
	if subtle.ConstantTimeCompare(msg[:sha256.Size], tag[:]) != 1 {
		return nil, ErrOpen
	}
	return msg[sha256.Size:], nil
}

// OpenKey opens a key sealed by PublicKey.SealKey.
func (t *TeamKey) OpenKey(ct []byte, ad AD) (Key, error) {
	b, err := t.Open(ct, ad)
	if err != nil {
		return Key{}, err
	}
	return keyFrom(b)
}

// WrapTeamKey seals the team's private key under k (a user's key-encryption
// key, the recovery key or an invitation key).
func (k Key) WrapTeamKey(t *TeamKey, ad AD) []byte { return k.Seal(t.priv[:], ad) }

// UnwrapTeamKey opens a team private key wrapped by WrapTeamKey and checks
// that it belongs to the expected public key.
func (k Key) UnwrapTeamKey(ct []byte, pub PublicKey, ad AD) (*TeamKey, error) {
	b, err := k.Open(ct, ad)
	if err != nil || len(b) != 32 {
		return nil, ErrOpen
	}
	t := &TeamKey{pub: pub}
	copy(t.priv[:], b)
	// A private key that does not match the stored public key would seal
	// nothing we can open: refuse it now rather than fail later.
	if derived, err := publicOf(&t.priv); err != nil || derived != pub {
		return nil, ErrOpen
	}
	return t, nil
}

// TeamKeyAD is the AD of a team private key wrapped for one holder (a user,
// identified by their unique random salt, or the recovery envelope).
func TeamKeyAD(holder string, pub PublicKey) AD {
	return AD{Purpose: "team-key", Row: fmt.Sprintf("%s/%x", holder, pub[:])}
}
