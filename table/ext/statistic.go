package ext

import (
	"fmt"
	"math"

	"github.com/fwkit/fw/table"
)

// Statistic is the statistic match; it mirrors struct xt_statistic_info.
// The C struct has a union: in random mode its first word is the
// probability, in nth mode every/packet/count.
type Statistic struct {
	Mode   uint16
	Flags  uint16
	Every  uint32 // u.nth.every (N-1), or u.random.probability (p × 2^31)
	Packet uint32 // u.nth.packet
	Count  uint32 // u.nth.count: iptables writes every − packet in both modes
	Master uint64 // kernel-private pointer
}

const (
	statRandom = 0
	statNth    = 1
	statInvert = 0x1
)

var statisticInfo = &table.ExtInfo{
	Name: "statistic", Kind: table.MatchKind, Family: table.BothFamilies, Size: statisticSize,
	Options: opts("mode=", "!probability=", "!every=", "packet="),
	New:     func(table.Family) table.Ext { return &Statistic{} },
}

func (m *Statistic) Info() *table.ExtInfo { return statisticInfo }
func (m *Statistic) Name() string         { return "statistic" }

func (m *Statistic) Parse(a *table.OptArgs) error {
	if a.Invert {
		m.Flags |= statInvert
	}
	switch a.Key() {
	case "mode":
		switch a.Arg {
		case "random":
			m.Mode = statRandom
		case "nth":
			m.Mode = statNth
		default:
			return table.WithHint("modes are random and nth", "invalid --mode %q", a.Arg)
		}
	case "probability":
		p, rest, ok := cStrtod(a.Arg)
		if !ok || rest != "" || p < 0 || p > 1 {
			return fmt.Errorf("invalid --probability %q (expected a number from 0 to 1)", a.Arg)
		}
		m.Every = statProbability(p)
	case "every":
		v, err := parseUint(a.Arg, 1, math.MaxUint32)
		if err != nil {
			return err
		}
		m.Every = uint32(v - 1)
	case "packet":
		v, err := parseUint(a.Arg, 0, math.MaxUint32)
		if err != nil {
			return err
		}
		m.Packet = uint32(v)
	default:
		return unknownOption(a)
	}
	return nil
}

// statProbability is lround(p × 2^31) stored in 32 bits; NaN (which
// passes iptables' range check) becomes 0 as on x86-64.
func statProbability(p float64) uint32 {
	x := p * 0x80000000
	if x != x {
		return 0
	}
	return uint32(int64(math.Round(x)))
}

func (m *Statistic) Finish(c *table.FinishContext) error {
	switch {
	case !c.Seen.Has("mode"):
		return table.WithHint("add --mode random or --mode nth", "--mode is required")
	case m.Mode == statRandom && !c.Seen.Has("probability"):
		return fmt.Errorf("--mode random needs --probability")
	case m.Mode == statNth && !c.Seen.Has("every") && !c.Seen.Has("packet"):
		return fmt.Errorf("--mode nth needs --every and --packet")
	case m.Packet > m.Every:
		return fmt.Errorf("--packet %d must be less than --every %d", m.Packet, uint64(m.Every)+1)
	case c.Seen.Has("probability") && (c.Seen.Has("every") || c.Seen.Has("packet")):
		return fmt.Errorf("--probability cannot be used with --every or --packet")
	case c.Seen.Has("every") != c.Seen.Has("packet"):
		return fmt.Errorf("--every and --packet must be given together")
	}
	m.Count = m.Every - m.Packet
	return nil
}

func (m *Statistic) Print(w *table.Writer) {
	inv := m.Flags&statInvert != 0
	switch m.Mode {
	case statRandom:
		w.Opt(false, "mode", "random")
		w.Flag(inv, "probability")
		w.Space()
		w.Float(float64(m.Every)/0x80000000, 'f', 11)
	case statNth:
		w.Opt(false, "mode", "nth")
		w.OptUint(inv, "every", uint64(m.Every+1))
		w.OptUint(false, "packet", uint64(m.Packet))
	}
}

// struct xt_statistic_info: mode u16@0 flags u16@2, then the union: random
// mode probability u32@4; nth mode every u32@4 packet@8 count@12; the
// kernel's master pointer @16 (written zero, not handed back). iptables
// sets count = every - packet in both modes (in random mode packet is 0,
// so count repeats the probability); the kernel keeps the bytes, so fw
// writes them the same way (Finish computes Count).
const statisticSize = 24

func (m *Statistic) layout() []field {
	return []field{{0, &m.Mode}, {2, &m.Flags}, {4, &m.Every}, {8, &m.Packet}, {12, &m.Count}}
}

func (m *Statistic) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, m.layout()...)
}

func (m *Statistic) UnmarshalPayload(f table.Family, data []byte) error {
	m.Master = 0
	return getWhole(data, statisticSize, m.layout()...)
}
