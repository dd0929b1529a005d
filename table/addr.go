package table

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseAddrList parses the argument of -s/-d as xtables_ipparse_multiple
// and xtables_ip6parse_multiple do: a comma-separated list of addresses or
// host names, each with an optional "/prefix" or "/mask". Every element
// becomes one Addr (host names may give several); the kernel stores one
// rule per combination. Names are resolved by names (which never asks
// DNS).
func ParseAddrList(s string, f Family, names Resolver) ([]Addr, error) {
	return AppendAddrList(nil, s, f, names)
}

// AppendAddrList is ParseAddrList appending to dst, so that a parser can
// reuse one slice for every rule.
func AppendAddrList(dst []Addr, s string, f Family, names Resolver) ([]Addr, error) {
	if !strings.Contains(s, ",") {
		return appendAddr(dst, s, f, names)
	}
	for part := range strings.SplitSeq(s, ",") {
		var err error
		if dst, err = appendAddr(dst, part, f, names); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func appendAddr(dst []Addr, s string, f Family, names Resolver) ([]Addr, error) {
	host, mask, hasMask := strings.Cut(s, "/")
	if host == "" {
		return nil, fmt.Errorf("empty address in %q", s)
	}
	m := fullMask(f)
	if hasMask {
		var err error
		if m, err = parseMask(mask, f); err != nil {
			return nil, err
		}
	}
	if f == IPv4 {
		// The common case, without the slice parseHost builds.
		if ip, ok := parseDotted(host, false); ok {
			return append(dst, Addr{IP: maskAddr(ip, m), Mask: m}), nil
		}
	}
	ips, err := parseHost(host, f, names)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		dst = append(dst, Addr{IP: maskAddr(ip, m), Mask: m})
	}
	return dst, nil
}

func fullMask(f Family) netip.Addr {
	if f == IPv6 {
		return netip.AddrFrom16([16]byte{0: 0xff, 1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff,
			8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff})
	}
	return netip.AddrFrom4([4]byte{0xff, 0xff, 0xff, 0xff})
}

// PrefixMask returns the mask of a prefix length for the family.
func PrefixMask(f Family, n int) netip.Addr {
	var arr [16]byte
	b := arr[:4]
	if f == IPv6 {
		b = arr[:]
	}
	for i := range b {
		switch {
		case n >= 8:
			b[i] = 0xff
			n -= 8
		case n > 0:
			b[i] = byte(0xff << (8 - n))
			n = 0
		}
	}
	if f == IPv6 {
		return netip.AddrFrom16(arr)
	}
	return netip.AddrFrom4([4]byte(b))
}

func parseMask(s string, f Family) (netip.Addr, error) {
	max := uint64(32)
	if f == IPv6 {
		max = 128
	}
	if !strings.ContainsAny(s, ".:") {
		n, ok := ParseUint(s, 0, max)
		if !ok {
			return netip.Addr{}, fmt.Errorf("invalid mask %q (a prefix length is 0 to %d)", s, max)
		}
		return PrefixMask(f, int(n)), nil
	}
	if f == IPv6 {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("invalid mask %q", s)
		}
		return a, nil
	}
	a, ok := parseDotted(s, true)
	if !ok {
		return netip.Addr{}, fmt.Errorf("invalid mask %q", s)
	}
	return a, nil
}

// ParseDotted is parseDotted for an address, not a mask. Extensions whose
// libxtables options go through xtables_numeric_to_ipaddr, the parser
// behind -s/-d, use it so that their syntax cannot drift from -s/-d's.
func ParseDotted(s string) (netip.Addr, bool) { return parseDotted(s, false) }

// parseDotted parses an IPv4 address as libxtables does: up to four
// dot-separated parts, each a C number of 0..255; fewer than four parts
// fill the rest with zeros ("10" is 10.0.0.0), except in a mask.
func parseDotted(s string, isMask bool) (netip.Addr, bool) {
	var b [4]byte
	n := 0
	for {
		dot := strings.IndexByte(s, '.')
		p := s
		if dot >= 0 {
			p = s[:dot]
		}
		if n == 4 {
			return netip.Addr{}, false
		}
		v, ok := ParseUint(p, 0, 255)
		if !ok {
			return netip.Addr{}, false
		}
		b[n] = byte(v)
		n++
		if dot < 0 {
			break
		}
		s = s[dot+1:]
	}
	if isMask && n != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}

func parseHost(s string, f Family, names Resolver) ([]netip.Addr, error) {
	if f == IPv6 {
		if a, err := netip.ParseAddr(s); err == nil {
			if !a.Is6() || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not an IPv6 address", s)
			}
			return []netip.Addr{a}, nil
		}
	} else if a, ok := parseDotted(s, false); ok {
		return []netip.Addr{a}, nil
	}
	if ips := names.Host(s, f); len(ips) > 0 {
		return ips, nil
	}
	return nil, WithHint("fw resolves names only through /etc/hosts, never DNS", "host/network %q not found", s)
}

func maskAddr(ip, m netip.Addr) netip.Addr {
	if ip.Is4() {
		a, b := ip.As4(), m.As4()
		for i := range a {
			a[i] &= b[i]
		}
		return netip.AddrFrom4(a)
	}
	a, b := ip.As16(), m.As16()
	for i := range a {
		a[i] &= b[i]
	}
	return netip.AddrFrom16(a)
}
