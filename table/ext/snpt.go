package ext

import "github.com/fwkit/fw/table"

// SNPT is the IPv6 source prefix translation target (RFC 6296); its
// payload is struct ip6t_npt_tginfo (see NPT). The kernel takes it only
// in mangle INPUT and POSTROUTING.
type SNPT struct {
	NPT
}

var snptTargetInfo = &table.ExtInfo{
	Name: "SNPT", Kind: table.TargetKind, Family: table.IPv6, Size: nptSize,
	Options: opts("src-pfx=", "dst-pfx="),
	Tables:  []string{"mangle"},
	Hooks:   table.Input.Mask() | table.PostRouting.Mask(),
	New:     func(table.Family) table.Ext { return &SNPT{} },
}

func (t *SNPT) Info() *table.ExtInfo { return snptTargetInfo }
func (t *SNPT) Name() string         { return "SNPT" }
