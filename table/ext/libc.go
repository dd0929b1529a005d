package ext

import (
	"math"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// C library parsing: many extensions parse their arguments with bare libc
// calls (strtod, atoi, strncasecmp) rather than libxtables' checked
// helpers; accepting exactly what iptables accepts means reproducing
// those calls, quirks included. strtoumax is table.Strtoumax, which the
// resolver needs too.

// cIsSpace is C's isspace in the C locale.
func cIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// cSkipSpace returns the index of the first byte of s that is not a blank.
func cSkipSpace(s string) int {
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	return i
}

// cSign reads C's optional blanks and one sign from the start of s, as
// strtoumax, strtod and atoll all do before their digits.
func cSign(s string) (i int, neg bool) {
	i = cSkipSpace(s)
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	return i, neg
}

// cStrtod is C's strtod: the longest prefix that is a decimal or
// hexadecimal floating constant, "inf", "infinity" or "nan[(...)]", after
// optional blanks and a sign. ok is false when nothing was read.
func cStrtod(s string) (v float64, rest string, ok bool) {
	i, neg := cSign(s)
	sign := func(x float64) float64 {
		if neg {
			return -x
		}
		return x
	}
	t := s[i:]
	switch {
	case cHasPrefixFold(t, "infinity"):
		return sign(math.Inf(1)), t[8:], true
	case cHasPrefixFold(t, "inf"):
		return sign(math.Inf(1)), t[3:], true
	case cHasPrefixFold(t, "nan"):
		r := t[3:]
		if strings.HasPrefix(r, "(") {
			j := 1
			for j < len(r) && (r[j] == '_' || r[j] >= '0' && r[j] <= '9' || r[j] >= 'a' && r[j] <= 'z' || r[j] >= 'A' && r[j] <= 'Z') {
				j++
			}
			if j < len(r) && r[j] == ')' {
				r = r[j+1:]
			}
		}
		return math.NaN(), r, true
	}
	base, expChar := 10, byte('e')
	j := 0
	if len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		k := 2
		if k < len(t) && t[k] == '.' {
			k++
		}
		if k < len(t) && table.DigitVal(t[k]) < 16 {
			base, expChar, j = 16, 'p', 2
		}
	}
	mant := j
	digits := 0
	for j < len(t) && int(table.DigitVal(t[j])) < base {
		digits++
		j++
	}
	if j < len(t) && t[j] == '.' {
		j++
		for j < len(t) && int(table.DigitVal(t[j])) < base {
			digits++
			j++
		}
	}
	if digits == 0 {
		return 0, s, false
	}
	end := j
	exp := ""
	if j < len(t) && (t[j]|0x20) == expChar {
		k := j + 1
		if k < len(t) && (t[k] == '+' || t[k] == '-') {
			k++
		}
		d := k
		for k < len(t) && t[k] >= '0' && t[k] <= '9' {
			k++
		}
		if k > d {
			exp = t[j+1 : k]
			end = k
		}
	}
	var text string
	if base == 16 {
		// Go wants a 'p' exponent in hexadecimal floats where C does
		// not, so one is supplied.
		if exp == "" {
			exp = "0"
		}
		text = "0x" + t[mant:j] + "p" + exp
	} else {
		text = t[:end]
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !isRangeErr(err) {
		return 0, s, false
	}
	return sign(f), t[end:], true
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// cHasPrefixFold reports whether s starts with prefix, ignoring ASCII case
// (strncasecmp in the C locale).
func cHasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if cLower(s[i]) != cLower(prefix[i]) {
			return false
		}
	}
	return true
}

func cLower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// cDoubleToU32 converts as x86-64 code compiled from C does for a
// double → unsigned int assignment: truncation through a 64-bit signed
// integer, the "integer indefinite" value (low half 0) when that overflows
// or for NaN.
func cDoubleToU32(x float64) uint32 {
	if x != x || x >= 9.223372036854775807e18 || x < -9.223372036854775808e18 {
		return 0
	}
	return uint32(int64(x))
}

// cAtoll is C's atoll (strtol base 10, saturating).
func cAtoll(s string) int64 {
	i, neg := cSign(s)
	var v uint64
	over := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if v > (math.MaxUint64-9)/10 {
			over = true
			continue
		}
		v = v*10 + uint64(s[i]-'0')
	}
	switch {
	case neg && (over || v > 1<<63):
		return math.MinInt64
	case neg:
		return -int64(v)
	case over || v > math.MaxInt64:
		return math.MaxInt64
	}
	return int64(v)
}

// cAtoi is glibc's atoi: (int)strtol, so an out-of-range value is the
// saturated long cut to 32 bits.
func cAtoi(s string) int32 { return int32(cAtoll(s)) }
