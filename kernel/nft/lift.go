package nft

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/table"
)

// Lifting: the expressions of a rule back into the model, the way
// iptables-nft-save 1.8.9 reads them (nft_rule_to_iptables_command_state):
// a load into a register, an optional bitwise, then a cmp or range that
// says what it was. The natively translated extensions (tcp, udp, mark,
// limit, NFLOG, TRACE) are rebuilt as their xt payload bytes and decoded
// through the registry like any compat payload, so kernel/nft never
// depends on table/ext. Where iptables-nft would silently drop or
// misread an expression, fw refuses the rule instead.

// regState is what a register holds at this point of the rule.
type regState struct {
	kind    regKind
	metaKey expr.MetaKey
	base    expr.PayloadBase
	offset  uint32
	length  uint32
	mask    []byte // bitwise mask, nil without bitwise
	imm     []byte
}

type regKind uint8

const (
	regNone regKind = iota
	regMeta
	regPayload
	regImmediate
)

// xtTCP and xtUDP are struct xt_tcp / xt_udp, merged across every native
// tcp (udp) expression of a rule as iptables-nft does: one match, at the
// place of the first.
type xtTCP struct {
	spts, dpts              [2]uint16
	option, flgMask, flgCmp uint8
	invflags                uint8
}

// xt_tcp / xt_udp invflags.
const (
	invSrcPt = 0x01
	invDstPt = 0x02
	invFlags = 0x04
	invOpt   = 0x08
)

// lifter lifts rules one after another; a reader keeps one, so that
// what it needs from rule to rule (its registers, the match list it
// builds, the tcp and udp structs it merges) is allocated once, not once
// per rule of a 100k-rule save.
type lifter struct {
	fam  table.Family
	reg  *table.Registry
	rule *table.Rule
	regs [numRegs]regState
	used uint32 // registers regAt handed out since the last rule
	// matches in order; a nil entry is the merged tcp or udp match,
	// filled in at the end. The rule gets a copy of its own size.
	matches []table.Match
	tcp     *xtTCP // nil, or &tcpBuf
	tcpAt   int
	udp     *xtTCP // nil, or &udpBuf
	udpAt   int
	// what tcp and udp point at, and the bytes of the xt structs made
	// of them (which UnmarshalPayload does not keep)
	tcpBuf, udpBuf xtTCP
	xt             [16]byte
}

func newLifter(f table.Family, reg *table.Registry) *lifter {
	return &lifter{fam: f, reg: reg}
}

// lift lifts one rule with a lifter of its own (a one-off read; the
// readers keep theirs).
func lift(f table.Family, reg *table.Registry, r *rawRule) (*table.Rule, error) {
	return newLifter(f, reg).lift(r)
}

// lift turns one kernel rule into a model rule.
func (l *lifter) lift(r *rawRule) (*table.Rule, error) {
	l.rule = &table.Rule{}
	for u := l.used; u != 0; u &= u - 1 {
		l.regs[bits.TrailingZeros32(u)] = regState{}
	}
	l.used = 0
	l.matches = l.matches[:0]
	l.tcp, l.udp = nil, nil
	for _, e := range r.Exprs {
		if err := l.expr(e); err != nil {
			return nil, fmt.Errorf("%s expression: %w", e.Name, err)
		}
	}
	if l.tcp != nil {
		m, err := l.payloadExt(table.MatchKind, "tcp", 0, l.tcp.marshalTCP(&l.xt))
		if err != nil {
			return nil, err
		}
		l.matches[l.tcpAt] = m
	}
	if l.udp != nil {
		m, err := l.payloadExt(table.MatchKind, "udp", 0, l.udp.marshalUDP(&l.xt))
		if err != nil {
			return nil, err
		}
		l.matches[l.udpAt] = m
	}
	if c, ok := userdataComment(r.UserData); ok {
		m, err := l.payloadExt(table.MatchKind, "comment", 0, commentPayload(c))
		if err != nil {
			return nil, err
		}
		l.matches = append(l.matches, m)
	}
	if len(l.matches) > 0 {
		l.rule.Matches = slices.Clone(l.matches)
	}
	return l.rule, nil
}

// numRegs covers NFT_REG_VERDICT .. NFT_REG32_15.
const numRegs = 24

