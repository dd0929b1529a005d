package ext

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// RT is the IPv6 routing header match; it mirrors struct ip6t_rt.
type RT struct {
	RtType   uint32
	SegsLeft [2]uint32
	HdrLen   uint32
	Flags    uint8
	Invflags uint8
	Addrs    [rtHops][16]byte
	AddrNr   uint8
}

// ip6t_rt flags and invflags.
const (
	rtHops = 16 // IP6T_RT_HOPS

	rtTyp       = 0x01
	rtSgs       = 0x02
	rtLen       = 0x04
	rtRes       = 0x08
	rtFst       = 0x10
	rtFstNotStr = 0x20

	rtInvTyp = 0x01
	rtInvSgs = 0x02
	rtInvLen = 0x04
)

var rtInfo = &table.ExtInfo{
	Name: "rt", Kind: table.MatchKind, Family: table.IPv6, Size: rtSize,
	Options: opts("!rt-type=", "!rt-segsleft=", "!rt-len=", "rt-0-res", "rt-0-addrs=", "rt-0-not-strict"),
	New:     func(table.Family) table.Ext { return &RT{SegsLeft: [2]uint32{0, 0xffffffff}} },
}

func (m *RT) Info() *table.ExtInfo { return rtInfo }
func (m *RT) Name() string         { return "rt" }

// type0 reports whether --rt-type 0 (not negated) was given; the type-0
// options depend on it, and both iptables and the kernel require it to
// come first.
func (m *RT) type0() bool {
	return m.Flags&rtTyp != 0 && m.RtType == 0 && m.Invflags&rtInvTyp == 0
}

func (m *RT) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "rt-type":
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		m.RtType = uint32(v)
		m.Flags |= rtTyp
		m.Invflags |= invBit(a.Invert, rtInvTyp)
	case "rt-segsleft":
		lo, hi, _, err := parseUintRange(a.Arg, 0xffffffff)
		if err != nil {
			return err
		}
		// A reversed range can never match; iptables 1.8.9 stores it,
		// newer versions refuse it.
		if lo > hi {
			return fmt.Errorf("invalid range %q (min > max)", a.Arg)
		}
		m.SegsLeft = [2]uint32{uint32(lo), uint32(hi)}
		m.Flags |= rtSgs
		m.Invflags |= invBit(a.Invert, rtInvSgs)
	case "rt-len":
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		m.HdrLen = uint32(v)
		m.Flags |= rtLen
		m.Invflags |= invBit(a.Invert, rtInvLen)
	case "rt-0-res":
		if !m.type0() {
			return table.WithHint("put --rt-type 0 before it", "--rt-0-res needs --rt-type 0 first")
		}
		m.Flags |= rtRes
	case "rt-0-addrs":
		if !m.type0() {
			return table.WithHint("put --rt-type 0 before it", "--rt-0-addrs needs --rt-type 0 first")
		}
		list := strings.Split(a.Arg, ",")
		if len(list) > rtHops {
			return fmt.Errorf("too many addresses in %q (at most %d)", a.Arg, rtHops)
		}
		for i, s := range list {
			// Literal addresses only: iptables uses inet_pton here.
			ip, err := netip.ParseAddr(s)
			if err != nil || !ip.Is6() || ip.Zone() != "" {
				return fmt.Errorf("invalid IPv6 address %q", s)
			}
			m.Addrs[i] = ip.As16()
		}
		m.AddrNr = uint8(len(list))
		m.Flags |= rtFst
	case "rt-0-not-strict":
		if m.Flags&rtFst == 0 {
			return table.WithHint("put --rt-0-addrs before it", "--rt-0-not-strict needs --rt-0-addrs first")
		}
		m.Flags |= rtFstNotStr
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *RT) Finish(*table.FinishContext) error { return nil }

// Print follows iptables 1.8.9, which leaves out a full segsleft range
// even when it is negated.
func (m *RT) Print(w *table.Writer) {
	if m.Flags&rtTyp != 0 {
		w.OptUint(m.Invflags&rtInvTyp != 0, "rt-type", uint64(m.RtType))
	}
	if m.SegsLeft != [2]uint32{0, 0xffffffff} {
		w.Opt(m.Invflags&rtInvSgs != 0, "rt-segsleft", rangeText(uint64(m.SegsLeft[0]), uint64(m.SegsLeft[1])))
	}
	if m.Flags&rtLen != 0 {
		w.OptUint(m.Invflags&rtInvLen != 0, "rt-len", uint64(m.HdrLen))
	}
	if m.Flags&rtRes != 0 {
		w.Flag(false, "rt-0-res")
	}
	if m.Flags&rtFst != 0 {
		w.Flag(false, "rt-0-addrs")
	}
	for i := 0; i < int(m.AddrNr) && i < rtHops; i++ {
		if i == 0 {
			w.Raw(" ")
		} else {
			w.Raw(",")
		}
		w.Raw(addr16Text(m.Addrs[i], table.IPv6))
	}
	if m.Flags&rtFstNotStr != 0 {
		w.Flag(false, "rt-0-not-strict")
	}
}

// struct ip6t_rt: rt_type u32@0 segsleft[2] u32@4 hdrlen u32@12 flags u8@16
// invflags u8@17 addrs[16] (in6_addr)@20 addrnr u8@276.
const rtSize = 280

func (m *RT) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U32(0, m.RtType)
	w.U32(4, m.SegsLeft[0])
	w.U32(8, m.SegsLeft[1])
	w.U32(12, m.HdrLen)
	w.U8(16, m.Flags)
	w.U8(17, m.Invflags)
	for i := range m.Addrs {
		w.Bytes(20+16*i, m.Addrs[i][:])
	}
	w.U8(276, m.AddrNr)
	return nil
}

func (m *RT) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.RtType = r.U32(0)
	m.SegsLeft = [2]uint32{r.U32(4), r.U32(8)}
	m.HdrLen = r.U32(12)
	m.Flags, m.Invflags = r.U8(16), r.U8(17)
	for i := range m.Addrs {
		r.Bytes(20+16*i, m.Addrs[i][:])
	}
	m.AddrNr = r.U8(276)
	return r.Err()
}
