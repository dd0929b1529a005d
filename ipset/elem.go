package ipset

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// Elements are read as ipset reads them and turned into what the kernel
// stores: an IPv4 range or network in an address part becomes its
// addresses, in a network part the networks that cover it; a port range
// becomes its ports; masks (netmask, bitmask, markmask, a network's
// prefix) are applied. The loops follow the kernel's (the hash types'
// uadt functions), so a range yields the elements ipset's restore leaves
// in the kernel, in the same order.

// ipText is an address part as written: one address, a network
// (address/prefix) or an IPv4 range (from-to).
type ipText struct {
	from, to Addr
	cidr     uint8
	hasCIDR  bool
	isRange  bool
}

// parseIPText reads an address, address/prefix or from-to of family f.
func parseIPText(f Family, s string) (ipText, error) {
	var r ipText
	if i := strings.IndexByte(s, '/'); i > 0 && i < len(s)-1 {
		bits := f.hostBits()
		c, ok := table.ParseUint(s[i+1:], 0, uint64(bits))
		if !ok {
			return r, fmt.Errorf("prefix length %q is not a number from 0 to %d", s[i+1:], bits)
		}
		a, err := ParseAddr(f, s[:i])
		if err != nil {
			return r, err
		}
		r.from, r.to, r.cidr, r.hasCIDR = a, a, uint8(c), true
		return r, nil
	}
	if a, b, ok := splitRange(s); ok && f == FamilyInet {
		x, err := ParseAddr(f, a)
		if err != nil {
			return r, err
		}
		y, err := ParseAddr(f, b)
		if err != nil {
			return r, err
		}
		r.from, r.to, r.isRange = x, y, true
		return r, nil
	}
	a, err := ParseAddr(f, s)
	if err != nil {
		return r, err
	}
	r.from, r.to = a, a
	return r, nil
}

// single reports whether r is one address (a host prefix counts as one).
func (r ipText) single(f Family) bool {
	return !r.isRange && (!r.hasCIDR || r.cidr == f.hostBits())
}

// portText is a port part: a protocol and a range of ports (or an ICMP
// type<<8|code as from and to).
type portText struct {
	proto    uint8
	from, to uint16
}

// parsePorts reads "[proto:]port[-port]". tcpUDP is bitmap:port's
// reading: the protocol may only be tcp or udp, and is dropped.
func parsePorts(s string, tcpUDP bool) (portText, error) {
	r := portText{proto: protoTCP}
	protoName := "tcp"
	if i := strings.IndexByte(s, ':'); i > 0 && i < len(s)-1 {
		p, ok := parseProto(s[:i])
		if !ok {
			return r, table.WithHint("write a protocol name from /etc/protocols or its number", "unknown protocol %q", s[:i])
		}
		if p == 0 {
			return r, fmt.Errorf("protocol %q cannot be stored", s[:i])
		}
		r.proto, protoName, s = p, s[:i], s[i+1:]
		if tcpUDP && p != protoTCP && p != protoUDP {
			return r, fmt.Errorf("only tcp and udp ports can be given here")
		}
		if !protoHasPorts(p) {
			return r, errNeedsPortText
		}
		if _, ok := table.ParseUint(protoName, 0, 255); ok {
			protoName = protoName2(p)
		}
	}
	a, b, isRange := splitRange(s)
	x, ok := parsePortName(a, protoName)
	if !ok {
		return r, table.WithHint("write a port number or a service name from /etc/services", "%q is not a %s port", a, protoName)
	}
	r.from, r.to = x, x
	if isRange {
		y, ok := parsePortName(b, protoName)
		if !ok {
			return r, table.WithHint("write a port number or a service name from /etc/services", "%q is not a %s port", b, protoName)
		}
		r.to = y
	}
	if tcpUDP {
		r.proto = 0
	}
	return r, nil
}

// protoName2 is the name a service of protocol p is looked up under.
func protoName2(p uint8) string { return protoName(p) }

var errNeedsPortText = fmt.Errorf("not a port protocol")