// reg returns the state of register n, nil for a register that does not
// exist.
func (l *lifter) regAt(n uint32) *regState {
	if n >= numRegs {
		return nil
	}
	l.used |= 1 << n
	return &l.regs[n]
}

func (l *lifter) setReg(n uint32, s regState) error {
	r := l.regAt(n)
	if r == nil {
		return fmt.Errorf("register %d", n)
	}
	*r = s
	return nil
}

// expr lifts one expression. Its data is decoded in place: slices kept
// in the register state alias the dump and live only while the rule is
// lifted.
func (l *lifter) expr(e rawExpr) error {
	switch e.Name {
	case exCounter:
		c, err := decCounter(e.Data)
		if err != nil {
			return err
		}
		l.rule.Counters = table.Counters{Packets: c.Packets, Bytes: c.Bytes}
	case exPayload:
		p, err := decPayload(e.Data)
		if err != nil {
			return err
		}
		if p.OperationType != expr.PayloadLoad {
			return errors.New("writes to the packet, which iptables cannot express")
		}
		return l.setReg(p.DestRegister, regState{kind: regPayload, base: p.Base, offset: p.Offset, length: p.Len})
	case exMeta:
		m, err := decMeta(e.Data)
		if err != nil {
			return err
		}
		if m.SourceRegister {
			return l.metaSet(m)
		}
		return l.setReg(m.Register, regState{kind: regMeta, metaKey: m.Key})
	case exBitwise:
		b, op, err := decBitwise(e.Data)
		if err != nil {
			return err
		}
		src := l.regAt(b.SourceRegister)
		if src == nil || src.kind == regNone {
			return errors.New("on a register nothing was loaded into")
		}
		if op != 0 || len(b.Mask) != int(b.Len) || !allZero(b.Xor) {
			return errors.New("not a plain mask, which iptables cannot express")
		}
		dst := *src
		dst.mask = b.Mask
		return l.setReg(b.DestRegister, dst)
	case exCmp:
		c, err := decCmp(e.Data)
		if err != nil {
			return err
		}
		return l.cmp(c)
	case exRange:
		rg, err := decRange(e.Data)
		if err != nil {
			return err
		}
		return l.rangeExpr(rg)
	case exImmediate:
		im, v, isVerdict, err := decImmediate(e.Data)
		if err != nil {
			return err
		}
		if isVerdict {
			if im.Register != unix.NFT_REG_VERDICT {
				return errors.New("a verdict in a data register")
			}
			return l.verdict(v)
		}
		return l.setReg(im.Register, regState{kind: regImmediate, imm: im.Data})
	case exMatch, exTarget:
		name, rev, info, err := decodeXT(e.Name, e.Data)
		if err != nil {
			return err
		}
		kind := table.MatchKind
		if e.Name == "target" {
			kind = table.TargetKind
		}
		if rev > 255 {
			return fmt.Errorf("%s %s revision %d", kind, name, rev)
		}
		x, err := l.payloadExt(kind, name, uint8(rev), info)
		if err != nil {
			return err
		}
		if kind == table.MatchKind {
			l.matches = append(l.matches, x)
			return nil
		}
		return l.setTarget(x)
	case exLimit:
		lim, err := decodeLimit(e.Data)
		if err != nil {
			return err
		}
		return l.limit(lim)
	case exLog:
		lg, err := decodeLog(e.Data)
		if err != nil {
			return err
		}
		return l.nflog(lg)
	default:
		return errors.New("iptables cannot express it")
	}
	return nil
}

func (l *lifter) setTarget(t table.Target) error {
	if l.rule.Target != nil {
		return fmt.Errorf("a second target (%s after %s)", t.Name(), l.rule.Target.Name())
	}
	l.rule.Target = t
	return nil
}

func (l *lifter) verdict(v expr.Verdict) error {
	var t table.Target
	switch v.Kind {
	case expr.VerdictAccept:
		t = table.StandardTarget(table.Accept)
	case expr.VerdictDrop:
		t = table.StandardTarget(table.Drop)
	case expr.VerdictReturn:
		t = table.StandardTarget(table.Return)
	case expr.VerdictJump, expr.VerdictGoto:
		if v.Chain == "" {
			return errors.New("a jump without a chain")
		}
		t = &table.Jump{Chain: v.Chain, Goto: v.Kind == expr.VerdictGoto}
	default:
		return fmt.Errorf("verdict %d, which iptables cannot express", v.Kind)
	}
	return l.setTarget(t)
}

