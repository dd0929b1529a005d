package nft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/table"
)

// Lowering: a model rule into the expressions iptables-nft 1.8.9 writes
// for it (nft_ipv4_add / nft_ipv6_add and add_match / add_action), in its
// order: -i, -o, -p, -s, -d, -f; the matches in rule order; a counter; the
// verdict or target. tcp, udp, mark, limit, NFLOG and TRACE are written
// natively, from fields read out of their xt payload bytes; everything
// else is a compat match or target carrying the payload itself.

// loweredRule is a rule ready for NEWRULE.
type loweredRule struct {
	exprs       []expr.Any
	compatProto uint32
	compatFlags uint32
}

const (
	reg1 = 1 // NFT_REG_1, the only data register iptables-nft uses
)

func lowerRule(f table.Family, r *table.Rule) (*loweredRule, error) {
	lr := &loweredRule{compatProto: uint32(r.IP.Proto)}
	if r.IP.InvProto {
		lr.compatFlags = nftRuleCompatInv
	}
	if err := lr.ipHeader(f, &r.IP); err != nil {
		return nil, err
	}
	for _, m := range r.Matches {
		if err := lr.match(f, r, m); err != nil {
			return nil, err
		}
	}
	lr.add(&expr.Counter{Packets: r.Counters.Packets, Bytes: r.Counters.Bytes})
	if err := lr.target(f, r.Target); err != nil {
		return nil, err
	}
	return lr, nil
}

func (lr *loweredRule) add(e ...expr.Any) { lr.exprs = append(lr.exprs, e...) }

func cmpOp(inv bool) expr.CmpOp {
	if inv {
		return expr.CmpOpNeq
	}
	return expr.CmpOpEq
}

func (lr *loweredRule) ipHeader(f table.Family, ip *table.IPHeader) error {
	if ip.In != "" {
		lr.iface(expr.MetaKeyIIFNAME, ip.In, ip.InvIn)
	}
	if ip.Out != "" {
		lr.iface(expr.MetaKeyOIFNAME, ip.Out, ip.InvOut)
	}
	if ip.Proto != 0 {
		lr.add(&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg1},
			&expr.Cmp{Op: cmpOp(ip.InvProto), Register: reg1, Data: []byte{ip.Proto}})
	}
	srcOff, dstOff, alen := uint32(12), uint32(16), 4
	if f == table.IPv6 {
		srcOff, dstOff, alen = 8, 24, 16
	}
	if err := lr.addr(srcOff, alen, ip.Src, ip.InvSrc, "-s"); err != nil {
		return err
	}
	if err := lr.addr(dstOff, alen, ip.Dst, ip.InvDst, "-d"); err != nil {
		return err
	}
	if ip.Frag && f == table.IPv4 {
		// The 13 fragment offset bits are non-zero in a fragment.
		lr.add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseNetworkHeader, Offset: 6, Len: 2},
			&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 2, Mask: []byte{0x1f, 0xff}, Xor: []byte{0, 0}},
			&expr.Cmp{Op: cmpOp(!ip.InvFrag), Register: reg1, Data: []byte{0, 0}})
	}
	return nil
}

// iface compares an interface name: with its NUL for an exact name,
// without for a "+" wildcard, nothing for "+" alone, and for "! -i +" a
// name no interface can have.
func (lr *loweredRule) iface(key expr.MetaKey, name string, inv bool) {
	lr.add(&expr.Meta{Key: key, Register: reg1})
	switch {
	case name == "+":
		if inv {
			lr.add(&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte("INVAL/D\x00")})
		}
	case name[len(name)-1] == '+':
		lr.add(&expr.Cmp{Op: cmpOp(inv), Register: reg1, Data: []byte(name[:len(name)-1])})
	default:
		lr.add(&expr.Cmp{Op: cmpOp(inv), Register: reg1, Data: append([]byte(name), 0)})
	}
}

// addr loads only the prefix bytes of a byte-aligned prefix, or the whole
// address with a bitwise mask otherwise (add_addr).
func (lr *loweredRule) addr(off uint32, alen int, a table.Addr, inv bool, flag string) error {
	if a.IsZero() {
		return nil
	}
	ipb, mask := addrBytes(a.IP, alen), addrBytes(a.Mask, alen)
	if allZero(ipb) && allZero(mask) && !inv {
		return nil
	}
	i := 0
	for i < alen && mask[i] == 0xff {
		i++
	}
	bitwise := i < alen && !allZero(mask[i:])
	n := alen
	if !bitwise {
		n = i
	}
	if n == 0 {
		// iptables-nft emits a zero-length load here, which the kernel
		// refuses: "! -s 0.0.0.0/0" cannot be restored.
		return fmt.Errorf("'! %s %s' matches nothing and cannot be written to nf_tables (iptables-nft fails the same way)", flag, a)
	}
	data := make([]byte, n)
	for k := range n {
		data[k] = ipb[k] & mask[k]
	}
	lr.add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: uint32(n)})
	if bitwise {
		lr.add(&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: uint32(n), Mask: mask, Xor: make([]byte, n)})
	}
	lr.add(&expr.Cmp{Op: cmpOp(inv), Register: reg1, Data: data})
	return nil
}

