package ext

import "github.com/fwkit/fw/table"

// group_ct lists the extensions of this group; all.go joins the groups.
var group_ct = []*table.ExtInfo{}
