package nft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/table"
)

// Lowering: a model rule into the expressions iptables-nft 1.8.9 writes
// for it (nft_ipv4_add / nft_ipv6_add and add_match / add_action), in its
// order: -i, -o, -p, -s, -d, -f; the matches in rule order; a counter; the
// verdict or target. tcp, udp, mark, limit, NFLOG and TRACE are written
// natively, from fields read out of their xt payload bytes; everything
// else is a compat match or target carrying the payload itself.

// lowerer writes the expressions of one rule as the NFTA_LIST_ELEM
// entries of NFTA_RULE_EXPRESSIONS, straight into a message buffer,
// attribute for attribute in the order the kernel dumps them: the bytes
// of a rule fw would write and of the same rule read back from the
// kernel are then equal (apart from live counters), which is how an
// incremental restore finds the rules it can keep.
type lowerer struct {
	w *nlbuf
	f table.Family
	// counters: the counter expression carries the rule's counters;
	// zeroCounters writes 0/0 instead (for comparisons that ignore them).
	zeroCounters bool
}

const (
	reg1 = 1 // NFT_REG_1, the only data register iptables-nft uses
)

// Expression kinds, as the kernel names them.
const (
	exPayload   = "payload"
	exMeta      = "meta"
	exCmp       = "cmp"
	exBitwise   = "bitwise"
	exRange     = "range"
	exImmediate = "immediate"
	exCounter   = "counter"
	exMatch     = "match"
	exTarget    = "target"
	exLimit     = "limit"
	exLog       = "log"
)

// exprs writes the expression list of r (the content of
// NFTA_RULE_EXPRESSIONS).
func (l *lowerer) exprs(r *table.Rule) error {
	if err := l.ipHeader(&r.IP); err != nil {
		return err
	}
	for _, m := range r.Matches {
		if err := l.match(r, m); err != nil {
			return err
		}
	}
	if l.zeroCounters {
		l.counter(0, 0)
	} else {
		l.counter(r.Counters.Packets, r.Counters.Bytes)
	}
	return l.target(r.Target)
}

// elem opens one expression: NFTA_LIST_ELEM { NAME, DATA { ... } }.
func (l *lowerer) elem(name string) (outer, data int) {
	outer = l.w.begin(unix.NFTA_LIST_ELEM)
	l.w.str(unix.NFTA_EXPR_NAME, name)
	return outer, l.w.begin(unix.NFTA_EXPR_DATA)
}

func (l *lowerer) done(outer, data int) {
	l.w.end(data)
	l.w.end(outer)
}

func (l *lowerer) payload(base, off, n uint32) {
	o, d := l.elem(exPayload)
	l.w.u32(unix.NFTA_PAYLOAD_DREG, reg1)
	l.w.u32(unix.NFTA_PAYLOAD_BASE, base)
	l.w.u32(unix.NFTA_PAYLOAD_OFFSET, off)
	l.w.u32(unix.NFTA_PAYLOAD_LEN, n)
	l.done(o, d)
}

func (l *lowerer) meta(key uint32) {
	o, d := l.elem(exMeta)
	l.w.u32(unix.NFTA_META_KEY, key)
	l.w.u32(unix.NFTA_META_DREG, reg1)
	l.done(o, d)
}

func (l *lowerer) cmp(op uint32, data []byte) {
	o, d := l.elem(exCmp)
	l.w.u32(unix.NFTA_CMP_SREG, reg1)
	l.w.u32(unix.NFTA_CMP_OP, op)
	l.w.value(unix.NFTA_CMP_DATA, data)
	l.done(o, d)
}

// bitwise is "& mask ^ 0" over n bytes (NFT_BITWISE_BOOL, op 0).
func (l *lowerer) bitwise(mask []byte) {
	o, d := l.elem(exBitwise)
	l.w.u32(unix.NFTA_BITWISE_SREG, reg1)
	l.w.u32(unix.NFTA_BITWISE_DREG, reg1)
	l.w.u32(unix.NFTA_BITWISE_LEN, uint32(len(mask)))
	l.w.u32(attrBitwiseOp, 0)
	l.w.value(unix.NFTA_BITWISE_MASK, mask)
	var zero [16]byte
	l.w.value(unix.NFTA_BITWISE_XOR, zero[:len(mask)])
	l.done(o, d)
}

