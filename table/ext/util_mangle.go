package ext

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// Helpers of the mangle group (MARK, DSCP, TOS, ECN, TTL, HL, TCPMSS,
// TCPOPTSTRIP, SET, SYNPROXY, IDLETIMER, LED, HMARK, RATEEST): the bits of
// libxtables' C parsing that these targets depend on and util.go does not
// cover.

// mgOnlyOne reports an error when more than one of the options in names
// was given: libxtables' .excl masks, checked once all options are known,
// which refuses the same rules as checking them option by option.
func mgOnlyOne(c *table.FinishContext, names ...string) error {
	var seen []string
	for _, n := range names {
		if c.Seen.Has(n) {
			seen = append(seen, "--"+n)
		}
	}
	if len(seen) > 1 {
		return fmt.Errorf("%s cannot be used together", strings.Join(seen, " and "))
	}
	return nil
}

// mgRequireOne is the usual "an action is required" check.
func mgRequireOne(c *table.FinishContext, names ...string) error {
	for _, n := range names {
		if c.Seen.Has(n) {
			return nil
		}
	}
	list := make([]string, len(names))
	for i, n := range names {
		list[i] = "--" + n
	}
	if len(list) == 1 {
		return fmt.Errorf("%s is required", list[0])
	}
	return fmt.Errorf("one of %s is required", strings.Join(list, ", "))
}

// mgStrtoul parses the longest C number (strtoumax with base 0) at the
// start of s, as xtables_strtoui does when it is given an end pointer: it
// returns the value and the rest of s. ok is false when no digit was read,
// the number is negative or it does not fit [min,max]; iptables then
// treats the whole argument as not numeric.
func mgStrtoul(s string, min, max uint64) (v uint64, rest string, ok bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if strings.HasPrefix(t, "-") {
		return 0, s, false
	}
	t = strings.TrimPrefix(t, "+")
	base := 10
	switch {
	case len(t) > 2 && (t[:2] == "0x" || t[:2] == "0X") && mgIsHexDigit(t[2]):
		base, t = 16, t[2:]
	case len(t) > 0 && t[0] == '0':
		base = 8
	}
	n := 0
	for n < len(t) && mgDigitVal(t[n]) < base {
		n++
	}
	if n == 0 {
		return 0, s, false
	}
	v, err := strconv.ParseUint(t[:n], base, 64)
	if err != nil || v < min || v > max {
		return 0, t[n:], false
	}
	return v, t[n:], true
}

func mgIsHexDigit(c byte) bool { return mgDigitVal(c) < 16 }

func mgDigitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return 99
}

