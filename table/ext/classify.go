package ext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// CLASSIFY sets skb->priority, which tc uses as a class id; it mirrors
// struct xt_classify_target_info.
type CLASSIFY struct {
	Priority uint32 // major<<16 | minor
}

// classifyTargetInfo: the kernel accepts it only where packets leave or
// are forwarded, before the queueing discipline sees them.
var classifyTargetInfo = &table.ExtInfo{
	Name: "CLASSIFY", Kind: table.TargetKind, Family: table.BothFamilies, Size: classifySize,
	Options: opts("set-class="),
	Hooks:   table.Forward.Mask() | table.Output.Mask() | table.PostRouting.Mask(),
	New:     func(table.Family) table.Ext { return &CLASSIFY{} },
}

func (t *CLASSIFY) Info() *table.ExtInfo { return classifyTargetInfo }
func (t *CLASSIFY) Name() string         { return "CLASSIFY" }

func (t *CLASSIFY) Parse(a *table.OptArgs) error {
	if a.Key() != "set-class" {
		return unknownOption(a)
	}
	major, minor, ok := strings.Cut(a.Arg, ":")
	if !ok {
		return table.WithHint("write MAJOR:MINOR in hexadecimal, e.g. 1:10", "invalid class %q", a.Arg)
	}
	maj, err := classifyHex(major)
	if err != nil {
		return err
	}
	min, err := classifyHex(minor)
	if err != nil {
		return err
	}
	t.Priority = uint32(maj)<<16 | uint32(min)
	return nil
}

// classifyHex parses one half of a class id: hexadecimal, with or without
// 0x, as sscanf("%x") reads it. iptables also takes signs, blanks and
// trailing garbage and silently keeps only 16 bits; tc handles are 16 bits,
// so fw refuses anything else.
func classifyHex(s string) (uint16, error) {
	d := s
	if len(d) > 2 && (d[:2] == "0x" || d[:2] == "0X") {
		d = d[2:]
	}
	v, err := strconv.ParseUint(d, 16, 16)
	if err != nil {
		return 0, fmt.Errorf("invalid class part %q (a hexadecimal number from 0 to ffff)", s)
	}
	return uint16(v), nil
}

func (t *CLASSIFY) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("set-class") {
		return table.WithHint("add --set-class MAJOR:MINOR", "--set-class is required")
	}
	return nil
}

func (t *CLASSIFY) Print(w *table.Writer) {
	w.Opt(false, "set-class", fmt.Sprintf("%04x:%04x", t.Priority>>16, t.Priority&0xffff))
}

// struct xt_classify_target_info: priority u32@0.
const classifySize = 4

func (t *CLASSIFY) layout() []field { return []field{{0, &t.Priority}} }

func (t *CLASSIFY) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, t.layout()...) }

func (t *CLASSIFY) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}
