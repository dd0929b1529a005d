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
func (t *Table) Validate(f Family) ErrorList {
	var errs ErrorList
	hooks, loop := t.reach()
	if loop != nil {
		errs.Add(loop)
	}
	for _, c := range t.Chains {
		h := hooks[c.Name]
		for _, r := range c.Rules {
			for _, m := range r.Matches {
				if err := checkExt(f, t, c.Name, h, r, m); err != nil && errs.Add(err) {
					return errs
				}
			}
			if e, ok := r.Target.(Ext); ok {
				if err := checkExt(f, t, c.Name, h, r, e); err != nil && errs.Add(err) {
					return errs
				}
			}
		}
	}
	return errs
}

func checkExt(f Family, t *Table, chain string, hooks HookMask, r *Rule, e Ext) *Error {
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
		if err := ch.Check(&CheckContext{Family: f, TableName: tbl, Chain: chain, Hooks: hooks, Rule: r, Table: t}); err != nil {
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

// reach computes, for every chain, the hooks it is reachable from, and finds
// a jump loop if there is one (the kernel refuses those with ELOOP).
func (t *Table) reach() (map[string]HookMask, *Error) {
	out := map[string]HookMask{}
	byName := map[string]*Chain{}
	for _, c := range t.Chains {
		byName[c.Name] = c
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var loop *Error
	var visit func(c *Chain)
	visit = func(c *Chain) {
		color[c.Name] = grey
		for _, r := range c.Rules {
			j, ok := r.Target.(*Jump)
			if !ok {
				continue
			}
			next := byName[j.Chain]
			if next == nil {
				continue
			}
			switch color[next.Name] {
			case grey:
				if loop == nil {
					loop = Errorf(r.Pos, "jump from %q to %q makes a loop", c.Name, next.Name)
				}
			case white:
				visit(next)
			}
		}
		color[c.Name] = black
	}
	for _, c := range t.Chains {
		if color[c.Name] == white {
			visit(c)
		}
	}
	if loop != nil {
		return out, loop
	}
	var mark func(c *Chain, h HookMask)
	mark = func(c *Chain, h HookMask) {
		if out[c.Name]&h == h {
			return
		}
		out[c.Name] |= h
		for _, r := range c.Rules {
			if j, ok := r.Target.(*Jump); ok {
				if next := byName[j.Chain]; next != nil {
					mark(next, h)
				}
			}
		}
	}
	for _, c := range t.Chains {
		if h, ok := HookByName(c.Name); ok && c.Builtin {
			mark(c, h.Mask())
		}
	}
	return out, nil
}
