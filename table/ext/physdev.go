package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// PhysDev is the physdev match; it mirrors struct xt_physdev_info: the
// bridge port names as NUL-padded strings, each with its byte mask (as for
// -i/-o), then the invert and bitmask bytes.
type PhysDev struct {
	PhysInDev  [16]byte
	InMask     [16]byte
	PhysOutDev [16]byte
	OutMask    [16]byte
	Invert     uint8
	Bitmask    uint8
}

// xt_physdev bits, used in Invert and Bitmask.
const (
	physdevIn      = 0x01
	physdevOut     = 0x02
	physdevBridged = 0x04
	physdevIsIn    = 0x08
	physdevIsOut   = 0x10
)

var physdevInfo = &table.ExtInfo{
	Name: "physdev", Kind: table.MatchKind, Family: table.BothFamilies, Size: physdevSize,
	Options: opts("!physdev-in=", "!physdev-out=", "!physdev-is-in", "!physdev-is-out", "!physdev-is-bridged"),
	New:     func(table.Family) table.Ext { return &PhysDev{} },
}

func (m *PhysDev) Info() *table.ExtInfo { return physdevInfo }
func (m *PhysDev) Name() string         { return "physdev" }

func (m *PhysDev) Parse(a *table.OptArgs) error {
	var bit uint8
	var err error
	switch a.Key() {
	case "physdev-in":
		bit = physdevIn
		m.PhysInDev, m.InMask, err = parseIface(a.Arg)
	case "physdev-out":
		bit = physdevOut
		m.PhysOutDev, m.OutMask, err = parseIface(a.Arg)
	case "physdev-is-in":
		bit = physdevIsIn
	case "physdev-is-out":
		bit = physdevIsOut
	case "physdev-is-bridged":
		bit = physdevBridged
	default:
		return unknownOption(a)
	}
	m.Bitmask |= bit
	m.Invert |= invBit(a.Invert, bit)
	return err
}

func (m *PhysDev) Finish(c *table.FinishContext) error {
	if m.Bitmask == 0 {
		return fmt.Errorf("one of --physdev-in, --physdev-out, --physdev-is-in, --physdev-is-out and --physdev-is-bridged is required")
	}
	return nil
}

// Check applies the kernel's rule: in OUTPUT the bridge port a packet
// leaves by is only known for bridged traffic, so --physdev-out and
// --physdev-is-out there need a plain --physdev-is-bridged.
func (m *PhysDev) Check(c *table.CheckContext) error {
	if m.Bitmask&(physdevOut|physdevIsOut) != 0 &&
		(m.Bitmask&physdevBridged == 0 || m.Invert&physdevBridged != 0) &&
		c.Hooks&table.Output.Mask() != 0 {
		return table.WithHint("add --physdev-is-bridged", "physdev --physdev-out and --physdev-is-out are only valid in OUTPUT for bridged traffic")
	}
	return nil
}

func (m *PhysDev) Print(w *table.Writer) {
	if m.Bitmask&physdevIsIn != 0 {
		w.Flag(m.Invert&physdevIsIn != 0, "physdev-is-in")
	}
	if m.Bitmask&physdevIn != 0 {
		w.Opt(m.Invert&physdevIn != 0, "physdev-in", cString(m.PhysInDev[:]))
	}
	if m.Bitmask&physdevIsOut != 0 {
		w.Flag(m.Invert&physdevIsOut != 0, "physdev-is-out")
	}
	if m.Bitmask&physdevOut != 0 {
		w.Opt(m.Invert&physdevOut != 0, "physdev-out", cString(m.PhysOutDev[:]))
	}
	if m.Bitmask&physdevBridged != 0 {
		w.Flag(m.Invert&physdevBridged != 0, "physdev-is-bridged")
	}
}

// struct xt_physdev_info: physindev[16]@0 in_mask[16]@16 physoutdev[16]@32
// out_mask[16]@48, invert u8@64 bitmask u8@65. The name and mask fields
// are copied as they are: the kernel compares them byte by byte under the
// mask and needs no NUL.
const physdevSize = 66

func (m *PhysDev) layout() []field {
	return []field{{0, &m.PhysInDev}, {16, &m.InMask}, {32, &m.PhysOutDev}, {48, &m.OutMask}, {64, &m.Invert}, {65, &m.Bitmask}}
}

func (m *PhysDev) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *PhysDev) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
