package ext

import (
	"github.com/fwkit/fw/table"
)

// TCPMSS is the tcpmss match (the TCPMSS target is another file); it
// mirrors struct xt_tcpmss_match_info.
type TCPMSS struct {
	MssMin, MssMax uint16
	Invert         uint8
}

var tcpmssInfo = &table.ExtInfo{
	Name: "tcpmss", Kind: table.MatchKind, Family: table.BothFamilies, Size: tcpmssSize,
	Options: opts("!mss="),
	New:     func(table.Family) table.Ext { return &TCPMSS{} },
}

func (m *TCPMSS) Info() *table.ExtInfo { return tcpmssInfo }
func (m *TCPMSS) Name() string         { return "tcpmss" }

// Parse reads "v", "a:b", ":b", "a:" or ":" (C numbers); a negated full
// range is refused because it never matches.
func (m *TCPMSS) Parse(a *table.OptArgs) error {
	lo, hi, _, err := parseUintRange(a.Arg, 0xffff)
	if err != nil {
		return err
	}
	if err := checkLiveRange(a.Opt.Name, lo, hi, 0xffff, a.Invert); err != nil {
		return err
	}
	m.MssMin, m.MssMax = uint16(lo), uint16(hi)
	if a.Invert {
		m.Invert = 1
	}
	return nil
}

func (m *TCPMSS) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("mss") {
		return table.WithHint("add e.g. --mss 1400:1500", "--mss is required")
	}
	return nil
}

func (m *TCPMSS) Check(c *table.CheckContext) error { return needProto(c, "tcpmss match", protoTCP) }

func (m *TCPMSS) Print(w *table.Writer) {
	w.Opt(m.Invert != 0, "mss", rangeText(uint64(m.MssMin), uint64(m.MssMax)))
}

// struct xt_tcpmss_match_info: mss_min u16@0 mss_max u16@2 (host order)
// invert@4; 6 bytes.
const tcpmssSize = 6

func (m *TCPMSS) layout() []field {
	return []field{{0, &m.MssMin}, {2, &m.MssMax}, {4, &m.Invert}}
}

func (m *TCPMSS) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *TCPMSS) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
