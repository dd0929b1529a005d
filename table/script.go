package table

import (
	"fmt"
	"slices"
)

// OpKind is one restore-file command.
type OpKind uint8

const (
	OpDeclare     OpKind = iota // ":CHAIN POLICY [p:b]"
	OpAppend                    // -A
	OpInsert                    // -I [n]
	OpDelete                    // -D spec
	OpDeleteNum                 // -D n
	OpReplace                   // -R n
	OpNewChain                  // -N
	OpDeleteChain               // -X [chain]
	OpFlush                     // -F [chain]
	OpZero                      // -Z [chain [n]]
	OpPolicy                    // -P chain verdict
	OpRename                    // -E old new
)

var opNames = [...]string{"chain declaration", "append", "insert", "delete", "delete", "replace",
	"new chain", "delete chain", "flush", "zero", "policy", "rename"}

func (k OpKind) String() string { return opNames[k] }

// Op is one command of a restore script. A rule line that names several
// addresses expands to several kernel rules, hence Rules.
type Op struct {
	Kind  OpKind
	Pos   Pos
	Chain string // "" for -F, -X, -Z without a chain
	Rules []*Rule
	Num   int // rule number (1-based) for -I, -D n, -R, -Z; 0 when absent
	// Policy is the verdict of -P or of a declaration; 0 is "-".
	Policy Verdict
	// Counters are the [p:b] of a declaration or the leading [p:b] of a
	// rule line, when HasCounters.
	Counters    Counters
	HasCounters bool
	NewName     string // -E
}

// Block is the part of a restore file between "*table" and COMMIT.
type Block struct {
	Table  string
	Pos    Pos
	Ops    []Op
	Commit Pos
}

// Script is a whole restore file.
type Script struct {
	Family Family
	Blocks []Block
}

// ApplyOptions are the restore flags that change what a script means.
type ApplyOptions struct {
	// NoFlush keeps the rules already in the table (iptables-restore -n).
	NoFlush bool
	// Counters makes the [p:b] of declarations and rule lines count
	// (iptables-restore -c).
	Counters bool
	// ReadChain reads the rules of an Unread chain of a table a block
	// starts from, when a command needs them (append, insert, replace,
	// delete, zero, rename, delete chain). Commands that empty a chain
	// without looking at it (a declaration with NoFlush, -F) just mark
	// it read. Without ReadChain such a command is an error.
	ReadChain func(table, chain string) ([]*Rule, error)
	// Keep names user chains a restore without NoFlush leaves as the
	// table it starts from has them (rules and all) instead of deleting
	// them, unless the file declares them: a host's rules file restored
	// beside Docker's or kube-proxy's chains. Rules the file writes may
	// jump to them. nil keeps none.
	Keep func(chain string) bool
	// OwnBase says the tables the Applier's base gives are its own to
	// change (nothing else holds them), so it need not copy them: a
	// kube-proxy table has 35,000 chains.
	OwnBase bool
	// NewTable is called for a table the ruleset does not have yet; nil
	// means NewTable. The legacy kernel puts new tables first in its list,
	// which is the order iptables-legacy-save prints; Apply does the same.
	NewTable func(name string) *Table
	// NFTCompat validates for nf_tables' compat layer (iptables-nft),
	// where the kernel skips some of an extension's checks (CheckContext).
	NFTCompat bool
}

// Apply runs the script against rs, as iptables-legacy-restore would run it
// against the kernel, and validates every table it touched. On error rs is
// unchanged: the script runs on copies that replace the originals only
// when every block succeeded. All errors found are returned as an
// ErrorList.
func (s *Script) Apply(rs *Ruleset, opt ApplyOptions) error {
	a := NewApplier(s.Family, opt, rs.Table)
	for bi := range s.Blocks {
		b := &s.Blocks[bi]
		a.Begin(b.Table, b.Pos)
		for i := range b.Ops {
			a.Op(&b.Ops[i])
		}
		a.Commit()
	}
	return a.Finish(rs)
}

