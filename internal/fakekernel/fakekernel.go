// Package fakekernel is a kernel.Backend in memory, for tests of what
// fw does with a kernel (internal/ops) without root and without one: it
// keeps tables per family and a generation that every change moves, and
// lets a test inject what a real kernel does to a restore on a busy host,
// a refusal (Refuse) and another writer changing the tables between the
// operation's reading and its commit (BeforeCommit, Write).
//
// It behaves as nf_tables does by default: a Session reads at one
// generation, and a commit given that Session fails with
// kernel.ErrRulesetChanged when the generation moved since. With Lock it
// behaves as legacy x_tables under the xtables lock instead: a Session
// holds the lock, and writes by others (Write) wait until it is closed.
package fakekernel

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// Backend is the fake kernel. The zero value holds no tables; set the
// options before first use.
type Backend struct {
	// Partial makes Session.Table leave every chain that has rules
	// Unread, as the nf_tables backend reads a table for --noflush.
	Partial bool
	// Lock makes a Session hold a lock, as legacy's xtables lock: Write
	// waits until the Session is closed, and nothing can change under
	// the reading.
	Lock bool
	// Retries bounds how often Session.Again says to read again
	// (DefaultRetries when 0).
	Retries int
	// Restarts makes Stream hand the sink everything twice, restarting
	// it in between (table.Restarter), as an nf_tables dump that saw the
	// generation move reads again; a sink that cannot restart gets
	// kernel.ErrRulesetChanged.
	Restarts bool
	// BeforeCommit, when set, runs at the start of the n-th Commit
	// (from 1), before anything is checked: another writer, between the
	// operation's reading and its commit.
	BeforeCommit func(n int)

	mu       sync.Mutex
	tables   map[table.Family][]*table.Table // in the order Tables lists them
	gen      uint64
	refusals []Refusal
	commits  []Commit
	held     bool     // a Session holds the lock (Lock)
	waiting  []func() // writes waiting for the lock
}

// DefaultRetries is Session.Again's bound when Backend.Retries is 0.
const DefaultRetries = 5

// Name is "fake".
func (b *Backend) Name() string { return "fake" }

var _ kernel.Backend = (*Backend)(nil)

func opErr(op, tbl string, err error) error {
	return &kernel.OpError{Backend: "fake", Op: op, Table: tbl, Err: err}
}

// Refusal is something the fake kernel refuses to commit: a whole table
// (Rule empty) or, in it, any rule whose text (table.RuleText, protocols
// as numbers) contains Rule.
type Refusal struct {
	Table string
	Rule  string
	Err   error // syscall.EINVAL when nil
}

// Refuse makes every later commit that holds what r names fail, as the
// kernel refuses a rule an extension's check rejects.
func (b *Backend) Refuse(r Refusal) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refusals = append(b.refusals, r)
}

// Commit is a commit the fake kernel took (or refused), for tests to
// check what an operation asked for.
type Commit struct {
	Tables []string // in the order given
	// Opt is the commit's options; its Session is nil, and HadSession
	// says whether it had one.
	Opt        kernel.CommitOptions
	HadSession bool
	Err        error
}

// Commits returns the commits so far.
func (b *Backend) Commits() []Commit {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Commit(nil), b.commits...)
}

// Gen is the generation: how many changes the tables have seen.
func (b *Backend) Gen() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gen
}

// Put makes rs's tables what the kernel holds for its family, replacing
// every table it had.
func (b *Backend) Put(rs *table.Ruleset) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tables == nil {
		b.tables = map[table.Family][]*table.Table{}
	}
	var ts []*table.Table
	for _, t := range rs.Tables {
		ts = append(ts, t.Clone())
	}
	b.tables[rs.Family] = ts
	b.gen++
}

// Write is another program changing family f's tables: change gets them
// (in place) and the generation moves. With Lock, while a Session holds
// the lock, the write waits (it runs when the Session is closed), as
// iptables -w waits for the xtables lock.
func (b *Backend) Write(f table.Family, change func(rs *table.Ruleset)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := func() {
		rs := &table.Ruleset{Family: f, Tables: b.tables[f]}
		change(rs)
		if b.tables == nil {
			b.tables = map[table.Family][]*table.Table{}
		}
		b.tables[f] = rs.Tables
		b.gen++
	}
	if b.Lock && b.held {
		b.waiting = append(b.waiting, w)
		return
	}
	w()
}

