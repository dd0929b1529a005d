package nft

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/table"
)

// Reading: one consistent snapshot of a family's nf_tables objects (the
// generation is read before and after the dumps, and the dumps are
// repeated when it moved), then the iptables view of it.

// printOrder is the order iptables-nft-save prints tables in (its enum
// order), whatever order they were created in.
var printOrder = []string{"mangle", "security", "raw", "filter", "nat"}

type rawTable struct {
	Name   string
	Flags  uint32
	Chains []*rawChain // in kernel order
	// RuleProblem is why a rule read is not in iptables' shape ("" when
	// every rule read is).
	RuleProblem string

	byName map[string]int // built by chainIndex on first use
}

// chainIndex returns the position in t.Chains of the chain called name,
// or -1. kube-proxy tables have tens of thousands of chains: the first
// lookup indexes them.
func (t *rawTable) chainIndex(name string) int {
	if len(t.byName) != len(t.Chains) {
		t.byName = make(map[string]int, len(t.Chains))
		for i, c := range t.Chains {
			t.byName[c.Name] = i
		}
	}
	if i, ok := t.byName[name]; ok {
		return i
	}
	return -1
}

type rawChain struct {
	Name     string
	Handle   uint64
	Base     bool
	Hook     uint32
	Prio     int32
	Type     string
	Policy   uint32
	Counters *table.Counters // base chains created with NFTA_CHAIN_COUNTERS
	Flags    uint32
	Rules    []rawRule
}

type rawRule struct {
	Handle   uint64
	Exprs    []rawExpr
	UserData []byte
	// Raw is the content of NFTA_RULE_EXPRESSIONS.
	Raw []byte
	// Key is exprKey(Raw) (readKeys), zero for a rule with userdata: nft
	// wrote it, and it is never one fw would write.
	Key table.Digest
}

// rawExpr is one expression as the kernel lists it: its name and the
// attributes of NFTA_EXPR_DATA.
type rawExpr struct {
	Name string
	Data []byte
}

type snapshot struct {
	GenID  uint32
	Tables map[string]*rawTable
}

// readMode says how much of the rules readSnapshot keeps.
type readMode uint8

const (
	// readGate checks every rule against iptables-nft-save's expression
	// gate and keeps nothing of it: all a full restore needs to know
	// before it replaces a table.
	readGate readMode = iota
	// readFull keeps every rule (expressions and their bytes).
	readFull
	// readKeys keeps of every rule its handle and its Key, all an
	// incremental commit compares, with the values of its counters
	// zeroed first (readKeysCounted: as they are).
	readKeys
	readKeysCounted
)

// readSnapshot dumps the tables and chains of family f, and the rules of
// the chains rulesOf accepts (nil: none) as mode says.
func readSnapshot(c *conn, f table.Family, rulesOf func(tbl, chain string) bool, mode readMode) (*snapshot, error) {
	fam := nfproto(f)
	for attempt := 0; ; attempt++ {
		gen, err := c.genID()
		if err != nil {
			return nil, err
		}
		s := &snapshot{GenID: gen, Tables: map[string]*rawTable{}}
		lerr := s.load(c, fam, rulesOf, mode)
		again, err := c.genID()
		if err != nil {
			return nil, err
		}
		if again == gen && !errors.Is(lerr, errDumpIntr) {
			if lerr != nil {
				return nil, lerr
			}
			return s, nil
		}
		// A dump is not atomic: read again until one dump sees one
		// generation throughout. Dumps are fast next to the pauses of
		// real writers, so a bounded count is enough.
		if attempt == 99 {
			return nil, fmt.Errorf("the nf_tables ruleset kept changing while fw was reading it (%d tries)", attempt+1)
		}
	}
}

// allTables asks readSnapshot for the rules of every table.
func allTables(string, string) bool { return true }

// someTables asks readSnapshot for the rules of the named tables.
func someTables(names ...string) func(string, string) bool {
	return func(t, _ string) bool { return slices.Contains(names, t) }
}

