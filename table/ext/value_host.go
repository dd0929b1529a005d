package ext

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/fwkit/fw/table"
)

// The host address value: one address of the rule's family, as the
// extensions' options take it. Three upstream parsers read such an
// argument, each with its own syntax; an option names the one its
// extension calls.

// addrSyntax is the upstream parser an address option mirrors.
type addrSyntax uint8

const (
	// viaGetaddrinfo is libxtables' XTTYPE_HOST and XTTYPE_HOSTMASK
	// (xtopt_parse_host), which call getaddrinfo: IPv4 in inet_aton's
	// forms ("10" is 0.0.0.10, "1.2" is 1.0.0.2, parts in C number
	// syntax), or an IPv4-mapped IPv6 literal for IPv4; an IPv6 literal
	// for IPv6; else a host name, which must stand for one address. fw
	// resolves names only through the resolver (/etc/hosts), never DNS.
	viaGetaddrinfo addrSyntax = iota
	// viaInetPton is inet_pton, which libxt_NAT (--to-source,
	// --to-destination) and libip6t_rt (--rt-0-addrs) call, as does
	// xtables_numeric_to_ip6addr: four decimal parts for IPv4, an IPv6
	// literal for IPv6, no names.
	viaInetPton
	// viaXtablesNumeric is xtables_numeric_to_ipaddr for IPv4 (what -s/-d
	// and libxt_iprange use: one to four C numbers of 0 to 255, missing
	// parts zero, so "10" is 10.0.0.0; only the first 19 bytes count, as
	// libxtables copies the text into a 20-byte buffer) and inet_pton for
	// IPv6.
	viaXtablesNumeric
)

// parseAddr parses one address of family fam with the syntax of syn;
// with names nil it takes numeric addresses only (getaddrinfo's
// AI_NUMERICHOST).
// Zones are refused: every parser drops or refuses them, and an address
// that says more than the rule keeps would mislead.
func parseAddr(s string, fam table.Family, syn addrSyntax, names table.Resolver) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		switch {
		case a.Zone() != "":
			return netip.Addr{}, table.WithHint("write the address without a zone; iptables would drop it", "address %q has a zone", s)
		case fam == table.IPv6 && a.Is6(), fam == table.IPv4 && a.Is4():
			return a, nil
		case fam == table.IPv4 && a.Is4In6() && syn == viaGetaddrinfo:
			// getaddrinfo gives the IPv4 address of an IPv4-mapped
			// literal when asked for AF_INET.
			return a.Unmap(), nil
		}
		return netip.Addr{}, fmt.Errorf("%q is not an %s address", s, famName(fam))
	}
	if fam == table.IPv4 {
		switch syn {
		case viaGetaddrinfo:
			if b, ok := inetAton(s); ok {
				return netip.AddrFrom4(b), nil
			}
		case viaXtablesNumeric:
			if len(s) > 19 {
				s = s[:19]
			}
			if a, ok := table.ParseDotted(s); ok {
				return a, nil
			}
		}
	}
	if syn != viaGetaddrinfo || names == nil || s == "" || strings.ContainsAny(s, ":%/[] ") {
		return netip.Addr{}, fmt.Errorf("invalid %s address %q", famName(fam), s)
	}
	addrs := names.Host(s, fam)
	if len(addrs) == 0 {
		return netip.Addr{}, table.WithHint("fw resolves names only through /etc/hosts, never DNS", "host %q not found", s)
	}
	for _, a := range addrs[1:] {
		if a != addrs[0] {
			return netip.Addr{}, fmt.Errorf("host %q resolves to more than one address", s)
		}
	}
	return addrs[0], nil
}

// parseAddr16 is parseAddr into the 16 bytes of a kernel address field
// (union nf_inet_addr: an IPv4 address in the first four bytes).
func parseAddr16(s string, fam table.Family, syn addrSyntax, names table.Resolver) ([16]byte, error) {
	a, err := parseAddr(s, fam, syn, names)
	return bytes16(a), err
}

// inetAton parses an IPv4 address as glibc's getaddrinfo reads a numeric
// host (inet_aton, the whole string): one to four parts, each a C number
// starting with a digit (0x hex, 0 octal), the last part filling the
// remaining bytes.
func inetAton(s string) ([4]byte, bool) {
	var parts [4]uint64
	n := 0
	for {
		if s == "" || s[0] < '0' || s[0] > '9' || n == 4 {
			return [4]byte{}, false
		}
		v, rest, _, erange := table.Strtoumax(s, 0)
		if erange || v > 0xffffffff {
			return [4]byte{}, false
		}
		parts[n] = v
		n++
		if rest == "" {
			break
		}
		if rest[0] != '.' || v > 0xff {
			return [4]byte{}, false
		}
		s = rest[1:]
	}
	last := parts[n-1]
	if last > uint64(0xffffffff)>>(8*(n-1)) {
		return [4]byte{}, false
	}
	var b [4]byte
	for i := range n - 1 {
		b[i] = byte(parts[i])
	}
	for i := 3; i >= n-1; i-- {
		b[i] = byte(last)
		last >>= 8
	}
	return b, true
}

func famName(f table.Family) string {
	if f == table.IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

// bytes16 stores an address in a 16-byte kernel field; the invalid
// address is all zero.
func bytes16(a netip.Addr) [16]byte {
	var b [16]byte
	if a.IsValid() {
		copy(b[:], a.AsSlice())
	}
	return b
}

// addr16 reads a 16-byte kernel address field for the family.
func addr16(b [16]byte, fam table.Family) netip.Addr {
	if fam == table.IPv6 {
		return netip.AddrFrom16(b)
	}
	return netip.AddrFrom4([4]byte(b[:4]))
}

// addr16Text prints a 16-byte address field as iptables does (glibc's
// inet_ntop, see table.FormatIP).
func addr16Text(b [16]byte, fam table.Family) string {
	return table.FormatIP(addr16(b, fam))
}