// metaSet is the TRACE target: an immediate 1 in a 32-bit register, then
// "meta nftrace set" from it.
func (l *lifter) metaSet(m expr.Meta) error {
	src := l.regAt(m.Register)
	if m.Key != expr.MetaKeyNFTRACE || src == nil || src.kind != regImmediate || len(src.imm) == 0 || src.imm[0] == 0 {
		return fmt.Errorf("sets meta key %d, which iptables cannot express", m.Key)
	}
	t, err := l.payloadExt(table.TargetKind, "TRACE", 0, nil)
	if err != nil {
		return err
	}
	return l.setTarget(t)
}

func (l *lifter) src(reg uint32) (*regState, error) {
	s := l.regAt(reg)
	if s == nil || s.kind == regNone {
		return nil, errors.New("compares a register nothing was loaded into")
	}
	return s, nil
}

func (l *lifter) cmp(c expr.Cmp) error {
	s, err := l.src(c.Register)
	if err != nil {
		return err
	}
	switch s.kind {
	case regMeta:
		return l.cmpMeta(s, c)
	case regPayload:
		switch s.base {
		case expr.PayloadBaseNetworkHeader:
			return l.cmpNetwork(s, c)
		case expr.PayloadBaseTransportHeader:
			return l.cmpTransport(s, c)
		}
		return fmt.Errorf("compares payload base %d, which iptables cannot express", s.base)
	}
	return errors.New("compares an immediate value")
}

func eqOrNeq(op expr.CmpOp) (inv bool, err error) {
	switch op {
	case expr.CmpOpEq:
		return false, nil
	case expr.CmpOpNeq:
		return true, nil
	}
	return false, fmt.Errorf("comparison %d where iptables only writes == and !=", op)
}

func (l *lifter) cmpMeta(s *regState, c expr.Cmp) error {
	ip := &l.rule.IP
	switch s.metaKey {
	case expr.MetaKeyL4PROTO:
		inv, err := eqOrNeq(c.Op)
		if err != nil {
			return err
		}
		if len(c.Data) != 1 || s.mask != nil {
			return errors.New("a protocol compare iptables does not write")
		}
		ip.Proto, ip.InvProto = c.Data[0], inv
		ip.ProtoFlag = l.fam == table.IPv6
	case expr.MetaKeyIIFNAME, expr.MetaKeyOIFNAME:
		inv, err := eqOrNeq(c.Op)
		if err != nil {
			return err
		}
		if s.mask != nil {
			return errors.New("a masked interface name")
		}
		name, err := ifaceName(c.Data)
		if err != nil {
			return err
		}
		// iptables-nft writes "! -i +" as "== INVAL/D", a name no
		// interface can have.
		if !inv && name == "INVAL/D" {
			name, inv = "+", true
		}
		if s.metaKey == expr.MetaKeyIIFNAME {
			ip.In, ip.InvIn = name, inv
		} else {
			ip.Out, ip.InvOut = name, inv
		}
	case expr.MetaKeyMARK:
		inv, err := eqOrNeq(c.Op)
		if err != nil {
			return err
		}
		if len(c.Data) != 4 || (s.mask != nil && len(s.mask) != 4) {
			return errors.New("a mark compare of the wrong size")
		}
		mask := uint32(0xffffffff)
		if s.mask != nil {
			mask = binary.NativeEndian.Uint32(s.mask)
		}
		// struct xt_mark_mtinfo1: mark@0 mask@4 invert u8@8.
		b := make([]byte, 16)
		binary.NativeEndian.PutUint32(b[0:], binary.NativeEndian.Uint32(c.Data))
		binary.NativeEndian.PutUint32(b[4:], mask)
		if inv {
			b[8] = 1
		}
		m, err := l.payloadExt(table.MatchKind, "mark", 1, b)
		if err != nil {
			return err
		}
		l.matches = append(l.matches, m)
	default:
		return fmt.Errorf("compares meta key %d, which iptables-nft 1.8.9 does not write", s.metaKey)
	}
	return nil
}

