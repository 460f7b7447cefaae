package vault

import (
	"errors"
	"slices"
	"testing"
)

// Remove takes one team's key off the ring, overwritten, so a session
// whose user left the team cannot open that team's data any more, while
// the other keys stay. Removing a key the ring does not hold is harmless.
func TestKeyringRemove(t *testing.T) {
	r := NewKeyring()
	a, b := NewKeyPair(), NewKeyPair()
	r.Add(1, a)
	r.Add(2, b)
	ad := AD{Purpose: "report-key", Row: "r1"}
	sealed := b.Public().SealKey(NewKey(), ad)

	r.Remove(2)
	if _, ok := r.Team(2); ok {
		t.Fatal("Team(2) still found after Remove")
	}
	if got := r.Teams(); !slices.Equal(got, []int64{1}) {
		t.Errorf("Teams() = %v, want [1]", got)
	}
	// A handler that fetched the key just before cannot use it after.
	if _, err := b.OpenKey(sealed, ad); !errors.Is(err, ErrOpen) {
		t.Errorf("the removed key still opens: %v", err)
	}
	if kp, ok := r.Team(1); !ok || kp != a {
		t.Error("Remove(2) took team 1's key too")
	}
	r.Remove(2)
	r.Remove(99)
	if len(r.Teams()) != 1 {
		t.Errorf("Teams() = %v", r.Teams())
	}
}
