package ext

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// The NAT range value: the structs every NAT target stores, the
// --to-source/--to-destination/--to-ports syntax of libxt_NAT's parse_to
// and parse_ports, which they share, and the NPT targets' prefixes.

// NAT range flags (NF_NAT_RANGE_*).
const (
	natMapIPs           = 0x01
	natProtoSpecified   = 0x02
	natProtoRandom      = 0x04
	natPersistent       = 0x08
	natProtoRandomFully = 0x10
	natProtoOffset      = 0x20
	natNetmap           = 0x40
)

// NATIPv4Range mirrors struct nf_nat_ipv4_range. Min and Max are the
// port (union nf_conntrack_man_proto) as numbers; the kernel holds them
// big-endian, like the addresses.
type NATIPv4Range struct {
	Flags        uint32
	MinIP, MaxIP [4]byte
	Min, Max     uint16
}

// NATIPv4MultiRangeCompat mirrors struct nf_nat_ipv4_multi_range_compat,
// the payload of the revision 0 IPv4 NAT targets. The kernel refuses any
// rangesize but 1, which userspace always writes.
type NATIPv4MultiRangeCompat struct {
	RangeSize uint32
	Range     [1]NATIPv4Range
}

// NATRange mirrors struct nf_nat_range, the payload of the IPv6 NAT
// targets (SNAT revision 1, MASQUERADE, REDIRECT, NETMAP). An IPv4 address
// would sit in the first four bytes of the nf_inet_addr unions.
type NATRange struct {
	Flags              uint32
	MinAddr, MaxAddr   [16]byte
	MinProto, MaxProto uint16
}

// NATRange2 mirrors struct nf_nat_range2 (DNAT revision 2): nf_nat_range
// plus the base port of a shifted port map (--to-destination a:p-q/base).
type NATRange2 struct {
	Flags                         uint32
	MinAddr, MaxAddr              [16]byte
	MinProto, MaxProto, BaseProto uint16
}

func (r *NATIPv4MultiRangeCompat) range2() NATRange2 {
	s := &r.Range[0]
	var o NATRange2
	o.Flags = s.Flags
	copy(o.MinAddr[:], s.MinIP[:])
	copy(o.MaxAddr[:], s.MaxIP[:])
	o.MinProto, o.MaxProto = s.Min, s.Max
	return o
}

// setRange2 keeps what the compat struct can hold; a base port is lost,
// as it is in iptables (the offset flag stays).
func (r *NATIPv4MultiRangeCompat) setRange2(o NATRange2) {
	s := &r.Range[0]
	s.Flags = o.Flags
	copy(s.MinIP[:], o.MinAddr[:4])
	copy(s.MaxIP[:], o.MaxAddr[:4])
	s.Min, s.Max = o.MinProto, o.MaxProto
}

func (r *NATRange) range2() NATRange2 {
	return NATRange2{Flags: r.Flags, MinAddr: r.MinAddr, MaxAddr: r.MaxAddr, MinProto: r.MinProto, MaxProto: r.MaxProto}
}

func (r *NATRange) setRange2(o NATRange2) {
	*r = NATRange{Flags: o.Flags, MinAddr: o.MinAddr, MaxAddr: o.MaxAddr, MinProto: o.MinProto, MaxProto: o.MaxProto}
}

// natPortOK is iptables' test for whether a NAT target may be given
// ports: the rule's protocol as parsed so far, negated or not. ICMP is
// there because its id plays the port's role in NAT; udplite is missing,
// as in iptables.
func natPortOK(ip *table.IPHeader) bool {
	if ip == nil {
		return false
	}
	switch ip.Proto {
	case 6, 17, 132, 33, 1:
		return true
	}
	return false
}

func errNeedPortProto() error {
	return table.WithHint("put '-p tcp' (or udp, sctp, dccp) before -j", "ports need -p tcp, udp, sctp or dccp")
}

// parseNATOption applies one option shared by the NAT targets to r.
func parseNATOption(a *table.OptArgs, r *NATRange2) error {
	switch a.Key() {
	case "to-source", "to-destination":
		return parseNATTo(a.Arg, natPortOK(a.IP), a.Family, a.Names, r)
	case "to-ports":
		return parseNATPorts(a.Arg, natPortOK(a.IP), a.Names, r)
	case "random":
		r.Flags |= natProtoRandom
	case "random-fully":
		r.Flags |= natProtoRandomFully
	case "persistent":
		r.Flags |= natPersistent
	default:
		return unknownOption(a)
	}
	return nil
}

