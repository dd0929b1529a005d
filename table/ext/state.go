package ext

import "github.com/fwkit/fw/table"

// stateInfo is -m state. iptables 1.8.9 never loads the old state match:
// it writes a conntrack revision 3 payload whose match flags carry
// STATE_ALIAS, and prints it back as "-m state --state" because of that
// flag. The value is therefore a Conntrack; the binary side finds it
// through conntrack.
var stateInfo = &table.ExtInfo{
	Name: "state", Kernel: "conntrack", TextOnly: true, Kind: table.MatchKind,
	Family: table.BothFamilies, Revision: 3, Size: conntrackSize,
	Options: opts("!state="),
	New: func(f table.Family) table.Ext {
		return &Conntrack{MatchFlags: ctFlagStateAlias, fam: f}
	},
}