// Applier runs a restore script as it is decoded, block by block and op
// by op, so that a 100k-line file never exists as a list of operations:
// Begin at "*table", Op for every command, Commit at COMMIT, then Finish.
// It works on copies of the tables it starts from and validates each
// block at its COMMIT, as Script.Apply does.
type Applier struct {
	fam  Family
	opt  ApplyOptions
	base func(name string) *Table

	work  map[string]*Table
	order []string        // tables in the order they are first touched
	begun map[string]bool // tables a block has been opened for
	// policySet holds, per table, the built-in chains whose policy the
	// script sets (a declaration with a policy, or -P).
	policySet map[string]HookMask
	// zeroed says the script zeroes counters (-Z).
	zeroed  bool
	cur     *Table
	curErrs int
	errs    ErrorList
}

// NewApplier returns an Applier for family f. base gives the table a
// block of a table not touched yet starts from (it is cloned, never
// changed, unless opt.OwnBase); nil or a nil result means a new, empty
// table.
func NewApplier(f Family, opt ApplyOptions, base func(name string) *Table) *Applier {
	return &Applier{fam: f, opt: opt, base: base, work: map[string]*Table{}, begun: map[string]bool{}, policySet: map[string]HookMask{}}
}

// Full reports whether so many errors were found that looking further
// is pointless.
func (a *Applier) Full() bool { return len(a.errs) >= MaxErrors }

// Begin opens a block of table name.
func (a *Applier) Begin(name string, pos Pos) {
	a.cur = nil
	if a.Full() {
		return
	}
	t, ok := a.work[name]
	if !ok {
		var old *Table
		if a.base != nil {
			old = a.base(name)
		}
		if old != nil && a.opt.OwnBase {
			t = old
		} else if old != nil {
			t = old.Clone()
		} else {
			if a.opt.NewTable != nil {
				t = a.opt.NewTable(name)
			} else {
				t = NewTable(name)
			}
			if t == nil {
				a.errs.Add(Errorf(pos, "unknown table %q", name).Hinted("tables are filter, nat, mangle, raw and security"))
				return
			}
		}
		a.work[name] = t
		a.order = append(a.order, name)
	}
	if !a.opt.NoFlush {
		keep := a.opt.Keep
		if a.begun[name] {
			// A second block of the table replaces it again: what
			// stays is what the first kept and the file left alone.
			keep = func(c string) bool { return t.keptChains[c] }
		}
		t.flushAll(keep)
	}
	a.begun[name] = true
	a.cur, a.curErrs = t, len(a.errs)
}

// Op applies one command of the open block.
func (a *Applier) Op(op *Op) {
	if a.cur == nil || a.Full() {
		return
	}
	if err := a.cur.apply(op, a.opt); err != nil {
		a.errs.Add(err)
		return
	}
	if op.Kind == OpZero {
		a.zeroed = true
	}
	if op.Kind == OpDeclare && op.Policy != 0 || op.Kind == OpPolicy {
		if h, ok := HookByName(op.Chain); ok {
			a.policySet[a.cur.Name] |= h.Mask()
		}
	}
}

// Commit closes the block and validates its table, unless the block had
// errors already.
func (a *Applier) Commit() {
	if a.cur != nil && len(a.errs) == a.curErrs {
		for _, err := range a.cur.ValidateFor(a.fam, a.opt.NFTCompat) {
			if a.errs.Add(err) {
				break
			}
		}
	}
	a.cur = nil
}

// Zeroed reports whether the script zeroes counters (-Z): the tables it
// touched are then to be written with their counters, even where their
// rules are what the kernel has.
func (a *Applier) Zeroed() bool { return a.zeroed }

// Tables lists the tables the script touched, in the order it first
// names them.
func (a *Applier) Tables() []string { return a.order }

// UnsetPolicies lists the tables in which some built-in chain gets no
// policy from the script: without NoFlush, a restore keeps the kernel's
// policy there.
func (a *Applier) UnsetPolicies() []string {
	var out []string
	for _, name := range a.order {
		info := LookupTable(name)
		if info != nil && a.policySet[name]&info.Hooks != info.Hooks {
			out = append(out, name)
		}
	}
	return out
}

// PolicySet reports whether the script set the policy of built-in chain
// chain of table name.
func (a *Applier) PolicySet(name, chain string) bool {
	h, ok := HookByName(chain)
	return ok && a.policySet[name]&h.Mask() != 0
}