// ifaceName reads an interface compare: the name with its NUL for an
// exact name, the bare prefix for a wildcard ("eth" is "eth+").
func ifaceName(b []byte) (string, error) {
	if len(b) == 0 || len(b) > 16 {
		return "", fmt.Errorf("an interface name of %d bytes", len(b))
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		if i != len(b)-1 || i == 0 {
			return "", errors.New("an interface name with an embedded NUL")
		}
		return string(b[:i]), nil
	}
	if len(b) >= 15 {
		return "", errors.New("an interface prefix too long for iptables")
	}
	return string(b) + "+", nil
}

func (l *lifter) cmpNetwork(s *regState, c expr.Cmp) error {
	ip := &l.rule.IP
	inv, err := eqOrNeq(c.Op)
	if err != nil {
		return err
	}
	alen := 4
	srcOff, dstOff := uint32(12), uint32(16)
	if l.fam == table.IPv6 {
		alen, srcOff, dstOff = 16, 8, 24
	}
	switch {
	case s.offset == srcOff || s.offset == dstOff:
		a, err := liftAddr(s, c.Data, alen)
		if err != nil {
			return err
		}
		if s.offset == srcOff {
			ip.Src, ip.InvSrc = a, inv
		} else {
			ip.Dst, ip.InvDst = a, inv
		}
	case l.fam == table.IPv4 && s.offset == 9:
		if s.length != 1 || len(c.Data) != 1 || s.mask != nil {
			return errors.New("a protocol compare iptables does not write")
		}
		ip.Proto, ip.InvProto = c.Data[0], inv
	case l.fam == table.IPv4 && s.offset == 6:
		// -f: the fragment offset bits are non-zero; "! -f" is the
		// compare with "==".
		if s.length != 2 || !bytes.Equal(s.mask, []byte{0x1f, 0xff}) || !bytes.Equal(c.Data, []byte{0, 0}) {
			return errors.New("a fragment compare iptables does not write")
		}
		ip.Frag, ip.InvFrag = true, !inv
	default:
		return fmt.Errorf("compares network header offset %d, which iptables-nft 1.8.9 does not write", s.offset)
	}
	return nil
}

// liftAddr rebuilds an address and mask from a payload load of the
// prefix bytes (no bitwise) or of the whole address with a bitwise mask.
func liftAddr(s *regState, data []byte, alen int) (table.Addr, error) {
	n := int(s.length)
	if n == 0 || n > alen || len(data) != n || (s.mask != nil && len(s.mask) != n) {
		return table.Addr{}, errors.New("an address compare iptables does not write")
	}
	addr := make([]byte, alen)
	mask := make([]byte, alen)
	copy(addr, data)
	if s.mask != nil {
		copy(mask, s.mask)
	} else {
		for i := range n {
			mask[i] = 0xff
		}
	}
	a, _ := netip.AddrFromSlice(addr)
	m, _ := netip.AddrFromSlice(mask)
	return table.Addr{IP: a, Mask: m}, nil
}

func (l *lifter) cmpTransport(s *regState, c expr.Cmp) error {
	x, err := l.transportMatch()
	if err != nil {
		return err
	}
	op := c.Op
	switch {
	case s.offset == 0 && s.length == 2 && len(c.Data) == 2 && s.mask == nil:
		return portSingle(&x.spts, &x.invflags, op, binary.BigEndian.Uint16(c.Data), invSrcPt)
	case s.offset == 0 && s.length == 4 && len(c.Data) == 4 && s.mask == nil:
		v := binary.BigEndian.Uint32(c.Data)
		if err := portSingle(&x.spts, &x.invflags, op, uint16(v>>16), invSrcPt); err != nil {
			return err
		}
		return portSingle(&x.dpts, &x.invflags, op, uint16(v), invDstPt)
	case s.offset == 2 && s.length == 2 && len(c.Data) == 2 && s.mask == nil:
		return portSingle(&x.dpts, &x.invflags, op, binary.BigEndian.Uint16(c.Data), invDstPt)
	case s.offset == 13 && s.length == 1 && len(c.Data) == 1 && x == l.tcp:
		inv, err := eqOrNeq(op)
		if err != nil {
			return err
		}
		mask := uint8(0xff)
		if s.mask != nil {
			if len(s.mask) != 1 {
				return errors.New("a tcp flags mask of the wrong size")
			}
			mask = s.mask[0]
		}
		x.flgCmp, x.flgMask = c.Data[0], mask
		if inv {
			x.invflags |= invFlags
		}
		return nil
	}
	return fmt.Errorf("compares transport header offset %d (%d bytes), which iptables-nft 1.8.9 does not write", s.offset, s.length)
}

