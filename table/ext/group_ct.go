package ext

import "github.com/fwkit/fw/table"

// group_ct lists the extensions of this group; all.go joins the groups.
var group_ct = []*table.ExtInfo{
	conntrackInfo,
	stateInfo,
	connmarkInfo,
	connbytesInfo,
	connlimitInfo,
	connlabelInfo,
	helperInfo,
	ipvsInfo,
	clusterInfo,
	ctTargetInfo,
	notrackTargetInfo,
	connmarkTargetInfo,
	connsecmarkTargetInfo,
	secmarkTargetInfo,
}
