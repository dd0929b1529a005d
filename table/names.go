package table

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Text helpers shared by the format parser and the extensions, written to
// accept exactly what iptables 1.8.9 accepts.

// ParseUint parses a number the way C's strtoul with base 0 does (what
// xtables_strtoui uses): decimal, 0x hex or 0-prefixed octal, and checks it
// against [min, max].
func ParseUint(s string, min, max uint64) (uint64, bool) {
	// Most numbers in a rules file are plain decimals ("32", "8080"):
	// up to 19 digits cannot overflow, so they need no range check per
	// digit.
	if len(s) > 0 && len(s) <= 19 && (s[0] != '0' || len(s) == 1) {
		var v uint64
		i := 0
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			v = v*10 + uint64(s[i]-'0')
		}
		if i == len(s) {
			if v < min || v > max {
				return 0, false
			}
			return v, true
		}
	}
	// strtoul skips leading white space, then takes one optional sign.
	t := s
	for len(t) > 0 && (t[0] == ' ' || t[0] >= '\t' && t[0] <= '\r') {
		t = t[1:]
	}
	t = strings.TrimPrefix(t, "+")
	base := 10
	switch {
	case len(t) > 2 && (t[:2] == "0x" || t[:2] == "0X"):
		base, t = 16, t[2:]
	case len(t) > 1 && t[0] == '0':
		base, t = 8, t[1:]
	}
	if t == "" {
		return 0, false
	}
	// A hand loop rather than strconv: failing on a name ("tcp", "ssh")
	// is the common case here, and strconv allocates an error for it.
	var v uint64
	for i := 0; i < len(t); i++ {
		d := uint64(DigitVal(t[i]))
		if d >= uint64(base) {
			return 0, false
		}
		if v > (1<<64-1-d)/uint64(base) {
			return 0, false // ERANGE
		}
		v = v*uint64(base) + d
	}
	if v < min || v > max {
		return 0, false
	}
	return v, true
}

// DigitVal is the value of a hex digit, or 255 for any other byte, so
// that a single "d >= base" test both rejects non-digits and digits too
// large for the base. Every C-number parser in fw and its extensions
// shares it, so they agree on what a digit is.
func DigitVal(c byte) uint8 {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 255
}

// chainProtos is iptables' own protocol name list, consulted before
// /etc/protocols in both directions.
var chainProtos = []struct {
	name string
	num  uint8
}{
	{"tcp", 6}, {"sctp", 132}, {"udp", 17}, {"udplite", 136}, {"icmp", 1},
	{"ipv6-icmp", 58}, {"icmpv6", 58}, {"esp", 50}, {"ah", 51},
	{"mobility-header", 135}, {"ipv6-mh", 135}, {"mh", 135}, {"all", 0},
}

type nameDB struct {
	protoByName map[string]uint8
	protoByNum  map[uint8]string
	services    map[string]uint16 // "name/proto"
}

var (
	dbOnce sync.Once
	db     nameDB
)

// ProtocolsFile and ServicesFile are where names are read from; tests point
// them elsewhere before the first lookup.
var (
	ProtocolsFile = "/etc/protocols"
	ServicesFile  = "/etc/services"
)

func loadDB() {
	db.protoByName = map[string]uint8{}
	db.protoByNum = map[uint8]string{}
	db.services = map[string]uint16{}
	readLines(ProtocolsFile, func(f []string) {
		if len(f) < 2 {
			return
		}
		n, err := strconv.ParseUint(f[1], 10, 8)
		if err != nil {
			return
		}
		for _, name := range append([]string{f[0]}, f[2:]...) {
			if _, ok := db.protoByName[name]; !ok {
				db.protoByName[name] = uint8(n)
			}
		}
		if _, ok := db.protoByNum[uint8(n)]; !ok {
			db.protoByNum[uint8(n)] = f[0]
		}
	})
	readLines(ServicesFile, func(f []string) {
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
		for _, name := range append([]string{f[0]}, f[2:]...) {
			k := name + "/" + proto
			if _, ok := db.services[k]; !ok {
				db.services[k] = uint16(n)
			}
		}
	})
}

func readLines(path string, fn func([]string)) {
	ScanLines(path, func(text string) bool {
		line, _, _ := strings.Cut(text, "#")
		if f := strings.Fields(line); len(f) > 0 {
			fn(f)
		}
		return true
	})
}

// ScanLines calls fn with each line of the file at path until fn returns
// false. A file that cannot be opened or read reads as empty (or as far as
// it could be read): the name files fw consults (/etc/protocols, /etc/hosts,
// iproute2's and passwd's) are optional on a host, and a lookup in a
// missing one simply finds nothing, as it does for libc and libxtables.
func ScanLines(path string, fn func(line string) bool) {
	fh, err := os.Open(path)
	if err != nil {
		return
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if !fn(sc.Text()) {
			return
		}
	}
}

// ParseProtocol parses the argument of -p: a number, a name from
// iptables' list, or a name from /etc/protocols.
func ParseProtocol(s string) (uint8, bool) {
	if v, ok := ParseUint(s, 0, 255); ok {
		return uint8(v), true
	}
	for _, p := range chainProtos {
		if p.name == s {
			return p.num, true
		}
	}
	dbOnce.Do(loadDB)
	n, ok := db.protoByName[s]
	return n, ok
}

// ProtocolName is the name iptables-save prints for a protocol number:
// iptables' list first, then /etc/protocols, else the number.
func ProtocolName(p uint8) string {
	for _, c := range chainProtos {
		if c.num == p && p != 0 {
			return c.name
		}
	}
	dbOnce.Do(loadDB)
	if n, ok := db.protoByNum[p]; ok && p != 0 {
		return n
	}
	return strconv.Itoa(int(p))
}

// ProtocolMatchName is the match iptables loads implicitly for -p p
// (-p 6 loads tcp), or "" if none.
func ProtocolMatchName(p uint8) string {
	if p == 0 {
		return ""
	}
	return ProtocolName(p)
}

// ServicePort looks a service name up in /etc/services for a protocol
// ("tcp", "udp", ...).
func ServicePort(name, proto string) (uint16, bool) {
	dbOnce.Do(loadDB)
	p, ok := db.services[name+"/"+proto]
	return p, ok
}

// ParsePort parses a port number or a service name for proto, as
// xtables_parse_port does.
func ParsePort(s, proto string) (uint16, bool) {
	if v, ok := ParseUint(s, 0, 65535); ok {
		return uint16(v), true
	}
	if proto == "" {
		proto = "tcp"
	}
	return ServicePort(s, proto)
}