// Ruleset returns a copy of what the kernel holds for family f.
func (b *Backend) Ruleset(f table.Family) *table.Ruleset {
	b.mu.Lock()
	defer b.mu.Unlock()
	rs := &table.Ruleset{Family: f}
	for _, t := range b.tables[f] {
		rs.Tables = append(rs.Tables, t.Clone())
	}
	return rs
}

// table returns the kernel's table name of family f, or nil. b.mu is held.
func (b *Backend) table(f table.Family, name string) *table.Table {
	for _, t := range b.tables[f] {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func (b *Backend) Tables(f table.Family) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var names []string
	for _, t := range b.tables[f] {
		names = append(names, t.Name)
	}
	return names, nil
}

// Load returns copies of the named tables (every table when names is
// nil); a table the kernel does not have reads as a new, empty one.
func (b *Backend) Load(f table.Family, names []string) (*table.Ruleset, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.load(f, names)
}

func (b *Backend) load(f table.Family, names []string) (*table.Ruleset, error) {
	rs := &table.Ruleset{Family: f}
	if names == nil {
		for _, t := range b.tables[f] {
			rs.Tables = append(rs.Tables, t.Clone())
		}
		return rs, nil
	}
	for _, name := range names {
		t := b.table(f, name)
		if t != nil {
			t = t.Clone()
		} else if t = table.NewTable(name); t == nil {
			return nil, opErr("read", name, fmt.Errorf("unknown table %q", name))
		}
		rs.Tables = append(rs.Tables, t)
	}
	return rs, nil
}

// Stream is Load into sink (twice, with Restarts).
func (b *Backend) Stream(f table.Family, names []string, sink table.Sink) error {
	rs, err := b.Load(f, names)
	if err != nil {
		return err
	}
	if b.Restarts {
		if err := rs.Emit(sink); err != nil {
			return err
		}
		if r, ok := sink.(table.Restarter); !ok || !r.Restart() {
			return opErr("read", "", kernel.ErrRulesetChanged)
		}
	}
	return rs.Emit(sink)
}

func (b *Backend) StreamRestarts() bool { return b.Restarts }

// Skeleton returns the named tables' built-in chains with their policies
// and policy counters, without rules.
func (b *Backend) Skeleton(f table.Family, names []string) (*table.Ruleset, error) {
	rs, err := b.Load(f, names)
	if err != nil {
		return nil, err
	}
	for _, t := range rs.Tables {
		var builtin []*table.Chain
		for _, c := range t.Chains {
			if c.Builtin {
				c.Rules = nil
				builtin = append(builtin, c)
			}
		}
		t.Chains = builtin
	}
	return rs, nil
}

// UsesDigests is false: the fake compares nothing.
func (b *Backend) UsesDigests(kernel.CommitOptions) bool { return false }

// Begin starts a reading at the current generation; with Lock it takes
// the lock, and fails with kernel.ErrLockBusy while another Session
// holds it.
func (b *Backend) Begin(f table.Family) (kernel.Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Lock {
		if b.held {
			return nil, fmt.Errorf("%w (fake)", kernel.ErrLockBusy)
		}
		b.held = true
	}
	return &session{b: b, f: f, gen: b.gen, locked: b.Lock}, nil
}

// session is a reading of the fake kernel.
type session struct {
	b      *Backend
	f      table.Family
	gen    uint64
	tries  int
	locked bool // holds the lock
}

// moved fails a read when the generation moved since the reading began.
// b.mu is held.
func (s *session) moved(tbl string) error {
	if s.b.gen != s.gen {
		return opErr("read", tbl, kernel.ErrRulesetChanged)
	}
	return nil
}

func (s *session) Table(name string) (*table.Table, error) {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := s.moved(name); err != nil {
		return nil, err
	}
	rs, err := b.load(s.f, []string{name})
	if err != nil {
		return nil, err
	}
	t := rs.Tables[0]
	if b.Partial {
		for _, c := range t.Chains {
			if len(c.Rules) > 0 {
				c.Rules, c.Unread = nil, true
			}
		}
	}
	return t, nil
}

func (s *session) Chain(tbl, chain string) ([]*table.Rule, error) {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := s.moved(tbl); err != nil {
		return nil, err
	}
	if t := b.table(s.f, tbl); t != nil {
		if c := t.Chain(chain); c != nil {
			return append([]*table.Rule(nil), c.Rules...), nil
		}
	}
	return nil, opErr("read", tbl, fmt.Errorf("no chain %q", chain))
}

// Again reads at the current generation, up to Retries times; never
// under the lock, where nothing changes.
func (s *session) Again() bool {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	retries := b.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	if s.locked || s.tries >= retries {
		return false
	}
	s.tries++
	s.gen = b.gen
	return true
}

// Close lets go of the lock and runs the writes that waited for it.
func (s *session) Close() error {
	b := s.b
	b.mu.Lock()
	if !s.locked {
		b.mu.Unlock()
		return nil
	}
	s.locked, b.held = false, false
	waiting := b.waiting
	b.waiting = nil
	b.mu.Unlock()
	for _, w := range waiting {
		b.locked(w)
	}
	return nil
}

// locked runs f with b.mu held.
func (b *Backend) locked(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f()
}

// Commit makes rs's tables what the kernel holds, all of them or none:
// it fails, changing nothing, when a table has a refused rule, when the
// tables were read in part by a Session the generation moved away from,
// when they were read in part and the commit would replace them whole, or
// (Lock) when a Session other than opt's holds the lock.
// A chain left Unread keeps the rules the kernel has. With opt.Test
// (and Scratch) it checks the same and changes nothing.
func (b *Backend) Commit(rs *table.Ruleset, opt kernel.CommitOptions) error {
	b.mu.Lock()
	n := len(b.commits) + 1
	b.mu.Unlock()
	if b.BeforeCommit != nil {
		b.BeforeCommit(n)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.commit(rs, opt)
	rec := Commit{Opt: opt, HadSession: opt.Session != nil, Err: err}
	rec.Opt.Session = nil
	for _, t := range rs.Tables {
		rec.Tables = append(rec.Tables, t.Name)
	}
	b.commits = append(b.commits, rec)
	return err
}

func (b *Backend) commit(rs *table.Ruleset, opt kernel.CommitOptions) error {
	op := "commit"
	if opt.Test {
		op = "check"
	}
	f := rs.Family
	s, _ := opt.Session.(*session)
	if opt.Session != nil && (s == nil || s.b != b || s.f != f) {
		return opErr(op, "", fmt.Errorf("the session is not one of this backend's readings of the family"))
	}
	if b.Lock && b.held && s == nil {
		// Legacy would wait for the lock; a test would hang.
		return fmt.Errorf("%w: a session holds it (fake)", kernel.ErrLockBusy)
	}
	for _, t := range rs.Tables {
		if t.Partial() && !(opt.NoFlush || opt.Incremental) {
			return opErr(op, t.Name, kernel.ErrUnread)
		}
		if t.Partial() && s == nil {
			return opErr(op, t.Name, fmt.Errorf("a table with unread chains came without the session that read it"))
		}
	}
	if s != nil && s.gen != b.gen {
		return opErr(op, "", kernel.ErrRulesetChanged)
	}
	for _, t := range rs.Tables {
		if err := b.refused(t); err != nil {
			return opErr(op, t.Name, err)
		}
	}
	if opt.Test {
		return nil
	}
	for i := len(rs.Tables) - 1; i >= 0; i-- {
		t := rs.Tables[i].Clone()
		old := b.table(f, t.Name)
		for _, c := range t.Chains {
			if !c.Unread {
				continue
			}
			c.Rules, c.Unread = nil, false
			if old != nil {
				if oc := old.Chain(c.Name); oc != nil {
					c.Rules = append(c.Rules, oc.Rules...)
				}
			}
		}
		b.replace(f, t)
	}
	b.gen++
	if s != nil {
		s.gen = b.gen
	}
	return nil
}

// replace puts t in place of the table of its name; a new table goes
// first, as the legacy kernel lists a table it has just made. b.mu is
// held.
func (b *Backend) replace(f table.Family, t *table.Table) {
	if b.tables == nil {
		b.tables = map[table.Family][]*table.Table{}
	}
	ts := b.tables[f]
	for i, o := range ts {
		if o.Name == t.Name {
			ts[i] = t
			return
		}
	}
	b.tables[f] = append([]*table.Table{t}, ts...)
}

// refused returns the kernel's refusal of t, or nil.
func (b *Backend) refused(t *table.Table) error {
	for _, r := range b.refusals {
		if r.Table != t.Name {
			continue
		}
		errno := r.Err
		if errno == nil {
			errno = syscall.EINVAL
		}
		if r.Rule == "" {
			return errno
		}
		for _, c := range t.Chains {
			for i, rule := range c.Rules {
				var w table.Writer
				table.RuleText(&w, rule, func(p uint8) string { return strconv.Itoa(int(p)) })
				if strings.Contains(w.String(), r.Rule) {
					return &kernel.RuleError{Table: t.Name, Chain: c.Name, Index: i + 1, Rule: rule, Err: errno}
				}
			}
		}
	}
	return nil
}
