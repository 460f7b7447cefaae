package i18n

import "testing"

// Codes typed on Arabic, Persian and phone keyboards mean the same digits.
func TestASCIIDigits(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1234 5678 9012 3456", "1234567890123456"},
		{"١٢٣٤ ٥٦٧٨ ٩٠١٢ ٣٤٥٦", "1234567890123456"},
		{"۱۲۳۴-۵۶۷۸-۹۰۱۲-۳۴۵۶", "1234567890123456"},
		{"１２３４５６", "123456"},
		{"12\u00a034\u2013 56\u200f", "123456"},
		{"\u202b٤٢\u202c", "42"},
		{"12a4", "12a4"}, // a letter stays, so the code is refused later
		{"١٢x٣", "12x3"}, // mixed
		{"", ""},
		{"٩٨٧٦٥", "98765"}, // every Arabic-Indic digit maps to its value
	} {
		if got := ASCIIDigits(c.in); got != c.want {
			t.Errorf("ASCIIDigits(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