// parsePortPart reads the port part of an element of family f: what
// parsePorts reads, and for other protocols ICMP type/codes or the
// pseudo port 0.
func parsePortPart(f Family, s string) (portText, error) {
	r, err := parsePorts(s, false)
	if err != errNeedsPortText {
		return r, err
	}
	i := strings.IndexByte(s, ':')
	name, v := s[:i], s[i+1:]
	switch r.proto {
	case protoICMP, protoICMPv6:
		v6 := r.proto == protoICMPv6
		if v6 != (f == FamilyInet6) {
			want := "inet"
			if v6 {
				want = "inet6"
			}
			return r, fmt.Errorf("protocol %s is only for sets of family %s", name, want)
		}
		typ, code, ok := icmpByName(v6, v)
		if !ok {
			t, c, slash := strings.Cut(v, "/")
			x, ok1 := table.ParseUint(t, 0, 255)
			y, ok2 := table.ParseUint(c, 0, 255)
			if !slash || !ok1 || !ok2 {
				return r, table.WithHint("write an ICMP type name or TYPE/CODE", "%q is not an ICMP type", v)
			}
			typ, code = uint8(x), uint8(y)
		}
		r.from = uint16(typ)<<8 | uint16(code)
		r.to = r.from
		return r, nil
	}
	if v != "0" {
		return r, table.WithHint("the kernel keeps no port for this protocol; write PROTO:0", "protocol %s takes only the pseudo port 0", name)
	}
	r.from, r.to = 0, 0
	return r, nil
}

// parseMAC reads six hexadecimal bytes separated by colons.
func parseMAC(s string) ([6]byte, error) {
	var m [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return m, table.WithHint("write six bytes in hexadecimal, such as 00:11:22:aa:bb:cc", "%q is not an Ethernet address", s)
	}
	for i, p := range parts {
		if len(p) == 0 || len(p) > 2 {
			return m, table.WithHint("write six bytes in hexadecimal, such as 00:11:22:aa:bb:cc", "%q is not an Ethernet address", s)
		}
		var v byte
		for j := 0; j < len(p); j++ {
			d := table.DigitVal(p[j])
			if d >= 16 {
				return m, table.WithHint("write six bytes in hexadecimal, such as 00:11:22:aa:bb:cc", "%q is not an Ethernet address", s)
			}
			v = v<<4 | d
		}
		m[i] = v
	}
	return m, nil
}

// splitElem splits an element at its commas, as ipset does: a comma
// that is neither first nor last in what is left separates parts.
func splitElem(s string, dims int) ([]string, error) {
	var parts []string
	for len(parts) < dims-1 {
		i := strings.IndexByte(s, ',')
		if i <= 0 || i == len(s)-1 {
			break
		}
		parts = append(parts, s[:i])
		s = s[i+1:]
	}
	parts = append(parts, s)
	if i := strings.IndexByte(s, ','); i > 0 && i < len(s)-1 {
		return nil, fmt.Errorf("element has more than %d parts", dims)
	}
	return parts, nil
}

// maxExpand bounds how many elements one line may stand for when the set
// itself sets no smaller bound.
const maxExpand = 1 << 20

// ParseElem reads an element of set s and returns the elements the
// kernel stores for it (several for a range or a network in an address
// part).
func ParseElem(s *Set, text string) ([]Elem, error) {
	t := s.Type
	parts, err := splitElem(text, len(t.Dims))
	if err != nil {
		return nil, table.WithHint(fmt.Sprintf("a member of %s has the parts %s", t.Name, dimHint(t)), "%v", err)
	}
	if len(parts) < len(t.Dims) && !(t.OptionalLast && len(parts) == len(t.Dims)-1) {
		return nil, table.WithHint(fmt.Sprintf("a member of %s has the parts %s", t.Name, dimHint(t)), "element %q has %d parts, %s needs %d", text, len(parts), t.Name, len(t.Dims))
	}
	x := expander{s: s, limit: maxExpand}
	switch t.Kind {
	case Hash:
		x.limit = min(uint64(s.Opts.MaxElem)+1, maxExpand)
	case Bitmap:
		x.limit = MaxBitmapRange + 1
	}
	for i, p := range parts {
		if err := x.part(t.Dims[i], p); err != nil {
			return nil, err
		}
	}
	return x.expand()
}