// portSingle applies a single-port compare as iptables-nft reads it
// (port_match_single_to_range), including its "< p" as "..p-1".
func portSingle(ports *[2]uint16, invflags *uint8, op expr.CmpOp, port uint16, bit uint8) error {
	switch op {
	case expr.CmpOpNeq:
		*invflags |= bit
		ports[0], ports[1] = port, port
	case expr.CmpOpEq:
		ports[0], ports[1] = port, port
	case expr.CmpOpLt:
		ports[1] = max(port-1, 1)
		if port == 0 {
			ports[1] = 1
		}
	case expr.CmpOpLte:
		ports[1] = port
	case expr.CmpOpGt:
		ports[0] = port + 1
		if port == 0xffff {
			ports[0] = 0xffff
		}
	case expr.CmpOpGte:
		ports[0] = port
	default:
		return fmt.Errorf("comparison %d", op)
	}
	return nil
}

func (l *lifter) rangeExpr(rg expr.Range) error {
	s, err := l.src(rg.Register)
	if err != nil {
		return err
	}
	if s.kind != regPayload || s.base != expr.PayloadBaseTransportHeader || s.length != 2 || s.mask != nil ||
		len(rg.FromData) != 2 || len(rg.ToData) != 2 || (s.offset != 0 && s.offset != 2) {
		return errors.New("a range iptables-nft 1.8.9 does not write")
	}
	inv, err := eqOrNeq(rg.Op)
	if err != nil {
		return err
	}
	x, err := l.transportMatch()
	if err != nil {
		return err
	}
	ports, bit := &x.spts, uint8(invSrcPt)
	if s.offset == 2 {
		ports, bit = &x.dpts, invDstPt
	}
	ports[0], ports[1] = binary.BigEndian.Uint16(rg.FromData), binary.BigEndian.Uint16(rg.ToData)
	if inv {
		x.invflags |= bit
	}
	return nil
}

// transportMatch returns the rule's merged tcp or udp match, creating it
// at this position; which one is decided by the rule's -p, negated or
// not, as iptables-nft decides.
func (l *lifter) transportMatch() (*xtTCP, error) {
	switch l.rule.IP.Proto {
	case unix.IPPROTO_TCP:
		if l.tcp == nil {
			l.tcpBuf = xtTCP{spts: [2]uint16{0, 0xffff}, dpts: [2]uint16{0, 0xffff}}
			l.tcp = &l.tcpBuf
			l.tcpAt = len(l.matches)
			l.matches = append(l.matches, nil)
		}
		return l.tcp, nil
	case unix.IPPROTO_UDP:
		if l.udp == nil {
			l.udpBuf = xtTCP{spts: [2]uint16{0, 0xffff}, dpts: [2]uint16{0, 0xffff}}
			l.udp = &l.udpBuf
			l.udpAt = len(l.matches)
			l.matches = append(l.matches, nil)
		}
		return l.udp, nil
	}
	return nil, fmt.Errorf("a transport header compare for protocol %d, which iptables-nft 1.8.9 does not write", l.rule.IP.Proto)
}

// marshalTCP builds struct xt_tcp in buf: spts[2]@0 dpts[2]@4 (host
// order) option@8 flg_mask@9 flg_cmp@10 invflags@11, padded to 16.
func (x *xtTCP) marshalTCP(buf *[16]byte) []byte {
	b := buf[:]
	clear(b)
	x.putPorts(b)
	b[8], b[9], b[10], b[11] = x.option, x.flgMask, x.flgCmp, x.invflags
	return b
}

