package ext

import "github.com/fwkit/fw/table"

// DNPT is the IPv6 destination prefix translation target (RFC 6296); its
// payload is struct ip6t_npt_tginfo (see NPT). The kernel takes it only
// in mangle PREROUTING and OUTPUT.
type DNPT struct {
	NPT
}

var dnptTargetInfo = &table.ExtInfo{
	Name: "DNPT", Kind: table.TargetKind, Family: table.IPv6, Size: nptSize,
	Options: opts("src-pfx=", "dst-pfx="),
	Tables:  []string{"mangle"},
	Hooks:   table.PreRouting.Mask() | table.Output.Mask(),
	New:     func(table.Family) table.Ext { return &DNPT{} },
}

func (t *DNPT) Info() *table.ExtInfo { return dnptTargetInfo }
func (t *DNPT) Name() string         { return "DNPT" }