// parseNATTo parses "[addr[-addr]][:port[-port[/base]]]"; IPv6 addresses
// go in brackets when ports follow. Like iptables, an IPv6 address
// without brackets is taken whole when it has more than one colon.
func parseNATTo(s string, portOK bool, fam table.Family, names table.Resolver, r *NATRange2) error {
	var ips, ports string
	hasPorts := false
	if strings.HasPrefix(s, "[") {
		if fam == table.IPv4 {
			return fmt.Errorf("invalid address format %q (brackets are for IPv6 addresses)", s)
		}
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return fmt.Errorf("invalid address format %q (missing ']')", s)
		}
		ips = s[1:end]
		switch rest := s[end+1:]; {
		case rest == "":
		case rest[0] == ':':
			ports, hasPorts = rest[1:], true
		default:
			// iptables skips anything between ']' and ':'.
			return fmt.Errorf("unexpected %q after ']' in %q", rest, s)
		}
		if hasPorts && ips == "" {
			// "[]:80": ports only.
			return parseNATPorts(ports, portOK, names, r)
		}
	} else {
		if strings.Contains(s, "[") {
			return fmt.Errorf("invalid address format %q", s)
		}
		ips = s
		if c := strings.IndexByte(s, ':'); c >= 0 && !strings.Contains(s[c+1:], ":") {
			ips, ports, hasPorts = s[:c], s[c+1:], true
		}
		if hasPorts && ips == "" {
			return parseNATPorts(ports, portOK, names, r)
		}
		if hasPorts && len(ips) == 2 {
			// iptables mistakes any two characters before the colon for
			// "[]" and drops them: "12:80" would save as ":80".
			return fmt.Errorf("bad IP address %q", ips)
		}
	}
	if hasPorts {
		if err := parseNATPorts(ports, portOK, names, r); err != nil {
			return err
		}
	}
	r.Flags |= natMapIPs
	lo, hi, isRange := strings.Cut(ips, "-")
	min, err := parseAddr16(lo, fam, viaInetPton, nil)
	if err != nil {
		return err
	}
	max := min
	if isRange {
		if max, err = parseAddr16(hi, fam, viaInetPton, nil); err != nil {
			return err
		}
		if bytes.Compare(max[:], min[:]) < 0 {
			return fmt.Errorf("invalid address range %q (first > last)", ips)
		}
	}
	r.MinAddr, r.MaxAddr = min, max
	return nil
}

// parseNATPorts parses "port", "port-port" or "port-port/base" into r.
// Only a single port may be a service name; the ends of a range and the
// base are numbers (the base may also be a service name, as in iptables).
func parseNATPorts(s string, portOK bool, names table.Resolver, r *NATRange2) error {
	if !portOK {
		return errNeedPortProto()
	}
	r.Flags |= natProtoSpecified
	lo, rest, ok := table.StrtoulPrefix(s, 0, 65535)
	if !ok {
		p, found := names.Service(s, "")
		if !found {
			return fmt.Errorf("invalid port %q (a number from 0 to 65535 or a service name)", s)
		}
		r.MinProto, r.MaxProto = p, p
		return nil
	}
	switch {
	case rest == "":
		r.MinProto, r.MaxProto = uint16(lo), uint16(lo)
		return nil
	case rest[0] == ':':
		return table.WithHint("write a port range as LOW-HIGH", "invalid port range %q (use a dash, not a colon)", s)
	case rest[0] != '-':
		return fmt.Errorf("garbage %q after port in %q", rest, s)
	}
	hi, rest, ok := table.StrtoulPrefix(rest[1:], 0, 65535)
	if !ok {
		return fmt.Errorf("invalid port range %q (the ends of a range must be numbers from 0 to 65535)", s)
	}
	if hi < lo {
		return fmt.Errorf("invalid port range %q (min > max)", s)
	}
	r.MinProto, r.MaxProto = uint16(lo), uint16(hi)
	switch {
	case rest == "":
		return nil
	case rest[0] != '/':
		return fmt.Errorf("garbage %q after port range in %q", rest, s)
	}
	b := rest[1:]
	base, tail, ok := table.StrtoulPrefix(b, 1, 65535)
	switch {
	case ok && tail != "":
		// iptables ignores text after the base port.
		return fmt.Errorf("garbage %q after base port in %q", tail, s)
	case !ok:
		p, found := names.Service(b, "")
		if !found {
			return fmt.Errorf("invalid base port %q (a number from 1 to 65535 or a service name)", b)
		}
		base = uint64(p)
	}
	r.Flags |= natProtoOffset
	r.BaseProto = uint16(base)
	return nil
}

