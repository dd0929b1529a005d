package table

import (
	"fmt"
	"slices"
)

// The restore commands, one function each: what a command of a block
// does to the table it names, as iptables-legacy-restore does it. The
// table is the Applier's working copy; a command that fails leaves the
// block failed, so none of them needs to undo a half-done change.

// command is one command of a block being applied to its table.
type command struct {
	t    *Table
	info *TableInfo // nil for a table fw does not know
	op   *Op
	opt  ApplyOptions
}

// apply runs one command of a block on t.
func (t *Table) apply(op *Op, opt ApplyOptions) *Error {
	c := &command{t: t, info: LookupTable(t.Name), op: op, opt: opt}
	switch op.Kind {
	case OpDeclare:
		return c.declare()
	case OpNewChain:
		return c.newChain()
	case OpAppend:
		return c.append()
	case OpInsert:
		return c.insert()
	case OpReplace:
		return c.replace()
	case OpDeleteNum:
		return c.deleteNum()
	case OpDelete:
		return c.delete()
	case OpFlush:
		return c.flush()
	case OpZero:
		return c.zero()
	case OpPolicy:
		return c.policy()
	case OpDeleteChain:
		return c.deleteChain()
	case OpRename:
		return c.rename()
	}
	return nil
}

// chain is the chain the command names.
func (c *command) chain() (*Chain, *Error) {
	t, op := c.t, c.op
	ch := t.Chain(op.Chain)
	if ch == nil {
		e := Errorf(op.Pos, "chain %q does not exist in table %q", op.Chain, t.Name)
		if c.info != nil && !c.info.HasChain(op.Chain) {
			if _, builtin := HookByName(op.Chain); builtin {
				e.Hint = fmt.Sprintf("table %s has the built-in chains %v", t.Name, c.info.Chains())
			} else {
				e.Hint = fmt.Sprintf("declare it first with ':%s - [0:0]'", op.Chain)
			}
		}
		return nil, e
	}
	return ch, nil
}

// readChain is chain with its rules read (see Chain.Unread).
func (c *command) readChain() (*Chain, *Error) {
	ch, err := c.chain()
	if err == nil {
		err = c.t.read(ch, c.opt, c.op.Pos)
	}
	return ch, err
}

// readAll reads every chain, for commands that look at them all.
func (c *command) readAll() *Error { return c.t.readAll(c.opt, c.op.Pos) }

// rules are the rules of a rule command, with the line's counters when
// the restore counts them.
func (c *command) rules() []*Rule {
	op := c.op
	// Rules are values nothing changes in place (zeroing and renaming
	// replace them), so the table can share the script's.
	if !c.opt.Counters || !op.HasCounters {
		return op.Rules
	}
	out := make([]*Rule, len(op.Rules))
	for i, r := range op.Rules {
		rr := *r
		rr.Counters = op.Counters
		out[i] = &rr
	}
	return out
}

// checkedRules are rules after checkJumps.
func (c *command) checkedRules() ([]*Rule, *Error) {
	rs := c.rules()
	if err := c.t.checkJumps(rs, c.op.Pos); err != nil {
		return nil, err
	}
	return rs, nil
}

// declare is ":CHAIN POLICY [p:b]".
func (c *command) declare() *Error {
	t, op := c.t, c.op
	if c.info != nil && c.info.HasChain(op.Chain) {
		ch := t.Chain(op.Chain)
		if op.Policy != 0 {
			ch.Policy = op.Policy
		}
		if c.opt.Counters {
			if !op.HasCounters {
				return Errorf(op.Pos, "chain %q has no policy counters", op.Chain).Hinted("restoring with -c needs '[packets:bytes]' on built-in chain lines")
			}
			ch.Counters = op.Counters
		}
		return nil
	}
	if op.Policy != 0 {
		if _, builtin := HookByName(op.Chain); builtin {
			return Errorf(op.Pos, "table %q has no built-in chain %q", t.Name, op.Chain).Hinted(fmt.Sprintf("its built-in chains are %v", c.info.Chains()))
		}
		return Errorf(op.Pos, "cannot set policy %s on user chain %q", op.Policy, op.Chain).Hinted("user chains are declared with '-' as policy")
	}
	if ch := t.Chain(op.Chain); ch != nil {
		if !c.opt.NoFlush && !t.keptChains[op.Chain] {
			return Errorf(op.Pos, "chain %q is declared twice", op.Chain)
		}
		t.takeOver(ch)
		return nil
	}
	return t.newChain(op)
}

// newChain is -N.
func (c *command) newChain() *Error {
	t, op := c.t, c.op
	if ch := t.Chain(op.Chain); ch != nil {
		if !t.keptChains[op.Chain] {
			return Errorf(op.Pos, "chain %q already exists", op.Chain)
		}
		t.takeOver(ch)
		return nil
	}
	return t.newChain(op)
}

// append is -A.
func (c *command) append() *Error {
	ch, err := c.readChain()
	if err != nil {
		return err
	}
	rs, err := c.checkedRules()
	if err != nil {
		return err
	}
	c.t.appendRules(ch, rs)
	return nil
}

