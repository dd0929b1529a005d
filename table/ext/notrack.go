package ext

import "github.com/fwkit/fw/table"

// notrackTargetInfo is -j NOTRACK. iptables 1.8.9 stores it as a CT
// revision 2 target with the NOTRACK and NOTRACK_ALIAS flags, and prints
// it back as "-j NOTRACK" because of the alias flag; the value is a CT.
var notrackTargetInfo = &table.ExtInfo{
	Name: "NOTRACK", Kernel: "CT", TextOnly: true, Kind: table.TargetKind,
	Family: table.BothFamilies, Revision: 2, Size: ctSize,
	Tables: []string{"raw"},
	New:    func(table.Family) table.Ext { return &CT{Flags: ctNotrack | ctNotrackAlias} },
}