// addrBytes is a as alen bytes (an IPv4-mapped address in an IPv4 rule
// as its last four).
func addrBytes(a netip.Addr, alen int) []byte {
	b := a.AsSlice()
	if len(b) == 16 && alen == 4 {
		b = b[12:]
	}
	out := make([]byte, alen)
	copy(out, b)
	return out
}

// payload returns an extension's xt payload, which the native lowerings
// read their fields from and the compat expressions carry.
func payload(f table.Family, e table.Ext) ([]byte, error) {
	info := e.Info()
	p, ok := e.(table.Payload)
	if !ok {
		return nil, fmt.Errorf("%s %s has no kernel encoding in fw yet", info.Kind, e.Name())
	}
	b, err := p.MarshalPayload(f)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", info.Kind, e.Name(), err)
	}
	return b, nil
}

func (lr *loweredRule) match(f table.Family, r *table.Rule, m table.Match) error {
	info := m.Info()
	b, err := payload(f, m)
	if err != nil {
		return err
	}
	switch {
	case info.KernelName() == "tcp" && info.Revision == 0 && len(b) >= 12:
		return lr.tcpudp(r, m, b, unix.IPPROTO_TCP)
	case info.KernelName() == "udp" && info.Revision == 0 && len(b) >= 10:
		return lr.tcpudp(r, m, b, unix.IPPROTO_UDP)
	case info.KernelName() == "mark" && info.Revision == 1 && len(b) >= 12:
		// struct xt_mark_mtinfo1: mark@0 mask@4 invert@8 (host order).
		lr.add(&expr.Meta{Key: expr.MetaKeyMARK, Register: reg1})
		if mask := binary.NativeEndian.Uint32(b[4:]); mask != 0xffffffff {
			lr.add(&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4, Mask: b[4:8], Xor: make([]byte, 4)})
		}
		lr.add(&expr.Cmp{Op: cmpOp(b[8] != 0), Register: reg1, Data: b[0:4]})
		return nil
	case info.KernelName() == "limit" && info.Revision == 0 && len(b) >= 8:
		return lr.limit(b)
	}
	lr.compat(table.MatchKind, info, b)
	return nil
}

func (lr *loweredRule) compat(kind table.ExtKind, info *table.ExtInfo, b []byte) {
	if kind == table.MatchKind {
		lr.add(&expr.Match{Name: info.KernelName(), Rev: uint32(info.Revision), Info: ptrUnknown(b)})
	} else {
		lr.add(&expr.Target{Name: info.KernelName(), Rev: uint32(info.Revision), Info: ptrUnknown(b)})
	}
}

func ptrUnknown(b []byte) *xt.Unknown {
	u := xt.Unknown(b)
	return &u
}

// tcpudp lowers struct xt_tcp / xt_udp: a tcp match with an option, an
// inverted option, or nothing set at all stays compat (as does an empty
// udp match); otherwise tcp flags first, then the ports.
func (lr *loweredRule) tcpudp(r *table.Rule, m table.Match, b []byte, proto uint8) error {
	ne := binary.NativeEndian
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
		lr.compat(table.MatchKind, m.Info(), b)
		return nil
	}
	if r.IP.Proto != proto {
		return fmt.Errorf("a native %s match needs '-p %s' in nf_tables", m.Name(), m.Name())
	}
	if flgMask != 0 {
		lr.add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: 13, Len: 1},
			&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 1, Mask: []byte{flgMask}, Xor: []byte{0}},
			&expr.Cmp{Op: cmpOp(inv&invFlags != 0), Register: reg1, Data: []byte{flgCmp}})
	}
	invS, invD := inv&invSrcPt != 0, inv&invDstPt != 0
	if spts[0] != 0 && spts[0] == spts[1] && dpts[0] != 0 && dpts[0] == dpts[1] && invS == invD {
		data := make([]byte, 4)
		binary.BigEndian.PutUint16(data[0:], spts[0])
		binary.BigEndian.PutUint16(data[2:], dpts[0])
		lr.add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 4},
			&expr.Cmp{Op: cmpOp(invS), Register: reg1, Data: data})
		return nil
	}
	if spts[0] != 0 || spts[1] < 0xffff {
		lr.add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 2})
		lr.portRange(spts, invS)
	}
	if dpts[0] != 0 || dpts[1] < 0xffff {
		lr.add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2})
		lr.portRange(dpts, invD)
	}
	return nil
}

// portRange compares a loaded port: == for one port, <= (or > when
// negated) for 0..hi, a range otherwise (expr_gen_range_cmp16).
func (lr *loweredRule) portRange(p [2]uint16, inv bool) {
	be := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	switch {
	case p[0] == p[1]:
		lr.add(&expr.Cmp{Op: cmpOp(inv), Register: reg1, Data: be(p[0])})
	case p[0] == 0 && p[1] < 0xffff:
		op := expr.CmpOpLte
		if inv {
			op = expr.CmpOpGt
		}
		lr.add(&expr.Cmp{Op: op, Register: reg1, Data: be(p[1])})
	default:
		lr.add(&expr.Range{Op: cmpOp(inv), Register: reg1, FromData: be(p[0]), ToData: be(p[1])})
	}
}

