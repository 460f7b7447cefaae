package vault

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
)

// recoveryCodeInfo is HKDF's context string: the MAC key cannot equal a
// key derived from the same secret for any other purpose.
const recoveryCodeInfo = "meldestelle totp recovery codes v1"

// recoveryMACVersion is the first byte of a keyed recovery code hash. It
// also tells the keyed form (33 bytes) from the plain SHA-256 of earlier
// versions (32 bytes), which are converted at the user's next login.
const recoveryMACVersion byte = 1

// RecoveryCodeMAC is what is stored of a two-factor recovery code: an
// HMAC-SHA256 of the code's hash (codeHash) under a key derived with HKDF
// from the user's TOTP secret, which is sealed under the key their
// password unlocks. A copy of the database alone therefore cannot test a
// guess at a code (60 random bits, too few to withstand offline guessing
// with a plain hash). The secret, not the password's KEK, is the key's
// root because it survives a password change (it is re-sealed then),
// so the codes a user printed keep working.
//
// Hashing the code first lets stored plain hashes be converted without
// knowing the codes: RecoveryCodeMAC(secret, oldHash).
func RecoveryCodeMAC(totpSecret, codeHash []byte) []byte {
	k, err := hkdf.Key(sha256.New, totpSecret, nil, recoveryCodeInfo, 32)
	if err != nil {
		panic("vault: hkdf: " + err.Error()) // only for lengths > 255*32
	}
	defer clear(k)
	m := hmac.New(sha256.New, k)
	m.Write(codeHash)
	return m.Sum([]byte{recoveryMACVersion})
}

// IsRecoveryCodeMAC reports whether a stored recovery code hash is keyed
// (made by RecoveryCodeMAC) rather than a plain hash of an earlier
// version.
func IsRecoveryCodeMAC(stored []byte) bool {
	return len(stored) == 1+sha256.Size && stored[0] == recoveryMACVersion
}
