package ext

import (
	"fmt"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Policy matches the IPsec policy a packet was or will be handled by; it
// mirrors struct xt_policy_info.
type Policy struct {
	Pol   [policyMaxElem]PolicyElem
	Flags uint16
	// Len is the number of elements; while parsing it indexes the element
	// being filled, as in iptables.
	Len uint16
	fam table.Family
}

// PolicyElem mirrors struct xt_policy_elem. Match and Invert are the
// struct xt_policy_spec bit fields, as one byte each.
type PolicyElem struct {
	Saddr, Smask, Daddr, Dmask [16]byte // union xt_policy_addr
	// SPI is declared __be32 but iptables stores the host-order value.
	SPI    uint32
	Reqid  uint32
	Proto  uint8
	Mode   uint8
	Match  uint8
	Invert uint8
}

const (
	policyMaxElem = 4 // XT_POLICY_MAX_ELEM

	policyIn     = 0x1
	policyOut    = 0x2
	policyNone   = 0x4
	policyStrict = 0x8

	policyModeTransport = 0
	policyModeTunnel    = 1

	// xt_policy_spec bits.
	policySaddr = 0x01
	policyDaddr = 0x02
	policyProto = 0x04
	policyMode  = 0x08
	policySPI   = 0x10
	policyReqid = 0x20
)

var policyInfo = &table.ExtInfo{
	Name: "policy", Kind: table.MatchKind, Family: table.BothFamilies, Size: policySize,
	Options: opts("dir=", "pol=", "strict", "!*reqid=", "!*spi=", "!*tunnel-src=", "!*tunnel-dst=",
		"!*proto=", "!*mode=", "*next"),
	New: func(f table.Family) table.Ext { return &Policy{fam: f} },
}

func (m *Policy) Info() *table.ExtInfo { return policyInfo }
func (m *Policy) Name() string         { return "policy" }

func (m *Policy) Parse(a *table.OptArgs) error {
	e := &m.Pol[m.Len]
	// once refuses a second value for the current element and records
	// the option in its spec bits.
	once := func(bit uint8) error {
		if e.Match&bit != 0 {
			return table.WithHint("use --next to start another policy element", "--%s given twice in one policy element", a.Key())
		}
		e.Match |= bit
		if a.Invert {
			e.Invert |= bit
		}
		return nil
	}
	switch a.Key() {
	case "dir":
		switch a.Arg {
		case "in":
			m.Flags |= policyIn
		case "out":
			m.Flags |= policyOut
		default:
			return table.WithHint("the direction is in or out", "invalid direction %q", a.Arg)
		}
	case "pol":
		switch a.Arg {
		case "none":
			m.Flags |= policyNone
		case "ipsec":
		default:
			return table.WithHint("the policy is none or ipsec", "invalid policy %q", a.Arg)
		}
	case "strict":
		m.Flags |= policyStrict
	case "reqid", "spi":
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		if a.Key() == "reqid" {
			e.Reqid = uint32(v)
			return once(policyReqid)
		}
		e.SPI = uint32(v)
		return once(policySPI)
	case "tunnel-src", "tunnel-dst":
		h, err := parseHostMask(a.Arg, a.Family, a.Names)
		if err != nil {
			return err
		}
		addr, mask := h.Addr, h.Mask
		if a.Key() == "tunnel-src" {
			e.Saddr, e.Smask = addr, mask
			return once(policySaddr)
		}
		e.Daddr, e.Dmask = addr, mask
		return once(policyDaddr)
	case "proto":
		p, ok := table.ParseProtocol(a.Arg, a.Names)
		if !ok {
			return fmt.Errorf("unknown protocol %q", a.Arg)
		}
		if p != 50 && p != 51 && p != 108 {
			return table.WithHint("the protocol is ah, esp or ipcomp", "invalid IPsec protocol %q", a.Arg)
		}
		e.Proto = p
		return once(policyProto)
	case "mode":
		switch a.Arg {
		case "transport":
			e.Mode = policyModeTransport
		case "tunnel":
			e.Mode = policyModeTunnel
		default:
			return table.WithHint("the mode is transport or tunnel", "invalid mode %q", a.Arg)
		}
		return once(policyMode)
	case "next":
		if m.Len+1 == policyMaxElem {
			return fmt.Errorf("too many policy elements (at most %d)", policyMaxElem)
		}
		m.Len++
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *Policy) Finish(c *table.FinishContext) error {
	if m.Flags&(policyIn|policyOut) == 0 {
		return table.WithHint("add --dir in or --dir out", "--dir is required")
	}
	if c.Seen.Has("next") && !c.Seen.Has("strict") {
		return table.WithHint("several elements only make sense with --strict", "--next needs --strict")
	}
	if m.Flags&policyNone != 0 {
		if m.Flags&policyStrict != 0 {
			return fmt.Errorf("--pol none cannot be combined with --strict")
		}
		if m.Len != 0 {
			return fmt.Errorf("--pol none cannot be combined with --next")
		}
	} else {
		m.Len++
	}
	for i := 0; i < int(m.Len); i++ {
		e := &m.Pol[i]
		if m.Flags&policyStrict != 0 && e.Match == 0 {
			return table.WithHint("give at least one of --reqid, --spi, --proto, --mode, --tunnel-src, --tunnel-dst",
				"policy element %d is empty, which --strict does not allow", i+1)
		}
		// iptables checks the element's mode even when --mode was not
		// given: the default, transport, refuses tunnel addresses.
		if e.Match&(policySaddr|policyDaddr) != 0 &&
			(e.Mode == policyModeTunnel && e.Invert&policyMode != 0 ||
				e.Mode == policyModeTransport && e.Invert&policyMode == 0) {
			return table.WithHint("add --mode tunnel", "--tunnel-src and --tunnel-dst need tunnel mode (policy element %d)", i+1)
		}
	}
	return nil
}

// Check applies the kernel's rule: an inbound policy is only known on the
// way in, an outbound one only on the way out.
func (m *Policy) Check(c *table.CheckContext) error {
	inHooks := table.PreRouting.Mask() | table.Input.Mask()
	outHooks := table.PostRouting.Mask() | table.Output.Mask()
	if m.Flags&policyOut != 0 && c.Hooks&inHooks != 0 {
		return fmt.Errorf("policy --dir out is not valid in PREROUTING or INPUT")
	}
	if m.Flags&policyIn != 0 && c.Hooks&outHooks != 0 {
		return fmt.Errorf("policy --dir in is not valid in POSTROUTING or OUTPUT")
	}
	return nil
}

func (m *Policy) Print(w *table.Writer) {
	if m.Flags&policyIn != 0 {
		w.Opt(false, "dir", "in")
	} else {
		w.Opt(false, "dir", "out")
	}
	if m.Flags&policyNone != 0 {
		w.Opt(false, "pol", "none")
	} else {
		w.Opt(false, "pol", "ipsec")
	}
	if m.Flags&policyStrict != 0 {
		w.Flag(false, "strict")
	}
	for i := 0; i < int(m.Len) && i < policyMaxElem; i++ {
		e := &m.Pol[i]
		if e.Match&policyReqid != 0 {
			w.OptUint(e.Invert&policyReqid != 0, "reqid", uint64(e.Reqid))
		}
		if e.Match&policySPI != 0 {
			w.Opt(e.Invert&policySPI != 0, "spi", hex(uint64(e.SPI)))
		}
		if e.Match&policyProto != 0 {
			w.Opt(e.Invert&policyProto != 0, "proto", table.ProtocolName(e.Proto, w.Resolver()))
		}
		if e.Match&policyMode != 0 {
			mode := "transport"
			if e.Mode == policyModeTunnel {
				mode = "tunnel"
			}
			w.Opt(e.Invert&policyMode != 0, "mode", mode)
		}
		if e.Match&policyDaddr != 0 {
			w.Opt(e.Invert&policyDaddr != 0, "tunnel-dst", hostMaskText(e.Daddr, e.Dmask, m.fam))
		}
		if e.Match&policySaddr != 0 {
			w.Opt(e.Invert&policySaddr != 0, "tunnel-src", hostMaskText(e.Saddr, e.Smask, m.fam))
		}
		if i+1 < int(m.Len) {
			w.Flag(false, "next")
		}
	}
}

// struct xt_policy_info: pol[4]@0 (struct xt_policy_elem, 76 bytes each:
// saddr@0 smask@16 daddr@32 dmask@48 (union nf_inet_addr) spi u32@64
// reqid u32@68 proto u8@72 mode u8@73 match u8@74 invert u8@75, the last
// two struct xt_policy_spec bit fields, saddr the low bit) flags u16@304
// len u16@306.
const (
	policySize     = 308
	policyElemSize = 76
)

func (m *Policy) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	for i := range m.Pol {
		e, o := &m.Pol[i], i*policyElemSize
		w.Bytes(o, e.Saddr[:])
		w.Bytes(o+16, e.Smask[:])
		w.Bytes(o+32, e.Daddr[:])
		w.Bytes(o+48, e.Dmask[:])
		// Host order despite the __be32 declaration: iptables stores
		// the number as parsed and prints it back the same way.
		w.U32(o+64, e.SPI)
		w.U32(o+68, e.Reqid)
		w.U8(o+72, e.Proto)
		w.U8(o+73, e.Mode)
		w.U8(o+74, e.Match)
		w.U8(o+75, e.Invert)
	}
	w.U16(304, m.Flags)
	w.U16(306, m.Len)
	return nil
}

func (m *Policy) UnmarshalPayload(f table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.fam = f
	for i := range m.Pol {
		e, o := &m.Pol[i], i*policyElemSize
		r.Bytes(o, e.Saddr[:])
		r.Bytes(o+16, e.Smask[:])
		r.Bytes(o+32, e.Daddr[:])
		r.Bytes(o+48, e.Dmask[:])
		e.SPI, e.Reqid = r.U32(o+64), r.U32(o+68)
		e.Proto, e.Mode, e.Match, e.Invert = r.U8(o+72), r.U8(o+73), r.U8(o+74), r.U8(o+75)
	}
	m.Flags, m.Len = r.U16(304), r.U16(306)
	return r.Err()
}