func dimHint(t *Type) string {
	n := make([]string, len(t.Dims))
	for i, d := range t.Dims {
		n[i] = [...]string{DimIP: "IP", DimIP2: "IP", DimNet: "IP/CIDR", DimNet2: "IP/CIDR",
			DimPort: "[PROTO:]PORT", DimMAC: "MAC", DimMark: "MARK", DimIface: "[physdev:]IFACE", DimName: "SETNAME"}[d]
	}
	return strings.Join(n, ",")
}

// expander turns the parts of one element into the elements they stand for.
type expander struct {
	s     *Set
	limit uint64
	// Each address part: the values it takes, in the kernel's order.
	ip1, ip2  []netVal
	ports     []uint16
	proto     uint8
	base      Elem
	hasPort   bool
	hasPart2  bool
	lastGiven bool
}

// netVal is one value of an address part: an address and the prefix it
// is stored with.
type netVal struct {
	a    Addr
	cidr uint8
}

func (x *expander) part(d Dim, p string) error {
	s := x.s
	f := s.Family
	switch d {
	case DimIP, DimIP2, DimNet, DimNet2:
		ip, err := parseIPText(f, p)
		if err != nil {
			return err
		}
		vals, err := x.addrValues(d, ip, p)
		if err != nil {
			return err
		}
		if d == DimIP || d == DimNet {
			x.ip1 = vals
		} else {
			x.ip2, x.hasPart2 = vals, true
		}
	case DimPort:
		var pt portText
		var err error
		if s.Type.Kind == Bitmap {
			pt, err = parsePorts(p, true)
		} else {
			pt, err = parsePortPart(f, p)
		}
		if err != nil {
			return err
		}
		from, to := pt.from, pt.to
		if from > to {
			from, to = to, from
		}
		if s.Type.Kind == Bitmap {
			if uint32(from) < s.Opts.RangeFrom || uint32(to) > s.Opts.RangeTo {
				return fmt.Errorf("port %s is outside the set's range %d-%d", p, s.Opts.RangeFrom, s.Opts.RangeTo)
			}
		} else if !protoHasPorts(pt.proto) {
			to = from
		}
		x.proto, x.hasPort = pt.proto, true
		for v := uint32(from); v <= uint32(to); v++ {
			x.ports = append(x.ports, uint16(v))
		}
	case DimMAC:
		m, err := parseMAC(p)
		if err != nil {
			return err
		}
		if m == [6]byte{} && s.Type.Kind == Hash {
			return fmt.Errorf("the zero Ethernet address cannot be stored")
		}
		x.base.MAC, x.base.HasMAC = m, true
	case DimMark:
		v, ok := table.ParseUint(p, 0, 1<<32-1)
		if !ok {
			return table.WithHint("write a number, such as 0x10", "%q is not a mark", p)
		}
		x.base.Mark = uint32(v) & s.Opts.MarkMask
	case DimIface:
		name := p
		if strings.HasPrefix(name, "physdev:") {
			name, x.base.Physdev = name[len("physdev:"):], true
		}
		if name == "" || len(name) > 15 || !printable(name) {
			return table.WithHint("an interface name has 1 to 15 bytes, no blanks or quotes", "%q is not an interface name", p)
		}
		x.base.Iface = name
	case DimName:
		if err := checkName(p); err != nil {
			return err
		}
		if p == s.Name {
			return fmt.Errorf("set %q cannot be a member of itself", p)
		}
		x.base.Name = p
	}
	return nil
}

