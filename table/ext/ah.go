package ext

import (
	"github.com/fwkit/fw/table"
)

// AH is the IPv4 ah match; it mirrors struct ipt_ah.
type AH struct {
	Spis     [2]uint32
	Invflags uint8
}

// AH6 is the IPv6 ah match; it mirrors struct ip6t_ah, which also tests
// the header length and the reserved field. IPv6 finds the header among
// the extension headers, so it needs no -p ah.
type AH6 struct {
	Spis     [2]uint32
	Hdrlen   uint32
	Hdrres   uint8
	Invflags uint8
}

// ipt_ah and ip6t_ah invflags.
const (
	ahInvSPI = 0x01
	ahInvLen = 0x02
)

var ahInfo = &table.ExtInfo{
	Name: "ah", Kind: table.MatchKind, Family: table.IPv4, Size: ahSize,
	Options: opts("!ahspi="),
	New:     func(table.Family) table.Ext { return &AH{Spis: [2]uint32{0, 0xffffffff}} },
}

var ah6Info = &table.ExtInfo{
	Name: "ah", Kind: table.MatchKind, Family: table.IPv6, Size: ah6Size,
	Options: opts("!ahspi=", "!ahlen=", "ahres"),
	New:     func(table.Family) table.Ext { return &AH6{Spis: [2]uint32{0, 0xffffffff}} },
}

func (m *AH) Info() *table.ExtInfo { return ahInfo }
func (m *AH) Name() string         { return "ah" }

func (m *AH) Parse(a *table.OptArgs) error {
	if a.Key() != "ahspi" {
		return unknownOption(a)
	}
	r, err := parseSPIRange(a)
	if err != nil {
		return err
	}
	m.Spis = r
	m.Invflags |= invBit(a.Invert, ahInvSPI)
	return nil
}

func (m *AH) Finish(*table.FinishContext) error { return nil }

func (m *AH) Check(c *table.CheckContext) error { return needProto(c, "ah match", protoAH) }

// Print skips the full range even when negated, as 1.8.9 does.
func (m *AH) Print(w *table.Writer) {
	if m.Spis != [2]uint32{0, 0xffffffff} {
		w.Opt(m.Invflags&ahInvSPI != 0, "ahspi", spiText(m.Spis))
	}
}

func (m *AH6) Info() *table.ExtInfo { return ah6Info }
func (m *AH6) Name() string         { return "ah" }

func (m *AH6) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "ahspi":
		r, err := parseSPIRange(a)
		if err != nil {
			return err
		}
		m.Spis = r
		m.Invflags |= invBit(a.Invert, ahInvSPI)
	case "ahlen":
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		m.Hdrlen = uint32(v)
		m.Invflags |= invBit(a.Invert, ahInvLen)
	case "ahres":
		m.Hdrres = 1
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *AH6) Finish(*table.FinishContext) error { return nil }

// Print writes --ahlen when it is not 0 or is negated, and skips the full
// SPI range even when negated, as 1.8.9 does.
func (m *AH6) Print(w *table.Writer) {
	if m.Spis != [2]uint32{0, 0xffffffff} {
		w.Opt(m.Invflags&ahInvSPI != 0, "ahspi", spiText(m.Spis))
	}
	if m.Hdrlen != 0 || m.Invflags&ahInvLen != 0 {
		w.OptUint(m.Invflags&ahInvLen != 0, "ahlen", uint64(m.Hdrlen))
	}
	if m.Hdrres != 0 {
		w.Flag(false, "ahres")
	}
}

// struct ipt_ah: spis[2] u32@0 (host order) invflags@8; 12 bytes.
const ahSize = 12

func (m *AH) layout() []field {
	return []field{{0, &m.Spis}, {8, &m.Invflags}}
}

func (m *AH) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *AH) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}

// struct ip6t_ah: spis[2] u32@0 (host order) hdrlen u32@8 hdrres u8@12
// invflags@13; 16 bytes.
const ah6Size = 16

func (m *AH6) layout() []field {
	return []field{{0, &m.Spis}, {8, &m.Hdrlen}, {12, &m.Hdrres}, {13, &m.Invflags}}
}

func (m *AH6) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *AH6) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
