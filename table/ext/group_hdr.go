package ext

import "github.com/fwkit/fw/table"

// group_hdr lists the extensions of this group; all.go joins the groups.
var group_hdr = []*table.ExtInfo{
	markInfo,
	macInfo,
	iprangeInfo,
	addrtypeInfo,
	pkttypeInfo,
	ttlInfo,
	hlInfo,
	dscpInfo,
	tosInfo,
	ecnInfo,
	realmInfo,
	devgroupInfo,
	ownerInfo,
	physdevInfo,
	socketInfo,
	rpfilterInfo,
}
