package ext

import "github.com/fwkit/fw/table"

// group_proto lists the extensions of this group; all.go joins the groups.
var group_proto = []*table.ExtInfo{
	icmpInfo,
	icmp6Info,
	sctpInfo,
	dccpInfo,
	multiportInfo,
	espInfo,
	ahInfo,
	ah6Info,
	ipcompInfo,
	mhInfo,
	tcpmssInfo,
}
