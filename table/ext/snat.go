package ext

import "github.com/fwkit/fw/table"

// SNAT is the IPv4 SNAT target. iptables 1.8.9 has only revision 0 of it
// in userspace (the kernel would take 2), so it mirrors struct
// nf_nat_ipv4_multi_range_compat.
type SNAT struct{ natCompatTarget }

// SNAT6 is the IPv6 SNAT target, revision 1; it mirrors struct
// nf_nat_range.
type SNAT6 struct{ natRangeTarget }

var snatOpts = opts("to-source=", "random", "random-fully", "persistent")

var snatSpec = &natSpec{opt: "to-source", finish: func(c *table.FinishContext, flags uint32) error {
	if !c.Seen.Has("to-source") {
		return table.WithHint("add --to-source ADDR[:PORT]", "--to-source is required")
	}
	if flags&natProtoOffset != 0 {
		return errNoBasePort("to-source")
	}
	return nil
}}

var snatTargetInfo = &table.ExtInfo{
	Name: "SNAT", Kind: table.TargetKind, Family: table.IPv4, Revision: 0, Size: natCompatSize,
	Options: snatOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PostRouting.Mask() | table.Input.Mask(),
	New:     func(table.Family) table.Ext { return &SNAT{newNATCompat(snatSpec)} },
}

var snat6TargetInfo = &table.ExtInfo{
	Name: "SNAT", Kind: table.TargetKind, Family: table.IPv6, Revision: 1, Size: natRangeSize,
	Options: snatOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PostRouting.Mask() | table.Input.Mask(),
	New:     func(table.Family) table.Ext { return &SNAT6{natRangeTarget{spec: snatSpec}} },
}

func (t *SNAT) Info() *table.ExtInfo  { return snatTargetInfo }
func (t *SNAT) Name() string          { return "SNAT" }
func (t *SNAT6) Info() *table.ExtInfo { return snat6TargetInfo }
func (t *SNAT6) Name() string         { return "SNAT" }
