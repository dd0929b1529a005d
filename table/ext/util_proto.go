package ext

import (
	"fmt"
	"math"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Helpers of the protocol matches. Several libxtables parsers read a
// number off the front of a string and look at what follows (strtoul with
// an end pointer), and the XTTYPE_PORTRC options resolve ports through
// getaddrinfo rather than through the usual port parser; both behave
// differently enough from parseUint and parsePort to need their own code.

// cutCUint reads a C number (decimal, 0x hex or 0-prefixed octal, with an
// optional '+') from the start of s and returns it with the rest of s. ok
// is false when no digit was read or the value overflows; a leading '-' is
// refused, as xtables_strtoul does. It is xtStrtoulPrefix without the
// leading blanks strtoumax skips: the protocol matches have always refused
// those, and keep doing so.
func cutCUint(s string) (v uint64, rest string, ok bool) {
	if s != "" && cIsSpace(s[0]) {
		return 0, s, false
	}
	return xtStrtoulPrefix(s, 0, math.MaxUint64)
}

// parseUintRC parses what libxtables' XTTYPE_UINT*RC options take: one or
// two C numbers in [0,max] separated by ':', where an empty first part
// means 0 and an empty second part means max. A single value (including
// the empty string, which is 0) gives lo == hi. The order of the ends is
// not checked: callers decide.
func parseUintRC(s string, max uint64) (lo, hi uint64, err error) {
	parts := strings.Split(s, ":")
	if len(parts) > 2 {
		return 0, 0, fmt.Errorf("invalid range %q (at most two values separated by ':')", s)
	}
	vals := [2]uint64{0, max}
	for i, p := range parts {
		if p == "" {
			continue
		}
		v, rest, ok := cutCUint(p)
		if !ok || v > max {
			return 0, 0, fmt.Errorf("invalid value %q in %q (expected a number from 0 to %d)", p, s, max)
		}
		if rest != "" {
			return 0, 0, fmt.Errorf("unexpected characters %q in %q", rest, s)
		}
		vals[i] = v
	}
	if len(parts) == 1 {
		vals[1] = vals[0]
	}
	return vals[0], vals[1], nil
}

// parseServicePort resolves a port of libxtables' XTTYPE_PORT and
// XTTYPE_PORTRC options, which go through getaddrinfo (gaiPort). Its
// messages are the protocol matches' own; the conntrack group's ctGetPort
// does the same lookup with different wording.
func parseServicePort(s string) (uint16, error) {
	p, numeric, ok := gaiPort(s)
	switch {
	case !ok && numeric:
		return 0, table.WithHint("iptables would keep only the low 16 bits of the number", "port %q is out of range (0-65535)", s)
	case !ok:
		return 0, fmt.Errorf("invalid port/service %q specified", s)
	}
	return p, nil
}

// parsePortRC parses an XTTYPE_PORTRC argument: "port", "a:b", ":b", "a:"
// or ":" (an empty end is 0 or 65535; the empty string is port 0). The
// order of the ends is not checked: callers decide.
func parsePortRC(s string) ([2]uint16, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 2 {
		return [2]uint16{}, fmt.Errorf("invalid port range %q (at most two ports separated by ':')", s)
	}
	r := [2]uint16{0, 0xffff}
	for i, p := range parts {
		if p == "" {
			continue
		}
		v, err := parseServicePort(p)
		if err != nil {
			return r, err
		}
		r[i] = v
	}
	if len(parts) == 1 {
		r[1] = r[0]
	}
	return r, nil
}

// checkLiveRange refuses the ranges iptables accepts but that can never match
// anything: reversed ones, and the whole range negated.
func checkLiveRange(opt string, lo, hi, max uint64, inv bool) error {
	if lo > hi {
		return table.WithHint(fmt.Sprintf("write %d:%d", hi, lo), "--%s range %d:%d has min > max and would never match", opt, lo, hi)
	}
	if inv && lo == 0 && hi == max {
		return table.WithHint("drop the option (or the '!')", "! --%s %d:%d would never match", opt, lo, hi)
	}
	return nil
}

// spiText prints a 32-bit range the way the IPsec matches save it: "a"
// when both ends are equal, else "a:b".
func spiText(r [2]uint32) string { return rangeText(uint64(r[0]), uint64(r[1])) }

// Protocol numbers of the protocol matches.
const (
	protoICMP    = 1
	protoTCP     = 6
	protoUDP     = 17
	protoDCCP    = 33
	protoESP     = 50
	protoAH      = 51
	protoICMPv6  = 58
	protoComp    = 108
	protoSCTP    = 132
	protoMH      = 135
	protoUDPLite = 136
)

// icmpName is one entry of libxtables' ICMP and ICMPv6 type name tables:
// a type with the code range the name stands for.
type icmpName struct {
	name             string
	typ              uint8
	codeMin, codeMax uint8
}

// parseICMPType parses "name", "type", "type/code" or "type/min:max" as
// libxt_icmp.h does: a name may be abbreviated to any unambiguous prefix,
// case-insensitively (aliases count, so "ne" is ambiguous between
// neighbour- and neighbor-solicitation); "t:t" is allowed for a type; all
// numbers are C numbers from 0 to 255.
func parseICMPType(s string, names []icmpName) (typ uint8, code [2]uint8, err error) {
	match := -1
	for i, n := range names {
		if len(n.name) >= len(s) && strings.EqualFold(n.name[:len(s)], s) {
			if match >= 0 {
				return 0, code, table.WithHint("write more of the name, or the type number", "ambiguous type %q: %q or %q", s, names[match].name, n.name)
			}
			match = i
		}
	}
	if match >= 0 {
		n := names[match]
		return n.typ, [2]uint8{n.codeMin, n.codeMax}, nil
	}
	types, rest, ok := cutByteRange(s)
	if !ok {
		return 0, code, table.WithHint("use a type name or a number from 0 to 255", "unknown type %q", s)
	}
	code = [2]uint8{0, 0xff}
	switch {
	case rest == "":
	case rest[0] == '/':
		var r string
		code, r, ok = cutByteRange(rest[1:])
		if !ok {
			return 0, code, fmt.Errorf("unknown code in %q (expected a number from 0 to 255)", s)
		}
		if r != "" {
			return 0, code, fmt.Errorf("unexpected character %q in %q", r[0], s)
		}
	default:
		return 0, code, fmt.Errorf("unexpected character %q in %q", rest[0], s)
	}
	if types[0] != types[1] {
		return 0, code, fmt.Errorf("type range %q is not supported", s)
	}
	return types[0], code, nil
}

// cutByteRange reads "n" or "n:m" of C numbers in [0,255] from the start
// of s (libxt_icmp.h's parse_range).
func cutByteRange(s string) (r [2]uint8, rest string, ok bool) {
	v, rest, ok := cutCUint(s)
	if !ok || v > 0xff {
		return r, s, false
	}
	r[0], r[1] = uint8(v), uint8(v)
	if strings.HasPrefix(rest, ":") {
		v, rest, ok = cutCUint(rest[1:])
		if !ok || v > 0xff {
			return r, s, false
		}
		r[1] = uint8(v)
	}
	return r, rest, true
}

// checkICMPCode refuses what iptables-save cannot write back: it prints
// only the first code of a range, so a range other than a single code or
// all of them would come back as a single code.
func checkICMPCode(code [2]uint8) error {
	if code[0] == code[1] || code == [2]uint8{0, 0xff} {
		return nil
	}
	return table.WithHint("give one code, or none for all of them", "code range %d:%d cannot be saved: iptables-save keeps only code %d", code[0], code[1], code[0])
}

// parseSPIRange reads the SPI range of esp, ah and ipcomp (XTTYPE_UINT32RC:
// C numbers, "a", "a:b", ":b", "a:"). Reversed ranges and the negated full
// range never match; the latter is also saved without its '!'.
func parseSPIRange(a *table.OptArgs) ([2]uint32, error) {
	lo, hi, err := parseUintRC(a.Arg, 0xffffffff)
	if err != nil {
		return [2]uint32{}, err
	}
	if err := checkLiveRange(a.Opt.Name, lo, hi, 0xffffffff, a.Invert); err != nil {
		return [2]uint32{}, err
	}
	return [2]uint32{uint32(lo), uint32(hi)}, nil
}

// putPorts writes a [2]uint16 range (ports, MSS) in host order at off, as
// the protocol matches store their ranges.
func putPorts(w *xtbin.Writer, off int, r [2]uint16) {
	w.U16(off, r[0])
	w.U16(off+2, r[1])
}

// getPorts reads what putPorts writes.
func getPorts(r *xtbin.Reader, off int) [2]uint16 { return [2]uint16{r.U16(off), r.U16(off + 2)} }

// putSPIs writes an SPI range of esp, ah and ipcomp: two host-order u32.
func putSPIs(w *xtbin.Writer, off int, s [2]uint32) {
	w.U32(off, s[0])
	w.U32(off+4, s[1])
}

// getSPIs reads what putSPIs writes.
func getSPIs(r *xtbin.Reader, off int) [2]uint32 { return [2]uint32{r.U32(off), r.U32(off + 4)} }
