package ext

import "github.com/fwkit/fw/table"

// group_rate lists the extensions of this group; all.go joins the groups.
var group_rate = []*table.ExtInfo{}