// marshalUDP builds struct xt_udp in buf: spts[2]@0 dpts[2]@4
// invflags@8, padded to 16.
func (x *xtTCP) marshalUDP(buf *[16]byte) []byte {
	b := buf[:]
	clear(b)
	x.putPorts(b)
	b[8] = x.invflags
	return b
}

func (x *xtTCP) putPorts(b []byte) {
	ne := binary.NativeEndian
	ne.PutUint16(b[0:], x.spts[0])
	ne.PutUint16(b[2:], x.spts[1])
	ne.PutUint16(b[4:], x.dpts[0])
	ne.PutUint16(b[6:], x.dpts[1])
}

// limit is the native limit: iptables-nft wrote rate per unit computed
// from the xt avg, and reads avg = XT_LIMIT_SCALE * unit / rate back.
func (l *lifter) limit(lim *expr.Limit) error {
	if lim.Type != expr.LimitTypePkts || lim.Over {
		return errors.New("not a packet rate limit")
	}
	if lim.Rate == 0 {
		return errors.New("a rate of zero")
	}
	// struct xt_rateinfo: avg u32@0 burst u32@4, the rest (40 bytes in
	// all) kernel-private.
	b := make([]byte, 40)
	binary.NativeEndian.PutUint32(b[0:], uint32(limitScale*uint64(lim.Unit)/lim.Rate))
	binary.NativeEndian.PutUint32(b[4:], lim.Burst)
	m, err := l.payloadExt(table.MatchKind, "limit", 0, b)
	if err != nil {
		return err
	}
	l.matches = append(l.matches, m)
	return nil
}

// nflog is the native log with a group: the NFLOG target.
func (l *lifter) nflog(lg *expr.Log) error {
	has := func(attr int) bool { return lg.Key&(1<<attr) != 0 }
	if !has(unix.NFTA_LOG_GROUP) {
		return errors.New("a log without a group (nft's syslog logging)")
	}
	if has(unix.NFTA_LOG_LEVEL) || has(unix.NFTA_LOG_FLAGS) {
		return errors.New("a log with a level or flags, which NFLOG does not have")
	}
	if len(lg.Data) > nflogPrefixMax {
		return fmt.Errorf("a log prefix of %d bytes (fw keeps at most %d)", len(lg.Data), nflogPrefixMax)
	}
	// struct xt_nflog_info: len u32@0 group u16@4 threshold u16@6 flags
	// u16@8 prefix[64]@12, padded to 80.
	b := make([]byte, 80)
	ne := binary.NativeEndian
	if has(unix.NFTA_LOG_SNAPLEN) {
		ne.PutUint32(b[0:], lg.Snaplen)
		ne.PutUint16(b[8:], nflogCopyLen)
	}
	ne.PutUint16(b[4:], lg.Group)
	ne.PutUint16(b[6:], lg.QThreshold)
	copy(b[12:], lg.Data)
	t, err := l.payloadExt(table.TargetKind, "NFLOG", 0, b)
	if err != nil {
		return err
	}
	return l.setTarget(t)
}

// payloadExt decodes an xt payload through the registry, as the legacy
// decoder does.
func (l *lifter) payloadExt(kind table.ExtKind, name string, rev uint8, data []byte) (table.Ext, error) {
	return decodeExt(l.fam, l.reg, kind, name, rev, data)
}

func decodeExt(f table.Family, reg *table.Registry, kind table.ExtKind, name string, rev uint8, data []byte) (table.Ext, error) {
	info := reg.ByKernel(kind, name, rev, f)
	if info == nil {
		if len(reg.Revisions(kind, name, f)) > 0 {
			return nil, fmt.Errorf("%s %s revision %d is not supported by fw", kind, name, rev)
		}
		return nil, fmt.Errorf("unknown %s %s (revision %d): fw cannot decode it and will not drop it", kind, name, rev)
	}
	v := info.New(f)
	p, ok := v.(table.Payload)
	if !ok {
		return nil, fmt.Errorf("%s %s has no kernel decoding in fw yet", kind, name)
	}
	if len(data) < info.Size {
		return nil, fmt.Errorf("%s %s: payload of %d bytes, want %d", kind, name, len(data), info.Size)
	}
	if err := p.UnmarshalPayload(f, data); err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, name, err)
	}
	return v, nil
}

