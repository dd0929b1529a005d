// Package ext holds every match and target extension fw knows, one file
// each, and the one list that registers them.
package ext

import (
	"slices"

	"github.com/fwkit/fw/table"
)

// All lists every extension. One line per extension (and revision).
var All = slices.Concat([]*table.ExtInfo{
	tcpInfo,
	udpInfo,
	commentInfo,
}, group_proto, group_ct, group_rate, group_hdr, group_v6log, group_nat, group_mangle)

// Registry returns a registry of every extension.
func Registry() *table.Registry { return table.NewRegistry(All...) }