// printNATRange writes what iptables' NAT targets save: the range after
// opt (brackets around IPv6 addresses only when ports follow; the colon
// dropped for --to-ports), then the flags.
func printNATRange(w *table.Writer, r NATRange2, fam table.Family, opt string, portsOnly bool) {
	ips, ports := r.Flags&natMapIPs != 0, r.Flags&natProtoSpecified != 0
	if ips || ports {
		w.Flag(false, opt)
		w.Space()
		brackets := fam == table.IPv6 && ports
		if ips {
			if brackets {
				w.Byte('[')
			}
			w.IP(addr16(r.MinAddr, fam))
			if r.MinAddr != r.MaxAddr {
				w.Byte('-')
				w.IP(addr16(r.MaxAddr, fam))
			}
			if brackets {
				w.Byte(']')
			}
		}
		if ports {
			if !portsOnly || ips {
				w.Byte(':')
			}
			w.Uint(uint64(r.MinProto))
			if r.MaxProto != r.MinProto {
				w.Byte('-')
				w.Uint(uint64(r.MaxProto))
			}
			if r.Flags&natProtoOffset != 0 {
				w.Byte('/')
				w.Uint(uint64(r.BaseProto))
			}
		}
	}
	if r.Flags&natProtoRandom != 0 {
		w.Flag(false, "random")
	}
	if r.Flags&natProtoRandomFully != 0 {
		w.Flag(false, "random-fully")
	}
	if r.Flags&natPersistent != 0 {
		w.Flag(false, "persistent")
	}
}

// errNoBasePort refuses a shifted port map where the target's struct has
// no room for the base: iptables keeps the offset flag, drops the base and
// saves "/0", which is not what was asked for.
func errNoBasePort(opt string) error {
	return table.WithHint("only DNAT can shift a port range", "--%s cannot shift a port range (/BASE): the base port would be lost", opt)
}

// NPT mirrors struct ip6t_npt_tginfo, the payload of DNPT and SNPT. The
// kernel-private checksum adjustment that follows the lengths is computed
// by the kernel from the prefixes; userspace writes zero there and never
// reads it, so it is not kept.
type NPT struct {
	SrcPfx, DstPfx       [16]byte
	SrcPfxLen, DstPfxLen uint8
}

func (t *NPT) Parse(a *table.OptArgs) error {
	h, err := parseHostMask(a.Arg, table.IPv6, a.Names)
	if err != nil {
		return err
	}
	switch a.Key() {
	case "src-pfx":
		t.SrcPfx, t.SrcPfxLen = h.Addr, h.Len
	case "dst-pfx":
		t.DstPfx, t.DstPfxLen = h.Addr, h.Len
	default:
		return unknownOption(a)
	}
	return nil
}

// Finish checks what the kernel's checkentry checks (a prefix of at most
// 64 bits with no host bits set), and refuses ::/0, which iptables-save
// leaves out, so that its output could not be restored.
func (t *NPT) Finish(c *table.FinishContext) error {
	for _, p := range []struct {
		opt  string
		addr [16]byte
		n    uint8
	}{{"src-pfx", t.SrcPfx, t.SrcPfxLen}, {"dst-pfx", t.DstPfx, t.DstPfxLen}} {
		if !c.Seen.Has(p.opt) {
			return table.WithHint("NPT needs both --src-pfx and --dst-pfx", "--%s is required", p.opt)
		}
		text := addr16Text(p.addr, table.IPv6)
		switch {
		case p.n > 64:
			return table.WithHint("write the prefix with its length, e.g. 2001:db8::/48", "--%s: prefix length %d is longer than 64", p.opt, p.n)
		case p.addr != maskAddr16(p.addr, int(p.n)):
			return fmt.Errorf("--%s: %s/%d has bits set after the prefix", p.opt, text, p.n)
		case p.n == 0 && p.addr == [16]byte{}:
			return fmt.Errorf("--%s: ::/0 is not saved by iptables-save, so the rule could not be restored", p.opt)
		}
	}
	return nil
}

