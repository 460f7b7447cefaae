package vault

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"
)

// hkdfByHand computes HKDF-SHA256 with one output block (RFC 5869) from
// HMAC directly, as an independent check of InvitationKey.
func hkdfByHand(secret, salt []byte, info string) []byte {
	ext := hmac.New(sha256.New, salt)
	ext.Write(secret)
	prk := ext.Sum(nil)
	exp := hmac.New(sha256.New, prk)
	exp.Write([]byte(info))
	exp.Write([]byte{1})
	return exp.Sum(nil)
}

// The invitation key is HKDF-SHA256 of the token with the user's salt: the
// same link gives the same key, another token or another user's salt a
// different one, and the key is not the token hash the database stores.
func TestInvitationKey(t *testing.T) {
	token, salt := NewToken(), NewSalt()
	k := InvitationKey(token, salt)
	if want := hkdfByHand([]byte(token), salt, invitationInfo); !bytes.Equal(k.b[:], want) {
		t.Fatalf("InvitationKey = %x, want HKDF-SHA256 %x", k.b, want)
	}
	if InvitationKey(token, salt) != k {
		t.Error("the same token and salt give different keys")
	}
	if InvitationKey(NewToken(), salt) == k {
		t.Error("another token gives the same key")
	}
	if InvitationKey(token, NewSalt()) == k {
		t.Error("another salt gives the same key")
	}
	if bytes.Equal(k.b[:], HashToken(token)) {
		t.Error("the invitation key is the stored token hash")
	}
	if k == (Key{}) {
		t.Error("the invitation key is all zeros")
	}
}

// A user's private key wrapped under the invitation key opens with the
// link's token only, only under the invitation AD, and can then be
// re-wrapped under a password's key — the accept step.
func TestInvitationWrapsUserKey(t *testing.T) {
	token, salt := NewToken(), NewSalt()
	user := NewKeyPair()
	ad := InvitationAD("user:abc")
	wrapped := InvitationKey(token, salt).WrapKeyPair(user, ad)

	got, err := InvitationKey(token, salt).UnwrapKeyPair(wrapped, user.Public(), ad)
	if err != nil || got.priv != user.priv {
		t.Fatalf("UnwrapKeyPair with the right token: %v", err)
	}
	for name, try := range map[string]func() (*KeyPair, error){
		"other token": func() (*KeyPair, error) {
			return InvitationKey(NewToken(), salt).UnwrapKeyPair(wrapped, user.Public(), ad)
		},
		"other user's AD": func() (*KeyPair, error) {
			return InvitationKey(token, salt).UnwrapKeyPair(wrapped, user.Public(), InvitationAD("user:abd"))
		},
		"password key AD": func() (*KeyPair, error) {
			return InvitationKey(token, salt).UnwrapKeyPair(wrapped, user.Public(), UserKeyAD("user:abc"))
		},
		"other public key": func() (*KeyPair, error) {
			return InvitationKey(token, salt).UnwrapKeyPair(wrapped, NewKeyPair().Public(), ad)
		},
	} {
		if _, err := try(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}

	// Accepting: the password's KEK wraps the same private key, which
	// still opens team keys sealed to the user's public key at invitation.
	team := NewKeyPair()
	sealed := user.Public().SealKeyPair(team, TeamKeyAD("user:abc", team.Public()))
	kek := NewKey()
	rewrapped := kek.WrapKeyPair(got, UserKeyAD("user:abc"))
	again, err := kek.UnwrapKeyPair(rewrapped, user.Public(), UserKeyAD("user:abc"))
	if err != nil {
		t.Fatal(err)
	}
	opened, err := again.OpenKeyPair(sealed, team.Public(), TeamKeyAD("user:abc", team.Public()))
	if err != nil || opened.priv != team.priv {
		t.Fatalf("team key sealed at invitation does not open after accepting: %v", err)
	}
}
