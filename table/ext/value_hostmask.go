package ext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// The host/mask value and its parts, libxtables' XTTYPE_PLEN,
// XTTYPE_PLENMASK and XTTYPE_HOSTMASK: a prefix length, written as a
// number or as a mask in address form, and an address with an optional
// "/mask".

// parsePlen parses a prefix length as xtopt_parse_plen does: a C number up
// to the family's width, else a numeric address (getaddrinfo with
// AI_NUMERICHOST) read as a mask. A mask that is not contiguous gives
// length 255 in iptables, which the kernel refuses or libxtables turns
// into a full mask without a word; fw refuses it, since the rule would
// not match what was written.
func parsePlen(s string, fam table.Family) (uint8, error) {
	width := uint64(famBits(fam))
	if v, ok := table.ParseUint(s, 0, width); ok {
		return uint8(v), nil
	}
	if s == "" || strings.Contains(s, "%") {
		return 0, fmt.Errorf("invalid prefix length %q (0 to %d, or a network mask)", s, width)
	}
	m, err := parseAddr(s, fam, viaGetaddrinfo, nil)
	if err != nil {
		return 0, fmt.Errorf("invalid prefix length %q (0 to %d, or a network mask)", s, width)
	}
	n := table.MaskPrefixLen(m.AsSlice())
	if n < 0 {
		return 0, table.WithHint("write the mask as a prefix length", "mask %q is not contiguous (iptables would silently use the full address)", s)
	}
	return uint8(n), nil
}

// plenMask is the 16-byte mask of an n-bit prefix as xtopt_parse_plenmask
// fills nf_inet_addr masks for both families (an IPv4 /24 leaves the last
// twelve bytes zero); n above 128 gives all ones.
func plenMask(n int) [16]byte { return table.PrefixMask(table.IPv6, n).As16() }

// hostMask is an XTTYPE_HOSTMASK value: the address as written (not
// masked; iptables prints it back that way), its prefix length and the
// mask libxtables stores, which without "/mask" has all sixteen bytes set
// for both families.
type hostMask struct {
	Addr, Mask [16]byte
	Len        uint8
}

// parseHostMask parses "host[/mask]" as xtopt_parse_hostmask does: the
// host as XTTYPE_HOST (viaGetaddrinfo), the mask as parsePlen.
func parseHostMask(s string, fam table.Family, names table.Resolver) (hostMask, error) {
	host, m, hasMask := strings.Cut(s, "/")
	a, err := parseAddr(host, fam, viaGetaddrinfo, names)
	if err != nil {
		return hostMask{}, err
	}
	h := hostMask{Addr: bytes16(a), Mask: plenMask(128), Len: uint8(famBits(fam))}
	if hasMask {
		if h.Len, err = parsePlen(m, fam); err != nil {
			return hostMask{}, err
		}
		h.Mask = plenMask(int(h.Len))
	}
	return h, nil
}

func famBits(fam table.Family) int {
	if fam == table.IPv6 {
		return 128
	}
	return 32
}

// maskLen is the prefix length of a 16-byte mask field of the family, or
// -1 when the mask is not contiguous.
func maskLen(mask [16]byte, fam table.Family) int {
	return table.MaskPrefixLen(mask[:famBits(fam)/8])
}

// hostMaskText prints an address and its mask as libxtables' numeric
// helpers do (xtables_ipaddr_to_numeric, xtables_ipmask_to_numeric): no
// suffix for a full mask, "/len" for a prefix, else "/mask".
func hostMaskText(addr, mask [16]byte, fam table.Family) string {
	a := addr16Text(addr, fam)
	switch n := maskLen(mask, fam); n {
	case famBits(fam):
		return a
	case -1:
		return a + "/" + addr16Text(mask, fam)
	default:
		return a + "/" + strconv.Itoa(n)
	}
}

// maskAddr16 clears the bits of a after its first n.
func maskAddr16(a [16]byte, n int) [16]byte {
	m := plenMask(n)
	for i := range a {
		a[i] &= m[i]
	}
	return a
}
