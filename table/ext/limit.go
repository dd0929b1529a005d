package ext

import (
	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Limit is the limit match; it mirrors struct xt_rateinfo. Avg is the
// time between packets in 1/10000 s; the fields after Burst belong to the
// kernel and are written as zero.
type Limit struct {
	Avg       uint32
	Burst     uint32
	Prev      uint64 // unsigned long, kernel-private
	Credit    uint32 // kernel-private
	CreditCap uint32 // kernel-private
	Cost      uint32 // kernel-private
	Master    uint64 // pointer, kernel-private
}

const (
	limitScale        = 10000 // XT_LIMIT_SCALE
	limitDefaultBurst = 5
	limitMaxBurst     = 10000
)

var limitInfo = &table.ExtInfo{
	Name: "limit", Kind: table.MatchKind, Family: table.BothFamilies, Size: limitSize,
	Options: opts("limit=", "limit-burst="),
	New: func(table.Family) table.Ext {
		// iptables starts from 3/hour, burst 5.
		return &Limit{Avg: limitScale * 3600 / 3, Burst: limitDefaultBurst}
	},
}

func (m *Limit) Info() *table.ExtInfo { return limitInfo }
func (m *Limit) Name() string         { return "limit" }

func (m *Limit) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "limit":
		avg, _, ok, err := limitRateSyntax.parse(a.Arg)
		switch {
		case err != nil:
			return err
		case !ok:
			return errRate(a.Arg, "write N/sec, N/minute, N/hour or N/day")
		}
		m.Avg = uint32(avg)
	case "limit-burst":
		v, err := parseUint(a.Arg, 0, limitMaxBurst)
		if err != nil {
			return err
		}
		m.Burst = uint32(v)
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *Limit) Finish(*table.FinishContext) error {
	if m.Burst == 0 || limitCredits(m.Avg*m.Burst) < limitCredits(m.Avg) {
		return table.WithHint("use a lower rate or a smaller --limit-burst",
			"rate and burst overflow the kernel's credit counter (--limit %s --limit-burst %d)", limitRate(m.Avg), m.Burst)
	}
	return nil
}

// limitCredits is the kernel's user2credits for xt_limit, in 32-bit
// arithmetic like the kernel's (the overflow check depends on its wrap).
func limitCredits(user uint32) uint32 {
	cpj := uint32(pow2Below(0xFFFFFFFF / (kernelHZ * 60 * 60 * 24)))
	if user > 0xFFFFFFFF/(kernelHZ*cpj) {
		return (user / limitScale) * kernelHZ * cpj
	}
	return user * kernelHZ * cpj / limitScale
}

func limitRate(avg uint32) string {
	s, _ := rateText(uint64(avg), limitScale)
	return s
}

func (m *Limit) Print(w *table.Writer) {
	w.Opt(false, "limit", limitRate(m.Avg))
	if m.Burst != limitDefaultBurst {
		w.OptUint(false, "limit-burst", uint64(m.Burst))
	}
}

// struct xt_rateinfo: avg u32@0 burst u32@4, then the kernel's own state:
// prev (unsigned long)@8 credit@16 credit_cap@20 cost@24 master ptr@32.
// The kernel hands back only avg and burst (usersize); iptables writes the
// rest as zero.
const limitSize = 40

func (m *Limit) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U32(0, m.Avg)
	w.U32(4, m.Burst)
	return nil
}

func (m *Limit) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Avg, m.Burst = r.U32(0), r.U32(4)
	// The kernel's state is not part of the rule.
	m.Prev, m.Credit, m.CreditCap, m.Cost, m.Master = 0, 0, 0, 0, 0
	needWhole(r, limitSize)
	return r.Err()
}
