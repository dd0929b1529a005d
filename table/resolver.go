package table

import (
	"bufio"
	"io/fs"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Resolver answers the name lookups iptables makes through the C library
// and libxtables: protocol and service names, host names, and the id/name
// files of users, groups, iproute2's realms and device groups and
// conntrack labels. fw never asks DNS or any other network service: a
// firewall restored at boot must not depend on the network it is about to
// protect, and a name that resolves differently tomorrow would make saved
// files lie.
//
// A Registry carries the resolver that rules are parsed with
// (Registry.Names), a Writer the one they are printed with; both default
// to SystemResolver. Tests pass their own (NewHostFiles over a map file
// system), so that no result depends on the machine's /etc.
type Resolver interface {
	// Protocol is getprotobyname: a name or alias of /etc/protocols.
	Protocol(name string) (uint8, bool)
	// ProtocolName is getprotobynumber's official name.
	ProtocolName(num uint8) (string, bool)
	// Service is getservbyname: the port of a service name or alias for
	// proto ("tcp", "udp", ...); proto "" takes the first entry of any
	// protocol, as a NULL proto does.
	Service(name, proto string) (uint16, bool)
	// Host is the addresses of family f that /etc/hosts gives a name,
	// compared without regard to case, in file order.
	Host(name string, f Family) []netip.Addr
	// ID and IDName look a name up in one of the id/name files, and an
	// id, the first entry in file order that fits.
	ID(m IDMap, name string) (uint32, bool)
	IDName(m IDMap, id uint32) (string, bool)
}

// IDMap names an id/name file a Resolver reads.
type IDMap uint8

const (
	Users      IDMap = iota // getpwnam: /etc/passwd
	Groups                  // getgrnam: /etc/group
	Realms                  // iproute2's rt_realms, as xtables_lmap_init reads it
	DevGroups               // iproute2's group, likewise
	ConnLabels              // libnetfilter_conntrack's connlabel.conf
	numIDMaps
)

// Path is where a HostFiles reads the map, relative to its root; messages
// name it with a leading '/'.
func (m IDMap) Path() string {
	return [...]string{"etc/passwd", "etc/group", "etc/iproute2/rt_realms", "etc/iproute2/group", "etc/xtables/connlabel.conf"}[m]
}

// Paths of the other files a HostFiles reads.
const (
	ProtocolsPath = "etc/protocols"
	ServicesPath  = "etc/services"
	HostsPath     = "etc/hosts"
)

var system = sync.OnceValue(func() *HostFiles { return NewHostFiles(os.DirFS("/")) })

// SystemResolver is the host's own files, each read once, when first
// asked.
func SystemResolver() Resolver { return system() }

// HostFiles is a Resolver over the files of a file system laid out like a
// host's root (see the *Path constants and IDMap.Path). A file that is
// missing or unreadable reads as empty: the files are optional on a host,
// and a lookup in a missing one finds nothing, as it does for libc. Each
// file is read once, on the first lookup that needs it; a HostFiles is
// safe for concurrent use.
type HostFiles struct {
	fsys fs.FS

	protoOnce   sync.Once
	protoByName map[string]uint8
	protoByNum  map[uint8]string

	servOnce sync.Once
	services map[string][]service // by name and alias, in file order

	hostsOnce sync.Once
	hosts     []hostLine

	idOnce [numIDMaps]sync.Once
	ids    [numIDMaps][]idName
}

type service struct {
	port  uint16
	proto string
}

type hostLine struct {
	addr  netip.Addr
	names []string
}

type idName struct {
	id   uint32
	name string
}

// NewHostFiles returns a resolver reading fsys.
func NewHostFiles(fsys fs.FS) *HostFiles { return &HostFiles{fsys: fsys} }

var _ Resolver = (*HostFiles)(nil)

// scan calls fn with each line of a file.
func (h *HostFiles) scan(path string, fn func(line string)) {
	fh, err := h.fsys.Open(path)
	if err != nil {
		return
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fn(sc.Text())
	}
}

// fields calls fn with the blank-separated fields of each line of a file,
// without its '#' comment, skipping empty lines.
func (h *HostFiles) fields(path string, fn func([]string)) {
	h.scan(path, func(line string) {
		line, _, _ = strings.Cut(line, "#")
		if f := strings.Fields(line); len(f) > 0 {
			fn(f)
		}
	})
}

func (h *HostFiles) loadProtocols() {
	h.protoByName, h.protoByNum = map[string]uint8{}, map[uint8]string{}
	h.fields(ProtocolsPath, func(f []string) {
		if len(f) < 2 {
			return
		}
		n, err := strconv.ParseUint(f[1], 10, 8)
		if err != nil {
			return
		}
		for i, name := range f {
			if _, seen := h.protoByName[name]; i != 1 && !seen {
				h.protoByName[name] = uint8(n)
			}
		}
		if _, seen := h.protoByNum[uint8(n)]; !seen {
			h.protoByNum[uint8(n)] = f[0]
		}
	})
}

func (h *HostFiles) Protocol(name string) (uint8, bool) {
	h.protoOnce.Do(h.loadProtocols)
	n, ok := h.protoByName[name]
	return n, ok
}

func (h *HostFiles) ProtocolName(num uint8) (string, bool) {
	h.protoOnce.Do(h.loadProtocols)
	n, ok := h.protoByNum[num]
	return n, ok
}

func (h *HostFiles) loadServices() {
	h.services = map[string][]service{}
	h.fields(ServicesPath, func(f []string) {
		if len(f) < 2 {
			return
		}
		port, proto, ok := strings.Cut(f[1], "/")
		if !ok {
			return
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return
		}
		for i, name := range f {
			if i != 1 {
				h.services[name] = append(h.services[name], service{uint16(n), proto})
			}
		}
	})
}

func (h *HostFiles) Service(name, proto string) (uint16, bool) {
	h.servOnce.Do(h.loadServices)
	for _, s := range h.services[name] {
		if proto == "" || s.proto == proto {
			return s.port, true
		}
	}
	return 0, false
}

func (h *HostFiles) loadHosts() {
	h.fields(HostsPath, func(f []string) {
		a, err := netip.ParseAddr(f[0])
		if err != nil || a.Zone() != "" || len(f) < 2 {
			return
		}
		h.hosts = append(h.hosts, hostLine{a, f[1:]})
	})
}

func (h *HostFiles) Host(name string, f Family) []netip.Addr {
	h.hostsOnce.Do(h.loadHosts)
	var out []netip.Addr
	for _, l := range h.hosts {
		if (f == IPv4) != l.addr.Is4() {
			continue
		}
		for _, n := range l.names {
			if strings.EqualFold(n, name) {
				out = append(out, l.addr)
				break
			}
		}
	}
	return out
}

func (h *HostFiles) ID(m IDMap, name string) (uint32, bool) {
	for _, e := range h.idList(m) {
		if e.name == name {
			return e.id, true
		}
	}
	return 0, false
}

func (h *HostFiles) IDName(m IDMap, id uint32) (string, bool) {
	for _, e := range h.idList(m) {
		if e.id == id {
			return e.name, true
		}
	}
	return "", false
}

func (h *HostFiles) idList(m IDMap) []idName {
	h.idOnce[m].Do(func() {
		parse := lmapLine
		switch m {
		case Users, Groups:
			parse = passwdLine
		case ConnLabels:
			parse = connlabelLine
		}
		// In connlabel.conf a line whose bit or name is taken is skipped.
		unique := m == ConnLabels
		bits, names := map[uint32]bool{}, map[string]bool{}
		h.scan(m.Path(), func(line string) {
			e, ok := parse(line)
			if !ok || unique && (bits[e.id] || names[e.name]) {
				return
			}
			bits[e.id], names[e.name] = true, true
			h.ids[m] = append(h.ids[m], e)
		})
	})
	return h.ids[m]
}

// passwdLine reads "name:password:id:..." of a passwd or group file.
func passwdLine(line string) (idName, bool) {
	f := strings.SplitN(line, ":", 4)
	if len(f) < 3 || f[0] == "" {
		return idName{}, false
	}
	v, err := strconv.ParseUint(f[2], 10, 32)
	return idName{uint32(v), f[0]}, err == nil
}

// cSpace is C's isspace in the C locale.
const cSpace = " \t\n\v\f\r"

// lmapLine reads a line of an iproute2 file as xtables_lmap_init does:
// an id, hexadecimal after "0x" and decimal otherwise, read by strtoul
// into an int and kept when it is 0 to 255, then blanks and a name.
func lmapLine(line string) (idName, bool) {
	cur := strings.TrimLeft(line, cSpace)
	base := 10
	if strings.HasPrefix(cur, "0x") {
		base = 16
	}
	v, rest, ok, erange := Strtoumax(cur, base)
	if !ok || erange || uint64(uint32(v)) > 255 || rest == "" || !strings.ContainsRune(cSpace, rune(rest[0])) {
		return idName{}, false
	}
	name := strings.TrimLeft(rest, cSpace)
	if i := strings.IndexAny(name, cSpace); i >= 0 {
		name = name[:i]
	}
	if name == "" || name[0] == '#' {
		return idName{}, false
	}
	return idName{uint32(v), name}, true
}

// connlabelLine reads a line of connlabel.conf as libnetfilter_conntrack
// does: "BIT NAME", a bit below 1024 and a name only of letters, digits,
// '-' and ' '.
func connlabelLine(line string) (idName, bool) {
	if strings.HasPrefix(line, "#") || strings.HasPrefix(strings.TrimLeft(line, cSpace), "-") {
		return idName{}, false
	}
	v, rest, ok, erange := Strtoumax(line, 0)
	name := strings.Trim(rest, " \t\v\f\r")
	if !ok || erange || v >= 1024 || name == "" ||
		strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789- ") != "" {
		return idName{}, false
	}
	return idName{uint32(v), name}, true
}
