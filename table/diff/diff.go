// Package diff compares two rulesets by meaning: both sides are reduced to
// the canonical text iptables-save would print for each rule, so spelling
// never shows up as a change, and rule order within a chain (which the
// kernel honours) always does.
package diff

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// Kind is the kind of a change.
type Kind string

const (
	PolicyChanged Kind = "policy"
	ChainAdded    Kind = "chain-added"
	ChainRemoved  Kind = "chain-removed"
	RuleAdded     Kind = "rule-added"
	RuleRemoved   Kind = "rule-removed"
	RuleChanged   Kind = "rule-changed"
	RuleMoved     Kind = "rule-moved"
	CountersDiff  Kind = "counters"
)

// Change is one difference. Positions are 1-based rule numbers in the
// chain (0 when not applicable); lines are where the rule was written, when
// that side came from a file.
type Change struct {
	Table   string `json:"table"`
	Chain   string `json:"chain"`
	Kind    Kind   `json:"kind"`
	Old     string `json:"old,omitempty"`
	New     string `json:"new,omitempty"`
	OldPos  int    `json:"old_pos,omitempty"`
	NewPos  int    `json:"new_pos,omitempty"`
	OldLine int    `json:"old_line,omitempty"`
	NewLine int    `json:"new_line,omitempty"`
	// Detail says in what a changed rule differs when its text does not
	// show it (both sides print the same).
	Detail string `json:"detail,omitempty"`

	oldKey, newKey table.Digest // the rules' digests, for pairing moves
}

// Options change what counts as a difference.
type Options struct {
	// Counters makes counter differences count.
	Counters bool
}

// ChainRules returns the canonical text of a chain's rules, as
// iptables-save prints them.
func ChainRules(c *table.Chain) []string {
	out := make([]string, len(c.Rules))
	var w table.Writer
	for i, r := range c.Rules {
		w.Reset()
		w.Raw("-A ")
		w.Raw(c.Name)
		table.RuleText(&w, r, nil)
		out[i] = w.String()
	}
	return out
}

func ruleLine(c *table.Chain, i int) string {
	var w table.Writer
	w.Raw("-A ")
	w.Raw(c.Name)
	table.RuleText(&w, c.Rules[i], nil)
	return w.String()
}

// keys returns what the comparison looks at: each rule's digest, which
// is what the kernel stores (print-only aliases undone, the IPv6 "-p"
// flag included, see table.IPHeader.ProtoFlag), with no text made.
func keys(d *table.Digester, c *table.Chain) []table.Digest {
	out := make([]table.Digest, len(c.Rules))
	for i, r := range c.Rules {
		out[i] = d.Digest(r)
	}
	return out
}

// Compare returns the changes that turn a into b, table by table (in b's
// order, then tables only in a), chain by chain. A table missing on one
// side compares as the kernel's empty table: a file without *nat means
// the same as one with an empty *nat block.
func Compare(a, b *table.Ruleset, opt Options) []Change {
	var out []Change
	seen := map[string]bool{}
	var names []string
	for _, t := range b.Tables {
		names = append(names, t.Name)
	}
	for _, t := range a.Tables {
		names = append(names, t.Name)
	}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		ta, tb := a.Table(name), b.Table(name)
		if ta == nil {
			ta = table.NewTable(name)
		}
		if tb == nil {
			tb = table.NewTable(name)
		}
		out = append(out, compareTables(ta, tb, table.NewDigester(a.Family), opt)...)
	}
	return out
}

func compareTables(a, b *table.Table, dg *table.Digester, opt Options) []Change {
	var out []Change
	for _, cb := range b.Chains {
		ca := a.Chain(cb.Name)
		if ca == nil {
			out = append(out, Change{Table: b.Name, Chain: cb.Name, Kind: ChainAdded})
			ca = &table.Chain{Name: cb.Name}
		}
		if cb.Builtin && ca.Policy != cb.Policy && ca.Policy != 0 {
			out = append(out, Change{Table: b.Name, Chain: cb.Name, Kind: PolicyChanged, Old: ca.Policy.String(), New: cb.Policy.String()})
		}
		if opt.Counters && cb.Builtin && ca.Counters != cb.Counters {
			out = append(out, Change{Table: b.Name, Chain: cb.Name, Kind: CountersDiff, Old: counters(ca.Counters), New: counters(cb.Counters)})
		}
		out = append(out, compareRules(b.Name, ca, cb, dg, opt)...)
	}
	for _, ca := range a.Chains {
		if b.Chain(ca.Name) == nil {
			out = append(out, compareRules(a.Name, ca, &table.Chain{Name: ca.Name}, dg, opt)...)
			out = append(out, Change{Table: a.Name, Chain: ca.Name, Kind: ChainRemoved})
		}
	}
	return out
}

