// Package vault holds Meldestelle's key hierarchy and every use of key
// material: symmetric sealing with XChaCha20-Poly1305, team key pairs
// (X25519, nacl/box), argon2id derivations for passwords and receipts,
// receipts, recovery keys and the session keyring.
//
// No other package touches key bytes. Callers get opaque types (Key,
// KeyPair, Keyring) and ciphertexts ([]byte) that they store as they are.
//
// The hierarchy: a report's content is sealed under its own data key; the
// data key is sealed to its team's key pair (and wrapped under the
// reporter key from the receipt). A team's private key is sealed to the
// key pair of each member and to the recovery key pair. A user's private
// key is wrapped under the key-encryption key from their password. Because
// team keys are sealed to public keys, an admin can give a user (or a new
// team) keys without knowing anyone's password or the recovery key.
package vault

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
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
//
// A version 2 AD (Bind) also binds what the row says about the
// ciphertext: who wrote a message and on which day, which message a file
// belongs to. Changing such a column then makes the ciphertext refuse to
// open, where a version 1 AD let it open under the altered meaning.
type AD struct {
	Purpose string // what the ciphertext is, e.g. "report-content"
	Row     string // which row it belongs to, e.g. the report ID
	// bound is "" for a version 1 AD; for a version 2 AD it is
	// adVersion2 followed by the fields given to Bind, each
	// length-prefixed. Only strings, so AD stays comparable and printable.
	bound string
}

// adVersion2 marks the encoding of an AD with bound fields. It takes the
// place of version1 in bytes(), so no version 2 AD encodes to the bytes
// of any version 1 AD: a ciphertext sealed under one never opens under
// the other.
const adVersion2 byte = 2

// Bind returns the version 2 AD of the same purpose and row that also
// binds fields (in order; "" is a field too). Bind with no fields is still
// version 2, and ad.Bind(a).Bind(b) is ad.Bind(a, b).
func (ad AD) Bind(fields ...string) AD {
	b := []byte(ad.bound)
	if len(b) == 0 {
		b = append(b, adVersion2)
	}
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	ad.bound = string(b)
	return ad
}

// bytes encodes the AD unambiguously: each field carries its length, so
// no choice of Purpose and Row can produce another pair's bytes. A
// version 2 AD has its own version byte and the bound fields, each with
// its length, to the end, so it parses back to exactly one field list.
func (ad AD) bytes() []byte {
	version, bound := version1, ""
	if ad.bound != "" {
		version, bound = ad.bound[0], ad.bound[1:] // adVersion2
	}
	b := append([]byte("meldestelle"), version)
	for _, f := range []string{ad.Purpose, ad.Row} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return append(b, bound...)
}

// Key is a 32-byte symmetric key for XChaCha20-Poly1305.
type Key struct{ b [32]byte }

// NewKey returns a fresh random key.
func NewKey() Key {
	var k Key
	rand.Read(k.b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return k
}

// Wipe overwrites the key with zeros, once it is no longer needed: a key
// left in freed memory could be read from a core dump or swap.
func (k *Key) Wipe() { clear(k.b[:]) }

// IsZero reports whether the key is all zeros, as after Wipe.
func (k *Key) IsZero() bool { return k.b == [32]byte{} }

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
	defer clear(b) // the plaintext key's buffer: only the Key lives on
	return keyFrom(b)
}

// PublicKey is the public half of an X25519 key pair. It is stored in
// plain: anyone may seal to it, only the private half opens.
type PublicKey [32]byte

// KeyPair is an X25519 key pair: a team's, a user's or the recovery key's.
// Its private half exists in plain only in process memory; in the database
// it is always wrapped or sealed.
type KeyPair struct {
	pub, priv [32]byte
	// prev is the key this one replaced when its team's key was rotated
	// (nil for every other pair): Open falls back to it, so that a team's
	// cases sealed before a rotation stay readable (see chain.go).
	prev *KeyPair
}

// NewKeyPair generates a fresh key pair.
func NewKeyPair() *KeyPair {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		panic("vault: no randomness: " + err.Error())
	}
	defer clear(priv[:]) // box's own copy, on the heap: only ours lives on
	return &KeyPair{pub: *pub, priv: *priv}
}

// Wipe overwrites the private half with zeros; the pair can then no
// longer open anything. The public half stays: it is no secret.
func (kp *KeyPair) Wipe() {
	clear(kp.priv[:])
	if kp.prev != nil {
		kp.prev.Wipe()
	}
}

// IsZero reports whether the private half is all zeros, as after Wipe.
func (kp *KeyPair) IsZero() bool { return kp.priv == [32]byte{} }

// Public returns the public half.
func (kp *KeyPair) Public() PublicKey { return kp.pub }

