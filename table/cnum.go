package table

import (
	"math"
	"math/bits"
	"strings"
)

// Text helpers shared by the format parser and the extensions, written to
// accept exactly what iptables 1.8.9 accepts.

// ParseUint parses a number the way C's strtoul with base 0 does (what
// xtables_strtoui uses): decimal, 0x hex or 0-prefixed octal, and checks it
// against [min, max].
func ParseUint(s string, min, max uint64) (uint64, bool) {
	// Most numbers in a rules file are plain decimals ("32", "8080"):
	// up to 19 digits cannot overflow, so they need no range check per
	// digit.
	if len(s) > 0 && len(s) <= 19 && (s[0] != '0' || len(s) == 1) {
		var v uint64
		i := 0
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			v = v*10 + uint64(s[i]-'0')
		}
		if i == len(s) {
			if v < min || v > max {
				return 0, false
			}
			return v, true
		}
	}
	v, rest, ok := StrtoulPrefix(s, min, max)
	if !ok || rest != "" {
		return 0, false
	}
	return v, true
}

// StrtoulPrefix is xtables_strtoul with an end pointer: a C number (base
// 0) at the start of s, after optional blanks and '+', in [min,max], and
// the text after it. A leading '-' is refused, as libxtables does; on
// failure rest is s.
func StrtoulPrefix(s string, min, max uint64) (v uint64, rest string, ok bool) {
	if i := len(s) - len(strings.TrimLeft(s, cSpace)); i < len(s) && s[i] == '-' {
		return 0, s, false
	}
	v, rest, ok, erange := Strtoumax(s, 0)
	if !ok || erange || v < min || v > max {
		return 0, s, false
	}
	return v, rest, true
}

// DigitVal is the value of a hex digit, or 255 for any other byte, so
// that a single "d >= base" test both rejects non-digits and digits too
// large for the base. Every C-number parser in fw and its extensions
// shares it, so they agree on what a digit is.
func DigitVal(c byte) uint8 {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}

// Strtoumax is C's strtoumax(s, &end, base) for bases 0 to 16: leading
// blanks, an optional sign, base 0 prefixes (0x, 0) when base is 0 and a
// 0x prefix for base 16; it stops at the first byte that is not a digit.
// ok is false when no digit was read (rest is then s). A value that does
// not fit saturates and sets erange; a '-' negates modulo 2^64, as C does.
func Strtoumax(s string, base int) (v uint64, rest string, ok, erange bool) {
	i := len(s) - len(strings.TrimLeft(s, cSpace))
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if (base == 0 || base == 16) && i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && DigitVal(s[i+2]) < 16 {
		i += 2
		base = 16
	}
	if base == 0 {
		base = 10
		if i < len(s) && s[i] == '0' {
			base = 8
		}
	}
	start := i
	for i < len(s) {
		d := DigitVal(s[i])
		if int(d) >= base {
			break
		}
		hi, lo := bits.Mul64(v, uint64(base))
		lo, carry := bits.Add64(lo, uint64(d), 0)
		if hi != 0 || carry != 0 {
			erange = true
		}
		v = lo
		i++
	}
	if i == start {
		return 0, s, false, false
	}
	if erange {
		v = math.MaxUint64
	} else if neg {
		v = -v
	}
	return v, s[i:], true, erange
}