// addrValues returns the values an address part takes, as the kernel's
// loops make them.
func (x *expander) addrValues(d Dim, ip ipText, text string) ([]netVal, error) {
	s := x.s
	f := s.Family
	t := s.Type
	host := f.hostBits()
	net := d == DimNet || d == DimNet2
	if !net && !ip.single(f) {
		ranges := f == FamilyInet && d == DimIP && t.Name != "hash:ip,mac" && t.Name != "bitmap:ip,mac"
		if !ranges {
			return nil, table.WithHint("ranges and networks are only taken for IPv4 addresses of some types", "%q is not one address", text)
		}
	}
	if net && ip.isRange && f != FamilyInet {
		return nil, fmt.Errorf("%q: ranges are only taken for IPv4", text)
	}
	mask := prefixMask(host)
	if s.Opts.HasBitMask {
		mask = s.Opts.BitMask
	} else if s.Opts.NetMask != 0 {
		mask = prefixMask(s.Opts.NetMask)
	}
	zeroCIDR := t.Name == "hash:net,iface" || t.Name == "hash:net,port,net"
	var out []netVal
	push := func(v netVal) error {
		if uint64(len(out)) >= x.limit {
			return table.WithHint("split the range, or raise the set's maxelem", "%q stands for more elements than the set can hold", text)
		}
		out = append(out, v)
		return nil
	}
	switch {
	case t.Kind == Bitmap:
		// bitmap:ip: every address from-to, stepping by the netmask's
		// hosts, each stored as the first address of its netmask block.
		from, to := ip.from.V4(), ip.to.V4()
		if ip.hasCIDR {
			if ip.cidr == 0 {
				return nil, fmt.Errorf("prefix length 0 is not taken")
			}
			from, to = from&v4Mask(ip.cidr), from|^v4Mask(ip.cidr)
		}
		if from > to {
			from, to = to, from
		}
		o := s.Opts
		if from < o.RangeFrom || to > o.RangeTo {
			return nil, fmt.Errorf("%s is outside the set's range %s-%s", text,
				FormatAddr(FamilyInet, AddrV4(o.RangeFrom)), FormatAddr(FamilyInet, AddrV4(o.RangeTo)))
		}
		hosts := uint64(1)
		if o.NetMask != 0 {
			hosts = 1 << (32 - o.NetMask)
		}
		m := ^uint32(0)
		if o.NetMask != 0 {
			m = v4Mask(o.NetMask)
		}
		last := ^uint64(0)
		for v := uint64(from); v <= uint64(to); v += hosts {
			id := (uint64(uint32(v)&m) - uint64(o.RangeFrom)) / hosts
			if id == last {
				continue
			}
			last = id
			if err := push(netVal{a: AddrV4(o.RangeFrom + uint32(id*hosts)), cidr: host}); err != nil {
				return nil, err
			}
		}
	case net:
		if ip.isRange {
			from, to := ip.from.V4(), ip.to.V4()
			if from > to {
				from, to = to, from
			}
			if from == 0 && to == ^uint32(0) {
				return nil, table.WithHint("write 0.0.0.0/1 and 128.0.0.0/1", "the kernel refuses the range of all addresses")
			}
			var err error
			v4RangeCIDRs(from, to, func(a uint32, c uint8) bool {
				err = push(netVal{a: AddrV4(a).and(mask, f), cidr: c})
				return err == nil
			})
			if err != nil {
				return nil, err
			}
			break
		}
		c := host
		if ip.hasCIDR {
			c = ip.cidr
		}
		if c == 0 && !zeroCIDR {
			return nil, table.WithHint("write 0.0.0.0/1 and 128.0.0.0/1", "prefix length 0 is not taken by %s", t.Name)
		}
		if err := push(netVal{a: ip.from.and(prefixMask(c), f).and(mask, f), cidr: c}); err != nil {
			return nil, err
		}
	default:
		// An address part, as hash:ip and the types with an address
		// part read it: the first address masked (by the bitmask, or
		// the netmask's), a network or range from there on, every
		// address (hash:ip steps by its netmask's hosts).
		first := ip.from.and(mask, f)
		checkZero := d == DimIP && (t.Name == "hash:ip" || t.Name == "hash:ip,port")
		if checkZero && first.IsZero() {
			return nil, fmt.Errorf("%s: the zero address cannot be stored", text)
		}
		if ip.single(f) {
			if err := push(netVal{a: first, cidr: host}); err != nil {
				return nil, err
			}
			break
		}
		from, to := first.V4(), ip.to.V4()
		if ip.hasCIDR {
			if ip.cidr == 0 {
				return nil, fmt.Errorf("prefix length 0 is not taken")
			}
			from &= v4Mask(ip.cidr)
			to = from | ^v4Mask(ip.cidr)
		} else if from > to {
			// The kernel swaps a reversed range, but not one that
			// would start at the zero address.
			if checkZero && to == 0 {
				return nil, fmt.Errorf("%s: the zero address cannot be stored", text)
			}
			from, to = to, from
		}
		step := uint64(1)
		if t.Name == "hash:ip" && s.Opts.NetMask != 0 {
			step = 1 << (32 - s.Opts.NetMask)
		}
		// The kernel masks the first address of a range only and keeps
		// the others as they come: members that ipset save writes and
		// no restore can add again (they mask to another member). fw
		// takes only ranges whose members are masked.
		m := mask.V4()
		for v := uint64(from); v <= uint64(to); v += step {
			if checkZero && v == 0 {
				return nil, table.WithHint("start the range above 0.0.0.0",
					"%s: the kernel would store the zero address, which no restore can add again", text)
			}
			if uint32(v)&m != uint32(v) {
				return nil, table.WithHint("start the range at a masked address, or write the network",
					"%s: the kernel would keep %s unmasked", text, FormatAddr(f, AddrV4(uint32(v))))
			}
			if err := push(netVal{a: AddrV4(uint32(v)), cidr: host}); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// expand makes the elements: the first address part outermost, then the
// ports, then the second address part, as the kernel's loops run.
func (x *expander) expand() ([]Elem, error) {
	ip1 := x.ip1
	if ip1 == nil {
		ip1 = []netVal{{}}
	}
	ports := x.ports
	if ports == nil {
		ports = []uint16{0}
	}
	ip2 := x.ip2
	if ip2 == nil {
		ip2 = []netVal{{}}
	}
	n := uint64(len(ip1)) * uint64(len(ports)) * uint64(len(ip2))
	if n > x.limit {
		return nil, table.WithHint("split the range, or raise the set's maxelem", "element stands for %d elements, more than the set can hold", n)
	}
	out := make([]Elem, 0, n)
	t := x.s.Type
	for _, a := range ip1 {
		for _, p := range ports {
			for _, b := range ip2 {
				e := x.base
				if x.ip1 != nil {
					e.IP = a.a
					if t.hasDim(DimNet) {
						e.CIDR = a.cidr
					}
				}
				if x.hasPort {
					e.Proto, e.Port = x.proto, p
				}
				if x.hasPart2 {
					e.IP2 = b.a
					if t.hasDim(DimNet2) {
						e.CIDR2 = b.cidr
					}
				}
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// lessElem orders elements for SortMembers.
func lessElem(a, b *Elem) bool {
	if c := bytes.Compare(a.IP[:], b.IP[:]); c != 0 {
		return c < 0
	}
	if a.CIDR != b.CIDR {
		return a.CIDR < b.CIDR
	}
	if a.Proto != b.Proto {
		return a.Proto < b.Proto
	}
	if a.Port != b.Port {
		return a.Port < b.Port
	}
	if c := bytes.Compare(a.IP2[:], b.IP2[:]); c != 0 {
		return c < 0
	}
	if a.CIDR2 != b.CIDR2 {
		return a.CIDR2 < b.CIDR2
	}
	if c := bytes.Compare(a.MAC[:], b.MAC[:]); c != 0 {
		return c < 0
	}
	if a.HasMAC != b.HasMAC {
		return !a.HasMAC
	}
	if a.Mark != b.Mark {
		return a.Mark < b.Mark
	}
	if a.Iface != b.Iface {
		return a.Iface < b.Iface
	}
	if a.Physdev != b.Physdev {
		return !a.Physdev
	}
	if a.Wildcard != b.Wildcard {
		return !a.Wildcard
	}
	return a.Name < b.Name
}
