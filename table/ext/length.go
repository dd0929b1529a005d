package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// Length is the length match; it mirrors struct xt_length_info.
type Length struct {
	Min, Max uint16
	Invert   uint8
}

var lengthInfo = &table.ExtInfo{
	Name: "length", Kind: table.MatchKind, Family: table.BothFamilies, Size: lengthSize,
	Options: opts("!length="),
	New:     func(table.Family) table.Ext { return &Length{} },
}

func (m *Length) Info() *table.ExtInfo { return lengthInfo }
func (m *Length) Name() string         { return "length" }

func (m *Length) Parse(a *table.OptArgs) error {
	if a.Key() != "length" {
		return unknownOption(a)
	}
	lo, hi, _, err := parseUintRange(a.Arg, 0xFFFF)
	if err != nil {
		return err
	}
	m.Min, m.Max = uint16(lo), uint16(hi)
	if a.Invert {
		m.Invert = 1
	}
	return nil
}

func (m *Length) Finish(c *table.FinishContext) error {
	switch {
	case !c.Seen.Has("length"):
		return table.WithHint("add --length MIN[:MAX]", "--length is required")
	case m.Min > m.Max:
		// iptables takes it, but no packet length lies in the range.
		return fmt.Errorf("--length %d:%d is a reversed range, which never matches", m.Min, m.Max)
	}
	return nil
}

func (m *Length) Print(w *table.Writer) {
	w.Opt(m.Invert != 0, "length", rangeText(uint64(m.Min), uint64(m.Max)))
}

// struct xt_length_info: min u16@0 max u16@2 invert u8@4, padding.
const lengthSize = 6

func (m *Length) layout() []field {
	return []field{{0, &m.Min}, {2, &m.Max}, {4, &m.Invert}}
}

func (m *Length) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *Length) UnmarshalPayload(_ table.Family, data []byte) error {
	return getWhole(data, lengthSize, m.layout()...)
}
