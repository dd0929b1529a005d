package table

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestApplierReadsOnDemand: on a table whose chains are Unread, the
// Applier reads a chain exactly when a command looks at its rules, and a
// chain the file empties without looking is never read.
func TestApplierReadsOnDemand(t *testing.T) {
	accept := func() *Rule { return &Rule{Target: StandardTarget(Accept)} }
	jump := func(to string) *Rule { return &Rule{Target: &Jump{Chain: to}} }
	// The kernel: INPUT -> a -> b, c empty.
	kernel := map[string][]*Rule{"INPUT": {jump("a")}, "a": {jump("b"), accept()}, "b": {accept()}, "c": nil}
	base := func() *Table {
		tb := NewTable("filter")
		for _, n := range []string{"a", "b", "c"} {
			tb.addChain(&Chain{Name: n})
		}
		for _, c := range tb.Chains {
			_, c.Unread = kernel[c.Name]
		}
		return tb
	}
	p := Pos{File: "f", Line: 2}
	cases := []struct {
		name  string
		ops   []Op
		reads []string
		err   string // in the error, "" for none
	}{
		{name: "declare and fill", ops: []Op{{Kind: OpDeclare, Chain: "a"}, {Kind: OpAppend, Chain: "a", Rules: []*Rule{jump("c")}}}},
		{name: "flush then append", ops: []Op{{Kind: OpFlush, Chain: "b"}, {Kind: OpAppend, Chain: "b", Rules: []*Rule{accept()}}}},
		{name: "append reads", ops: []Op{{Kind: OpAppend, Chain: "b", Rules: []*Rule{accept()}}}, reads: []string{"b"}},
		{name: "delete by number reads", ops: []Op{{Kind: OpDeleteNum, Chain: "a", Num: 2}}, reads: []string{"a"}},
		{name: "policy reads nothing", ops: []Op{{Kind: OpPolicy, Chain: "INPUT", Policy: Drop}}},
		{name: "a jump to an unread chain reads nothing", ops: []Op{{Kind: OpNewChain, Chain: "d"}, {Kind: OpDeclare, Chain: "c"}, {Kind: OpAppend, Chain: "c", Rules: []*Rule{jump("d")}}}},
		// b is jumped to from a, which is not read: the kernel checks.
		{name: "delete chain reads only it", ops: []Op{{Kind: OpDeleteChain, Chain: "c"}, {Kind: OpFlush, Chain: "b"}, {Kind: OpDeleteChain, Chain: "b"}}, reads: []string{"c"}},
		{name: "delete chain still jumped to from a read chain", ops: []Op{{Kind: OpDeleteNum, Chain: "a", Num: 2}, {Kind: OpFlush, Chain: "b"}, {Kind: OpDeleteChain, Chain: "b", Pos: p}},
			reads: []string{"a"}, err: `f:2: cannot delete chain "b": chain "a" jumps to it`},
		{name: "zero reads all", ops: []Op{{Kind: OpZero, Chain: "b"}}, reads: []string{"INPUT", "a", "b", "c"}},
		{name: "rename reads all", ops: []Op{{Kind: OpRename, Chain: "b", NewName: "bb"}}, reads: []string{"INPUT", "a", "b", "c"}},
		{name: "read error", ops: []Op{{Kind: OpAppend, Chain: "c", Pos: p, Rules: []*Rule{accept()}}}, reads: []string{"c"}, err: `f:2: cannot read chain "c" of table "filter": gone`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var reads []string
			opt := ApplyOptions{NoFlush: true, ReadChain: func(tbl, chain string) ([]*Rule, error) {
				reads = append(reads, chain)
				if strings.HasPrefix(tc.name, "read error") {
					return nil, errors.New("gone")
				}
				return slices.Clone(kernel[chain]), nil
			}}
			a := NewApplier(IPv4, opt, func(string) *Table { return base() })
			a.Begin("filter", Pos{})
			for i := range tc.ops {
				a.Op(&tc.ops[i])
			}
			a.Commit()
			rs := &Ruleset{Family: IPv4}
			err := a.Finish(rs)
			switch {
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("got %v, want %q", err, tc.err)
			}
			slices.Sort(reads)
			if d := cmp.Diff(tc.reads, reads); d != "" {
				t.Errorf("chains read (-want +got)\n%s", d)
			}
			if err != nil {
				return
			}
			// What was read holds the kernel's rules; what a command
			// emptied holds the file's; the rest is still Unread.
			for _, c := range rs.Table("filter").Chains {
				if c.Unread && len(c.Rules) > 0 {
					t.Errorf("chain %s is Unread with %d rules", c.Name, len(c.Rules))
				}
				if slices.Contains(tc.reads, c.Name) && c.Unread {
					t.Errorf("chain %s was read but is still Unread", c.Name)
				}
			}
		})
	}
}

