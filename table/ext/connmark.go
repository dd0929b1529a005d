package ext

import (
	"fmt"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Connmark is the connmark match; it mirrors struct xt_connmark_mtinfo1.
type Connmark struct {
	Mark, Mask uint32
	Invert     uint8
}

var connmarkInfo = &table.ExtInfo{
	Name: "connmark", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: connmarkSize,
	Options: opts("!mark="),
	New:     func(table.Family) table.Ext { return &Connmark{} },
}

func (m *Connmark) Info() *table.ExtInfo { return connmarkInfo }
func (m *Connmark) Name() string         { return "connmark" }

func (m *Connmark) Parse(a *table.OptArgs) error {
	if a.Key() != "mark" {
		return unknownOption(a)
	}
	v, mask, err := parseMarkMask(a.Arg, nil, nil)
	if err != nil {
		return err
	}
	m.Mark, m.Mask = v, mask
	if a.Invert {
		m.Invert = 1
	}
	return nil
}

func (m *Connmark) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("mark") {
		return fmt.Errorf("--mark is required")
	}
	return nil
}

func (m *Connmark) Print(w *table.Writer) {
	w.Opt(m.Invert != 0, "mark", markMaskText(m.Mark, m.Mask, nil, nil))
}

// struct xt_connmark_mtinfo1: mark@0 mask@4 (u32), invert@8 (u8), 3 bytes
// of tail padding.
const connmarkSize = 12

func (m *Connmark) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U32(0, m.Mark)
	w.U32(4, m.Mask)
	w.U8(8, m.Invert)
	return nil
}

func (m *Connmark) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Mark, m.Mask, m.Invert = r.U32(0), r.U32(4), r.U8(8)
	return r.Err()
}