// arena hands out copies of dumped bytes from big blocks, so that a
// 100k-rule dump is a few dozen allocations rather than one per rule.
type arena struct {
	b  []byte
	ex []rawExpr
}

func (a *arena) bytes(b []byte) []byte {
	if cap(a.b)-len(a.b) < len(b) {
		a.b = make([]byte, 0, max(1<<20, len(b)))
	}
	n := len(a.b)
	a.b = append(a.b, b...)
	return a.b[n:len(a.b):len(a.b)]
}

func (a *arena) exprs(e []rawExpr) []rawExpr {
	if cap(a.ex)-len(a.ex) < len(e) {
		a.ex = make([]rawExpr, 0, max(1<<14, len(e)))
	}
	n := len(a.ex)
	a.ex = append(a.ex, e...)
	return a.ex[n:len(a.ex):len(a.ex)]
}

func (s *snapshot) load(c *conn, fam uint8, rulesOf func(tbl, chain string) bool, mode readMode) error {
	if err := s.list(c, fam); err != nil {
		return err
	}
	return s.loadRules(c, fam, rulesOf, mode)
}

// list dumps the tables and chains.
func (s *snapshot) list(c *conn, fam uint8) error {
	err := c.dump(unix.NFT_MSG_GETTABLE, fam, nil, func(b []byte) error {
		t, err := parseTable(b)
		if err != nil {
			return err
		}
		s.Tables[t.Name] = t
		return nil
	})
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	if len(s.Tables) == 0 {
		return nil
	}
	err = c.dump(unix.NFT_MSG_GETCHAIN, fam, nil, func(b []byte) error {
		tname, ch, err := parseChain(b)
		if err != nil {
			return err
		}
		if t := s.Tables[tname]; t != nil {
			t.Chains = append(t.Chains, ch)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list chains: %w", err)
	}
	return nil
}

// loadRules dumps the rules of the listed chains rulesOf accepts.
func (s *snapshot) loadRules(c *conn, fam uint8, rulesOf func(tbl, chain string) bool, mode readMode) error {
	// Rules are dumped chain by chain: the kernel finds a named chain
	// by hash, while a dump of a whole family walks again over every
	// rule already sent for each reply buffer, which is quadratic
	// (tens of seconds for 100000 rules, iptables-nft-save included).
	// The chains are shared out between sockets, as for a save (see
	// readChains); each chain is read by one of them.
	type job struct {
		t       *rawTable
		ch      *rawChain
		problem string // the first rule iptables-nft-save could not print
		err     error
	}
	var jobs []job
	for _, name := range s.names() {
		t := s.Tables[name]
		if rulesOf == nil {
			break
		}
		for _, ch := range t.Chains {
			if rulesOf(t.Name, ch.Name) {
				jobs = append(jobs, job{t: t, ch: ch})
			}
		}
	}
	conns := []*conn{c}
	if len(jobs) >= 64 {
		more, _ := dialSome(dumpSockets() - 1)
		for _, m := range more {
			defer m.close()
		}
		conns = append(conns, more...)
	}
	var next atomic.Int64
	var failed atomic.Bool
	read := func(c *conn) {
		var ar arena
		var scratch []rawExpr
		var filter nlbuf
		for !failed.Load() {
			k := int(next.Add(1)) - 1
			if k >= len(jobs) {
				return
			}
			j := &jobs[k]
			t, ch := j.t, j.ch
			filter.b = filter.b[:0]
			filter.str(unix.NFTA_RULE_TABLE, t.Name)
			filter.str(unix.NFTA_RULE_CHAIN, ch.Name)
			idx := 0
			err := c.dump(unix.NFT_MSG_GETRULE, fam, filter.b, func(b []byte) error {
				idx++
				tname, cname, r, err := parseRule(b, scratch[:0])
				if err != nil {
					return err
				}
				scratch = r.Exprs
				if string(tname) != t.Name || string(cname) != ch.Name {
					return fmt.Errorf("the kernel sent a rule of table %s chain %s", tname, cname)
				}
				if j.problem == "" {
					if why := r.incompatible(); why != "" {
						j.problem = fmt.Sprintf("chain %s rule %d: %s", ch.Name, idx, why)
					}
				}
				switch mode {
				case readFull:
					// Keep one copy of the message; the parsed
					// pieces point into it.
					kept := ar.bytes(b)
					r.rebase(b, kept)
					r.Exprs = ar.exprs(r.Exprs)
					ch.Rules = append(ch.Rules, r)
				case readKeys, readKeysCounted:
					if mode == readKeys {
						r.zeroCounters()
					}
					if r.UserData == nil {
						r.Key = exprKey(r.Raw)
					}
					ch.Rules = append(ch.Rules, rawRule{Handle: r.Handle, Key: r.Key})
				}
				return nil
			})
			if err != nil {
				j.err = fmt.Errorf("list rules of table %s chain %s: %w", t.Name, ch.Name, err)
				failed.Store(true)
				return
			}
		}
	}
	var wg sync.WaitGroup
	for _, rc := range conns[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			read(rc)
		}()
	}
	read(c)
	wg.Wait()
	for i := range jobs {
		j := &jobs[i]
		if j.err != nil {
			return j.err
		}
		if j.t.RuleProblem == "" {
			j.t.RuleProblem = j.problem
		}
	}
	return nil
}

// names lists the snapshot's tables in a fixed order (iptables tables
// in print order, then the others by name), so that reading is
// repeatable.
func (s *snapshot) names() []string {
	var out []string
	for n := range s.Tables {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func parseTable(b []byte) (*rawTable, error) {
	a := newAttrs(b)
	t := &rawTable{}
	for a.next() {
		switch a.typ {
		case unix.NFTA_TABLE_NAME:
			t.Name = a.str()
		case unix.NFTA_TABLE_FLAGS:
			t.Flags = a.u32()
		}
	}
	return t, a.err
}

func parseChain(b []byte) (string, *rawChain, error) {
	a := newAttrs(b)
	var tname string
	c := &rawChain{}
	for a.next() {
		switch a.typ {
		case unix.NFTA_CHAIN_TABLE:
			tname = a.str()
		case unix.NFTA_CHAIN_NAME:
			c.Name = a.str()
		case unix.NFTA_CHAIN_HANDLE:
			c.Handle = a.u64()
		case unix.NFTA_CHAIN_HOOK:
			c.Base = true
			n := a.nested()
			for n.next() {
				switch n.typ {
				case unix.NFTA_HOOK_HOOKNUM:
					c.Hook = n.u32()
				case unix.NFTA_HOOK_PRIORITY:
					c.Prio = int32(n.u32())
				}
			}
		case unix.NFTA_CHAIN_POLICY:
			c.Policy = a.u32()
		case unix.NFTA_CHAIN_TYPE:
			c.Type = a.str()
		case unix.NFTA_CHAIN_COUNTERS:
			var cnt table.Counters
			n := a.nested()
			for n.next() {
				switch n.typ {
				case unix.NFTA_COUNTER_PACKETS:
					cnt.Packets = n.u64()
				case unix.NFTA_COUNTER_BYTES:
					cnt.Bytes = n.u64()
				}
			}
			c.Counters = &cnt
		case attrChainFlags:
			c.Flags = a.u32()
		}
	}
	return tname, c, a.err
}

// exprNames are the expression names fw meets, interned so that reading
// a rule allocates no string for them.
var exprNames = []string{exPayload, exMeta, exCmp, exBitwise, exRange, exImmediate, exCounter, exMatch, exTarget, exLimit, exLog, "lookup"}

func internExpr(b []byte) string {
	for _, n := range exprNames {
		if string(b) == n {
			return n
		}
	}
	return string(b)
}

// parseRule reads a rule message in place: the expressions and userdata
// alias b, and exprs is reused for the expression list. Table and chain
// names alias b too.
func parseRule(b []byte, exprs []rawExpr) (tname, cname []byte, r rawRule, err error) {
	a := newAttrs(b)
	r.Exprs = exprs
	for a.next() {
		switch a.typ {
		case unix.NFTA_RULE_TABLE:
			tname = cstr(a.data)
		case unix.NFTA_RULE_CHAIN:
			cname = cstr(a.data)
		case unix.NFTA_RULE_HANDLE:
			r.Handle = a.u64()
		case unix.NFTA_RULE_USERDATA:
			r.UserData = a.data
		case unix.NFTA_RULE_EXPRESSIONS:
			r.Raw = a.data
			n := a.nested()
			for n.next() {
				if n.typ != unix.NFTA_LIST_ELEM {
					continue
				}
				var e rawExpr
				x := n.nested()
				for x.next() {
					switch x.typ {
					case unix.NFTA_EXPR_NAME:
						e.Name = internExpr(cstr(x.data))
					case unix.NFTA_EXPR_DATA:
						e.Data = x.data
					}
				}
				if x.err != nil {
					return nil, nil, r, x.err
				}
				r.Exprs = append(r.Exprs, e)
			}
			if n.err != nil {
				return nil, nil, r, n.err
			}
		}
	}
	return tname, cname, r, a.err
}

// rebase points the slices of r, which alias from, at the same bytes in
// to (a copy of from).
func (r *rawRule) rebase(from, to []byte) {
	re := func(s []byte) []byte {
		if s == nil {
			return nil
		}
		off := cap(from) - cap(s)
		return to[off : off+len(s) : off+len(s)]
	}
	r.UserData = re(r.UserData)
	r.Raw = re(r.Raw)
	for i := range r.Exprs {
		r.Exprs[i].Data = re(r.Exprs[i].Data)
	}
}

// baseChain is how iptables-nft 1.8.9 creates a built-in chain.
type baseChain struct {
	Type string
	Prio int32
}

// builtinChain returns the type and priority iptables-nft gives the
// built-in chain hook of table name. Security is 150 (not the legacy
// 50) and mangle OUTPUT is a route chain, as iptables-nft has them.
func builtinChain(name string, h table.Hook) baseChain {
	switch name {
	case "raw":
		return baseChain{"filter", -300}
	case "mangle":
		if h == table.Output {
			return baseChain{"route", -150}
		}
		return baseChain{"filter", -150}
	case "security":
		return baseChain{"filter", 150}
	case "nat":
		if h == table.PreRouting || h == table.Output {
			return baseChain{"nat", -100}
		}
		return baseChain{"nat", 100}
	}
	return baseChain{"filter", 0}
}

// compatibleExprs are the expressions iptables-nft-save accepts in a
// table (limit and log only in the forms it writes, checked apart).
var compatibleExprs = []string{"match", "target", "payload", "meta", "cmp", "bitwise", "counter", "immediate", "lookup", "range", "limit", "log"}

// incompatible tells why a table is not in the shape iptables-nft gives
// its tables (built-in chains with its hooks, priorities and types, only
// expressions it writes), or "" when it is. Such a table was made with
// nft and fw neither reads nor replaces it.
func (t *rawTable) incompatible() string {
	info := table.LookupTable(t.Name)
	if info == nil {
		return "it is not an iptables table"
	}
	seen := map[uint32]bool{}
	for _, c := range t.Chains {
		if !c.Base {
			if info.HasChain(c.Name) {
				return fmt.Sprintf("chain %s is a regular chain with a built-in chain's name", c.Name)
			}
			continue
		}
		h := table.Hook(c.Hook)
		if c.Hook >= uint32(table.NumHooks) || !info.HasChain(h.String()) {
			return fmt.Sprintf("base chain %s hooks into %s, which the %s table does not use", c.Name, hookName(c.Hook), t.Name)
		}
		want := builtinChain(t.Name, h)
		switch {
		case c.Name != h.String():
			return fmt.Sprintf("base chain %s hooks into %s, where iptables has chain %s", c.Name, h, h)
		case c.Type != want.Type:
			return fmt.Sprintf("base chain %s has type %s, iptables uses %s", c.Name, c.Type, want.Type)
		case c.Prio != want.Prio:
			return fmt.Sprintf("base chain %s has priority %d, iptables uses %d", c.Name, c.Prio, want.Prio)
		case seen[c.Hook]:
			return fmt.Sprintf("two base chains hook into %s", h)
		}
		seen[c.Hook] = true
	}
	return t.RuleProblem
}

func hookName(h uint32) string {
	if h < uint32(table.NumHooks) {
		return table.Hook(h).String()
	}
	return fmt.Sprintf("hook %d", h)
}

// incompatible is iptables-nft-save's expression gate for one rule.
func (r *rawRule) incompatible() string {
	for i := range r.Exprs {
		e := &r.Exprs[i]
		if !slices.Contains(compatibleExprs, e.Name) {
			return fmt.Sprintf("expression %q is not one iptables-nft writes", e.Name)
		}
		switch e.Name {
		case "limit":
			if l, err := decodeLimit(e.Data); err != nil || l.Type != 0 || l.Over {
				return "a limit expression that is not a packet rate"
			}
		case "log":
			if lg, err := decodeLog(e.Data); err != nil || lg.Key&(1<<unix.NFTA_LOG_GROUP) == 0 {
				return "a log expression without a group (not NFLOG)"
			}
		}
	}
	return ""
}

// tableNames lists the iptables tables of the snapshot in print order.
func (s *snapshot) tableNames() []string {
	var out []string
	for _, n := range printOrder {
		if s.Tables[n] != nil {
			out = append(out, n)
		}
	}
	return out
}

// skeleton is the table's chains in print order, without rules, as
// iptables-nft-save shows them (a built-in chain the kernel lacks is
// ACCEPT with zero counters), and the kernel chain behind each (nil for
// such a missing built-in chain).
func (t *rawTable) skeleton() (*table.Table, []*rawChain) {
	out := table.NewTable(t.Name)
	raws := make([]*rawChain, len(out.Chains), len(out.Chains)+len(t.Chains))
	var user []*rawChain
	for _, c := range t.Chains {
		if !c.Base {
			user = append(user, c)
			continue
		}
		// incompatible (checked before) lets a base chain be only one
		// of the table's built-in chains, at its own hook.
		i := slices.IndexFunc(out.Chains, func(ch *table.Chain) bool { return ch.Name == c.Name })
		ch := out.Chains[i]
		if c.Policy == nfDrop {
			ch.Policy = table.Drop
		}
		if c.Counters != nil {
			ch.Counters = *c.Counters
		}
		raws[i] = c
	}
	// User chains by name, as table.SortChains would order them, but
	// sorted as the kernel's chains: a kube-proxy table has 30,000, and
	// this spares a map from one to the other.
	byName := func(a, b *rawChain) int { return strings.Compare(a.Name, b.Name) }
	if !slices.IsSortedFunc(user, byName) {
		slices.SortFunc(user, byName)
	}
	chains := make([]table.Chain, len(user))
	for i, c := range user {
		chains[i].Name = c.Name
		out.Chains = append(out.Chains, &chains[i])
		raws = append(raws, c)
	}
	return out, raws
}

// IncompatibleError is a table that has an iptables name but was not
// made by iptables (or fw): iptables-nft-save prints "# Table `filter'
// is incompatible, use 'nft' tool." for it. fw leaves it alone.
type IncompatibleError struct {
	Table  string
	Reason string
}

func (e *IncompatibleError) Error() string {
	return "the nf_tables table " + e.Table + " is incompatible with iptables (" + e.Reason + "); use the nft tool for it"
}

// validTableName reports whether name is an iptables table, for errors.
func validTableName(name string) error {
	if table.LookupTable(name) == nil {
		return fmt.Errorf("unknown table %q (iptables has %s)", name, strings.Join(table.TableNames(), ", "))
	}
	return nil
}
