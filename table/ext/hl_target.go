package ext

import (
	"github.com/fwkit/fw/table"
)

// HLTarget is the IPv6 HL target; it mirrors struct ip6t_HL_info (the
// modes are those of TTL).
type HLTarget struct {
	Mode     uint8
	HopLimit uint8
}

var hlTargetInfo = &table.ExtInfo{
	Name: "HL", Kind: table.TargetKind, Family: table.IPv6, Size: hlTgSize,
	Options: opts("hl-set=", "hl-dec=", "hl-inc="),
	Tables:  []string{"mangle"},
	New:     func(table.Family) table.Ext { return &HLTarget{} },
}

func (t *HLTarget) Info() *table.ExtInfo { return hlTargetInfo }
func (t *HLTarget) Name() string         { return "HL" }

func (t *HLTarget) Parse(a *table.OptArgs) error {
	var err error
	t.Mode, t.HopLimit, err = parseTTLTgOption(a, "hl")
	return err
}

func (t *HLTarget) Finish(c *table.FinishContext) error { return finishTTLTg(c, "hl") }

func (t *HLTarget) Print(w *table.Writer) { printTTLTg(w, "hl", t.Mode, t.HopLimit) }

// struct ip6t_HL_info: mode u8@0 hop_limit u8@1.
const hlTgSize = 2

func (t *HLTarget) PutPayload(_ table.Family, dst []byte) error {
	putTTLTg(dst, t.Mode, t.HopLimit)
	return nil
}

func (t *HLTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	var err error
	t.Mode, t.HopLimit, err = unmarshalTTLTg(data)
	return err
}
