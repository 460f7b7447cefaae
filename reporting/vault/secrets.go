package vault

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"sync"
)

// Receipt is the 16-digit code a reporter gets after submitting. It is the
// only way back to the report and is never stored.
type Receipt struct{ digits string }

var tenTo16 = new(big.Int).Exp(big.NewInt(10), big.NewInt(16), nil)

// NewReceipt returns a uniformly random 16-digit receipt from crypto/rand.
func NewReceipt() Receipt {
	n, err := rand.Int(rand.Reader, tenTo16) // uniform: no modulo bias
	if err != nil {
		panic("vault: no randomness: " + err.Error())
	}
	s := n.String()
	return Receipt{digits: strings.Repeat("0", 16-len(s)) + s}
}

// ErrReceipt is returned for a receipt that is not 16 digits.
var ErrReceipt = errors.New("vault: a receipt has 16 digits")

// ParseReceipt reads a receipt as a person types it: spaces and dashes are
// ignored.
func ParseReceipt(s string) (Receipt, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '\u00a0':
		default:
			return Receipt{}, ErrReceipt
		}
	}
	if b.Len() != 16 {
		return Receipt{}, ErrReceipt
	}
	return Receipt{digits: b.String()}, nil
}

// String formats the receipt in groups of four: "1234 5678 9012 3456".
func (r Receipt) String() string {
	d := r.digits
	if len(d) != 16 {
		return ""
	}
	return d[0:4] + " " + d[4:8] + " " + d[8:12] + " " + d[12:16]
}

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// FormatRecoveryKey writes the recovery key for a person to print: base32
// in groups of four letters, no characters that are easily confused.
func FormatRecoveryKey(k Key) string {
	s := recoveryEncoding.EncodeToString(k.b[:])
	var groups []string
	for len(s) > 4 {
		groups = append(groups, s[:4])
		s = s[4:]
	}
	return strings.Join(append(groups, s), "-")
}

// ParseRecoveryKey reads a recovery key as FormatRecoveryKey wrote it,
// ignoring case, dashes and spaces.
func ParseRecoveryKey(s string) (Key, error) {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "", "\n", "").Replace(s))
	b, err := recoveryEncoding.DecodeString(s)
	if err != nil {
		return Key{}, ErrOpen
	}
	defer clear(b)
	return keyFrom(b)
}

// RecoveryAD is the AD of a team key wrapped under the recovery key.
func RecoveryAD(pub PublicKey) AD { return TeamKeyAD("recovery", pub) }

// NewToken returns a random 32-byte token, hex-encoded, for session
// cookies, setup links and invitations.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// HashToken returns the SHA-256 of a token. Only this hash is stored, so a
// copy of the database cannot be used to log in or to take over a link.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Keyring holds the team private keys of one logged-in session, in
// process memory only. Wipe drops them at logout, timeout or shutdown.
type Keyring struct {
	mu    sync.RWMutex
	keys  map[int64]*KeyPair
	wiped bool // set by Wipe: the session is over, nothing may join the ring
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring { return &Keyring{keys: map[int64]*KeyPair{}} }

// Add puts a team's private key on the ring. On a wiped ring the key is
// wiped instead: a request that was still running when its session ended
// (a new team being created) must not leave a key on a ring nobody wipes
// again.
func (r *Keyring) Add(teamID int64, t *KeyPair) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wiped {
		t.Wipe()
		return
	}
	if old, ok := r.keys[teamID]; ok && old != t {
		old.Wipe() // replaced: its copy would otherwise linger unwiped
	}
	r.keys[teamID] = t
}

// Team returns the private key of a team, if the session holds it.
func (r *Keyring) Team(teamID int64) (*KeyPair, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.keys[teamID]
	return t, ok
}

// Teams returns the IDs of the teams whose keys the ring holds.
func (r *Keyring) Teams() []int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids := make([]int64, 0, len(r.keys))
	for id := range r.keys {
		ids = append(ids, id)
	}
	return ids
}

// Remove overwrites and forgets one team's key, when its holder leaves the
// team: from then on the session cannot open that team's reports.
func (r *Keyring) Remove(teamID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.keys[teamID]; ok {
		t.Wipe()
		delete(r.keys, teamID)
	}
}

// Wipe overwrites and forgets every key on the ring, and refuses keys
// added later. The ring hands out pointers, never copies, so every holder
// of one of its key pairs sees the zeros too. Go may have copied bytes
// elsewhere (the runtime's stacks, the curve code), so this is a best
// effort; what it guarantees is that the session can no longer decrypt.
func (r *Keyring) Wipe() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wiped = true
	for id, t := range r.keys {
		t.Wipe()
		delete(r.keys, id)
	}
}

// Equal reports in constant time whether two hashes are equal, so that
// comparing a token's hash leaks nothing about where it differs.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
