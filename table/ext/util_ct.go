package ext

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// Helpers of the conntrack group. Several of its extensions take their
// arguments through libxtables paths that differ from the ones -s/-d and
// the tcp match use: addresses go through getaddrinfo (so "10" is 0.0.0.10,
// as inet_aton reads it, not 10.0.0.0), ports through getaddrinfo's service
// lookup (decimal only, any protocol), and ranges through the multi-int
// parser, which accepts reversed bounds. These helpers reproduce those
// paths so that fw stores the same bytes iptables would.

// ctParseMint parses the argument of a libxtables multi-int option ("a",
// "a:b", ":b", "a:", ":"): an omitted first bound is 0, an omitted second
// is max. It returns the bounds and how many were written (1 or 2); a lone
// value leaves v[1] zero for the caller to fill. Bounds are not ordered
// here: some extensions refuse a reversed range, others store it.
func ctParseMint(s string, max uint64) (v [2]uint64, n int, err error) {
	arg := s
	for {
		if n == 2 {
			return v, n, fmt.Errorf("invalid range %q (at most two numbers, \"a:b\")", s)
		}
		var end string
		if arg == "" || arg[0] == ':' {
			end = arg
			if n == 1 {
				v[n] = max
			}
		} else {
			x, rest, ok := xtStrtoulPrefix(arg, 0, math.MaxUint64)
			if !ok || x > max {
				return v, n, fmt.Errorf("invalid value %q in %q (expected a number from 0 to %d)", arg, s, max)
			}
			if rest != "" && rest[0] != ':' {
				return v, n, fmt.Errorf("unexpected characters %q in %q", rest, s)
			}
			v[n], end = x, rest
		}
		n++
		if end == "" {
			return v, n, nil
		}
		arg = end[1:]
	}
}

// ctParseHost parses one address or host name (no mask) into the 16-byte
// nf_inet_addr layout (IPv4 in the first four bytes). Names come from
// /etc/hosts only, as everywhere in fw, and must name one address.
func ctParseHost(s string, fam table.Family) ([16]byte, error) {
	var out [16]byte
	if fam == table.IPv4 {
		if b, ok := inetAton(s, false); ok {
			copy(out[:], b[:])
			return out, nil
		}
	} else if a, err := netip.ParseAddr(s); err == nil {
		if !a.Is6() || a.Zone() != "" {
			return out, fmt.Errorf("%q is not an IPv6 address", s)
		}
		return a.As16(), nil
	}
	if s == "" || strings.ContainsAny(s, "/%") {
		return out, fmt.Errorf("invalid address %q", s)
	}
	addrs, err := table.ParseAddr(s, fam)
	if err != nil {
		return out, err
	}
	for _, a := range addrs[1:] {
		if a.IP != addrs[0].IP {
			return out, fmt.Errorf("%q resolves to more than one address", s)
		}
	}
	copy(out[:], addrs[0].IP.AsSlice())
	return out, nil
}

// ctParseMask parses the mask of an address or a --connlimit-mask: a prefix
// length (a C number) or an address-shaped mask. iptables 1.8.9 turns a
// mask that is not contiguous into a full mask without a word; fw refuses
// it instead, since the rule would not match what was written.
func ctParseMask(s string, fam table.Family) ([16]byte, error) {
	bits := uint64(32)
	if fam == table.IPv6 {
		bits = 128
	}
	if v, rest, ok := xtStrtoulPrefix(s, 0, math.MaxUint64); ok && rest == "" && v <= bits {
		return prefixMask16(int(v)), nil
	}
	var m []byte
	if fam == table.IPv4 {
		if b, ok := inetAton(s, false); ok {
			m = b[:]
		}
	} else if b, ok := ipv6Literal(s); ok {
		m = b[:]
	}
	if m == nil {
		return [16]byte{}, fmt.Errorf("invalid mask %q (expected a prefix length from 0 to %d or a network mask)", s, bits)
	}
	n := table.MaskPrefixLen(m)
	if n < 0 {
		return [16]byte{}, table.WithHint("use a prefix length", "mask %q is not contiguous (iptables would silently match the whole address instead)", s)
	}
	return prefixMask16(n), nil
}

