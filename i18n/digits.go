package i18n

import (
	"strings"
	"unicode"
)

// digitZeros are the zeros of the digit sets people type codes in: Latin,
// Arabic-Indic (Arabic keyboards), Extended Arabic-Indic (Persian and
// Dari keyboards) and full-width (some phone keyboards). Each set runs
// from its zero to nine in consecutive code points.
var digitZeros = []rune{'0', '\u0660', '\u06f0', '\uff10'}

// ASCIIDigits rewrites a typed code (a receipt, a captcha answer) in the
// digits 0–9 and drops the spaces, dashes and direction marks people or
// their keyboards put between them: "۱۲۳۴-٥٦" becomes "123456". Any other
// character stays, so that a code with letters in it is still refused.
func ASCIIDigits(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if d, ok := digitValue(r); ok {
			b.WriteByte('0' + d)
			continue
		}
		if unicode.IsSpace(r) || isDash(r) || isDirectionMark(r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func digitValue(r rune) (byte, bool) {
	for _, zero := range digitZeros {
		if r >= zero && r <= zero+9 {
			return byte(r - zero), true
		}
	}
	return 0, false
}

// isDash covers the hyphens and dashes keyboards and autocorrect produce.
func isDash(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212', '\ufe63', '\uff0d':
		return true
	}
	return false
}

// isDirectionMark covers the invisible marks that right-to-left keyboards
// and copied text put around digits.
func isDirectionMark(r rune) bool {
	switch r {
	case '\u200e', '\u200f', '\u061c', '\u2066', '\u2067', '\u2068', '\u2069', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u200b', '\u200c', '\u200d', '\ufeff':
		return true
	}
	return false
}
