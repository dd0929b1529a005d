// Package table is the canonical model of an iptables ruleset: tables,
// chains, rules, the restore script that edits them, and the contract every
// match and target extension implements. It imports nothing of ours, so the
// text format and the kernel backends can be checked against each other
// through it.
package table

import "fmt"

// Family is the address family of a ruleset. The values are bits so that an
// extension can state which families it supports as a mask.
type Family uint8

const (
	IPv4 Family = 1 << iota
	IPv6
)

// BothFamilies is the mask of an extension that works for IPv4 and IPv6.
const BothFamilies = IPv4 | IPv6

func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	case BothFamilies:
		return "ipv4+ipv6"
	}
	return fmt.Sprintf("family(%d)", uint8(f))
}

// Has reports whether the mask f includes g.
func (f Family) Has(g Family) bool { return f&g == g }

// Hook is a netfilter hook number, in the kernel's order (NF_INET_*).
type Hook uint8

const (
	PreRouting Hook = iota
	Input
	Forward
	Output
	PostRouting
	NumHooks
)

// HookMask is a set of hooks, bit i for Hook i.
type HookMask uint8

// AllHooks contains every hook.
const AllHooks HookMask = 1<<NumHooks - 1

// Mask returns the set holding only h.
func (h Hook) Mask() HookMask { return 1 << h }

var hookNames = [NumHooks]string{"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}

func (h Hook) String() string {
	if h < NumHooks {
		return hookNames[h]
	}
	return fmt.Sprintf("hook(%d)", uint8(h))
}

// HookByName returns the hook whose built-in chain is called name.
func HookByName(name string) (Hook, bool) {
	for i, n := range hookNames {
		if n == name {
			return Hook(i), true
		}
	}
	return 0, false
}

// TableInfo is built-in knowledge about one table: which hooks it attaches
// to. The same five tables exist for IPv4 and IPv6.
type TableInfo struct {
	Name  string
	Hooks HookMask
}

// Builtin chains of a table, in hook order, which is also the order
// iptables-save prints them in.
func (t *TableInfo) Chains() []string {
	var out []string
	for h := Hook(0); h < NumHooks; h++ {
		if t.Hooks&h.Mask() != 0 {
			out = append(out, h.String())
		}
	}
	return out
}

// HasChain reports whether name is a built-in chain of the table.
func (t *TableInfo) HasChain(name string) bool {
	h, ok := HookByName(name)
	return ok && t.Hooks&h.Mask() != 0
}

var tables = []TableInfo{
	{"filter", Input.Mask() | Forward.Mask() | Output.Mask()},
	{"nat", PreRouting.Mask() | Input.Mask() | Output.Mask() | PostRouting.Mask()},
	{"mangle", AllHooks},
	{"raw", PreRouting.Mask() | Output.Mask()},
	{"security", Input.Mask() | Forward.Mask() | Output.Mask()},
}

// LookupTable returns the built-in table called name, or nil.
func LookupTable(name string) *TableInfo {
	for i := range tables {
		if tables[i].Name == name {
			return &tables[i]
		}
	}
	return nil
}

// TableNames lists the tables iptables knows, in the order of this package
// (not a print order: each backend has its own).
func TableNames() []string {
	out := make([]string, len(tables))
	for i, t := range tables {
		out[i] = t.Name
	}
	return out
}

// Limits iptables enforces on names (the kernel's field sizes minus the NUL).
const (
	MaxChainName = 28   // XT_EXTENSION_MAXNAMELEN - 1; iptables refuses longer chain names
	MaxIfaceName = 15   // IFNAMSIZ - 1
	MaxTableName = 31   // XT_TABLE_MAXNAMELEN - 1
	MaxWordLen   = 1023 // iptables-restore: "Parameter too long!"
	MaxLineLen   = 10239
)
