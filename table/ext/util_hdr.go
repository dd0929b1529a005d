package ext

import (
	"bufio"
	"fmt"
	"math"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/fwkit/fw/table"
)

// Helpers of the header and socket matches (mark, mac, iprange, addrtype,
// ttl, tos, realm, devgroup, owner, physdev, ...). They reproduce the
// libxtables and libc parsing those extensions rely on, including its
// leniencies, because iptables accepts exactly what these accept.

// hdrStrtoumax is C's strtoumax(s, &end, base): leading white space, an
// optional sign, a 0x prefix for base 16 (and base 0), a 0 prefix meaning
// octal for base 0. It returns the value (negated modulo 2^64 after a '-',
// as C does), how many bytes were consumed (0 when no digits were found,
// like end == s in C) and whether the value overflowed (ERANGE).
func hdrStrtoumax(s string, base int) (v uint64, n int, overflow bool) {
	i := 0
	for i < len(s) && hdrIsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	hasHexPrefix := i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && hdrDigit(s[i+2]) < 16
	switch {
	case (base == 0 || base == 16) && hasHexPrefix:
		base = 16
		i += 2
	case base == 0 && i < len(s) && s[i] == '0':
		base = 8
	case base == 0:
		base = 10
	}
	start := i
	for i < len(s) {
		d := hdrDigit(s[i])
		if d >= base {
			break
		}
		if !overflow {
			hi, lo := mulAdd(v, uint64(base), uint64(d))
			if hi {
				overflow = true
			} else {
				v = lo
			}
		}
		i++
	}
	if i == start {
		return 0, 0, false
	}
	if overflow {
		return math.MaxUint64, i, true
	}
	if neg {
		v = -v
	}
	return v, i, false
}

// mulAdd returns v*b+d and whether it overflowed 64 bits.
func mulAdd(v, b, d uint64) (bool, uint64) {
	if v > (math.MaxUint64-d)/b {
		return true, 0
	}
	return false, v*b + d
}

func hdrIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func hdrDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// hdrNumPrefix is xtables_strtoul with an end pointer: a C number (base 0)
// at the start of s, in [min,max], and the text after it. A leading '-'
// (after white space) is refused, as libxtables does.
func hdrNumPrefix(s string, min, max uint64) (v uint64, rest string, ok bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if strings.HasPrefix(t, "-") {
		return 0, s, false
	}
	v, n, overflow := hdrStrtoumax(s, 0)
	if n == 0 {
		return 0, s, false
	}
	if overflow || v < min || v > max {
		return v, s[n:], false
	}
	return v, s[n:], true
}

// hdrNum is xtables_strtoul without an end pointer: the whole of s must be
// a C number in [min,max].
func hdrNum(s string, min, max uint64) (uint64, bool) {
	v, rest, ok := hdrNumPrefix(s, min, max)
	return v, ok && rest == ""
}

// hdrUint parses an integer option (XTTYPE_UINT*) with iptables' range
// message.
func hdrUint(s string, min, max uint64) (uint64, error) {
	v, ok := hdrNum(s, min, max)
	if !ok {
		return 0, fmt.Errorf("invalid value %q (expected a number from %d to %d)", s, min, max)
	}
	return v, nil
}

// hdrValueMask parses "value[/mask]" of 32-bit numbers the way
// xtables_parse_val_mask does; names (realms, device groups) are looked up
// in names when the text is not a plain number. The mask defaults to all
// ones.
func hdrValueMask(s string, names *hdrLmap) (v, m uint32, err error) {
	m = math.MaxUint32
	n, rest, ok := hdrNumPrefix(s, 0, math.MaxUint32)
	switch {
	case ok && rest == "":
		return uint32(n), m, nil
	case ok && rest[0] == '/':
		mk, ok := hdrNum(rest[1:], 0, math.MaxUint32)
		if !ok {
			return 0, 0, fmt.Errorf("invalid mask in %q (expected a number from 0 to 4294967295)", s)
		}
		return uint32(n), uint32(mk), nil
	case names == nil && ok:
		return 0, 0, fmt.Errorf("trailing garbage in %q", s)
	case names == nil:
		return 0, 0, fmt.Errorf("invalid value %q (expected a number from 0 to 4294967295, optionally /mask)", s)
	}
	id, found := names.id(s)
	if !found {
		return 0, 0, table.WithHint(names.what+" names are read from "+names.path, "unknown %s %q", names.what, s)
	}
	return uint32(id), m, nil
}

// hdrValueMaskText is xtables_print_val_mask: "0xV/0xM" with a mask, else
// the name from names, else "0xV".
func hdrValueMaskText(v, m uint32, names *hdrLmap) string {
	if m != math.MaxUint32 {
		return hex(uint64(v)) + "/" + hex(uint64(m))
	}
	if names != nil {
		if n, ok := names.name(int64(v)); ok {
			return n
		}
	}
	return hex(uint64(v))
}

// hdrLmap is an iproute2 id/name file (rt_realms, group), read the way
// libxtables reads it: "ID NAME" lines, ID decimal or 0x hex in 0..255.
type hdrLmap struct {
	what    string // what the names name, for messages
	path    string
	once    sync.Once
	entries []hdrLmapEntry
}

type hdrLmapEntry struct {
	id   int64
	name string
}

