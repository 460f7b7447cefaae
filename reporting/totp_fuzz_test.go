package reporting

import (
	"strings"
	"testing"
)

// FuzzNormalizeCode: what the login's second step makes of any typed
// text. The normal form carries no separators and is stable; it is a
// TOTP code (six ASCII digits) or a recovery code (twelve letters of
// Crockford's alphabet) but never both; and a recovery code read from it
// reads the same again.
func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"123 456", "123-456", "abcd-efgh-jkmn", "ABCD EFGH JKMN", "oooo-iiii-llll", "ıııı-ſſſſ-0000", "１２３４５６", "\u00a0123\t456", "", "uuuu-uuuu-uuuu"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		code := normalizeCode(typed)
		if strings.ContainsAny(code, " -\u00a0\t") {
			t.Fatalf("normalizeCode(%q) = %q keeps a separator", typed, code)
		}
		if again := normalizeCode(code); again != code {
			t.Fatalf("normalizeCode is not stable on %q: %q, then %q", typed, code, again)
		}
		totp := isTOTPCode(code)
		if totp && (len(code) != 6 || strings.Trim(code, "0123456789") != "") {
			t.Fatalf("%q taken as a TOTP code", code)
		}
		rc, ok := parseRecoveryCode(code)
		if !ok {
			if rc != "" {
				t.Fatalf("parseRecoveryCode(%q) refused but returned %q", code, rc)
			}
			return
		}
		if totp {
			t.Fatalf("%q is both a TOTP and a recovery code", code)
		}
		if len(rc) != recoveryCodeLen || strings.Trim(rc, crockford) != "" {
			t.Fatalf("parseRecoveryCode(%q) = %q, not %d letters of %s", code, rc, recoveryCodeLen, crockford)
		}
		if back, ok := parseRecoveryCode(rc); !ok || back != rc {
			t.Fatalf("recovery code %q reads again as %q, %t", rc, back, ok)
		}
	})
}

// FuzzRecoveryCodeAsTyped: a printed recovery code is accepted however a
// person types it (lower case, other separators or none, O for 0, I or L
// for 1) and always as the very code that was printed.
func FuzzRecoveryCodeAsTyped(f *testing.F) {
	f.Add([]byte("0123456789AB"), uint16(0), uint8(0))
	f.Add([]byte{31, 30, 0, 1, 1, 0, 27, 18, 19, 20, 21, 22}, uint16(0xffff), uint8(3))
	f.Fuzz(func(t *testing.T, random []byte, lower uint16, sep uint8) {
		if len(random) < recoveryCodeLen {
			return
		}
		b := make([]byte, recoveryCodeLen)
		for i := range b {
			b[i] = crockford[random[i]&31] // as newRecoveryCodes picks them
		}
		raw := string(b)
		separator := []string{"-", " ", "", "\u00a0", " - ", "\t"}[int(sep)%6]
		var typed strings.Builder
		for i, r := range raw {
			if i > 0 && i%4 == 0 {
				typed.WriteString(separator)
			}
			c := string(r)
			switch {
			case r == '0' && lower&(1<<i) != 0:
				c = "O"
			case r == '1' && lower&(1<<i) != 0:
				c = []string{"I", "L", "i", "l"}[i%4]
			}
			if lower&(1<<(i+4)) != 0 || lower&1 != 0 {
				c = strings.ToLower(c)
			}
			typed.WriteString(c)
		}
		code := normalizeCode(typed.String())
		if isTOTPCode(code) {
			t.Fatalf("recovery code %q typed as %q taken for a TOTP code", raw, typed.String())
		}
		got, ok := parseRecoveryCode(code)
		if !ok || got != raw {
			t.Fatalf("recovery code %q typed as %q: read as %q, %t", raw, typed.String(), got, ok)
		}
	})
}
