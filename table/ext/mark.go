package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// Mark is the mark match, revision 1; it mirrors struct xt_mark_mtinfo1.
type Mark struct{ markMatch }

var markInfo = &table.ExtInfo{
	Name: "mark", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: markMatchSize,
	Options: opts("!mark="),
	New:     func(table.Family) table.Ext { return &Mark{} },
}

func (m *Mark) Info() *table.ExtInfo { return markInfo }
func (m *Mark) Name() string         { return "mark" }

// markMatch is what the mark and connmark matches hold, the same layout
// under two names (struct xt_mark_mtinfo1, struct xt_connmark_mtinfo1):
// --mark value[/mask], negatable.
type markMatch struct {
	Mark, Mask uint32
	Invert     uint8
}

func (m *markMatch) Parse(a *table.OptArgs) error {
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

func (m *markMatch) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("mark") {
		return fmt.Errorf("--mark is required")
	}
	return nil
}

func (m *markMatch) Print(w *table.Writer) {
	w.Opt(m.Invert != 0, "mark", markMaskText(m.Mark, m.Mask, nil, nil))
}

// mark u32@0 mask u32@4 (host order) invert u8@8, 3 bytes of padding.
const markMatchSize = 12

func (m *markMatch) layout() []field { return []field{{0, &m.Mark}, {4, &m.Mask}, {8, &m.Invert}} }

func (m *markMatch) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, m.layout()...)
}

func (m *markMatch) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