// Seal encrypts plain to the public key p so that only the private half
// opens it. box.SealAnonymous has no associated data, so the AD's hash
// travels inside the authenticated message and is checked on opening: the
// binding to row and purpose is the same as with Key.Seal.
func (p PublicKey) Seal(plain []byte, ad AD) []byte {
	// The last line of defence: callers check keys read from the database
	// (and refuse with an error) before sealing; sealing to a low-order
	// point would hand the plaintext to anyone.
	if err := p.Check(); err != nil {
		panic(err)
	}
	tag := sha256.Sum256(ad.bytes())
	msg := append(tag[:], plain...)
	// msg is a copy of the plaintext (a private or data key when sealing
	// keys): cleared, so that freed memory holds no copy of it.
	defer clear(msg)
	pub := [32]byte(p)
	out, err := box.SealAnonymous([]byte{version1}, msg, &pub, rand.Reader)
	if err != nil {
		panic("vault: no randomness: " + err.Error())
	}
	return out
}

// SealKey seals a symmetric key to p.
func (p PublicKey) SealKey(k Key, ad AD) []byte { return p.Seal(k.b[:], ad) }

// SealKeyPair seals another key pair's private half to p (a team's key to
// a member or to the recovery key).
func (p PublicKey) SealKeyPair(inner *KeyPair, ad AD) []byte { return p.Seal(inner.priv[:], ad) }

// Open decrypts a ciphertext made by PublicKey.Seal for this key pair and
// ad; for a rotated team key, also one sealed to a key it replaced.
func (kp *KeyPair) Open(ct []byte, ad AD) ([]byte, error) {
	plain, err := kp.open(ct, ad)
	for p := kp.prev; err != nil && p != nil; p = p.prev {
		plain, err = p.open(ct, ad)
	}
	return plain, err
}

func (kp *KeyPair) open(ct []byte, ad AD) ([]byte, error) {
	if len(ct) < 1 || ct[0] != version1 {
		return nil, ErrOpen
	}
	msg, ok := box.OpenAnonymous(nil, ct[1:], &kp.pub, &kp.priv)
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
func (kp *KeyPair) OpenKey(ct []byte, ad AD) (Key, error) {
	b, err := kp.Open(ct, ad)
	if err != nil {
		return Key{}, err
	}
	defer clear(b)
	return keyFrom(b)
}

// OpenKeyPair opens a key pair sealed by PublicKey.SealKeyPair and checks
// that it belongs to the expected public key.
func (kp *KeyPair) OpenKeyPair(ct []byte, pub PublicKey, ad AD) (*KeyPair, error) {
	b, err := kp.Open(ct, ad)
	if err != nil {
		return nil, err
	}
	defer clear(b) // the decrypted private key: only the KeyPair lives on
	return pairFrom(b, pub)
}

// WrapKeyPair wraps a key pair's private half under k (a user's
// key-encryption key, or an invitation key).
func (k Key) WrapKeyPair(kp *KeyPair, ad AD) []byte { return k.Seal(kp.priv[:], ad) }

// UnwrapKeyPair opens a private key wrapped by WrapKeyPair and checks that
// it belongs to the expected public key.
func (k Key) UnwrapKeyPair(ct []byte, pub PublicKey, ad AD) (*KeyPair, error) {
	b, err := k.Open(ct, ad)
	if err != nil {
		return nil, err
	}
	defer clear(b) // the decrypted private key: only the KeyPair lives on
	return pairFrom(b, pub)
}

// pairFrom rebuilds a key pair from its private half. A private key that
// does not match the stored public key would seal nothing we can open:
// refuse it now rather than fail later.
func pairFrom(priv []byte, pub PublicKey) (*KeyPair, error) {
	if len(priv) != 32 {
		return nil, ErrOpen
	}
	kp := &KeyPair{pub: pub}
	copy(kp.priv[:], priv)
	if derived, err := publicOf(&kp.priv); err != nil || derived != pub {
		kp.Wipe()
		return nil, ErrOpen
	}
	return kp, nil
}

// RecoveryKeyPair turns the recovery key, which people print and type, into
// the key pair that team keys are sealed to. Only its public half is
// stored, so new teams can be sealed to it while the key itself stays
// offline.
func RecoveryKeyPair(recovery Key) *KeyPair {
	kp := &KeyPair{priv: recovery.b}
	pub, err := publicOf(&kp.priv)
	if err != nil {
		panic("vault: recovery key: " + err.Error())
	}
	kp.pub = pub
	return kp
}

// TeamKeyAD is the AD of a team private key sealed to one holder (a user,
// identified by their unique random salt, or the recovery key pair).
func TeamKeyAD(holder string, pub PublicKey) AD {
	return AD{Purpose: "team-key", Row: fmt.Sprintf("%s/%x", holder, pub[:])}
}

// UserKeyAD is the AD of a user's private key wrapped under their
// key-encryption key; the holder is identified by the user's salt.
func UserKeyAD(holder string) AD { return AD{Purpose: "user-key", Row: holder} }
