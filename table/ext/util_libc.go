package ext

import (
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// C library parsing shared by the extension groups. Many extensions parse
// their arguments with bare libc calls (strtoumax with an end pointer,
// strtod, inet_aton) rather than libxtables' checked helpers; each group
// used to carry its own copy of these, so that the copies could drift
// apart. Where groups really do differ, the difference is a parameter or a
// thin wrapper next to the group's other helpers, with the reason.

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

// cStrtoumax is C's strtoumax(s, &end, base) for bases 0 to 16: leading
// blanks, an optional sign, base 0 prefixes (0x, 0) when base is 0 and a
// 0x prefix for base 16; it stops at the first byte that is not a digit.
// ok is false when no digit was read (rest is then s). A value that does
// not fit saturates and sets erange; a '-' negates modulo 2^64, as C does.
func cStrtoumax(s string, base int) (v uint64, rest string, ok, erange bool) {
	i, neg := cSign(s)
	if (base == 0 || base == 16) && i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && table.DigitVal(s[i+2]) < 16 {
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
		d := table.DigitVal(s[i])
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

// xtStrtoulPrefix is xtables_strtoul with an end pointer: a C number
// (base 0) at the start of s, in [min,max], and the text after it. A
// leading '-' (after blanks) is refused, as libxtables does; on failure
// rest is s. With rest required to be empty it is table.ParseUint.
func xtStrtoulPrefix(s string, min, max uint64) (v uint64, rest string, ok bool) {
	if i := cSkipSpace(s); i < len(s) && s[i] == '-' {
		return 0, s, false
	}
	v, rest, ok, erange := cStrtoumax(s, 0)
	if !ok || erange || v < min || v > max {
		return 0, s, false
	}
	return v, rest, true
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

// inetAton parses an IPv4 address as glibc's inet_aton does (what
// getaddrinfo uses for a numeric host): one to four parts, each a C number
// (0x hex, 0 octal), the last part filling the remaining bytes ("10" is
// 0.0.0.10, "1.2" is 1.0.0.2, "1.2.3" is 1.2.0.3).
//
// glibc reads a bare "0x" part as 0, and the rate and v6log groups follow
// it (bareHex true); the conntrack and nat groups have always refused such
// a part (bareHex false). Both are kept so that no extension changes what
// it accepts.
func inetAton(s string, bareHex bool) ([4]byte, bool) {
	var parts []uint64
	rest := s
	for {
		if rest == "" || rest[0] < '0' || rest[0] > '9' {
			return [4]byte{}, false
		}
		base := uint64(10)
		i := 0
		if rest[0] == '0' {
			i = 1
			if i < len(rest) && (rest[i] == 'x' || rest[i] == 'X') {
				base, i = 16, 2
			} else {
				base = 8
			}
		}
		digits := i > 0 && (base == 8 || bareHex)
		var v uint64
		for ; i < len(rest); i++ {
			d := uint64(table.DigitVal(rest[i]))
			if d >= base {
				if base == 8 && d < 10 {
					return [4]byte{}, false // 8 or 9 in an octal part
				}
				break
			}
			v = v*base + d
			if v > 0xffffffff {
				return [4]byte{}, false
			}
			digits = true
		}
		if !digits {
			return [4]byte{}, false
		}
		rest = rest[i:]
		parts = append(parts, v)
		if rest == "" {
			break
		}
		if rest[0] != '.' || len(parts) == 4 {
			return [4]byte{}, false
		}
		rest = rest[1:]
	}
	last := parts[len(parts)-1]
	for _, p := range parts[:len(parts)-1] {
		if p > 0xff {
			return [4]byte{}, false
		}
	}
	if last > uint64(0xffffffff)>>(8*(len(parts)-1)) {
		return [4]byte{}, false
	}
	var b [4]byte
	for i, p := range parts[:len(parts)-1] {
		b[i] = byte(p)
	}
	for i := 3; i >= len(parts)-1; i-- {
		b[i] = byte(last)
		last >>= 8
	}
	return b, true
}

// prefixMask16 is the 16-byte mask of an n-bit prefix as libxtables fills
// nf_inet_addr masks for both families (an IPv4 /24 leaves the last twelve
// bytes zero); n above 128 gives all ones.
func prefixMask16(n int) [16]byte { return table.PrefixMask(table.IPv6, n).As16() }
