package ext

import (
	"fmt"

	"github.com/fwkit/fw/internal/xtbin"
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

func (m *Length) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U16(0, m.Min)
	w.U16(2, m.Max)
	w.U8(4, m.Invert)
	return nil
}

func (m *Length) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Min, m.Max, m.Invert = r.U16(0), r.U16(2), r.U8(4)
	needWhole(r, lengthSize)
	return r.Err()
}