// decodeXT reads a compat match or target expression: name, revision
// and the xt payload, which aliases data (Payload.UnmarshalPayload keeps
// nothing of what it is given).
func decodeXT(kind string, data []byte) (name string, rev uint32, info []byte, err error) {
	a := newAttrs(data)
	// NFTA_MATCH_* and NFTA_TARGET_* share their numbers.
	for a.next() {
		switch a.typ {
		case unix.NFTA_MATCH_NAME:
			name = a.str()
		case unix.NFTA_MATCH_REV:
			rev = a.u32()
		case unix.NFTA_MATCH_INFO:
			info = a.data
		}
	}
	if a.err != nil {
		return "", 0, nil, a.err
	}
	if name == "" {
		return "", 0, nil, fmt.Errorf("compat %s without a name", kind)
	}
	return name, rev, info, nil
}

// The decoders below read expression attributes into google/nftables'
// expression types (used here as plain values) without allocating:
// byte fields alias the dump.

func decCounter(b []byte) (c expr.Counter, err error) {
	a := newAttrs(b)
	for a.next() {
		switch a.typ {
		case unix.NFTA_COUNTER_BYTES:
			c.Bytes = a.u64()
		case unix.NFTA_COUNTER_PACKETS:
			c.Packets = a.u64()
		}
	}
	return c, a.err
}

func decPayload(b []byte) (p expr.Payload, err error) {
	a := newAttrs(b)
	for a.next() {
		switch a.typ {
		case unix.NFTA_PAYLOAD_DREG:
			p.DestRegister = a.u32()
		case unix.NFTA_PAYLOAD_SREG:
			p.SourceRegister = a.u32()
			p.OperationType = expr.PayloadWrite
		case unix.NFTA_PAYLOAD_BASE:
			p.Base = expr.PayloadBase(a.u32())
		case unix.NFTA_PAYLOAD_OFFSET:
			p.Offset = a.u32()
		case unix.NFTA_PAYLOAD_LEN:
			p.Len = a.u32()
		}
	}
	return p, a.err
}

func decMeta(b []byte) (m expr.Meta, err error) {
	a := newAttrs(b)
	for a.next() {
		switch a.typ {
		case unix.NFTA_META_KEY:
			m.Key = expr.MetaKey(a.u32())
		case unix.NFTA_META_DREG:
			m.Register = a.u32()
		case unix.NFTA_META_SREG:
			m.Register = a.u32()
			m.SourceRegister = true
		}
	}
	return m, a.err
}

func decBitwise(b []byte) (bw expr.Bitwise, op uint32, err error) {
	a := newAttrs(b)
	for a.next() {
		switch a.typ {
		case unix.NFTA_BITWISE_SREG:
			bw.SourceRegister = a.u32()
		case unix.NFTA_BITWISE_DREG:
			bw.DestRegister = a.u32()
		case unix.NFTA_BITWISE_LEN:
			bw.Len = a.u32()
		case attrBitwiseOp:
			op = a.u32()
		case unix.NFTA_BITWISE_MASK:
			bw.Mask = dataValue(a.data)
		case unix.NFTA_BITWISE_XOR:
			bw.Xor = dataValue(a.data)
		default:
			// Shifts and other operations iptables does not write.
			op = ^uint32(0)
		}
	}
	return bw, op, a.err
}

func decCmp(b []byte) (c expr.Cmp, err error) {
	a := newAttrs(b)
	for a.next() {
		switch a.typ {
		case unix.NFTA_CMP_SREG:
			c.Register = a.u32()
		case unix.NFTA_CMP_OP:
			c.Op = expr.CmpOp(a.u32())
		case unix.NFTA_CMP_DATA:
			c.Data = dataValue(a.data)
		}
	}
	return c, a.err
}

func decRange(b []byte) (r expr.Range, err error) {
	a := newAttrs(b)
	for a.next() {
		switch a.typ {
		case unix.NFTA_RANGE_SREG:
			r.Register = a.u32()
		case unix.NFTA_RANGE_OP:
			r.Op = expr.CmpOp(a.u32())
		case unix.NFTA_RANGE_FROM_DATA:
			r.FromData = dataValue(a.data)
		case unix.NFTA_RANGE_TO_DATA:
			r.ToData = dataValue(a.data)
		}
	}
	return r, a.err
}

