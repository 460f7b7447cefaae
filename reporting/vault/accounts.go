package vault

import (
	"crypto/hkdf"
	"crypto/sha256"
)

// invitationInfo is HKDF's context string: a key derived for invitations
// cannot equal one derived from the same token for any other purpose.
const invitationInfo = "meldestelle invitation key v1"

// InvitationKey derives the key that wraps an invited user's private key
// from the invitation token in the link, salted with the user's salt.
//
// HKDF-SHA256, not argon2id: the token is 32 random bytes from
// crypto/rand, so there is nothing to guess — 2^256 candidates are out of
// reach however fast each one is. A slow, memory-hard KDF only helps
// against guessing low-entropy secrets such as passwords.
//
// The key is not the token's SHA-256 (HashToken), which the database
// stores to find the invitation: HKDF with its own context gives a key
// that the stored hash does not reveal.
func InvitationKey(token string, salt []byte) Key {
	b, err := hkdf.Key(sha256.New, []byte(token), salt, invitationInfo, 32)
	if err != nil {
		panic("vault: hkdf: " + err.Error()) // only for lengths > 255*32
	}
	k, _ := keyFrom(b)
	clear(b)
	return k
}

// InvitationAD is the AD of an invited user's private key wrapped under the
// invitation key; the holder is identified by the user's salt.
func InvitationAD(holder string) AD { return AD{Purpose: "invitation-key", Row: holder} }
