package table

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
