package ext

import "github.com/fwkit/fw/table"

// group_mangle lists the extensions of this group; all.go joins the groups.
var group_mangle = []*table.ExtInfo{
	markTargetInfo,
	dscpTargetInfo,
	tosTargetInfo,
	ecnTargetInfo,
	ttlTargetInfo,
	hlTargetInfo,
	tcpmssTargetInfo,
	tcpoptstripTargetInfo,
	setTargetInfo,
	synproxyTargetInfo,
	idletimerTargetInfo,
	ledTargetInfo,
	hmarkTargetInfo,
	hmark6TargetInfo,
	rateestTargetInfo,
}
