package ext

import "github.com/fwkit/fw/table"

// group_v6log lists the extensions of this group; all.go joins the groups.
var group_v6log = []*table.ExtInfo{}