// Finish returns every error found, sorted, and otherwise puts the tables
// the script touched into rs: replacing tables of the same name, new ones
// in front (the legacy kernel puts new tables first in its list, which is
// the order iptables-legacy-save prints).
func (a *Applier) Finish(rs *Ruleset) error {
	if a.zeroed && len(a.errs) == 0 {
		// Tables whose counters are zeroed are written whole, with
		// every rule: the chains not read yet are read now.
		for _, name := range a.order {
			if err := a.work[name].readAll(a.opt, Pos{}); err != nil {
				a.errs.Add(err)
				break
			}
		}
	}
	if len(a.errs) > 0 {
		a.errs.Sort()
		return a.errs
	}
	for _, name := range a.order {
		t := a.work[name]
		t.SortChains()
		replaced := false
		for i, old := range rs.Tables {
			if old.Name == name {
				rs.Tables[i] = t
				replaced = true
			}
		}
		if !replaced {
			rs.Tables = append([]*Table{t}, rs.Tables...)
		}
	}
	return nil
}

func (e *Error) Hinted(h string) *Error {
	e.Hint = h
	return e
}

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

func (t *Table) apply(op *Op, opt ApplyOptions) *Error {
	info := LookupTable(t.Name)
	chain := func() (*Chain, *Error) {
		c := t.Chain(op.Chain)
		if c == nil {
			e := Errorf(op.Pos, "chain %q does not exist in table %q", op.Chain, t.Name)
			if info != nil && !info.HasChain(op.Chain) {
				if _, builtin := HookByName(op.Chain); builtin {
					e.Hint = fmt.Sprintf("table %s has the built-in chains %v", t.Name, info.Chains())
				} else {
					e.Hint = fmt.Sprintf("declare it first with ':%s - [0:0]'", op.Chain)
				}
			}
			return nil, e
		}
		return c, nil
	}
	// readChain is chain with its rules read (see Chain.Unread).
	readChain := func() (*Chain, *Error) {
		c, err := chain()
		if err == nil {
			err = t.read(c, opt, op.Pos)
		}
		return c, err
	}
	// readAll reads every chain, for commands that look at them all.
	readAll := func() *Error { return t.readAll(opt, op.Pos) }
	rules := func() []*Rule {
		// Rules are values nothing changes in place (zeroing and
		// renaming replace them), so the table can share the script's.
		if !opt.Counters || !op.HasCounters {
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
	switch op.Kind {
	case OpDeclare:
		if info != nil && info.HasChain(op.Chain) {
			c := t.Chain(op.Chain)
			if op.Policy != 0 {
				c.Policy = op.Policy
			}
			if opt.Counters {
				if !op.HasCounters {
					return Errorf(op.Pos, "chain %q has no policy counters", op.Chain).Hinted("restoring with -c needs '[packets:bytes]' on built-in chain lines")
				}
				c.Counters = op.Counters
			}
			return nil
		}
		if op.Policy != 0 {
			if _, builtin := HookByName(op.Chain); builtin {
				return Errorf(op.Pos, "table %q has no built-in chain %q", t.Name, op.Chain).Hinted(fmt.Sprintf("its built-in chains are %v", info.Chains()))
			}
			return Errorf(op.Pos, "cannot set policy %s on user chain %q", op.Policy, op.Chain).Hinted("user chains are declared with '-' as policy")
		}
		if c := t.Chain(op.Chain); c != nil {
			if !opt.NoFlush && !t.keptChains[op.Chain] {
				return Errorf(op.Pos, "chain %q is declared twice", op.Chain)
			}
			t.takeOver(c)
			return nil
		}
		return t.newChain(op)
	case OpNewChain:
		if c := t.Chain(op.Chain); c != nil {
			if !t.keptChains[op.Chain] {
				return Errorf(op.Pos, "chain %q already exists", op.Chain)
			}
			t.takeOver(c)
			return nil
		}
		return t.newChain(op)
	case OpAppend:
		c, err := readChain()
		if err != nil {
			return err
		}
		rs := rules()
		if err := t.checkJumps(rs, op.Pos); err != nil {
			return err
		}
		t.appendRules(c, rs)
	case OpInsert:
		c, err := readChain()
		if err != nil {
			return err
		}
		n := op.Num
		if n == 0 {
			n = 1
		}
		if n > len(c.Rules)+1 {
			return Errorf(op.Pos, "cannot insert at rule %d: chain %q has %d rules", n, c.Name, len(c.Rules))
		}
		rs := rules()
		if err := t.checkJumps(rs, op.Pos); err != nil {
			return err
		}
		// iptables inserts each expanded rule at the same position, so
		// they end up in reverse order.
		for _, r := range rs {
			c.Rules = slices.Insert(c.Rules, n-1, r)
		}
	case OpReplace:
		c, err := readChain()
		if err != nil {
			return err
		}
		if len(op.Rules) != 1 {
			return Errorf(op.Pos, "-R needs a rule with a single source and destination address")
		}
		if op.Num < 1 || op.Num > len(c.Rules) {
			return Errorf(op.Pos, "cannot replace rule %d: chain %q has %d rules", op.Num, c.Name, len(c.Rules))
		}
		rs := rules()
		if err := t.checkJumps(rs, op.Pos); err != nil {
			return err
		}
		c.Rules[op.Num-1] = rs[0]
	case OpDeleteNum:
		c, err := readChain()
		if err != nil {
			return err
		}
		if op.Num < 1 || op.Num > len(c.Rules) {
			return Errorf(op.Pos, "cannot delete rule %d: chain %q has %d rules", op.Num, c.Name, len(c.Rules))
		}
		c.Rules = slices.Delete(c.Rules, op.Num-1, op.Num)
	case OpDelete:
		c, err := readChain()
		if err != nil {
			return err
		}
		for _, r := range op.Rules {
			i := slices.IndexFunc(c.Rules, func(x *Rule) bool { return SameRule(x, r) })
			if i < 0 {
				return Errorf(op.Pos, "no such rule in chain %q", c.Name).Hinted("-D deletes a rule only when every option matches an existing rule")
			}
			c.Rules = slices.Delete(c.Rules, i, i+1)
		}
	case OpFlush:
		if op.Chain == "" {
			for _, c := range t.Chains {
				c.Rules, c.Unread = nil, false
			}
			return nil
		}
		c, err := chain()
		if err != nil {
			return err
		}
		c.Rules, c.Unread = nil, false
	case OpZero:
		if op.Chain == "" {
			if err := readAll(); err != nil {
				return err
			}
			for _, c := range t.Chains {
				c.zero()
			}
			return nil
		}
		c, err := readChain()
		if err != nil {
			return err
		}
		if op.Num > 0 {
			if op.Num > len(c.Rules) {
				return Errorf(op.Pos, "cannot zero rule %d: chain %q has %d rules", op.Num, c.Name, len(c.Rules))
			}
			r := *c.Rules[op.Num-1]
			r.Counters = Counters{}
			c.Rules[op.Num-1] = &r
			return nil
		}
		c.zero()
	case OpPolicy:
		c, err := chain()
		if err != nil {
			return err
		}
		if !c.Builtin {
			return Errorf(op.Pos, "cannot set a policy on user chain %q", c.Name)
		}
		c.Policy = op.Policy
	case OpDeleteChain:
		if op.Chain == "" {
			if err := readAll(); err != nil {
				return err
			}
			for _, c := range slices.Clone(t.Chains) {
				if !c.Builtin {
					if err := t.deleteChain(c, op.Pos); err != nil {
						return err
					}
				}
			}
			return nil
		}
		c, err := readChain()
		if err != nil {
			return err
		}
		if c.Builtin {
			return Errorf(op.Pos, "cannot delete built-in chain %q", c.Name)
		}
		return t.deleteChain(c, op.Pos)
	case OpRename:
		// Every jump to the chain is renamed with it.
		if err := readAll(); err != nil {
			return err
		}
		c, err := chain()
		if err != nil {
			return err
		}
		if c.Builtin {
			return Errorf(op.Pos, "cannot rename built-in chain %q", c.Name)
		}
		if t.Chain(op.NewName) != nil {
			return Errorf(op.Pos, "cannot rename %q: chain %q already exists", c.Name, op.NewName)
		}
		if err := checkChainName(op.NewName, op.Pos); err != nil {
			return err
		}
		for _, ch := range t.Chains {
			for i, r := range ch.Rules {
				if j, ok := r.Target.(*Jump); ok && j.Chain == c.Name {
					rr := *r
					rr.Target = &Jump{Chain: op.NewName, Goto: j.Goto}
					rr.Digest = Digest{}
					ch.Rules[i] = &rr
				}
			}
		}
		c.Name = op.NewName
		t.reindex()
	}
	return nil
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
		// The chain's own copy of the name: the parser's points into
		// the input, which fw-restore releases (see format's own).
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