// ctParseHostMask parses "address[/mask]" as libxtables' host-mask options
// do. The address is kept as written, not masked: iptables prints it back
// that way. Without a mask all sixteen mask bytes are set, for both
// families.
func ctParseHostMask(s string, fam table.Family) (addr, mask [16]byte, err error) {
	host, m, hasMask := strings.Cut(s, "/")
	if addr, err = ctParseHost(host, fam); err != nil {
		return
	}
	if !hasMask {
		for i := range mask {
			mask[i] = 0xff
		}
		return
	}
	mask, err = ctParseMask(m, fam)
	return
}

// ctAddrText prints an address and its mask as libxtables' numeric helpers
// do: no suffix for a full mask, "/len" for a prefix, else "/mask".
func ctAddrText(addr, mask [16]byte, fam table.Family) string {
	if fam == table.IPv4 {
		a := netip.AddrFrom4([4]byte(addr[:4])).String()
		switch n := table.MaskPrefixLen(mask[:4]); n {
		case 32:
			return a
		case -1:
			return a + "/" + netip.AddrFrom4([4]byte(mask[:4])).String()
		default:
			return a + "/" + strconv.Itoa(n)
		}
	}
	a := table.FormatIP(netip.AddrFrom16(addr))
	switch n := table.MaskPrefixLen(mask[:]); n {
	case 128:
		return a
	case -1:
		return a + "/" + table.FormatIP(netip.AddrFrom16(mask))
	default:
		return a + "/" + strconv.Itoa(n)
	}
}

// ctGetPort resolves one port as getaddrinfo(NULL, name) does for
// libxtables (gaiPort), with the conntrack group's messages, which differ
// from parseServicePort's.
func ctGetPort(s string) (uint16, error) {
	p, numeric, ok := gaiPort(s)
	switch {
	case !ok && numeric:
		return 0, fmt.Errorf("port %q is out of range (0-65535)", s)
	case !ok:
		return 0, fmt.Errorf("port %q does not resolve to anything", s)
	}
	return p, nil
}

// ctParsePortRange parses "port", "a:b", "a:", ":b" or ":" with
// getaddrinfo's port rules. A lone port gives a range of one; an empty
// argument is port 0, as in iptables. The bounds are not ordered here.
func ctParsePortRange(s string) (lo, hi uint16, err error) {
	parts := strings.Split(s, ":")
	if len(parts) > 2 {
		return 0, 0, fmt.Errorf("invalid port range %q (at most two ports, \"a:b\")", s)
	}
	lo, hi = 0, 0xffff
	for i, p := range parts {
		if p == "" {
			continue
		}
		v, err := ctGetPort(p)
		if err != nil {
			return 0, 0, err
		}
		if i == 0 {
			lo = v
		} else {
			hi = v
		}
	}
	if len(parts) == 1 {
		hi = lo
	}
	return lo, hi, nil
}

// ctPrefixMatch reports whether word is a non-empty, case-insensitive
// prefix of keyword, the way strncasecmp(word, keyword, len(word)) is used
// by the state parsers: "est" and "E" both mean ESTABLISHED.
func ctPrefixMatch(word, keyword string) bool {
	return word != "" && len(word) <= len(keyword) && strings.EqualFold(word, keyword[:len(word)])
}

// ctFlagNames is a name table for a bit mask printed as a comma list.
type ctFlagNames []struct {
	name string
	bit  uint32
}

// text lists the names of the bits set in mask in table order.
func (t ctFlagNames) text(mask uint32) string {
	var out []string
	for _, n := range t {
		if mask&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, ",")
}

// ctNeedProto is the kernel's rule for CT helpers and timeouts: the rule
// must name a layer 4 protocol, not negated.
func ctNeedProto(c *table.CheckContext, what string) error {
	ip := &c.Rule.IP
	if ip.Proto == 0 || ip.InvProto {
		return table.WithHint("add '-p tcp' or '-p udp' before it", "%s needs a layer 4 protocol (-p, not negated)", what)
	}
	return nil
}
