package ext

import (
	"math"

	"github.com/fwkit/fw/table"
)

// CPU is the cpu match; it mirrors struct xt_cpu_info.
type CPU struct {
	CPU    uint32
	Invert uint32
}

var cpuInfo = &table.ExtInfo{
	Name: "cpu", Kind: table.MatchKind, Family: table.BothFamilies, Size: cpuSize,
	Options: opts("!cpu="),
	New:     func(table.Family) table.Ext { return &CPU{} },
}

func (m *CPU) Info() *table.ExtInfo { return cpuInfo }
func (m *CPU) Name() string         { return "cpu" }

func (m *CPU) Parse(a *table.OptArgs) error {
	if a.Key() != "cpu" {
		return unknownOption(a)
	}
	v, err := parseUint(a.Arg, 0, math.MaxUint32)
	if err != nil {
		return err
	}
	m.CPU = uint32(v)
	if a.Invert {
		m.Invert = 1
	}
	return nil
}

func (m *CPU) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("cpu") {
		return table.WithHint("add --cpu N", "--cpu is required")
	}
	return nil
}

func (m *CPU) Print(w *table.Writer) { w.OptUint(m.Invert != 0, "cpu", uint64(m.CPU)) }

// struct xt_cpu_info: cpu u32@0 invert u32@4.
const cpuSize = 8

func (m *CPU) layout() []field { return []field{{0, &m.CPU}, {4, &m.Invert}} }

func (m *CPU) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *CPU) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
