package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// Frag is the IPv6 fragment header match; it mirrors struct ip6t_frag.
type Frag struct {
	IDs      [2]uint32
	HdrLen   uint32
	Flags    uint8
	Invflags uint8
}

// ip6t_frag flags and invflags.
const (
	fragIDs   = 0x01
	fragLen   = 0x02
	fragRes   = 0x04
	fragFirst = 0x08
	fragMore  = 0x10
	fragLast  = 0x20

	fragInvIDs = 0x01
	fragInvLen = 0x02
)

var fragInfo = &table.ExtInfo{
	Name: "frag", Kind: table.MatchKind, Family: table.IPv6, Size: fragSize,
	Options: opts("!fragid=", "!fraglen=", "fragres", "fragfirst", "fragmore", "fraglast"),
	New:     func(table.Family) table.Ext { return &Frag{IDs: [2]uint32{0, 0xffffffff}} },
}

func (m *Frag) Info() *table.ExtInfo { return fragInfo }
func (m *Frag) Name() string         { return "frag" }

func (m *Frag) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "fragid":
		lo, hi, _, err := parseUintRange(a.Arg, 0xffffffff)
		if err != nil {
			return err
		}
		// The kernel compares lo <= id <= hi: a reversed range never
		// matches (or, negated, always does), which iptables 1.8.9 lets
		// through and newer versions refuse.
		if lo > hi {
			return fmt.Errorf("invalid range %q (min > max)", a.Arg)
		}
		m.IDs = [2]uint32{uint32(lo), uint32(hi)}
		m.Flags |= fragIDs
		m.Invflags |= invBit(a.Invert, fragInvIDs)
	case "fraglen":
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		m.HdrLen = uint32(v)
		m.Flags |= fragLen
		m.Invflags |= invBit(a.Invert, fragInvLen)
	case "fragres":
		m.Flags |= fragRes
	case "fragfirst":
		m.Flags |= fragFirst
	case "fragmore", "fraglast":
		if m.Flags&(fragMore|fragLast) != 0 {
			return fmt.Errorf("--fragmore and --fraglast cannot be combined")
		}
		if a.Key() == "fragmore" {
			m.Flags |= fragMore
		} else {
			m.Flags |= fragLast
		}
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *Frag) Finish(*table.FinishContext) error { return nil }

// Print follows iptables 1.8.9, which leaves out a full id range even when
// it is negated.
func (m *Frag) Print(w *table.Writer) {
	if m.IDs != [2]uint32{0, 0xffffffff} {
		w.Opt(m.Invflags&fragInvIDs != 0, "fragid", rangeText(uint64(m.IDs[0]), uint64(m.IDs[1])))
	}
	if m.Flags&fragLen != 0 {
		w.OptUint(m.Invflags&fragInvLen != 0, "fraglen", uint64(m.HdrLen))
	}
	for _, f := range []struct {
		bit  uint8
		name string
	}{{fragRes, "fragres"}, {fragFirst, "fragfirst"}, {fragMore, "fragmore"}, {fragLast, "fraglast"}} {
		if m.Flags&f.bit != 0 {
			w.Flag(false, f.name)
		}
	}
}

// struct ip6t_frag: ids[2] u32@0 hdrlen u32@8 flags u8@12 invflags u8@13.
const fragSize = 16

func (m *Frag) layout() []field {
	return []field{{0, &m.IDs}, {8, &m.HdrLen}, {12, &m.Flags}, {13, &m.Invflags}}
}

func (m *Frag) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *Frag) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