func (l *lowerer) rangeExpr(op uint32, from, to []byte) {
	o, d := l.elem(exRange)
	l.w.u32(unix.NFTA_RANGE_SREG, reg1)
	l.w.u32(unix.NFTA_RANGE_OP, op)
	l.w.value(unix.NFTA_RANGE_FROM_DATA, from)
	l.w.value(unix.NFTA_RANGE_TO_DATA, to)
	l.done(o, d)
}

// verdict is "immediate reg 0" with a verdict code (and chain).
func (l *lowerer) verdict(code int32, chain string) {
	o, d := l.elem(exImmediate)
	l.w.u32(unix.NFTA_IMMEDIATE_DREG, unix.NFT_REG_VERDICT)
	od := l.w.begin(unix.NFTA_IMMEDIATE_DATA)
	ov := l.w.begin(unix.NFTA_DATA_VERDICT)
	l.w.u32(unix.NFTA_VERDICT_CODE, uint32(code))
	if chain != "" {
		l.w.str(unix.NFTA_VERDICT_CHAIN, chain)
	}
	l.w.end(ov)
	l.w.end(od)
	l.done(o, d)
}

func (l *lowerer) counter(packets, bytes uint64) {
	o, d := l.elem(exCounter)
	l.w.u64(unix.NFTA_COUNTER_BYTES, bytes)
	l.w.u64(unix.NFTA_COUNTER_PACKETS, packets)
	l.done(o, d)
}

// compat is a compat match or target with its xt payload.
func (l *lowerer) compat(kind table.ExtKind, info *table.ExtInfo, b []byte) {
	name := exMatch
	if kind == table.TargetKind {
		name = exTarget
	}
	o, d := l.elem(name)
	// NFTA_MATCH_* and NFTA_TARGET_* share their numbers.
	l.w.str(unix.NFTA_MATCH_NAME, info.KernelName())
	l.w.u32(unix.NFTA_MATCH_REV, uint32(info.Revision))
	l.w.bytes(unix.NFTA_MATCH_INFO, b)
	l.done(o, d)
}

func cmpOp(inv bool) uint32 {
	if inv {
		return unix.NFT_CMP_NEQ
	}
	return unix.NFT_CMP_EQ
}

func (l *lowerer) ipHeader(ip *table.IPHeader) error {
	if ip.In != "" {
		l.iface(unix.NFT_META_IIFNAME, ip.In, ip.InvIn)
	}
	if ip.Out != "" {
		l.iface(unix.NFT_META_OIFNAME, ip.Out, ip.InvOut)
	}
	if ip.Proto != 0 {
		l.meta(unix.NFT_META_L4PROTO)
		l.cmp(cmpOp(ip.InvProto), []byte{ip.Proto})
	}
	srcOff, dstOff, alen := uint32(12), uint32(16), 4
	if l.f == table.IPv6 {
		srcOff, dstOff, alen = 8, 24, 16
	}
	if err := l.addr(srcOff, alen, ip.Src, ip.InvSrc, "-s"); err != nil {
		return err
	}
	if err := l.addr(dstOff, alen, ip.Dst, ip.InvDst, "-d"); err != nil {
		return err
	}
	if ip.Frag && l.f == table.IPv4 {
		// The 13 fragment offset bits are non-zero in a fragment.
		l.payload(unix.NFT_PAYLOAD_NETWORK_HEADER, 6, 2)
		l.bitwise([]byte{0x1f, 0xff})
		l.cmp(cmpOp(!ip.InvFrag), []byte{0, 0})
	}
	return nil
}

// iface compares an interface name: with its NUL for an exact name,
// without for a "+" wildcard, nothing for "+" alone, and for "! -i +" a
// name no interface can have.
func (l *lowerer) iface(key uint32, name string, inv bool) {
	l.meta(key)
	var buf [unix.IFNAMSIZ + 1]byte
	switch {
	case name == "+":
		if inv {
			l.cmp(unix.NFT_CMP_EQ, []byte("INVAL/D\x00"))
		}
	case name[len(name)-1] == '+':
		l.cmp(cmpOp(inv), append(buf[:0], name[:len(name)-1]...))
	default:
		l.cmp(cmpOp(inv), append(append(buf[:0], name...), 0))
	}
}

