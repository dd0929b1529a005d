package ext

import "github.com/fwkit/fw/table"

// MASQUERADE is the IPv4 MASQUERADE target (revision 0); it mirrors
// struct nf_nat_ipv4_multi_range_compat.
type MASQUERADE struct{ natCompatTarget }

// MASQUERADE6 is the IPv6 MASQUERADE target (revision 0); it mirrors
// struct nf_nat_range.
type MASQUERADE6 struct{ natRangeTarget }

var masqOpts = opts("to-ports=", "random", "random-fully")

var masqSpec = &natSpec{opt: "to-ports", portsOnly: true, finish: func(_ *table.FinishContext, flags uint32) error {
	if flags&natProtoOffset != 0 {
		return errNoBasePort("to-ports")
	}
	return nil
}}

var masqueradeTargetInfo = &table.ExtInfo{
	Name: "MASQUERADE", Kind: table.TargetKind, Family: table.IPv4, Size: natCompatSize,
	Options: masqOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PostRouting.Mask(),
	New:     func(table.Family) table.Ext { return &MASQUERADE{newNATCompat(masqSpec)} },
}

var masquerade6TargetInfo = &table.ExtInfo{
	Name: "MASQUERADE", Kind: table.TargetKind, Family: table.IPv6, Size: natRangeSize,
	Options: masqOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PostRouting.Mask(),
	New:     func(table.Family) table.Ext { return &MASQUERADE6{natRangeTarget{spec: masqSpec}} },
}

func (t *MASQUERADE) Info() *table.ExtInfo  { return masqueradeTargetInfo }
func (t *MASQUERADE) Name() string          { return "MASQUERADE" }
func (t *MASQUERADE6) Info() *table.ExtInfo { return masquerade6TargetInfo }
func (t *MASQUERADE6) Name() string         { return "MASQUERADE" }
