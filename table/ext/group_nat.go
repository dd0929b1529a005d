package ext

import "github.com/fwkit/fw/table"

// group_nat lists the extensions of this group; all.go joins the groups.
var group_nat = []*table.ExtInfo{
	dnatTargetInfo,
	snatTargetInfo,
	snat6TargetInfo,
	masqueradeTargetInfo,
	masquerade6TargetInfo,
	redirectTargetInfo,
	redirect6TargetInfo,
	netmapTargetInfo,
	netmap6TargetInfo,
	dnptTargetInfo,
	snptTargetInfo,
	tproxyTargetInfo,
	teeTargetInfo,
}