// addr loads only the prefix bytes of a byte-aligned prefix, or the whole
// address with a bitwise mask otherwise (add_addr).
func (l *lowerer) addr(off uint32, alen int, a table.Addr, inv bool, flag string) error {
	if a.IsZero() {
		return nil
	}
	ipb, mask := addrBytes(a.IP, alen), addrBytes(a.Mask, alen)
	if allZero(ipb[:alen]) && allZero(mask[:alen]) && !inv {
		return nil
	}
	i := 0
	for i < alen && mask[i] == 0xff {
		i++
	}
	bitwise := i < alen && !allZero(mask[i:alen])
	n := alen
	if !bitwise {
		n = i
	}
	if n == 0 {
		// iptables-nft emits a zero-length load here, which the kernel
		// refuses: "! -s 0.0.0.0/0" cannot be restored.
		return fmt.Errorf("'! %s %s' matches nothing and cannot be written to nf_tables (iptables-nft fails the same way)", flag, a)
	}
	var data [16]byte
	for k := range n {
		data[k] = ipb[k] & mask[k]
	}
	l.payload(unix.NFT_PAYLOAD_NETWORK_HEADER, off, uint32(n))
	if bitwise {
		l.bitwise(mask[:n])
	}
	l.cmp(cmpOp(inv), data[:n])
	return nil
}

// addrBytes is a as alen bytes (an IPv4-mapped address in an IPv4 rule
// as its last four), in a fixed array so that nothing escapes.
func addrBytes(a netip.Addr, alen int) [16]byte {
	var out [16]byte
	if !a.IsValid() {
		return out
	}
	b := a.As16()
	if a.Is4() || (alen == 4 && a.Is4In6()) {
		copy(out[:], b[12:])
		return out
	}
	return b
}

// xtPayload returns an extension's xt payload, which the native
// lowerings read their fields from and the compat expressions carry. It
// is written into the buffer's reusable scratch space, not a new slice
// per rule: the bytes are valid only until the next xtPayload call, so
// they are read or copied into the message, never kept.
func (l *lowerer) xtPayload(e table.Ext) ([]byte, error) {
	info := e.Info()
	p, ok := e.(table.Payload)
	if !ok {
		return nil, fmt.Errorf("%s %s has no kernel encoding in fw yet", info.Kind, e.Name())
	}
	n := (info.Size + 7) &^ 7 // XT_ALIGN
	if cap(l.w.scratch) < n {
		l.w.scratch = make([]byte, max(n, 512))
	}
	b := l.w.scratch[:n:n]
	clear(b) // PutPayload wants zeroes
	if err := p.PutPayload(l.f, b); err != nil {
		return nil, fmt.Errorf("%s %s: %w", info.Kind, e.Name(), err)
	}
	return b, nil
}

func (l *lowerer) match(r *table.Rule, m table.Match) error {
	info := m.Info()
	b, err := l.xtPayload(m)
	if err != nil {
		return err
	}
	switch kn := info.KernelName(); {
	case kn == "tcp" && info.Revision == 0 && len(b) >= 12:
		return l.tcpudp(r, m, b, unix.IPPROTO_TCP)
	case kn == "udp" && info.Revision == 0 && len(b) >= 10:
		return l.tcpudp(r, m, b, unix.IPPROTO_UDP)
	case kn == "mark" && info.Revision == 1 && len(b) >= 12:
		// struct xt_mark_mtinfo1: mark@0 mask@4 invert@8 (host order).
		l.meta(unix.NFT_META_MARK)
		if mask := ne.Uint32(b[4:]); mask != 0xffffffff {
			l.bitwise(b[4:8])
		}
		l.cmp(cmpOp(b[8] != 0), b[0:4])
		return nil
	case kn == "limit" && info.Revision == 0 && len(b) >= 8:
		return l.limit(b)
	}
	l.compat(table.MatchKind, info, b)
	return nil
}

