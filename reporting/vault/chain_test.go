package vault

import "testing"

// A rotated key ring seals to the new key only, still opens what was sealed
// to the old one, hands other rings nothing, and wiping it zeros the whole
// chain, also the replaced key.
func TestKeyringRotateChain(t *testing.T) {
	old, next := NewKeyPair(), NewKeyPair()
	ad := AD{Purpose: "report-key", Row: "r1"}
	before := old.Public().Seal([]byte("vorher"), ad)
	after := next.Public().Seal([]byte("nachher"), ad)

	ring := NewKeyring()
	ring.Add(1, old)
	if !ring.Rotate(1, next) {
		t.Fatal("Rotate on a ring holding the team's key reported nothing rotated")
	}
	head, _ := ring.Team(1)
	if head.Public() != next.Public() || head == next {
		t.Fatal("the ring does not hold its own copy of the new key")
	}
	for _, ct := range [][]byte{before, after} {
		if _, err := head.Open(ct, ad); err != nil {
			t.Errorf("the rotated ring does not open a ciphertext: %v", err)
		}
	}
	if _, err := next.Open(before, ad); err == nil {
		t.Error("the new key alone opens what was sealed to the old one")
	}
	if other := NewKeyring(); other.Rotate(1, next) {
		t.Error("a ring without the team's key was given the new one")
	}
	ring.Wipe()
	if !old.IsZero() || !head.IsZero() {
		t.Error("wiping the ring left a key of the chain readable")
	}
	if _, err := next.Open(after, ad); err != nil {
		t.Error("wiping the ring wiped the caller's own copy of the new key")
	}
}
