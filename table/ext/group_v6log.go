package ext

import "github.com/fwkit/fw/table"

// group_v6log lists the extensions of this group; all.go joins the groups.
var group_v6log = []*table.ExtInfo{
	fragInfo,
	hbhInfo,
	dstInfo,
	rtInfo,
	ipv6headerInfo,
	eui64Info,
	srhInfo,
	policyInfo,
	setInfo,
	osfInfo,
	logTargetInfo,
	nflogTargetInfo,
	rejectTargetInfo,
	reject6TargetInfo,
	traceTargetInfo,
	auditTargetInfo,
	classifyTargetInfo,
	checksumTargetInfo,
	nfqueueTargetInfo,
}
