package ext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// ICMP is the IPv4 icmp match; it mirrors struct ipt_icmp. Type 255 means
// any type (the kernel ignores the codes then).
type ICMP struct{ icmpMatch }

// icmpMatch is what the icmp and icmp6 matches hold, the same layout under
// two names (struct ipt_icmp, struct ip6t_icmp).
type icmpMatch struct {
	Type     uint8
	Code     [2]uint8
	Invflags uint8
}

const icmpInv = 0x01

var icmpInfo = &table.ExtInfo{
	Name: "icmp", Kind: table.MatchKind, Family: table.IPv4, Size: icmpSize,
	Options: opts("!icmp-type="),
	New: func(table.Family) table.Ext {
		return &ICMP{icmpMatch{Type: 0xff, Code: [2]uint8{0, 0xff}}}
	},
}

// icmpNames is libxt_icmp.h's table, in its order (which decides what is
// ambiguous).
var icmpNames = []icmpName{
	{"any", 0xff, 0, 0xff},
	{"echo-reply", 0, 0, 0xff},
	{"pong", 0, 0, 0xff},
	{"destination-unreachable", 3, 0, 0xff},
	{"network-unreachable", 3, 0, 0},
	{"host-unreachable", 3, 1, 1},
	{"protocol-unreachable", 3, 2, 2},
	{"port-unreachable", 3, 3, 3},
	{"fragmentation-needed", 3, 4, 4},
	{"source-route-failed", 3, 5, 5},
	{"network-unknown", 3, 6, 6},
	{"host-unknown", 3, 7, 7},
	{"network-prohibited", 3, 9, 9},
	{"host-prohibited", 3, 10, 10},
	{"TOS-network-unreachable", 3, 11, 11},
	{"TOS-host-unreachable", 3, 12, 12},
	{"communication-prohibited", 3, 13, 13},
	{"host-precedence-violation", 3, 14, 14},
	{"precedence-cutoff", 3, 15, 15},
	{"source-quench", 4, 0, 0xff},
	{"redirect", 5, 0, 0xff},
	{"network-redirect", 5, 0, 0},
	{"host-redirect", 5, 1, 1},
	{"TOS-network-redirect", 5, 2, 2},
	{"TOS-host-redirect", 5, 3, 3},
	{"echo-request", 8, 0, 0xff},
	{"ping", 8, 0, 0xff},
	{"router-advertisement", 9, 0, 0xff},
	{"router-solicitation", 10, 0, 0xff},
	{"time-exceeded", 11, 0, 0xff},
	{"ttl-exceeded", 11, 0, 0xff},
	{"ttl-zero-during-transit", 11, 0, 0},
	{"ttl-zero-during-reassembly", 11, 1, 1},
	{"parameter-problem", 12, 0, 0xff},
	{"ip-header-bad", 12, 0, 0},
	{"required-option-missing", 12, 1, 1},
	{"timestamp-request", 13, 0, 0xff},
	{"timestamp-reply", 14, 0, 0xff},
	{"address-mask-request", 17, 0, 0xff},
	{"address-mask-reply", 18, 0, 0xff},
}

func (m *ICMP) Info() *table.ExtInfo { return icmpInfo }
func (m *ICMP) Name() string         { return "icmp" }

// Parse refuses, on top of what iptables refuses, a negated "any" (it
// would never match) and code ranges that iptables-save would shorten.
func (m *ICMP) Parse(a *table.OptArgs) error {
	typ, code, err := parseICMPType(a.Arg, icmpNames)
	if err != nil {
		return err
	}
	if typ == 0xff && a.Invert {
		return table.WithHint("drop the match, or the '!'", "! --icmp-type %s would never match", a.Arg)
	}
	// Any type matches whatever its codes, which are stored as given.
	return m.set(typ, code, a.Invert, typ != 0xff)
}

// set stores a type and code range; with check it refuses code ranges
// that iptables-save would shorten.
func (m *icmpMatch) set(typ uint8, code [2]uint8, inv, check bool) error {
	if check {
		if err := checkICMPCode(code); err != nil {
			return err
		}
	}
	m.Type, m.Code = typ, code
	m.Invflags |= invBit(inv, icmpInv)
	return nil
}

func (m *ICMP) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("icmp-type") {
		return table.WithHint("add e.g. --icmp-type echo-request, or --icmp-type any", "--icmp-type is required")
	}
	return nil
}

func (m *ICMP) Check(c *table.CheckContext) error { return needProto(c, "icmp match", protoICMP) }

// Print writes numbers only; type 255 is "any" whatever its codes.
func (m *ICMP) Print(w *table.Writer) {
	inv := m.Invflags&icmpInv != 0
	if m.Type == 0xff {
		w.Opt(inv, "icmp-type", "any")
		return
	}
	w.Opt(inv, "icmp-type", icmpTypeText(m.Type, m.Code))
}

// icmpTypeText is "type" when the codes are the full range, else
// "type/first-code" (the rest of a code range is not printed).
func icmpTypeText(typ uint8, code [2]uint8) string {
	s := strconv.Itoa(int(typ))
	if code != [2]uint8{0, 0xff} {
		s += fmt.Sprintf("/%d", code[0])
	}
	return s
}

// type@0 code[2]@1 invflags@3; 4 bytes.
const icmpSize = 4

func (m *icmpMatch) layout() []field {
	return []field{{0, &m.Type}, {1, &m.Code}, {3, &m.Invflags}}
}

func (m *icmpMatch) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, m.layout()...)
}

func (m *icmpMatch) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}

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
	v, rest, ok := table.StrtoulPrefix(s, 0, 0xff)
	if !ok {
		return r, s, false
	}
	r[0], r[1] = uint8(v), uint8(v)
	if strings.HasPrefix(rest, ":") {
		v, rest, ok = table.StrtoulPrefix(rest[1:], 0, 0xff)
		if !ok {
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
