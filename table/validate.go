package table

import (
	"fmt"
	"slices"
	"strings"
)

// Validate checks what the kernel would check when the table is replaced:
// no jump loops, and every extension only where the kernel accepts it
// (its tables, the hooks its chain is reachable from, its own checkentry
// rules). It returns every problem found, each at the rule's position.
func (t *Table) Validate(f Family) ErrorList { return t.ValidateFor(f, false) }

// ValidateFor is Validate for the legacy kernel (nftCompat false) or for
// nf_tables' compat layer, which skips some checks (CheckContext.NFTCompat).
func (t *Table) ValidateFor(f Family, nftCompat bool) ErrorList {
	var errs ErrorList
	hooks, loop := t.reach()
	if loop != nil {
		errs.Add(loop)
	}
	var ctx CheckContext // one for all checks: Checkers must not keep it
	for ci, c := range t.Chains {
		h := hooks[ci]
		for _, r := range c.Rules {
			for _, m := range r.Matches {
				if err := checkExt(&ctx, f, nftCompat, t, c.Name, h, r, m); err != nil && errs.Add(err) {
					return errs
				}
			}
			if e, ok := r.Target.(Ext); ok {
				if err := checkExt(&ctx, f, nftCompat, t, c.Name, h, r, e); err != nil && errs.Add(err) {
					return errs
				}
			}
		}
	}
	return errs
}

func checkExt(ctx *CheckContext, f Family, nftCompat bool, t *Table, chain string, hooks HookMask, r *Rule, e Ext) *Error {
	tbl := t.Name
	info := e.Info()
	if info.Tables != nil && !slices.Contains(info.Tables, tbl) {
		return Errorf(r.Pos, "%s %s is only valid in the %s table, not in %q", e.Name(), info.Kind, strings.Join(info.Tables, " and "), tbl)
	}
	if info.Hooks != 0 && hooks&^info.Hooks != 0 {
		bad := hookList(hooks &^ info.Hooks)
		where := "chain " + chain
		if !isBuiltin(chain) {
			where = fmt.Sprintf("chain %s (reached from %s)", chain, bad)
		}
		return Errorf(r.Pos, "%s %s is only valid in %s, not in %s", e.Name(), info.Kind, hookList(info.Hooks), where)
	}
	if ch, ok := e.(Checker); ok {
		*ctx = CheckContext{Family: f, TableName: tbl, Chain: chain, Hooks: hooks, Rule: r, Table: t, NFTCompat: nftCompat}
		if err := ch.Check(ctx); err != nil {
			return At(r.Pos, err)
		}
	}
	return nil
}

func isBuiltin(chain string) bool { _, ok := HookByName(chain); return ok }

func hookList(m HookMask) string {
	var names []string
	for h := Hook(0); h < NumHooks; h++ {
		if m&h.Mask() != 0 {
			names = append(names, h.String())
		}
	}
	return strings.Join(names, ", ")
}

// reach computes, for every chain (by index in t.Chains), the hooks it is
// reachable from, and finds a jump loop if there is one (the kernel
// refuses those with ELOOP). Chains are numbered once so that the graph
// walks use slices, not name lookups: kube-proxy tables have tens of
// thousands of chains.
func (t *Table) reach() ([]HookMask, *Error) {
	for i, c := range t.Chains {
		c.pos = int32(i)
	}
	// An edge is a jump: its target chain and the rule's index in its
	// chain (no pointer, so that the array is no work for the collector).
	type edge struct{ to, rule int32 }
	// The jump graph in one array: chain i's edges are
	// edges[first[i]:first[i+1]].
	n := 0
	for _, c := range t.Chains {
		n += len(c.Rules)
	}
	edges := make([]edge, 0, n)
	first := make([]int32, len(t.Chains)+1)
	for i, c := range t.Chains {
		first[i] = int32(len(edges))
		for ri, r := range c.Rules {
			if j, ok := r.Target.(*Jump); ok {
				if k := t.JumpIndex(j); k >= 0 {
					edges = append(edges, edge{int32(k), int32(ri)})
				}
			}
		}
	}
	first[len(t.Chains)] = int32(len(edges))
	succ := func(i int32) []edge { return edges[first[i]:first[i+1]] }
	const (
		white = iota
		grey
		black
	)
	color := make([]uint8, len(t.Chains))
	var loop *Error
	var visit func(i int32)
	visit = func(i int32) {
		color[i] = grey
		for _, e := range succ(i) {
			switch color[e.to] {
			case grey:
				if loop == nil {
					loop = Errorf(t.Chains[i].Rules[e.rule].Pos, "jump from %q to %q makes a loop", t.Chains[i].Name, t.Chains[e.to].Name)
				}
			case white:
				visit(e.to)
			}
		}
		color[i] = black
	}
	for i := range t.Chains {
		if color[i] == white {
			visit(int32(i))
		}
	}
	out := make([]HookMask, len(t.Chains))
	if loop != nil {
		return out, loop
	}
	var mark func(i int32, h HookMask)
	mark = func(i int32, h HookMask) {
		if out[i]&h == h {
			return
		}
		out[i] |= h
		for _, e := range succ(i) {
			mark(e.to, h)
		}
	}
	for i, c := range t.Chains {
		if h, ok := HookByName(c.Name); ok && c.Builtin {
			mark(int32(i), h.Mask())
		}
	}
	return out, nil
}
