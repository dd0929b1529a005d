package ipset

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// Addresses are written and read as ipset writes them (inet_ntop) and as
// its numeric input reads them. ipset also resolves host names and takes
// inet_aton's shorthands ("10.1", octal "010"); a set file names numbers,
// so those are refused with a hint instead of being read differently.

// V4 returns the IPv4 address held in a.
func (a Addr) V4() uint32 { return binary.BigEndian.Uint32(a[:4]) }

// AddrV4 returns v as an Addr.
func AddrV4(v uint32) Addr {
	var a Addr
	binary.BigEndian.PutUint32(a[:4], v)
	return a
}

// IsZero reports whether every bit of a is zero.
func (a Addr) IsZero() bool { return a == Addr{} }

// errAddr says what an address of family f looks like.
func errAddr(f Family, s string) error {
	if f == FamilyInet6 {
		return table.WithHint("write an IPv6 address such as 2001:db8::1", "%q is not an IPv6 address", s)
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return table.WithHint("the set is of family inet; an inet6 set takes IPv6 addresses", "%q is not an IPv4 address", s)
	}
	return table.WithHint("write four decimal numbers such as 192.0.2.1; host names are not resolved", "%q is not an IPv4 address", s)
}

// ParseAddr reads an address of family f.
func ParseAddr(f Family, s string) (Addr, error) {
	if f == FamilyInet6 {
		ip, err := netip.ParseAddr(s)
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return Addr{}, errAddr(f, s)
		}
		return Addr(ip.As16()), nil
	}
	v, ok := parseV4(s)
	if !ok {
		return Addr{}, errAddr(f, s)
	}
	return AddrV4(v), nil
}

// parseV4 reads a dotted quad of decimal numbers without leading zeros.
func parseV4(s string) (uint32, bool) {
	var v uint32
	for i := 0; i < 4; i++ {
		if i > 0 {
			if s == "" || s[0] != '.' {
				return 0, false
			}
			s = s[1:]
		}
		n, d := 0, 0
		for d < len(s) && s[d] >= '0' && s[d] <= '9' && d < 4 {
			n = n*10 + int(s[d]-'0')
			d++
		}
		if d == 0 || d > 3 || n > 255 || (d > 1 && s[0] == '0') {
			return 0, false
		}
		v = v<<8 | uint32(n)
		s = s[d:]
	}
	return v, s == ""
}

// AppendAddr writes a as inet_ntop does for family f.
func AppendAddr(b []byte, f Family, a Addr) []byte {
	if f != FamilyInet6 {
		return appendV4(b, a[0], a[1], a[2], a[3])
	}
	var w [8]uint16
	for i := range w {
		w[i] = binary.BigEndian.Uint16(a[2*i:])
	}
	// The longest run of two or more zero words (the first of equals)
	// is written "::".
	best, bestLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
		i = j
	}
	if bestLen < 2 {
		best = -1
	}
	for i := 0; i < 8; i++ {
		if best >= 0 && i >= best && i < best+bestLen {
			if i == best {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		// glibc writes an IPv4-compatible (::a.b.c.d) or IPv4-mapped
		// (::ffff:a.b.c.d) address with its last 32 bits as a dotted quad.
		if i == 6 && best == 0 && (bestLen == 6 || bestLen == 5 && w[5] == 0xffff) {
			return appendV4(b, a[12], a[13], a[14], a[15])
		}
		b = strconv.AppendUint(b, uint64(w[i]), 16)
	}
	if best >= 0 && best+bestLen == 8 {
		b = append(b, ':')
	}
	return b
}

func appendV4(b []byte, x, y, z, w byte) []byte {
	b = strconv.AppendUint(b, uint64(x), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(y), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(z), 10)
	b = append(b, '.')
	return strconv.AppendUint(b, uint64(w), 10)
}

// FormatAddr is AppendAddr to a string.
func FormatAddr(f Family, a Addr) string { return string(AppendAddr(nil, f, a)) }

// prefixMask is the mask of a prefix of n bits.
func prefixMask(n uint8) Addr {
	var m Addr
	for i := 0; i < 16 && n > 0; i++ {
		if n >= 8 {
			m[i] = 0xff
			n -= 8
		} else {
			m[i] = byte(0xff << (8 - n))
			n = 0
		}
	}
	return m
}

// and masks a with m within family f.
func (a Addr) and(m Addr, f Family) Addr {
	n := 16
	if f != FamilyInet6 {
		n = 4
	}
	var r Addr
	for i := 0; i < n; i++ {
		r[i] = a[i] & m[i]
	}
	return r
}

// maskLen is n if m is a prefix mask of n bits within family f, else -1.
func maskLen(m Addr, f Family) int {
	n, bits := 0, int(f.hostBits())
	for n < bits && m[n/8]&(0x80>>(n%8)) != 0 {
		n++
	}
	for i := n; i < bits; i++ {
		if m[i/8]&(0x80>>(i%8)) != 0 {
			return -1
		}
	}
	return n
}

// v4Mask is the IPv4 mask of a prefix of n bits.
func v4Mask(n uint8) uint32 {
	if n == 0 {
		return 0
	}
	return ^uint32(0) << (32 - n)
}

// v4RangeCIDRs calls fn with the networks that cover from-to, the largest
// first at each step, as the kernel splits a range (ip_set_range_to_cidr).
func v4RangeCIDRs(from, to uint32, fn func(ip uint32, cidr uint8) bool) {
	for {
		cidr := uint8(32)
		for c := uint8(1); c <= 32; c++ {
			m := v4Mask(c)
			// The kernel compares with after(): in serial-number
			// arithmetic, as this does.
			if from&m == from && int32(to-(from|^m)) >= 0 {
				cidr = c
				break
			}
		}
		if !fn(from, cidr) {
			return
		}
		last := from | ^v4Mask(cidr)
		if last >= to {
			return
		}
		from = last + 1
	}
}

// splitRange splits "a-b" at the range separator as ipset does: a dash
// that is neither first nor last.
func splitRange(s string) (string, string, bool) {
	i := strings.IndexByte(s, '-')
	if i <= 0 || s[len(s)-1] == '-' {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
