package ext

import (
	"math"

	"github.com/fwkit/fw/internal/xtbin"
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
	Name: "quota", Kind: table.MatchKind, Family: table.BothFamilies, Size: quotaSize,
	Options: opts("!quota="),
	New:     func(table.Family) table.Ext { return &Quota{} },
}

func (m *Quota) Info() *table.ExtInfo { return quotaInfo }
func (m *Quota) Name() string         { return "quota" }

func (m *Quota) Parse(a *table.OptArgs) error {
	if a.Key() != "quota" {
		return unknownOption(a)
	}
	v, err := parseUint(a.Arg, 0, math.MaxUint64)
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
	if !c.Seen.Has("quota") {
		return table.WithHint("add --quota BYTES", "--quota is required")
	}
	return nil
}

func (m *Quota) Print(w *table.Writer) {
	w.OptUint(m.Flags&quotaInvert != 0, "quota", m.Quota)
}

// struct xt_quota_info: flags u32@0 pad u32@4 quota u64@8, the kernel's
// master pointer @16 (written zero, not handed back).
const quotaSize = 24

func (m *Quota) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U32(0, m.Flags)
	w.U32(4, m.Pad)
	w.U64(8, m.Quota)
	return nil
}

func (m *Quota) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Flags, m.Pad, m.Quota = r.U32(0), r.U32(4), r.U64(8)
	m.Master = 0
	needWhole(r, quotaSize)
	return r.Err()
}