func counters(c table.Counters) string { return fmt.Sprintf("[%d:%d]", c.Packets, c.Bytes) }

// compareRules aligns the two rule lists on their longest common
// subsequence. What is left over becomes removed/added; a removal and an
// addition at the same place become a change; the same rule removed in one
// place and added in another becomes a move.
func compareRules(tbl string, a, b *table.Chain, dg *table.Digester, opt Options) []Change {
	// Display text is needed only for the few rules that changed.
	ka, kb := keys(dg, a), keys(dg, b)
	ra := func(i int) string { return ruleLine(a, i) }
	rb := func(j int) string { return ruleLine(b, j) }
	ops := align(ka, kb)
	var out []Change
	line := func(c *table.Chain, i int) int { return c.Rules[i].Pos.Line }
	// Between two equal rules, removals and additions pair up in order
	// as changes in place; what is left over is removed or added.
	var dels, adds []op
	flush := func() {
		n := min(len(dels), len(adds))
		for k := 0; k < n; k++ {
			d, n := dels[k], adds[k]
			c := Change{Table: tbl, Chain: b.Name, Kind: RuleChanged, Old: ra(d.i), New: rb(n.j), OldPos: d.i + 1, NewPos: n.j + 1, OldLine: line(a, d.i), NewLine: line(b, n.j),
				oldKey: ka[d.i], newKey: kb[n.j]}
			if c.Old == c.New {
				c.Detail = explain(a.Rules[d.i], b.Rules[n.j])
			}
			out = append(out, c)
		}
		for _, o := range dels[n:] {
			out = append(out, Change{Table: tbl, Chain: b.Name, Kind: RuleRemoved, Old: ra(o.i), OldPos: o.i + 1, OldLine: line(a, o.i), oldKey: ka[o.i]})
		}
		for _, o := range adds[n:] {
			out = append(out, Change{Table: tbl, Chain: b.Name, Kind: RuleAdded, New: rb(o.j), NewPos: o.j + 1, NewLine: line(b, o.j), newKey: kb[o.j]})
		}
		dels, adds = dels[:0], adds[:0]
	}
	for _, o := range ops {
		switch o.kind {
		case opEqual:
			flush()
			if opt.Counters && a.Rules[o.i].Counters != b.Rules[o.j].Counters {
				out = append(out, Change{Table: tbl, Chain: b.Name, Kind: CountersDiff, Old: counters(a.Rules[o.i].Counters), New: counters(b.Rules[o.j].Counters), OldPos: o.i + 1, NewPos: o.j + 1, OldLine: line(a, o.i), NewLine: line(b, o.j)})
			}
		case opDel:
			dels = append(dels, o)
		case opAdd:
			adds = append(adds, o)
		}
	}
	flush()
	return pairMoves(out)
}

// pairMoves turns a removal and an addition of the same rule into one
// move.
func pairMoves(cs []Change) []Change {
	added := map[table.Digest][]int{}
	for i, c := range cs {
		if c.Kind == RuleAdded {
			added[c.newKey] = append(added[c.newKey], i)
		}
	}
	drop := map[int]bool{}
	for i := range cs {
		c := &cs[i]
		if c.Kind != RuleRemoved || len(added[c.oldKey]) == 0 {
			continue
		}
		j := added[c.oldKey][0]
		added[c.oldKey] = added[c.oldKey][1:]
		c.Kind, c.New, c.NewPos, c.NewLine = RuleMoved, cs[j].New, cs[j].NewPos, cs[j].NewLine
		drop[j] = true
	}
	if len(drop) == 0 {
		return cs
	}
	out := cs[:0:0]
	for i, c := range cs {
		if !drop[i] {
			out = append(out, c)
		}
	}
	return out
}

type opKind uint8

const (
	opEqual opKind = iota
	opDel
	opAdd
)

type op struct {
	kind opKind
	i, j int
}

// Summary is a one-line count of the changes.
func Summary(cs []Change) string {
	if len(cs) == 0 {
		return "no differences"
	}
	counts := map[Kind]int{}
	var order []Kind
	for _, c := range cs {
		if counts[c.Kind] == 0 {
			order = append(order, c.Kind)
		}
		counts[c.Kind]++
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[k], k)
	}
	return fmt.Sprintf("%d changes: %s", len(cs), strings.Join(parts, ", "))
}
