// Package ext holds every match and target extension fw knows, one file
// each, and the one list that registers them.
package ext

import "github.com/fwkit/fw/table"

// All lists every extension. One line per extension (and revision).
var All = []*table.ExtInfo{
	tcpInfo,
	udpInfo,
	commentInfo,
}

// Registry returns a registry of every extension.
func Registry() *table.Registry { return table.NewRegistry(All...) }
