package vault

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseReceipt checks ParseReceipt against a plain statement of what
// it should do: a receipt is exactly the 16 ASCII digits typed, in order,
// with nothing else but spaces, dashes and no-break spaces around them;
// anything else is refused; and what it accepts prints in groups of four
// and reads back as itself.
func FuzzParseReceipt(f *testing.F) {
	for _, s := range []string{
		"1234 5678 9012 3456", "1234-5678-9012-3456", "1234567890123456", " 0000 0000 0000 0000 ",
		"1234\u00a05678\u00a09012\u00a03456", "1234 5678 9012 345", "1234 5678 9012 34567",
		"１２３４ ５６７８ ９０１２ ３４５６", "1234 5678 9012 345\xff6", "", "٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var digits []byte
		onlyAllowed := true
		for _, r := range s {
			switch {
			case r >= '0' && r <= '9':
				digits = append(digits, byte(r))
			case r == ' ' || r == '-' || r == '\u00a0':
			default:
				onlyAllowed = false
			}
		}
		want := onlyAllowed && len(digits) == 16
		r, err := ParseReceipt(s)
		if (err == nil) != want {
			t.Fatalf("ParseReceipt(%q): err %v, want accepted=%t", s, err, want)
		}
		if err != nil {
			if r != (Receipt{}) {
				t.Fatalf("ParseReceipt(%q) refused but returned %q", s, r.digits)
			}
			return
		}
		if r.digits != string(digits) {
			t.Fatalf("ParseReceipt(%q) = %q, want the digits typed %q", s, r.digits, digits)
		}
		printed := r.String()
		if len(printed) != 19 || strings.Count(printed, " ") != 3 {
			t.Fatalf("receipt %q printed as %q", r.digits, printed)
		}
		back, err := ParseReceipt(printed)
		if err != nil || back != r {
			t.Fatalf("printed receipt %q reads back as %q, %v", printed, back.digits, err)
		}
	})
}

// FuzzParseRecoveryKey: whatever it accepts is a key whose printed form
// reads back as the same key, also typed in lower case; it never panics
// on what a person pastes.
func FuzzParseRecoveryKey(f *testing.F) {
	k := NewKey()
	f.Add(FormatRecoveryKey(k))
	f.Add(strings.ToLower(FormatRecoveryKey(k)))
	f.Add("AAAA-BBBB")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		key, err := ParseRecoveryKey(s)
		if err != nil {
			return
		}
		printed := FormatRecoveryKey(key)
		for _, typed := range []string{printed, strings.ToLower(printed), strings.ReplaceAll(printed, "-", " ")} {
			back, err := ParseRecoveryKey(typed)
			if err != nil || !bytes.Equal(back.b[:], key.b[:]) {
				t.Fatalf("recovery key from %q, printed %q, typed %q: reads back %x, %v", s, printed, typed, back.b, err)
			}
		}
	})
}

// FuzzParseParams: stored argon2id parameters are accepted only in the
// canonical form String writes, only with work to do (t ≥ 1, p ≥ 1,
// m ≥ 8·p KiB as argon2 requires), and every such setting round-trips.
func FuzzParseParams(f *testing.F) {
	f.Add(DefaultParams.String(), uint32(3), uint32(64*1024), uint8(4))
	f.Add("argon2id$v=19$m=8192,t=1,p=1", uint32(1), uint32(8), uint8(1))
	f.Add("argon2id$v=19$m=65536,t=3,p=4 ", uint32(0), uint32(0), uint8(0))
	f.Add("argon2id$v=19$m=+65536,t=3,p=4", uint32(1), uint32(7), uint8(1))
	f.Add("argon2id$v=19$m=65536,t=03,p=4", uint32(4294967295), uint32(4294967295), uint8(255))
	f.Fuzz(func(t *testing.T, s string, time, memory uint32, threads uint8) {
		if p, err := ParseParams(s); err == nil {
			if p.String() != s {
				t.Fatalf("ParseParams(%q) accepted a non-canonical form of %q", s, p.String())
			}
			if p.Time == 0 || p.Threads == 0 || p.MemoryKiB < 8*uint32(p.Threads) {
				t.Fatalf("ParseParams(%q) accepted parameters argon2 cannot run: %+v", s, p)
			}
		} else if p != (Params{}) {
			t.Fatalf("ParseParams(%q) refused but returned %+v", s, p)
		}
		p := Params{Time: time, MemoryKiB: memory, Threads: threads}
		back, err := ParseParams(p.String())
		valid := time > 0 && threads > 0 && memory >= 8*uint32(threads)
		if valid && (err != nil || back != p) {
			t.Fatalf("%+v written as %q reads back as %+v, %v", p, p.String(), back, err)
		}
		if !valid && err == nil {
			t.Fatalf("unusable %+v accepted from %q", p, p.String())
		}
	})
}
