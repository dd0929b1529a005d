package ext

import "github.com/fwkit/fw/table"

// group_proto lists the extensions of this group; all.go joins the groups.
var group_proto = []*table.ExtInfo{}