// decImmediate reads an immediate: a verdict (code and chain) or data.
func decImmediate(b []byte) (im expr.Immediate, v expr.Verdict, isVerdict bool, err error) {
	a := newAttrs(b)
	for a.next() {
		switch a.typ {
		case unix.NFTA_IMMEDIATE_DREG:
			im.Register = a.u32()
		case unix.NFTA_IMMEDIATE_DATA:
			d := a.nested()
			for d.next() {
				switch d.typ {
				case unix.NFTA_DATA_VALUE:
					im.Data = d.data
				case unix.NFTA_DATA_VERDICT:
					isVerdict = true
					vv := d.nested()
					for vv.next() {
						switch vv.typ {
						case unix.NFTA_VERDICT_CODE:
							v.Kind = expr.VerdictKind(int32(vv.u32()))
						case unix.NFTA_VERDICT_CHAIN:
							v.Chain = vv.str()
						}
					}
					if vv.err != nil {
						return im, v, false, vv.err
					}
				}
			}
			if d.err != nil {
				return im, v, false, d.err
			}
		}
	}
	return im, v, isVerdict, a.err
}

func decodeLimit(b []byte) (*expr.Limit, error) {
	var lim expr.Limit
	a := newAttrs(b)
	for a.next() {
		switch a.typ {
		case unix.NFTA_LIMIT_RATE:
			lim.Rate = a.u64()
		case unix.NFTA_LIMIT_UNIT:
			lim.Unit = expr.LimitTime(a.u64())
		case unix.NFTA_LIMIT_BURST:
			lim.Burst = a.u32()
		case unix.NFTA_LIMIT_TYPE:
			lim.Type = expr.LimitType(a.u32())
		case unix.NFTA_LIMIT_FLAGS:
			lim.Over = a.u32()&unix.NFT_LIMIT_F_INV != 0
		}
	}
	return &lim, a.err
}

// decodeLog reads a log expression; Key has bit 1<<attr set for every
// attribute present, as google/nftables reports it.
func decodeLog(b []byte) (*expr.Log, error) {
	var lg expr.Log
	a := newAttrs(b)
	for a.next() {
		if a.typ < 32 {
			lg.Key |= 1 << a.typ
		}
		switch a.typ {
		case unix.NFTA_LOG_GROUP:
			lg.Group = a.u16()
		case unix.NFTA_LOG_PREFIX:
			lg.Data = cstr(a.data)
		case unix.NFTA_LOG_SNAPLEN:
			lg.Snaplen = a.u32()
		case unix.NFTA_LOG_QTHRESHOLD:
			lg.QThreshold = a.u16()
		case unix.NFTA_LOG_LEVEL:
			lg.Level = expr.LogLevel(a.u32())
		case unix.NFTA_LOG_FLAGS:
			lg.Flags = expr.LogFlags(a.u32())
		}
	}
	return &lg, a.err
}

// userdataComment finds a comment in rule userdata (TLV list: type u8,
// length u8, value; type 0 is a NUL-terminated comment). iptables-nft
// 1.8.9 never writes it but reads it, and so does fw; a malformed list
// means no comment, as for libnftnl.
func userdataComment(b []byte) (string, bool) {
	var comment string
	found := false
	for len(b) > 0 {
		if len(b) < 2 || int(b[1])+2 > len(b) {
			return "", false
		}
		typ, val := b[0], b[2:2+int(b[1])]
		if typ == 0 {
			if len(val) == 0 || val[len(val)-1] != 0 {
				return "", false
			}
			comment, found = string(val[:bytes.IndexByte(val, 0)]), true
		}
		b = b[2+int(b[1]):]
	}
	return comment, found
}

// commentPayload is struct xt_comment_info: 256 bytes of NUL-padded text.
func commentPayload(s string) []byte {
	b := make([]byte, 256)
	copy(b[:255], s)
	return b
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

const (
	limitScale     = 10000 // XT_LIMIT_SCALE
	nflogPrefixMax = 63
	nflogCopyLen   = 1 // XT_NFLOG_F_COPY_LEN
)
