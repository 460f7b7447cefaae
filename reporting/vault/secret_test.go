package vault

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The secret file is created 0600 and never overwritten; a file others
// can read, or of the wrong length, is refused; a missing one is
// ErrNoSecret; the loaded secret derives the same keys as the created one.
func TestSecretFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	s, err := CreateSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 600", info.Mode().Perm())
	}
	if _, err := CreateSecret(path); err == nil {
		t.Error("a second CreateSecret replaced the file")
	}
	loaded, err := LoadSecret(path)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.MACKey("team").Verify(s.MACKey("team").Sum([]byte("x")), []byte("x")) {
		t.Error("the loaded secret derives other keys")
	}
	os.Chmod(path, 0o640)
	if _, err := LoadSecret(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("group-readable file: %v", err)
	}
	os.WriteFile(path, []byte("short"), 0o600)
	os.Chmod(path, 0o600)
	if _, err := LoadSecret(path); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
	if _, err := LoadSecret(filepath.Join(t.TempDir(), "none")); err != ErrNoSecret {
		t.Errorf("missing file: %v, want ErrNoSecret", err)
	}
}

// Printing a secret or a derived key shows no key bytes.
func TestSecretRedacted(t *testing.T) {
	s := NewSecret()
	k := s.MACKey("team")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), fmt.Sprint(k), fmt.Sprintf("%v", k)} {
		if !strings.Contains(out, "redacted") || strings.Contains(out, fmt.Sprintf("%x", s.b[:4])) {
			t.Errorf("printed as %q", out)
		}
	}
}

// MACs are bound to purpose and to the split into parts; verification
// refuses any other MAC.
func TestMACKeyBinding(t *testing.T) {
	s := NewSecret()
	team, user := s.MACKey("team"), s.MACKey("user")
	mac := team.Sum([]byte("ab"), []byte("c"))
	switch {
	case !team.Verify(mac, []byte("ab"), []byte("c")):
		t.Error("own MAC refused")
	case team.Verify(mac, []byte("a"), []byte("bc")):
		t.Error("other split accepted")
	case user.Verify(mac, []byte("ab"), []byte("c")):
		t.Error("other purpose accepted")
	case NewSecret().MACKey("team").Verify(mac, []byte("ab"), []byte("c")):
		t.Error("other secret accepted")
	case team.Verify(nil, []byte("ab"), []byte("c")):
		t.Error("missing MAC accepted")
	}
}

// Low-order points are refused; real keys pass; sealing to a low-order
// point never happens silently.
func TestLowOrderPublicKeys(t *testing.T) {
	var zero PublicKey
	one := PublicKey{1}
	// A point of order 8 on Curve25519 (RFC 7748 test lists; libsodium's blocklist).
	order8 := PublicKey{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00}
	for _, p := range []PublicKey{zero, one, order8} {
		if p.Check() == nil {
			t.Errorf("%x passes", p[:4])
		}
	}
	if err := NewKeyPair().Public().Check(); err != nil {
		t.Errorf("a fresh key is refused: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("sealing to the zero point did not refuse")
		}
	}()
	zero.Seal([]byte("x"), AD{Purpose: "p", Row: "r"})
}
