package table

import (
	"net/netip"
	"slices"
	"strings"
)

// Counters are a packet and a byte count, as the kernel keeps them per rule
// and per built-in chain policy.
type Counters struct {
	Packets, Bytes uint64
}

// Ruleset is every table of one family, in print order.
type Ruleset struct {
	Family Family
	Tables []*Table
}

// Table returns the table called name, or nil.
func (rs *Ruleset) Table(name string) *Table {
	for _, t := range rs.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Table is one iptables table. Chains holds the built-in chains in hook
// order followed by the user chains; SortChains restores that order.
type Table struct {
	Name   string
	Chains []*Chain

	// index speeds up Chain on tables with tens of thousands of chains
	// (kube-proxy): a chain's position in Chains, by name, rebuilt
	// whenever it does not match Chains.
	index map[string]int32
	// recent holds the positions of the last chains Chain found, most
	// recent first: a restore file names the same few chains line after
	// line ("-A X ... -j KUBE-MARK-MASQ"), and checking Chains[i].Name
	// costs less than hashing the name into a map of tens of thousands.
	recent [4]int32
	// next is the position after the last chain found beyond recent: a
	// kube-proxy file declares its chains in the order its rules then
	// name them ("-A KUBE-SVC-X ... -j KUBE-SEP-A", "... -j KUBE-SEP-B",
	// "-A KUBE-SVC-Y"), so the next new name is mostly one or two
	// places on, where the map would fetch it from a cold bucket.
	next int32

	// Slabs for building big tables with few allocations; see
	// appendRules and newChain.
	ruleSlab  []*Rule
	chainSlab []Chain

	deletedAt map[string]Pos // see DeletedAt
	// keptChains are the chains ApplyOptions.Keep kept that the file has
	// not declared (yet): declaring one takes it over.
	keptChains map[string]bool
}

// NewTable returns the table name as the kernel creates it: every built-in
// chain present, empty, with policy ACCEPT. It returns nil for an unknown
// name.
func NewTable(name string) *Table {
	info := LookupTable(name)
	if info == nil {
		return nil
	}
	t := &Table{Name: name}
	for _, c := range info.Chains() {
		t.Chains = append(t.Chains, &Chain{Name: c, Builtin: true, Policy: Accept})
	}
	return t
}

// Chain returns the chain called name, or nil. Every answer is checked
// against Chains itself, so neither the index nor recent can be stale.
func (t *Table) Chain(name string) *Chain {
	for k, i := range t.recent {
		if int(i) < len(t.Chains) && t.Chains[i].Name == name {
			copy(t.recent[1:k+1], t.recent[:k])
			t.recent[0] = i
			return t.Chains[i]
		}
	}
	i := -1
	for k := int(t.next); k < int(t.next)+2 && k < len(t.Chains); k++ {
		if t.Chains[k].Name == name {
			i = k
			break
		}
	}
	if i < 0 {
		if i = t.find(name); i < 0 {
			return nil
		}
	}
	t.next = int32(i + 1)
	copy(t.recent[1:], t.recent[:])
	t.recent[0] = int32(i)
	return t.Chains[i]
}

// find returns the position of the chain called name in Chains, or -1.
func (t *Table) find(name string) int {
	if len(t.Chains) < 16 {
		for i, c := range t.Chains {
			if c.Name == name {
				return i
			}
		}
		return -1
	}
	if len(t.index) != len(t.Chains) {
		t.reindex()
	}
	i, ok := t.index[name]
	if ok && (int(i) >= len(t.Chains) || t.Chains[i].Name != name) {
		// Moved or renamed behind the index's back.
		t.reindex()
		i, ok = t.index[name]
	}
	if !ok {
		return -1
	}
	return int(i)
}

// ChainIndex returns c's position in t.Chains, or -1. Once the table has
// been validated (which numbers its chains) that is a load and a compare,
// checked against Chains as it is now; otherwise, or when chains moved
// since, a lookup by name. Backends that lay chains out by position use
// it rather than a map of names.
func (t *Table) ChainIndex(c *Chain) int {
	if c == nil {
		return -1
	}
	if i := int(c.pos); i < len(t.Chains) && t.Chains[i] == c {
		return i
	}
	if i := t.find(c.Name); i >= 0 && t.Chains[i] == c {
		return i
	}
	return -1
}

// JumpIndex returns the position in t.Chains of the chain j jumps to, or
// -1. A jump knows its chain when this table resolved it (checkJumps);
// one copied from another table's rule is looked up by name.
func (t *Table) JumpIndex(j *Jump) int {
	if i := t.ChainIndex(j.to); i >= 0 {
		return i
	}
	return t.find(j.Chain)
}

// addChain appends c and keeps the index current.
func (t *Table) addChain(c *Chain) {
	t.Chains = append(t.Chains, c)
	if t.index != nil && len(t.index) == len(t.Chains)-1 {
		t.index[c.Name] = int32(len(t.Chains) - 1)
	}
}

func (t *Table) reindex() {
	t.index = make(map[string]int32, len(t.Chains))
	for i, c := range t.Chains {
		t.index[c.Name] = int32(i)
	}
}

// SortChains puts built-in chains first in hook order and user chains after
// them in byte order, which is how both iptables-save variants print them.
func (t *Table) SortChains() {
	// Chain names are unique, so an unstable sort gives the one order;
	// kernels hand chains out already sorted, hence the check first.
	if !slices.IsSortedFunc(t.Chains, CompareChains) {
		slices.SortFunc(t.Chains, CompareChains)
	}
	// Number them as they now stand, so that ChainIndex (every jump of
	// a table being encoded) is a compare, not a lookup by name.
	for i, c := range t.Chains {
		c.pos = int32(i)
	}
}

// CompareChains orders chains as iptables-save prints them.
func CompareChains(a, b *Chain) int {
	if a.Builtin != b.Builtin {
		if a.Builtin {
			return -1
		}
		return 1
	}
	if a.Builtin {
		ha, _ := HookByName(a.Name)
		hb, _ := HookByName(b.Name)
		return int(ha) - int(hb)
	}
	return strings.Compare(a.Name, b.Name)
}

// Chain is a built-in chain (with a policy and policy counters) or a user
// chain.
type Chain struct {
	Name     string
	Builtin  bool
	Policy   Verdict // Accept or Drop for built-in chains; unused otherwise
	Counters Counters
	Rules    []*Rule
	// Unread says the chain's rules were not read from the kernel: Rules
	// is empty and means nothing, and a commit of the table leaves the
	// chain's rules as the kernel has them. A restore --noflush reads a
	// table this way (kernel.ChainLoader), so that a file naming 300 of
	// a kube-proxy table's 35,000 chains reads those 300; the Applier
	// reads a chain when a command needs its rules (ApplyOptions.ReadChain).
	Unread bool

	pos int32 // its index in its table's Chains, set by reach and SortChains
}

// Partial reports whether some chain of the table is Unread: only a
// commit that sends the difference may take it.
func (t *Table) Partial() bool {
	return slices.ContainsFunc(t.Chains, func(c *Chain) bool { return c.Unread })
}

// Rule is one kernel rule: the IP header part, the matches in kernel order,
// and what happens on a match. A nil Target means no -j at all: the packet
// falls through and only the counters change.
type Rule struct {
	IP       IPHeader
	Matches  []Match
	Target   Target
	Counters Counters
	// Pos is where the rule was written, if it came from a file; the zero
	// Pos when it came from a kernel.
	Pos Pos
	// Digest is the rule's stable digest (NewStableDigester) when the
	// code that built the rule worked it out, the zero Digest when not:
	// a decoder computes it while the rule is still in the processor's
	// cache, where computing it later for a 100k-rule file would fetch
	// every rule from memory again. Code that copies a rule to change
	// what the kernel stores of it must clear it (counters do not count).
	Digest Digest
}

// IPHeader is the part of a rule that the kernel stores in struct ipt_ip /
// ip6t_ip6: addresses, interfaces, protocol and fragment flag, each with its
// own negation.
type IPHeader struct {
	Src, Dst       Addr
	InvSrc, InvDst bool
	In, Out        string // as written: "eth0", "eth+", "+"; "" when absent
	InvIn, InvOut  bool
	Proto          uint8 // 0 = any
	InvProto       bool
	// ProtoFlag is IPv6's IP6T_F_PROTO: set whenever -p was written, even
	// "-p all". It is not just spelling: with it the kernel walks the
	// extension headers and drops packets whose headers it cannot parse.
	ProtoFlag     bool
	Frag, InvFrag bool // IPv4 only
}

// Addr is an address with a mask that need not be contiguous (iptables
// accepts -s 10.0.0.0/255.0.255.0). The zero Addr means "not given". Addr is
// stored already masked, as the kernel stores it.
type Addr struct {
	IP   netip.Addr
	Mask netip.Addr
}

// IsZero reports whether no address was given.
func (a Addr) IsZero() bool { return !a.IP.IsValid() }

// PrefixLen returns the prefix length of the mask, or -1 when the mask is
// not contiguous.
func (a Addr) PrefixLen() int {
	arr := a.Mask.As16()
	return MaskPrefixLen(arr[16-a.Mask.BitLen()/8:])
}

// MaskPrefixLen returns the prefix length of a mask in network byte order,
// or -1 when it is not a run of ones followed by zeros. It works on bytes
// so that extensions can use it on the raw mask fields of kernel structs
// (an IPv4 mask in the first four bytes of sixteen) as well as on Addr.
func MaskPrefixLen(m []byte) int {
	n := 0
	for i, x := range m {
		for bit := 7; bit >= 0; bit-- {
			if x&(1<<bit) != 0 {
				n++
				continue
			}
			// the rest must be zero
			if x&(1<<(bit+1)-1) != 0 {
				return -1
			}
			for _, y := range m[i+1:] {
				if y != 0 {
					return -1
				}
			}
			return n
		}
	}
	return n
}

// Verdict is a standard target: what iptables writes as -j ACCEPT and so on.
type Verdict int8

const (
	Accept Verdict = iota + 1
	Drop
	Queue
	Return
)

var verdictNames = map[Verdict]string{Accept: "ACCEPT", Drop: "DROP", Queue: "QUEUE", Return: "RETURN"}

func (v Verdict) String() string { return verdictNames[v] }

// VerdictByName parses the four standard verdict names.
func VerdictByName(s string) (Verdict, bool) {
	switch s {
	case "ACCEPT":
		return Accept, true
	case "DROP":
		return Drop, true
	case "QUEUE":
		return Queue, true
	case "RETURN":
		return Return, true
	}
	return 0, false
}

// Pos is a position in a rules file: 1-based line and column (in bytes).
type Pos struct {
	File string
	Line int
	Col  int
}

// IsValid reports whether the position points somewhere.
func (p Pos) IsValid() bool { return p.Line > 0 }
