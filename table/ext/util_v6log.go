package ext

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/fwkit/fw/table"
)

// Helpers of the v6log group: the libxtables syntaxes its extensions share
// beyond util.go (multi-int ranges, host/mask arguments resolved the way
// getaddrinfo does) and the 16-byte address fields of kernel structs.

// v6lRange parses libxtables' "multi-int" range syntax (XTTYPE_UINT*RC):
// one or two numbers in [0,max] separated by ':', where an empty part means
// 0 before the colon and max after it. n is the number of parts given,
// which some extensions look at ("4" is not a range, "4:" is). A reversed
// range is returned as given; callers decide.
func v6lRange(s string, max uint64) (lo, hi uint64, n int, err error) {
	parts := strings.Split(s, ":")
	if len(parts) > 2 {
		return 0, 0, 0, fmt.Errorf("too many parts in %q (at most two, \"min:max\")", s)
	}
	vals := [2]uint64{0, max}
	for i, p := range parts {
		if p == "" {
			continue
		}
		if vals[i], err = parseUint(p, 0, max); err != nil {
			return 0, 0, 0, err
		}
	}
	n = len(parts)
	if n == 1 {
		vals[1] = vals[0]
	}
	return vals[0], vals[1], n, nil
}

// v6lParseHost parses one address of family fam, or a host name from
// /etc/hosts that must stand for a single address (getaddrinfo's rule in
// libxtables: a name with several addresses is refused).
func v6lParseHost(s string, fam table.Family) (netip.Addr, error) {
	if fam == table.IPv6 {
		if a, err := netip.ParseAddr(s); err == nil {
			if !a.Is6() || a.Zone() != "" {
				return netip.Addr{}, fmt.Errorf("%q is not an IPv6 address", s)
			}
			return a, nil
		}
	} else if b, ok := inetAton(s, true); ok {
		return netip.AddrFrom4(b), nil
	}
	if s == "" || strings.ContainsAny(s, "/ ") {
		return netip.Addr{}, fmt.Errorf("invalid address %q", s)
	}
	addrs, err := table.ParseAddr(s, fam)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs[1:] {
		if a.IP != addrs[0].IP {
			return netip.Addr{}, fmt.Errorf("host name %q resolves to more than one address", s)
		}
	}
	return addrs[0].IP, nil
}

// v6lHostMask parses libxtables' XTTYPE_HOSTMASK argument: "host[/mask]"
// where mask is a prefix length (a C number) or a full mask. The address
// is kept as written, not masked. A non-contiguous mask is refused: the
// reference silently turns it into a full-length mask.
func v6lHostMask(s string, fam table.Family) (addr, mask netip.Addr, err error) {
	host, m, hasMask := strings.Cut(s, "/")
	if addr, err = v6lParseHost(host, fam); err != nil {
		return
	}
	bits := 32
	if fam == table.IPv6 {
		bits = 128
	}
	plen := uint64(bits)
	if hasMask {
		var ok bool
		if plen, ok = table.ParseUint(m, 0, uint64(bits)); !ok {
			var full netip.Addr
			if fam == table.IPv6 {
				var b [16]byte
				b, ok = ipv6Literal(m)
				full = netip.AddrFrom16(b)
			} else {
				var b [4]byte
				b, ok = inetAton(m, true)
				full = netip.AddrFrom4(b)
			}
			if !ok {
				return addr, mask, fmt.Errorf("invalid mask %q (a prefix length is 0 to %d)", m, bits)
			}
			n := (table.Addr{IP: full, Mask: full}).PrefixLen()
			if n < 0 {
				return addr, mask, table.WithHint("write the mask as a prefix length", "mask %q is not contiguous", m)
			}
			plen = uint64(n)
		}
	}
	return addr, table.PrefixMask(fam, int(plen)), nil
}

// v6lBytes16 stores an address in a 16-byte kernel field (union
// nf_inet_addr: an IPv4 address in the first four bytes).
func v6lBytes16(a netip.Addr) [16]byte {
	var b [16]byte
	copy(b[:], a.AsSlice())
	return b
}

// v6lPrefixLen returns the prefix length of a mask field, or -1.
func v6lPrefixLen(b [16]byte, fam table.Family) int {
	m := addr16(b, fam)
	return (table.Addr{IP: m, Mask: m}).PrefixLen()
}

// v6lHostMask16 is v6lHostMask for a pair of 16-byte kernel fields, filled
// the way libxtables fills them: without "/mask" it sets all 16 mask bytes,
// even for IPv4, where only the first four count; with one, only the
// family's part.
func v6lHostMask16(s string, fam table.Family) (addr, mask [16]byte, err error) {
	a, m, err := v6lHostMask(s, fam)
	if err != nil {
		return addr, mask, err
	}
	addr, mask = v6lBytes16(a), v6lBytes16(m)
	if !strings.Contains(s, "/") {
		for i := range mask {
			mask[i] = 0xff
		}
	}
	return addr, mask, nil
}