// Print leaves a prefix out when it is all zero, as iptables-save does.
func (t *NPT) Print(w *table.Writer) {
	if t.SrcPfx != [16]byte{} || t.SrcPfxLen != 0 {
		w.Opt(false, "src-pfx", addr16Text(t.SrcPfx, table.IPv6)+"/"+strconv.Itoa(int(t.SrcPfxLen)))
	}
	if t.DstPfx != [16]byte{} || t.DstPfxLen != 0 {
		w.Opt(false, "dst-pfx", addr16Text(t.DstPfx, table.IPv6)+"/"+strconv.Itoa(int(t.DstPfxLen)))
	}
}

// Sizes of the kernel structs (before XT_ALIGN), as the kernel checks them,
// with the field offsets the codecs below use (amd64, checked with offsetof).
const (
	// struct nf_nat_ipv4_multi_range_compat: rangesize u32@0, then
	// range[0] (struct nf_nat_ipv4_range): flags u32@4, min_ip@8 and
	// max_ip@12 (network order), min@16 and max@18 (ports, network order).
	natCompatSize = 20
	// struct nf_nat_range: flags u32@0, min_addr[16]@4, max_addr[16]@20,
	// min_proto@36 and max_proto@38 (ports, network order).
	natRangeSize = 40
	// struct nf_nat_range2: nf_nat_range, then base_proto@40 (network
	// order); 42 bytes padded to the unions' 4-byte alignment.
	natRange2Size = 44
	// struct ip6t_npt_tginfo: src_pfx[16]@0, dst_pfx[16]@16,
	// src_pfx_len u8@32, dst_pfx_len u8@33, adjustment u16@34 (the
	// kernel's, computed in checkentry).
	nptSize = 36
	// struct xt_tproxy_target_info_v1: mark_mask u32@0, mark_value u32@4,
	// laddr[16]@8, lport@24 (network order); 26 bytes padded to 4.
	tproxySize = 28
	// struct xt_tee_tginfo: gw[16]@0, oif[16]@16, priv pointer@32
	// (kernel-private, 8-aligned).
	teeSize = 40
)

// put writes the struct into dst (zeroed, XT_ALIGN(natCompatSize) bytes).
func (r *NATIPv4MultiRangeCompat) put(dst []byte) {
	w := xtbin.Writer{B: dst}
	s := &r.Range[0]
	w.U32(0, r.RangeSize)
	w.U32(4, s.Flags)
	w.Bytes(8, s.MinIP[:])
	w.Bytes(12, s.MaxIP[:])
	w.BE16(16, s.Min)
	w.BE16(18, s.Max)
}

// unmarshal keeps rangesize as found: the kernel accepts only 1, and the
// text form has no place for it.
func (r *NATIPv4MultiRangeCompat) unmarshal(data []byte) error {
	rd := xtbin.NewReader(data)
	s := &r.Range[0]
	r.RangeSize = rd.U32(0)
	s.Flags = rd.U32(4)
	rd.Bytes(8, s.MinIP[:])
	rd.Bytes(12, s.MaxIP[:])
	s.Min, s.Max = rd.BE16(16), rd.BE16(18)
	return rd.Err()
}

// putNATRange writes the nf_nat_range part shared by nf_nat_range and
// nf_nat_range2. An IPv4 address sits in the first four bytes of its
// union; the rest is zero as parsed, and is written as found on decode.
func putNATRange(w *xtbin.Writer, flags uint32, min, max [16]byte, minProto, maxProto uint16) {
	w.U32(0, flags)
	w.Bytes(4, min[:])
	w.Bytes(20, max[:])
	w.BE16(36, minProto)
	w.BE16(38, maxProto)
}

func getNATRange(rd *xtbin.Reader) (flags uint32, min, max [16]byte, minProto, maxProto uint16) {
	flags = rd.U32(0)
	rd.Bytes(4, min[:])
	rd.Bytes(20, max[:])
	return flags, min, max, rd.BE16(36), rd.BE16(38)
}

