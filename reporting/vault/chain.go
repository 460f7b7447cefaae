package vault

import "fmt"

// A team's key is rotated whenever a member leaves (issue 9): a fresh key
// pair replaces it, so reports filed from then on are sealed to a key the
// former member never held. The replaced private key is sealed to its
// successor's public key and kept (the team's "previous keys" chain), so
// whoever holds the current key also opens every earlier one, and with
// them the cases sealed before. Nothing old is re-sealed: a rotation
// writes a handful of rows, however many cases the team has, and a note a
// session seals to the old key in the moment of the rotation stays
// readable.
//
// In memory the chain hangs off the current pair (KeyPair.prev): Open
// tries the current key first, then each earlier one, newest first.

// PreviousKeyAD is the AD of a team's replaced private key (pub) sealed to
// the key that replaced it (successor): it cannot be passed off as a
// member's envelope, nor as an earlier link of another chain.
func PreviousKeyAD(successor, pub PublicKey) AD {
	return TeamKeyAD(fmt.Sprintf("successor:%x", successor[:]), pub)
}

// SetPrevious hangs the key this pair replaced (with its own chain) onto
// the pair, when a session's key chain is opened. It is for a pair not yet
// shared: call it before the pair goes onto a keyring.
func (kp *KeyPair) SetPrevious(prev *KeyPair) { kp.prev = prev }

// Previous returns the key this pair replaced, nil if none.
func (kp *KeyPair) Previous() *KeyPair { return kp.prev }

// Copy returns an independent copy of the pair without its chain: a
// session's keyring owns its pairs and wipes them when it ends, so each
// session gets its own copy of a new team key.
func (kp *KeyPair) Copy() *KeyPair { return &KeyPair{pub: kp.pub, priv: kp.priv} }

// Rotate replaces a team's key on the ring with a copy of next, chaining
// the key it held before behind it, and reports whether the ring held the
// team's key at all (a ring that did not gets nothing). The old pair is
// not wiped: it lives on as the new one's predecessor, and a request that
// is still using it keeps working.
func (r *Keyring) Rotate(teamID int64, next *KeyPair) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.keys[teamID]
	if !ok || r.wiped {
		return false
	}
	head := next.Copy()
	head.prev = old
	r.keys[teamID] = head
	return true
}