// tcpudp lowers struct xt_tcp / xt_udp: a tcp match with an option, an
// inverted option, or nothing set at all stays compat (as does an empty
// udp match); otherwise tcp flags first, then the ports.
func (l *lowerer) tcpudp(r *table.Rule, m table.Match, b []byte, proto uint8) error {
	spts := [2]uint16{ne.Uint16(b[0:]), ne.Uint16(b[2:])}
	dpts := [2]uint16{ne.Uint16(b[4:]), ne.Uint16(b[6:])}
	var option, flgMask, flgCmp, inv uint8
	if proto == unix.IPPROTO_TCP {
		option, flgMask, flgCmp, inv = b[8], b[9], b[10], b[11]
	} else {
		inv = b[8]
	}
	allDefault := spts == [2]uint16{0, 0xffff} && dpts == [2]uint16{0, 0xffff} && option == 0 && flgMask == 0 && flgCmp == 0 && inv == 0
	supported := uint8(invSrcPt | invDstPt)
	if proto == unix.IPPROTO_TCP {
		supported |= invFlags
	}
	if allDefault || inv&^supported != 0 || option != 0 {
		l.compat(table.MatchKind, m.Info(), b)
		return nil
	}
	if r.IP.Proto != proto {
		return fmt.Errorf("a native %s match needs '-p %s' in nf_tables", m.Name(), m.Name())
	}
	if flgMask != 0 {
		l.payload(unix.NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1)
		l.bitwise([]byte{flgMask})
		l.cmp(cmpOp(inv&invFlags != 0), []byte{flgCmp})
	}
	invS, invD := inv&invSrcPt != 0, inv&invDstPt != 0
	if spts[0] != 0 && spts[0] == spts[1] && dpts[0] != 0 && dpts[0] == dpts[1] && invS == invD {
		var data [4]byte
		binary.BigEndian.PutUint16(data[0:], spts[0])
		binary.BigEndian.PutUint16(data[2:], dpts[0])
		l.payload(unix.NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4)
		l.cmp(cmpOp(invS), data[:])
		return nil
	}
	if spts[0] != 0 || spts[1] < 0xffff {
		l.payload(unix.NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2)
		l.portRange(spts, invS)
	}
	if dpts[0] != 0 || dpts[1] < 0xffff {
		l.payload(unix.NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2)
		l.portRange(dpts, invD)
	}
	return nil
}

// portRange compares a loaded port: == for one port, <= (or > when
// negated) for 0..hi, a range otherwise (expr_gen_range_cmp16).
func (l *lowerer) portRange(p [2]uint16, inv bool) {
	var lo, hi [2]byte
	binary.BigEndian.PutUint16(lo[:], p[0])
	binary.BigEndian.PutUint16(hi[:], p[1])
	switch {
	case p[0] == p[1]:
		l.cmp(cmpOp(inv), lo[:])
	case p[0] == 0 && p[1] < 0xffff:
		op := uint32(unix.NFT_CMP_LTE)
		if inv {
			op = unix.NFT_CMP_GT
		}
		l.cmp(op, hi[:])
	default:
		l.rangeExpr(cmpOp(inv), lo[:], hi[:])
	}
}

// limit turns struct xt_rateinfo's avg (1/10000 s between packets) into
// a rate per unit with iptables-nft's walk over the units.
func (l *lowerer) limit(b []byte) error {
	avg := ne.Uint32(b[0:])
	burst := ne.Uint32(b[4:])
	if avg == 0 {
		return errors.New("limit: a rate of zero time between packets")
	}
	mult := [...]uint32{limitScale * 24 * 60 * 60, limitScale * 60 * 60, limitScale * 60, limitScale}
	i := 1
	for ; i < len(mult); i++ {
		if avg > mult[i] || mult[i]/avg < mult[i]%avg {
			break
		}
	}
	o, d := l.elem(exLimit)
	l.w.u64(unix.NFTA_LIMIT_RATE, uint64(mult[i-1]/avg))
	l.w.u64(unix.NFTA_LIMIT_UNIT, uint64(mult[i-1]/limitScale))
	l.w.u32(unix.NFTA_LIMIT_BURST, burst)
	l.w.u32(unix.NFTA_LIMIT_TYPE, unix.NFT_LIMIT_PKTS)
	l.w.u32(unix.NFTA_LIMIT_FLAGS, 0)
	l.done(o, d)
	return nil
}

