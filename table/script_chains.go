package table

import (
	"fmt"
	"slices"
)

// What the restore commands (script_cmds.go) do to a table's chains,
// and what an Applier does to a table as a block opens.

// Clone returns a deep copy of the table's chains and rule lists; rules and
// their extension values are shared, since nothing changes them in place.
func (t *Table) Clone() *Table {
	c := &Table{Name: t.Name, Chains: make([]*Chain, len(t.Chains))}
	for i, ch := range t.Chains {
		cc := *ch
		cc.Rules = slices.Clone(ch.Rules)
		c.Chains[i] = &cc
	}
	return c
}

// flushAll is what a restore without --noflush does to a table: every rule
// and user chain goes, built-in policies stay, their counters restart.
// User chains keep accepts stay as they are, until the file declares them.
func (t *Table) flushAll(keep func(string) bool) {
	kept := t.Chains[:0]
	var still map[string]bool
	for _, c := range t.Chains {
		switch {
		case c.Builtin:
			c.Rules, c.Unread = nil, false
			c.Counters = Counters{}
		case keep != nil && keep(c.Name):
			if still == nil {
				still = map[string]bool{}
			}
			still[c.Name] = true
		default:
			continue
		}
		kept = append(kept, c)
	}
	t.Chains, t.keptChains = kept, still
}

// takeOver empties a chain the file declares that it did not make: one
// that was there with --noflush, or that Keep kept.
func (t *Table) takeOver(c *Chain) {
	delete(t.keptChains, c.Name)
	c.Rules, c.Unread = nil, false
}

// read gets the rules of an Unread chain for the command at pos.
func (t *Table) read(c *Chain, opt ApplyOptions, pos Pos) *Error {
	if !c.Unread {
		return nil
	}
	if opt.ReadChain == nil {
		return Errorf(pos, "the rules of chain %q of table %q were not read", c.Name, t.Name)
	}
	rs, err := opt.ReadChain(t.Name, c.Name)
	if err != nil {
		e := Errorf(pos, "cannot read chain %q of table %q: %v", c.Name, t.Name, err)
		e.Err = err
		return e
	}
	c.Rules, c.Unread = rs, false
	return nil
}

// readAll reads every Unread chain of the table.
func (t *Table) readAll(opt ApplyOptions, pos Pos) *Error {
	for _, c := range t.Chains {
		if err := t.read(c, opt, pos); err != nil {
			return err
		}
	}
	return nil
}

func (c *Chain) zero() {
	c.Counters = Counters{}
	for i, r := range c.Rules {
		rr := *r
		rr.Counters = Counters{}
		c.Rules[i] = &rr
	}
}

func (t *Table) newChain(op *Op) *Error {
	if err := checkChainName(op.Chain, op.Pos); err != nil {
		return err
	}
	if len(t.chainSlab) == 0 {
		t.chainSlab = make([]Chain, 1024)
	}
	c := &t.chainSlab[0]
	t.chainSlab = t.chainSlab[1:]
	c.Name = op.Chain
	t.addChain(c)
	return nil
}

// appendRules grows chains out of a shared slab: a kube-proxy table has
// tens of thousands of chains of one to three rules, and growing each one
// by append would cost two or three allocations per chain.
func (t *Table) appendRules(c *Chain, rs []*Rule) {
	n := len(c.Rules) + len(rs)
	if n > cap(c.Rules) {
		size := max(n, 2*cap(c.Rules), 4)
		if len(t.ruleSlab) < size {
			t.ruleSlab = make([]*Rule, max(size, 4096))
		}
		grown := t.ruleSlab[:len(c.Rules):size]
		t.ruleSlab = t.ruleSlab[size:]
		copy(grown, c.Rules)
		c.Rules = grown
	}
	c.Rules = append(c.Rules, rs...)
}

// checkChainName refuses what libiptc refuses (too long, a verdict name)
// and what it lets through but nobody means: a built-in chain name used
// for a user chain, names starting with '-' or '!' that cannot be written
// back, and whitespace.
func checkChainName(name string, pos Pos) *Error {
	switch {
	case name == "":
		return Errorf(pos, "empty chain name")
	case len(name) > MaxChainName:
		return Errorf(pos, "chain name %q is too long (%d bytes, at most %d)", name, len(name), MaxChainName)
	case name[0] == '-' || name[0] == '!':
		return Errorf(pos, "chain name %q cannot start with %q", name, name[:1])
	}
	if _, ok := VerdictByName(name); ok {
		return Errorf(pos, "chain name %q is a verdict", name)
	}
	if _, ok := HookByName(name); ok {
		return Errorf(pos, "%q is a built-in chain name and cannot name a user chain", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == 0x7f {
			return Errorf(pos, "chain name %q contains a space or control character", name)
		}
	}
	return nil
}

func (t *Table) checkJumps(rs []*Rule, pos Pos) *Error {
	for _, r := range rs {
		j, ok := r.Target.(*Jump)
		if !ok {
			continue
		}
		c := t.Chain(j.Chain)
		if c == nil {
			return Errorf(pos, "chain or target %q does not exist", j.Chain).Hinted(fmt.Sprintf("declare the chain before the first rule that jumps to it: ':%s - [0:0]'", j.Chain))
		}
		if c.Builtin {
			return Errorf(pos, "cannot jump to built-in chain %q", j.Chain)
		}
		// The jump shares the chain's name, one string for every
		// jump to it.
		j.to, j.Chain = c, c.Name
	}
	return nil
}

// deleteChain deletes c when it is empty and no rule the table knows of
// jumps to it (rules of Unread chains are the kernel's to check).
func (t *Table) deleteChain(c *Chain, pos Pos) *Error {
	if len(c.Rules) > 0 {
		return Errorf(pos, "cannot delete chain %q: it still has %d rules", c.Name, len(c.Rules)).Hinted("flush it first with -F")
	}
	for _, ch := range t.Chains {
		for _, r := range ch.Rules {
			if j, ok := r.Target.(*Jump); ok && j.Chain == c.Name {
				return Errorf(pos, "cannot delete chain %q: chain %q jumps to it", c.Name, ch.Name)
			}
		}
	}
	t.Chains = slices.DeleteFunc(t.Chains, func(x *Chain) bool { return x == c })
	if t.deletedAt == nil {
		t.deletedAt = map[string]Pos{}
	}
	t.deletedAt[c.Name] = pos
	return nil
}

// DeletedAt tells where the script deleted chain name (-X), if it did.
// Jumps from Unread chains are not seen by the script's own check, so
// the kernel may still refuse the deletion; its refusal names this line.
func (t *Table) DeletedAt(name string) (Pos, bool) {
	p, ok := t.deletedAt[name]
	return p, ok
}

// SameRule reports whether two rules mean the same to the kernel (what -D
// by specification compares): same header, matches and target, printed
// canonically. Counters do not count.
func SameRule(a, b *Rule) bool {
	if a.IP != b.IP || len(a.Matches) != len(b.Matches) {
		return false
	}
	var wa, wb Writer
	RuleText(&wa, a, protoNumber)
	RuleText(&wb, b, protoNumber)
	return string(wa.Bytes()) == string(wb.Bytes())
}

func protoNumber(p uint8) string { return fmt.Sprint(p) }