// put writes the struct into dst (zeroed, XT_ALIGN(natRangeSize) bytes).
func (r *NATRange) put(dst []byte) {
	w := xtbin.Writer{B: dst}
	putNATRange(&w, r.Flags, r.MinAddr, r.MaxAddr, r.MinProto, r.MaxProto)
}

func (r *NATRange) unmarshal(data []byte) error {
	rd := xtbin.NewReader(data)
	r.Flags, r.MinAddr, r.MaxAddr, r.MinProto, r.MaxProto = getNATRange(rd)
	return rd.Err()
}

// put writes the struct into dst (zeroed, XT_ALIGN(natRange2Size) bytes).
func (r *NATRange2) put(dst []byte) {
	w := xtbin.Writer{B: dst}
	putNATRange(&w, r.Flags, r.MinAddr, r.MaxAddr, r.MinProto, r.MaxProto)
	w.BE16(40, r.BaseProto)
}

func (r *NATRange2) unmarshal(data []byte) error {
	rd := xtbin.NewReader(data)
	r.Flags, r.MinAddr, r.MaxAddr, r.MinProto, r.MaxProto = getNATRange(rd)
	r.BaseProto = rd.BE16(40)
	return rd.Err()
}

// layout leaves out the adjustment: userspace writes it zero, as iptables
// does, and the kernel computes it (and returns it filled in).
func (t *NPT) layout() []field {
	return []field{{0, &t.SrcPfx}, {16, &t.DstPfx}, {32, &t.SrcPfxLen}, {33, &t.DstPfxLen}}
}

func (t *NPT) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, t.layout()...) }

func (t *NPT) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}

// natRanger is a NAT struct that holds (part of) an nf_nat_range2.
type natRanger interface {
	range2() NATRange2
	setRange2(NATRange2)
}

// parseNATInto applies one NAT option to the range t holds.
func parseNATInto(a *table.OptArgs, t natRanger) error {
	r := t.range2()
	if err := parseNATOption(a, &r); err != nil {
		return err
	}
	t.setRange2(r)
	return nil
}

// natSpec is what tells the NAT targets of revisions 0 and 1 apart beyond
// their names: the option that prints their range, and their own check.
type natSpec struct {
	opt       string // to-source or to-ports
	portsOnly bool   // the range is ports alone (--to-ports)
	finish    func(c *table.FinishContext, flags uint32) error
}

// natCompatTarget is an IPv4 NAT target of revision 0 (SNAT, MASQUERADE,
// REDIRECT): struct nf_nat_ipv4_multi_range_compat, with rangesize 1 even
// when no option is given (the kernel refuses anything else).
type natCompatTarget struct {
	NATIPv4MultiRangeCompat
	spec *natSpec
}

func newNATCompat(spec *natSpec) natCompatTarget {
	return natCompatTarget{NATIPv4MultiRangeCompat{RangeSize: 1}, spec}
}

func (t *natCompatTarget) Parse(a *table.OptArgs) error { return parseNATInto(a, t) }

func (t *natCompatTarget) Finish(c *table.FinishContext) error {
	t.RangeSize = 1
	return t.spec.finish(c, t.Range[0].Flags)
}

func (t *natCompatTarget) Print(w *table.Writer) {
	printNATRange(w, t.range2(), table.IPv4, t.spec.opt, t.spec.portsOnly)
}

func (t *natCompatTarget) PutPayload(_ table.Family, dst []byte) error {
	t.put(dst)
	return nil
}

func (t *natCompatTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	return t.unmarshal(data)
}

// natRangeTarget is an IPv6 NAT target of revision 0 or 1 (SNAT,
// MASQUERADE, REDIRECT): struct nf_nat_range, all zero when no option is
// given.
type natRangeTarget struct {
	NATRange
	spec *natSpec
}

func (t *natRangeTarget) Parse(a *table.OptArgs) error { return parseNATInto(a, t) }

func (t *natRangeTarget) Finish(c *table.FinishContext) error { return t.spec.finish(c, t.Flags) }

func (t *natRangeTarget) Print(w *table.Writer) {
	printNATRange(w, t.range2(), table.IPv6, t.spec.opt, t.spec.portsOnly)
}

func (t *natRangeTarget) PutPayload(_ table.Family, dst []byte) error {
	t.put(dst)
	return nil
}

func (t *natRangeTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	return t.unmarshal(data)
}
