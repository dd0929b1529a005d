package ext

import "github.com/fwkit/fw/table"

// group_rate lists the extensions of this group; all.go joins the groups.
var group_rate = []*table.ExtInfo{
	limitInfo,
	hashlimitInfo,
	recentInfo,
	statisticInfo,
	timeInfo,
	quotaInfo,
	nfacctInfo,
	rateestInfo,
	cpuInfo,
	cgroupInfo,
	bpfInfo,
	stringInfo,
	u32Info,
	lengthInfo,
}