// limit turns struct xt_rateinfo's avg (1/10000 s between packets) into
// a rate per unit with iptables-nft's walk over the units.
func (lr *loweredRule) limit(b []byte) error {
	avg := binary.NativeEndian.Uint32(b[0:])
	burst := binary.NativeEndian.Uint32(b[4:])
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
	lr.add(&expr.Limit{
		Type:  expr.LimitTypePkts,
		Rate:  uint64(mult[i-1] / avg),
		Unit:  expr.LimitTime(mult[i-1] / limitScale),
		Burst: burst,
	})
	return nil
}

func (lr *loweredRule) target(f table.Family, t table.Target) error {
	switch t := t.(type) {
	case nil:
		return nil
	case *table.Standard:
		switch t.Verdict {
		case table.Accept:
			lr.add(&expr.Verdict{Kind: expr.VerdictAccept})
		case table.Drop:
			lr.add(&expr.Verdict{Kind: expr.VerdictDrop})
		case table.Return:
			lr.add(&expr.Verdict{Kind: expr.VerdictReturn})
		default:
			return fmt.Errorf("-j %s cannot be written to nf_tables (iptables-nft cannot either)", t.Verdict)
		}
		return nil
	case *table.Jump:
		kind := expr.VerdictJump
		if t.Goto {
			kind = expr.VerdictGoto
		}
		lr.add(&expr.Verdict{Kind: kind, Chain: t.Chain})
		return nil
	case table.Ext:
		info := t.Info()
		b, err := payload(f, t)
		if err != nil {
			return err
		}
		switch {
		case info.KernelName() == "NFLOG" && info.Revision == 0 && len(b) >= 76:
			lr.nflog(b)
		case info.KernelName() == "TRACE" && info.Revision == 0:
			// An immediate 1 in a 32-bit register, then "meta nftrace
			// set" from it.
			lr.add(&expr.Immediate{Register: unix.NFT_REG32_01, Data: []byte{1}},
				&expr.Meta{Key: expr.MetaKeyNFTRACE, SourceRegister: true, Register: unix.NFT_REG32_01})
		default:
			lr.compat(table.TargetKind, info, b)
		}
		return nil
	}
	return fmt.Errorf("target %s of type %T", t.Name(), t)
}

// nflog writes struct xt_nflog_info (len u32@0 group u16@4 threshold
// u16@6 flags u16@8 prefix[64]@12) as a log expression: the group always,
// the prefix when set, the snap length with --nflog-size, the threshold
// when not zero.
func (lr *loweredRule) nflog(b []byte) {
	ne := binary.NativeEndian
	lg := &expr.Log{Key: 1 << unix.NFTA_LOG_GROUP, Group: ne.Uint16(b[4:])}
	if b[12] != 0 {
		end := 12
		for end < 76 && b[end] != 0 {
			end++
		}
		lg.Key |= 1 << unix.NFTA_LOG_PREFIX
		lg.Data = append([]byte(nil), b[12:end]...)
	}
	if ne.Uint16(b[8:])&nflogCopyLen != 0 {
		lg.Key |= 1 << unix.NFTA_LOG_SNAPLEN
		lg.Snaplen = ne.Uint32(b[0:])
	}
	if th := ne.Uint16(b[6:]); th != 0 {
		lg.Key |= 1 << unix.NFTA_LOG_QTHRESHOLD
		lg.QThreshold = th
	}
	lr.add(lg)
}

// ruleAttrs encodes the attributes of a NEWRULE message. NFTA_RULE_COMPAT
// goes on every rule, as iptables-nft sends it: the kernel hands its
// protocol to compat extensions' checks (icmp, multiport, REJECT
// tcp-reset and TPROXY fail without it).
func (lr *loweredRule) ruleAttrs(f table.Family, tbl, chain string) ([]byte, error) {
	fam := nfproto(f)
	ae := newEncoder()
	ae.String(unix.NFTA_RULE_TABLE, tbl)
	ae.String(unix.NFTA_RULE_CHAIN, chain)
	ae.Nested(unix.NFTA_RULE_EXPRESSIONS, func(nae *netlinkEncoder) error {
		for _, e := range lr.exprs {
			b, err := expr.Marshal(fam, e)
			if err != nil {
				return err
			}
			nae.Do(unix.NLA_F_NESTED|unix.NFTA_LIST_ELEM, func() ([]byte, error) { return b, nil })
		}
		return nil
	})
	ae.Nested(unix.NFTA_RULE_COMPAT, func(nae *netlinkEncoder) error {
		nae.Uint32(unix.NFTA_RULE_COMPAT_PROTO, lr.compatProto)
		nae.Uint32(unix.NFTA_RULE_COMPAT_FLAGS, lr.compatFlags)
		return nil
	})
	return ae.Encode()
}