func (l *lowerer) target(t table.Target) error {
	switch t := t.(type) {
	case nil:
		return nil
	case *table.Standard:
		switch t.Verdict {
		case table.Accept:
			l.verdict(nfAccept, "")
		case table.Drop:
			l.verdict(nfDrop, "")
		case table.Return:
			l.verdict(unix.NFT_RETURN, "")
		default:
			return fmt.Errorf("-j %s cannot be written to nf_tables (iptables-nft cannot either)", t.Verdict)
		}
		return nil
	case *table.Jump:
		code := int32(unix.NFT_JUMP)
		if t.Goto {
			code = unix.NFT_GOTO
		}
		l.verdict(code, t.Chain)
		return nil
	case table.Ext:
		info := t.Info()
		b, err := l.xtPayload(t)
		if err != nil {
			return err
		}
		switch {
		case info.KernelName() == "NFLOG" && info.Revision == 0 && len(b) >= 76:
			l.nflog(b)
		case info.KernelName() == "TRACE" && info.Revision == 0:
			// An immediate 1 in a 32-bit register, then "meta nftrace
			// set" from it.
			o, d := l.elem(exImmediate)
			l.w.u32(unix.NFTA_IMMEDIATE_DREG, unix.NFT_REG32_01)
			l.w.value(unix.NFTA_IMMEDIATE_DATA, []byte{1})
			l.done(o, d)
			o, d = l.elem(exMeta)
			l.w.u32(unix.NFTA_META_KEY, unix.NFT_META_NFTRACE)
			l.w.u32(unix.NFTA_META_SREG, unix.NFT_REG32_01)
			l.done(o, d)
		default:
			l.compat(table.TargetKind, info, b)
		}
		return nil
	}
	return fmt.Errorf("target %s of type %T", t.Name(), t)
}

// nflog writes struct xt_nflog_info (len u32@0 group u16@4 threshold
// u16@6 flags u16@8 prefix[64]@12) as a log expression: the group always,
// the prefix when set, the snap length with --nflog-size, the threshold
// when not zero (the kernel's dump order: prefix first).
func (l *lowerer) nflog(b []byte) {
	o, d := l.elem(exLog)
	if b[12] != 0 {
		end := 12
		for end < 76 && b[end] != 0 {
			end++
		}
		l.w.hdr(unix.NFTA_LOG_PREFIX, end-12+1)
		l.w.b = append(l.w.b, b[12:end]...)
		l.w.b = append(l.w.b, 0)
		l.w.pad()
	}
	var g [2]byte
	binary.BigEndian.PutUint16(g[:], ne.Uint16(b[4:]))
	l.w.bytes(unix.NFTA_LOG_GROUP, g[:])
	if ne.Uint16(b[8:])&nflogCopyLen != 0 {
		l.w.u32(unix.NFTA_LOG_SNAPLEN, ne.Uint32(b[0:]))
	}
	if th := ne.Uint16(b[6:]); th != 0 {
		binary.BigEndian.PutUint16(g[:], th)
		l.w.bytes(unix.NFTA_LOG_QTHRESHOLD, g[:])
	}
	l.done(o, d)
}

// attrBitwiseOp is NFTA_BITWISE_OP, which the kernel dumps (0: mask and
// xor) and x/sys does not list.
const attrBitwiseOp = 6

// ruleMsg writes the attributes of a NEWRULE message for r: table,
// chain, the handle (replace) or position (insert before / after), the
// expressions and NFTA_RULE_COMPAT. The compat attribute goes on every
// rule, as iptables-nft sends it: the kernel hands its protocol to compat
// extensions' checks (icmp, multiport, REJECT tcp-reset and TPROXY fail
// without it).
func writeRule(w *nlbuf, f table.Family, tbl, chain string, handle, position uint64, r *table.Rule) error {
	w.str(unix.NFTA_RULE_TABLE, tbl)
	w.str(unix.NFTA_RULE_CHAIN, chain)
	if handle != 0 {
		w.u64(unix.NFTA_RULE_HANDLE, handle)
	}
	if position != 0 {
		w.u64(unix.NFTA_RULE_POSITION, position)
	}
	o := w.begin(unix.NFTA_RULE_EXPRESSIONS)
	l := lowerer{w: w, f: f}
	if err := l.exprs(r); err != nil {
		return err
	}
	w.end(o)
	flags := uint32(0)
	if r.IP.InvProto {
		flags = nftRuleCompatInv
	}
	o = w.begin(unix.NFTA_RULE_COMPAT)
	w.u32(unix.NFTA_RULE_COMPAT_PROTO, uint32(r.IP.Proto))
	w.u32(unix.NFTA_RULE_COMPAT_FLAGS, flags)
	w.end(o)
	return nil
}