// insert is -I [n].
func (c *command) insert() *Error {
	ch, err := c.readChain()
	if err != nil {
		return err
	}
	n := c.op.Num
	if n == 0 {
		n = 1
	}
	if n > len(ch.Rules)+1 {
		return Errorf(c.op.Pos, "cannot insert at rule %d: chain %q has %d rules", n, ch.Name, len(ch.Rules))
	}
	rs, err := c.checkedRules()
	if err != nil {
		return err
	}
	// iptables inserts each expanded rule at the same position, so they
	// end up in reverse order.
	for _, r := range rs {
		ch.Rules = slices.Insert(ch.Rules, n-1, r)
	}
	return nil
}

// replace is -R n.
func (c *command) replace() *Error {
	op := c.op
	ch, err := c.readChain()
	if err != nil {
		return err
	}
	if len(op.Rules) != 1 {
		return Errorf(op.Pos, "-R needs a rule with a single source and destination address")
	}
	if op.Num < 1 || op.Num > len(ch.Rules) {
		return Errorf(op.Pos, "cannot replace rule %d: chain %q has %d rules", op.Num, ch.Name, len(ch.Rules))
	}
	rs, err := c.checkedRules()
	if err != nil {
		return err
	}
	ch.Rules[op.Num-1] = rs[0]
	return nil
}

// deleteNum is -D n.
func (c *command) deleteNum() *Error {
	op := c.op
	ch, err := c.readChain()
	if err != nil {
		return err
	}
	if op.Num < 1 || op.Num > len(ch.Rules) {
		return Errorf(op.Pos, "cannot delete rule %d: chain %q has %d rules", op.Num, ch.Name, len(ch.Rules))
	}
	ch.Rules = slices.Delete(ch.Rules, op.Num-1, op.Num)
	return nil
}

// delete is -D with a rule specification.
func (c *command) delete() *Error {
	ch, err := c.readChain()
	if err != nil {
		return err
	}
	for _, r := range c.op.Rules {
		i := slices.IndexFunc(ch.Rules, func(x *Rule) bool { return SameRule(x, r) })
		if i < 0 {
			return Errorf(c.op.Pos, "no such rule in chain %q", ch.Name).Hinted("-D deletes a rule only when every option matches an existing rule")
		}
		ch.Rules = slices.Delete(ch.Rules, i, i+1)
	}
	return nil
}

// flush is -F [chain].
func (c *command) flush() *Error {
	if c.op.Chain == "" {
		for _, ch := range c.t.Chains {
			ch.Rules, ch.Unread = nil, false
		}
		return nil
	}
	ch, err := c.chain()
	if err != nil {
		return err
	}
	ch.Rules, ch.Unread = nil, false
	return nil
}

// zero is -Z [chain [n]].
func (c *command) zero() *Error {
	op := c.op
	if op.Chain == "" {
		if err := c.readAll(); err != nil {
			return err
		}
		for _, ch := range c.t.Chains {
			ch.zero()
		}
		return nil
	}
	ch, err := c.readChain()
	if err != nil {
		return err
	}
	if op.Num > 0 {
		if op.Num > len(ch.Rules) {
			return Errorf(op.Pos, "cannot zero rule %d: chain %q has %d rules", op.Num, ch.Name, len(ch.Rules))
		}
		r := *ch.Rules[op.Num-1]
		r.Counters = Counters{}
		ch.Rules[op.Num-1] = &r
		return nil
	}
	ch.zero()
	return nil
}

// policy is -P chain verdict.
func (c *command) policy() *Error {
	ch, err := c.chain()
	if err != nil {
		return err
	}
	if !ch.Builtin {
		return Errorf(c.op.Pos, "cannot set a policy on user chain %q", ch.Name)
	}
	ch.Policy = c.op.Policy
	return nil
}

// deleteChain is -X [chain].
func (c *command) deleteChain() *Error {
	t, op := c.t, c.op
	if op.Chain == "" {
		if err := c.readAll(); err != nil {
			return err
		}
		for _, ch := range slices.Clone(t.Chains) {
			if !ch.Builtin {
				if err := t.deleteChain(ch, op.Pos); err != nil {
					return err
				}
			}
		}
		return nil
	}
	ch, err := c.readChain()
	if err != nil {
		return err
	}
	if ch.Builtin {
		return Errorf(op.Pos, "cannot delete built-in chain %q", ch.Name)
	}
	return t.deleteChain(ch, op.Pos)
}

// rename is -E old new; every jump to the chain is renamed with it.
func (c *command) rename() *Error {
	t, op := c.t, c.op
	if err := c.readAll(); err != nil {
		return err
	}
	ch, err := c.chain()
	if err != nil {
		return err
	}
	if ch.Builtin {
		return Errorf(op.Pos, "cannot rename built-in chain %q", ch.Name)
	}
	if t.Chain(op.NewName) != nil {
		return Errorf(op.Pos, "cannot rename %q: chain %q already exists", ch.Name, op.NewName)
	}
	if err := checkChainName(op.NewName, op.Pos); err != nil {
		return err
	}
	for _, other := range t.Chains {
		for i, r := range other.Rules {
			if j, ok := r.Target.(*Jump); ok && j.Chain == ch.Name {
				rr := *r
				rr.Target = &Jump{Chain: op.NewName, Goto: j.Goto}
				rr.Digest = Digest{}
				other.Rules[i] = &rr
			}
		}
	}
	ch.Name = op.NewName
	t.reindex()
	return nil
}