// TestDeletedAt: the table remembers where the script deleted a chain.
func TestDeletedAt(t *testing.T) {
	rs := &Ruleset{Family: IPv4, Tables: []*Table{NewTable("filter")}}
	s := &Script{Family: IPv4, Blocks: []Block{{Table: "filter", Ops: []Op{
		{Kind: OpNewChain, Chain: "x"}, {Kind: OpDeleteChain, Chain: "x", Pos: Pos{File: "f", Line: 3}}}}}}
	if err := s.Apply(rs, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if p, ok := rs.Table("filter").DeletedAt("x"); !ok || p.Line != 3 {
		t.Errorf("DeletedAt(x) = %v, %v; want line 3", p, ok)
	}
	if _, ok := rs.Table("filter").DeletedAt("y"); ok {
		t.Error("DeletedAt(y) found a chain never deleted")
	}
}

// TestApplierKeep: ApplyOptions.Keep keeps the base's chains it names
// through a restore's flush, until the file declares one (-N or ':'),
// which takes it over; a second block of the table keeps what the first
// kept and the file left alone.
func TestApplierKeep(t *testing.T) {
	accept := &Rule{Target: StandardTarget(Accept)}
	base := func(string) *Table {
		tb := NewTable("filter")
		for _, n := range []string{"DOCKER", "DOCKER-USER", "DOCKER-X", "old"} {
			tb.addChain(&Chain{Name: n, Rules: []*Rule{accept}})
		}
		return tb
	}
	keep := func(c string) bool { return strings.HasPrefix(c, "DOCKER") }
	a := NewApplier(IPv4, ApplyOptions{Keep: keep}, base)
	a.Begin("filter", Pos{})
	for _, op := range []Op{
		{Kind: OpDeclare, Chain: "DOCKER-USER"},
		{Kind: OpNewChain, Chain: "DOCKER-X"},
		{Kind: OpAppend, Chain: "INPUT", Rules: []*Rule{{Target: &Jump{Chain: "DOCKER"}}}},
	} {
		a.Op(&op)
	}
	a.Commit()
	// A second block: DOCKER stays, the file's DOCKER-USER and DOCKER-X
	// go with the flush.
	a.Begin("filter", Pos{})
	a.Op(&Op{Kind: OpDeclare, Chain: "mine"})
	a.Commit()
	rs := &Ruleset{Family: IPv4}
	if err := a.Finish(rs); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range rs.Table("filter").Chains {
		if !c.Builtin {
			got[c.Name] = len(c.Rules)
		}
	}
	if d := cmp.Diff(map[string]int{"DOCKER": 1, "mine": 0}, got); d != "" {
		t.Errorf("user chains and their rule counts (-want +got)\n%s", d)
	}

	// Declared twice in one block is still an error, kept or not.
	a = NewApplier(IPv4, ApplyOptions{Keep: keep}, base)
	a.Begin("filter", Pos{})
	a.Op(&Op{Kind: OpDeclare, Chain: "DOCKER"})
	a.Op(&Op{Kind: OpDeclare, Chain: "DOCKER", Pos: Pos{Line: 3}})
	a.Commit()
	if err := a.Finish(&Ruleset{Family: IPv4}); err == nil || !strings.Contains(err.Error(), "declared twice") {
		t.Errorf("a kept chain declared twice: %v", err)
	}
}
