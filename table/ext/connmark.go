package ext

import "github.com/fwkit/fw/table"

// Connmark is the connmark match, revision 1; it mirrors struct
// xt_connmark_mtinfo1, which has the mark match's layout.
type Connmark struct{ markMatch }

var connmarkInfo = &table.ExtInfo{
	Name: "connmark", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: markMatchSize,
	Options: opts("!mark="),
	New:     func(table.Family) table.Ext { return &Connmark{} },
}

func (m *Connmark) Info() *table.ExtInfo { return connmarkInfo }
func (m *Connmark) Name() string         { return "connmark" }
