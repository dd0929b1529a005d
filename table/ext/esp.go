package ext

import (
	"github.com/fwkit/fw/table"
)

// ESP is the esp match; it mirrors struct xt_esp.
type ESP struct {
	Spis     [2]uint32
	Invflags uint8
}

const espInvSPI = 0x01

var espInfo = &table.ExtInfo{
	Name: "esp", Kind: table.MatchKind, Family: table.BothFamilies, Size: espSize,
	Options: opts("!espspi="),
	New:     func(table.Family) table.Ext { return &ESP{Spis: [2]uint32{0, 0xffffffff}} },
}

func (m *ESP) Info() *table.ExtInfo { return espInfo }
func (m *ESP) Name() string         { return "esp" }

func (m *ESP) Parse(a *table.OptArgs) error {
	if a.Key() != "espspi" {
		return unknownOption(a)
	}
	r, err := parseSPIRange(a)
	if err != nil {
		return err
	}
	m.Spis = r
	m.Invflags |= invBit(a.Invert, espInvSPI)
	return nil
}

func (m *ESP) Finish(*table.FinishContext) error { return nil }

func (m *ESP) Check(c *table.CheckContext) error { return needProto(c, "esp match", protoESP) }

// Print skips the full range even when negated, as 1.8.9 does.
func (m *ESP) Print(w *table.Writer) {
	if m.Spis != [2]uint32{0, 0xffffffff} {
		w.Opt(m.Invflags&espInvSPI != 0, "espspi", spiText(m.Spis))
	}
}

// struct xt_esp: spis[2] u32@0 (host order) invflags@8; 12 bytes.
const espSize = 12

func (m *ESP) layout() []field {
	return []field{{0, &m.Spis}, {8, &m.Invflags}}
}

func (m *ESP) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *ESP) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
