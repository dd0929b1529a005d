package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// MarkTarget is the MARK target; it mirrors struct xt_mark_tginfo2. Every
// spelling (--set-mark, --and-mark, ...) becomes one "clear the bits of
// Mask, then XOR Mark" operation, which is why iptables-save only ever
// prints --set-xmark.
type MarkTarget struct {
	Mark, Mask uint32
}

var markTargetInfo = &table.ExtInfo{
	Name: "MARK", Kind: table.TargetKind, Family: table.BothFamilies, Revision: 2, Size: markTgSize,
	Options: opts("set-xmark=", "set-mark=", "and-mark=", "or-mark=", "xor-mark="),
	New:     func(table.Family) table.Ext { return &MarkTarget{} },
}

var markTgOptions = []string{"set-xmark", "set-mark", "and-mark", "or-mark", "xor-mark"}

func (t *MarkTarget) Info() *table.ExtInfo { return markTargetInfo }
func (t *MarkTarget) Name() string         { return "MARK" }

func (t *MarkTarget) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "set-xmark", "set-mark":
		v, m, err := parseMarkMask(a.Arg, nil, nil)
		if err != nil {
			return err
		}
		t.Mark, t.Mask = v, m
		if a.Key() == "set-mark" {
			// --set-mark ORs the value in: the bits it sets are cleared
			// first whatever the mask says.
			t.Mask |= t.Mark
		}
	case "and-mark", "or-mark", "xor-mark":
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		switch a.Key() {
		case "and-mark":
			t.Mark, t.Mask = 0, ^uint32(v)
		case "or-mark":
			t.Mark, t.Mask = uint32(v), uint32(v)
		default:
			t.Mark, t.Mask = uint32(v), 0
		}
	default:
		return unknownOption(a)
	}
	return nil
}

func (t *MarkTarget) Finish(c *table.FinishContext) error {
	if err := requireOne(c, markTgOptions...); err != nil {
		return err
	}
	return onlyOne(c, markTgOptions...)
}

func (t *MarkTarget) Print(w *table.Writer) {
	w.Opt(false, "set-xmark", fmt.Sprintf("0x%x/0x%x", t.Mark, t.Mask))
}

// struct xt_mark_tginfo2: mark u32@0 mask u32@4 (host order).
const markTgSize = 8

func (t *MarkTarget) layout() []field { return []field{{0, &t.Mark}, {4, &t.Mask}} }

func (t *MarkTarget) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, t.layout()...)
}

func (t *MarkTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}
