package ext

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/fwkit/fw/table"
)

// Helpers of the header and socket matches (mark, mac, iprange, addrtype,
// ttl, tos, realm, devgroup, owner, physdev, ...). They reproduce the
// libxtables and libc parsing those extensions rely on, including its
// leniencies, because iptables accepts exactly what these accept.

// hdrValueMask parses "value[/mask]" of 32-bit numbers the way
// xtables_parse_val_mask does; names (realms, device groups) are looked up
// in names when the text is not a plain number. The mask defaults to all
// ones.
func hdrValueMask(s string, names *hdrLmap) (v, m uint32, err error) {
	m = math.MaxUint32
	n, rest, ok := xtStrtoulPrefix(s, 0, math.MaxUint32)
	switch {
	case ok && rest == "":
		return uint32(n), m, nil
	case ok && rest[0] == '/':
		mk, ok := table.ParseUint(rest[1:], 0, math.MaxUint32)
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
		table.ScanLines(path, func(line string) bool {
			if e, ok := hdrLmapLine(line); ok {
				l.entries = append(l.entries, e)
			}
			return true
		})
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
	v, rest, ok, overflow := cStrtoumax(cur, base)
	if !ok || overflow || int64(v) < 0 || int64(v) > 255 {
		return hdrLmapEntry{}, false
	}
	cur = rest
	if cur == "" || !cIsSpace(cur[0]) {
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
// xtables_numeric_to_ipaddr does, which is the -s/-d syntax. libxtables
// copies the text into a 20-byte buffer first, so only the first 19 bytes
// count.
func hdrIPv4(s string) ([4]byte, bool) {
	if len(s) > 19 {
		s = s[:19]
	}
	a, ok := table.ParseDotted(s)
	if !ok {
		return [4]byte{}, false
	}
	return a.As4(), true
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
func hdrLookupID(path, name string) (id uint32, found bool) {
	table.ScanLines(path, func(line string) bool {
		f := strings.Split(line, ":")
		if len(f) < 3 || f[0] != name || name == "" {
			return true
		}
		v, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			return true
		}
		id, found = uint32(v), true
		return false
	})
	return id, found
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
