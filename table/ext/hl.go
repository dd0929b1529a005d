package ext

import (
	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// HL is the IPv6 hl (hop limit) match; it mirrors struct ip6t_hl_info. Its
// modes are those of the ttl match.
type HL struct {
	Mode     uint8
	HopLimit uint8
}

var hlInfo = &table.ExtInfo{
	Name: "hl", Kind: table.MatchKind, Family: table.IPv6, Size: hlSize,
	// --hl is an old spelling of --hl-eq, negation included.
	Options: opts("hl-lt=", "hl-gt=", "!hl-eq=", "|hl"),
	New:     func(table.Family) table.Ext { return &HL{} },
}

func (m *HL) Info() *table.ExtInfo { return hlInfo }
func (m *HL) Name() string         { return "hl" }

func (m *HL) Parse(a *table.OptArgs) error {
	mode, v, err := parseTTLMode(a, "hl")
	m.Mode, m.HopLimit = mode, v
	return err
}

func (m *HL) Finish(c *table.FinishContext) error { return finishTTLMode(c, "hl") }

func (m *HL) Print(w *table.Writer) { printTTLMode(w, "hl", m.Mode, m.HopLimit) }

// struct ip6t_hl_info: mode u8@0 hop_limit u8@1.
const hlSize = 2

func (m *HL) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U8(0, m.Mode)
	w.U8(1, m.HopLimit)
	return nil
}

func (m *HL) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Mode, m.HopLimit = r.U8(0), r.U8(1)
	return r.Err()
}