// mgStrtod parses the longest C floating-point number (strtod) at the start
// of s: decimal with optional exponent, hexadecimal with optional binary
// exponent, "inf", "infinity" and "nan", all after optional blanks and a
// sign. ok is false when nothing was read.
func mgStrtod(s string) (v float64, rest string, ok bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	lower := strings.ToLower(t)
	switch {
	case strings.HasPrefix(lower, "infinity"):
		v, rest, ok = math.Inf(1), t[8:], true
	case strings.HasPrefix(lower, "inf"):
		v, rest, ok = math.Inf(1), t[3:], true
	case strings.HasPrefix(lower, "nan"):
		v, rest, ok = math.NaN(), t[3:], true
		if strings.HasPrefix(rest, "(") {
			if i := strings.IndexByte(rest, ')'); i > 0 && strings.Trim(rest[1:i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" {
				rest = rest[i+1:]
			}
		}
	case len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && (mgIsHexDigit(t[2]) || t[2] == '.' && len(t) > 3 && mgIsHexDigit(t[3])):
		v, rest, ok = mgStrtodHex(t[2:])
	default:
		v, rest, ok = mgStrtodDec(t)
	}
	if !ok {
		return 0, s, false
	}
	if neg {
		v = -v
	}
	return v, rest, true
}

func mgStrtodDec(t string) (float64, string, bool) {
	n, digits := 0, 0
	for n < len(t) && t[n] >= '0' && t[n] <= '9' {
		n, digits = n+1, digits+1
	}
	if n < len(t) && t[n] == '.' {
		n++
		for n < len(t) && t[n] >= '0' && t[n] <= '9' {
			n, digits = n+1, digits+1
		}
	}
	if digits == 0 {
		return 0, t, false
	}
	if n < len(t) && (t[n] == 'e' || t[n] == 'E') {
		e := n + 1
		if e < len(t) && (t[e] == '+' || t[e] == '-') {
			e++
		}
		if e < len(t) && t[e] >= '0' && t[e] <= '9' {
			for e < len(t) && t[e] >= '0' && t[e] <= '9' {
				e++
			}
			n = e
		}
	}
	v, err := strconv.ParseFloat(t[:n], 64)
	if err != nil && !mgIsRangeErr(err) {
		return 0, t, false
	}
	return v, t[n:], true
}

// mgStrtodHex parses the digits after "0x"; Go wants a 'p' exponent in
// hexadecimal floats where C does not, so one is supplied.
func mgStrtodHex(t string) (float64, string, bool) {
	n := 0
	for n < len(t) && mgIsHexDigit(t[n]) {
		n++
	}
	if n < len(t) && t[n] == '.' {
		n++
		for n < len(t) && mgIsHexDigit(t[n]) {
			n++
		}
	}
	mant := t[:n]
	exp := "p0"
	if n < len(t) && (t[n] == 'p' || t[n] == 'P') {
		e := n + 1
		if e < len(t) && (t[e] == '+' || t[e] == '-') {
			e++
		}
		if e < len(t) && t[e] >= '0' && t[e] <= '9' {
			for e < len(t) && t[e] >= '0' && t[e] <= '9' {
				e++
			}
			exp, n = "p"+t[n+1:e], e
		}
	}
	v, err := strconv.ParseFloat("0x"+mant+exp, 64)
	if err != nil && !mgIsRangeErr(err) {
		return 0, t, false
	}
	return v, t[n:], true
}

func mgIsRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// mgDoubleToUint32 converts as the C expression "unsigned int x = d" does
// in iptables built for x86-64: a truncating conversion to a signed 64-bit
// integer (which yields INT64_MIN for NaN and out-of-range values), of
// which the low 32 bits are kept.
func mgDoubleToUint32(d float64) uint32 {
	if math.IsNaN(d) || d >= 1<<63 || d < -(1<<63) {
		return 0
	}
	return uint32(int64(d))
}

// mgInetAton parses an IPv4 address the way inet_aton does (what
// getaddrinfo with AI_NUMERICHOST accepts): one to four parts, each a C
// number; the last part fills the remaining bytes.
func mgInetAton(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return 0, false
	}
	var v uint32
	for i, p := range parts {
		last := i == len(parts)-1
		max := uint64(255)
		if last {
			max = 0xffffffff >> (8 * uint(i))
		}
		n, ok := table.ParseUint(p, 0, max)
		if !ok {
			return 0, false
		}
		if last {
			v |= uint32(n)
		} else {
			v |= uint32(n) << (24 - 8*uint(i))
		}
	}
	return v, true
}

// mgPrefixLen returns the length of a contiguous mask given in network
// byte order, or -1.
func mgPrefixLen(mask []byte) int {
	n := 0
	for i, b := range mask {
		if b == 0xff {
			n += 8
			continue
		}
		for b&0x80 != 0 {
			n++
			b <<= 1
		}
		if b != 0 {
			return -1
		}
		for _, r := range mask[i+1:] {
			if r != 0 {
				return -1
			}
		}
		return n
	}
	return n
}

// mgBareOK reports whether a string that iptables-save prints bare (with
// "%s", unquoted) reads back as the same single word; an empty string or
// one with a blank or a double quote does not, so the saved file would not
// restore the same rule.
func mgBareOK(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\n\v\f\r\"")
}

// mgHookNames names the hooks of a mask for messages.
func mgHookNames(m table.HookMask) string {
	var names []string
	for h := table.Hook(0); h < table.NumHooks; h++ {
		if m&h.Mask() != 0 {
			names = append(names, h.String())
		}
	}
	return strings.Join(names, ", ")
}