// RealmsFile and DevGroupsFile are the iproute2 name files of the realm and
// devgroup matches; iptables-save prints names from them, so fw reads the
// same files. Tests point them elsewhere before the first lookup.
var (
	RealmsFile    = "/etc/iproute2/rt_realms"
	DevGroupsFile = "/etc/iproute2/group"
)

var (
	hdrRealms    = &hdrLmap{what: "realm"}
	hdrDevGroups = &hdrLmap{what: "device group"}
)

func (l *hdrLmap) load(path string) *hdrLmap {
	l.once.Do(func() {
		l.path = path
		fh, err := os.Open(path)
		if err != nil {
			return
		}
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if e, ok := hdrLmapLine(sc.Text()); ok {
				l.entries = append(l.entries, e)
			}
		}
	})
	return l
}

func hdrLmapLine(line string) (hdrLmapEntry, bool) {
	cur := strings.TrimLeft(line, " \t\n\v\f\r")
	if cur == "" || cur[0] == '#' {
		return hdrLmapEntry{}, false
	}
	base := 10
	if strings.HasPrefix(cur, "0x") {
		base = 16
	}
	v, n, overflow := hdrStrtoumax(cur, base)
	if n == 0 || overflow || int64(v) < 0 || int64(v) > 255 {
		return hdrLmapEntry{}, false
	}
	cur = cur[n:]
	if cur == "" || !hdrIsSpace(cur[0]) {
		return hdrLmapEntry{}, false
	}
	cur = strings.TrimLeft(cur, " \t\n\v\f\r")
	if cur == "" || cur[0] == '#' {
		return hdrLmapEntry{}, false
	}
	end := strings.IndexAny(cur, " \t\n\v\f\r")
	if end >= 0 {
		cur = cur[:end]
	}
	return hdrLmapEntry{id: int64(v), name: cur}, true
}

func (l *hdrLmap) id(name string) (int64, bool) {
	for _, e := range l.entries {
		if e.name == name {
			return e.id, true
		}
	}
	return 0, false
}

func (l *hdrLmap) name(id int64) (string, bool) {
	for _, e := range l.entries {
		if e.id == id {
			return e.name, true
		}
	}
	return "", false
}

func realmNames() *hdrLmap    { return hdrRealms.load(RealmsFile) }
func devGroupNames() *hdrLmap { return hdrDevGroups.load(DevGroupsFile) }

// hdrIPv4 parses a numeric IPv4 address as libxtables'
// xtables_numeric_to_ipaddr does: up to four dot-separated C numbers of
// 0..255, missing trailing parts zero. libxtables copies the text into a
// 20-byte buffer first, so only the first 19 bytes count.
func hdrIPv4(s string) ([4]byte, bool) {
	if len(s) > 19 {
		s = s[:19]
	}
	var a [4]byte
	parts := strings.SplitN(s, ".", 4)
	for i, p := range parts {
		v, ok := hdrNum(p, 0, 255)
		if !ok {
			return a, false
		}
		a[i] = byte(v)
	}
	return a, true
}

// hdrIPv6 parses a numeric IPv6 address as inet_pton(AF_INET6) does.
func hdrIPv6(s string) ([16]byte, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return [16]byte{}, false
	}
	return a.As16(), true
}

func hdrIPv4Text(b [4]byte) string { return netip.AddrFrom4(b).String() }

// PasswdFile and GroupFile are where the owner match looks user and group
// names up (what getpwnam/getgrnam read on a system using files). Tests
// point them elsewhere.
var (
	PasswdFile = "/etc/passwd"
	GroupFile  = "/etc/group"
)

// hdrLookupID finds name in a passwd or group file and returns its numeric
// id (the third field).
func hdrLookupID(path, name string) (uint32, bool) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 3 || f[0] != name || name == "" {
			continue
		}
		v, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		return uint32(v), true
	}
	return 0, false
}

// hdrIface parses an interface name the way xtables_parse_interface does:
// the name with a mask covering its bytes and the NUL, or only the bytes
// before a trailing '+'. iptables merely warns about '/' and ' ', which the
// kernel never has in a name, and saves an empty name in a form it cannot
// read back; fw refuses those on purpose.
func hdrIface(s string) (name, mask [16]byte, err error) {
	switch {
	case len(s) > table.MaxIfaceName:
		return name, mask, fmt.Errorf("interface name %q is too long (%d bytes, at most %d)", s, len(s), table.MaxIfaceName)
	case s == "":
		return name, mask, fmt.Errorf("empty interface name")
	case strings.ContainsAny(s, "/ "):
		return name, mask, fmt.Errorf("interface name %q contains '/' or a space, which the kernel does not allow", s)
	}
	copy(name[:], s)
	n := len(s) + 1
	if strings.HasSuffix(s, "+") {
		n = len(s) - 1
	}
	for i := 0; i < n; i++ {
		mask[i] = 0xff
	}
	return name, mask, nil
}

// hdrCString returns a NUL-terminated byte field as a string.
func hdrCString(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// hdrHooksOnly reports whether every hook in have is in allowed.
func hdrHooksOnly(have table.HookMask, allowed ...table.Hook) bool {
	var m table.HookMask
	for _, h := range allowed {
		m |= h.Mask()
	}
	return have&^m == 0
}
