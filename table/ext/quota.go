package ext

import (
	"math"

	"github.com/fwkit/fw/table"
)

// Quota is the quota match; it mirrors struct xt_quota_info.
type Quota struct {
	Flags  uint32 // XT_QUOTA_INVERT
	Pad    uint32
	Quota  uint64 // bytes
	Master uint64 // kernel-private pointer
}

const quotaInvert = 0x1

var quotaInfo = &table.ExtInfo{
	Name: "quota", Kind: table.MatchKind, Family: table.BothFamilies,
	Options: opts("!quota="),
	New:     func(table.Family) table.Ext { return &Quota{} },
}

func (m *Quota) Info() *table.ExtInfo { return quotaInfo }
func (m *Quota) Name() string         { return "quota" }

func (m *Quota) Parse(a *table.OptArgs) error {
	if a.Key() != "quota" {
		return unknownOption(a)
	}
	v, err := rtUint("quota", a.Arg, 0, math.MaxUint64)
	if err != nil {
		return err
	}
	m.Quota = v
	if a.Invert {
		m.Flags |= quotaInvert
	}
	return nil
}

func (m *Quota) Finish(c *table.FinishContext) error {
	if !c.Seen["quota"] {
		return table.WithHint("add --quota BYTES", "--quota is required")
	}
	return nil
}

func (m *Quota) Print(w *table.Writer) {
	w.OptUint(m.Flags&quotaInvert != 0, "quota", m.Quota)
}
