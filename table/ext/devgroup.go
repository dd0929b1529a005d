package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// DevGroup is the devgroup match; it mirrors struct xt_devgroup_info.
type DevGroup struct {
	Flags    uint32
	SrcGroup uint32
	SrcMask  uint32
	DstGroup uint32
	DstMask  uint32
}

// xt_devgroup flags.
const (
	devgroupMatchSrc  = 0x1
	devgroupInvertSrc = 0x2
	devgroupMatchDst  = 0x4
	devgroupInvertDst = 0x8
)

var devgroupInfo = &table.ExtInfo{
	Name: "devgroup", Kind: table.MatchKind, Family: table.BothFamilies, Size: devgroupSize,
	Options: opts("!src-group=", "!dst-group="),
	New:     func(table.Family) table.Ext { return &DevGroup{} },
}

func (m *DevGroup) Info() *table.ExtInfo { return devgroupInfo }
func (m *DevGroup) Name() string         { return "devgroup" }

// Parse takes "value[/mask]" or a device group name (iproute2's group file).
func (m *DevGroup) Parse(a *table.OptArgs) error {
	v, mask, err := parseMarkMask(a.Arg, a.Names, devGroupMap)
	if err != nil {
		return err
	}
	switch a.Key() {
	case "src-group":
		m.SrcGroup, m.SrcMask = v, mask
		m.Flags |= devgroupMatchSrc | uint32(invBit(a.Invert, devgroupInvertSrc))
	case "dst-group":
		m.DstGroup, m.DstMask = v, mask
		m.Flags |= devgroupMatchDst | uint32(invBit(a.Invert, devgroupInvertDst))
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *DevGroup) Finish(c *table.FinishContext) error {
	if m.Flags&(devgroupMatchSrc|devgroupMatchDst) == 0 {
		return fmt.Errorf("--src-group or --dst-group is required")
	}
	return nil
}

// Check applies the kernel's rule: the incoming device exists only in
// PREROUTING, INPUT and FORWARD, the outgoing one only in FORWARD, OUTPUT
// and POSTROUTING.
func (m *DevGroup) Check(c *table.CheckContext) error {
	if m.Flags&devgroupMatchSrc != 0 && !hooksOnly(c.Hooks, table.PreRouting, table.Input, table.Forward) {
		return fmt.Errorf("devgroup --src-group is only valid in PREROUTING, INPUT and FORWARD")
	}
	if m.Flags&devgroupMatchDst != 0 && !hooksOnly(c.Hooks, table.Forward, table.Output, table.PostRouting) {
		return fmt.Errorf("devgroup --dst-group is only valid in FORWARD, OUTPUT and POSTROUTING")
	}
	return nil
}

func (m *DevGroup) Print(w *table.Writer) {
	if m.Flags&devgroupMatchSrc != 0 {
		w.Opt(m.Flags&devgroupInvertSrc != 0, "src-group", markMaskText(m.SrcGroup, m.SrcMask, w.Resolver(), devGroupMap))
	}
	if m.Flags&devgroupMatchDst != 0 {
		w.Opt(m.Flags&devgroupInvertDst != 0, "dst-group", markMaskText(m.DstGroup, m.DstMask, w.Resolver(), devGroupMap))
	}
}

// struct xt_devgroup_info: flags@0 src_group@4 src_mask@8 dst_group@12
// dst_mask@16, all u32 host order.
const devgroupSize = 20

func (m *DevGroup) layout() []field {
	return []field{{0, &m.Flags}, {4, &m.SrcGroup}, {8, &m.SrcMask}, {12, &m.DstGroup}, {16, &m.DstMask}}
}

func (m *DevGroup) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *DevGroup) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
