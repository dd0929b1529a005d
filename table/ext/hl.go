package ext

import (
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

func (m *HL) layout() []field { return []field{{0, &m.Mode}, {1, &m.HopLimit}} }

func (m *HL) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *HL) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
