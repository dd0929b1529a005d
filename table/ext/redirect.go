package ext

import "github.com/fwkit/fw/table"

// REDIRECT is the IPv4 REDIRECT target (revision 0); it mirrors struct
// nf_nat_ipv4_multi_range_compat.
type REDIRECT struct{ natCompatTarget }

// REDIRECT6 is the IPv6 REDIRECT target (revision 0); it mirrors struct
// nf_nat_range.
type REDIRECT6 struct{ natRangeTarget }

var redirectOpts = opts("to-ports=", "random")

// redirectSpec refuses a shifted port map as iptables does: the struct
// cannot hold the base port.
var redirectSpec = &natSpec{opt: "to-ports", portsOnly: true, finish: func(_ *table.FinishContext, flags uint32) error {
	if flags&natProtoOffset != 0 {
		return table.WithHint("use DNAT for a shifted port map", "--to-ports cannot shift a port range (/BASE) with REDIRECT")
	}
	return nil
}}

var redirectTargetInfo = &table.ExtInfo{
	Name: "REDIRECT", Kind: table.TargetKind, Family: table.IPv4, Size: natCompatSize,
	Options: redirectOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PreRouting.Mask() | table.Output.Mask(),
	New:     func(table.Family) table.Ext { return &REDIRECT{newNATCompat(redirectSpec)} },
}

var redirect6TargetInfo = &table.ExtInfo{
	Name: "REDIRECT", Kind: table.TargetKind, Family: table.IPv6, Size: natRangeSize,
	Options: redirectOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PreRouting.Mask() | table.Output.Mask(),
	New:     func(table.Family) table.Ext { return &REDIRECT6{natRangeTarget{spec: redirectSpec}} },
}

func (t *REDIRECT) Info() *table.ExtInfo  { return redirectTargetInfo }
func (t *REDIRECT) Name() string          { return "REDIRECT" }
func (t *REDIRECT6) Info() *table.ExtInfo { return redirect6TargetInfo }
func (t *REDIRECT6) Name() string         { return "REDIRECT" }
