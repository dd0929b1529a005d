package nft

import (
	"errors"

	"github.com/fwkit/fw/table"
)

// Partial reading, for restore --noflush: a table's chains without their
// rules (table.Chain.Unread), then the rules of the chains the file needs
// one by one. kube-proxy's partial sync names a few hundred of its
// 35,000 chains; reading the whole table for it cost 0.5 s and 115 MiB.
//
// Everything is read at one generation of the ruleset, checked after
// every read, and the commit of what was read is guarded by that same
// generation (commitIncremental): the file is applied to exactly what
// the kernel had, or not at all. Rules of chains never read are not run
// through iptables-nft-save's expression gate, as iptables-nft-restore
// --noflush does not look at them either; they are left as they are.

// partialRead is the socket and the generation of a partial reading.
// LoadChains and ReadChain are not safe for concurrent use: a restore
// calls them from the one goroutine that applies the file.
type partialRead struct {
	c   *conn
	f   table.Family
	gen uint32
	rr  *ruleReader
	// list is the family's tables and chains at gen, as LoadChains
	// listed them, kept for the next LoadChains and for the commit,
	// which then dumps only the rules it compares (listing 35,000 chains
	// is a tenth of a second); nil when the commit will have a state
	// file instead, so as not to hold it for nothing.
	list *snapshot
}

// partialConn returns the partial reading's socket, opening it (and
// taking the generation) on first use.
func (b *Backend) partialConn(f table.Family) (*partialRead, error) {
	if b.partial != nil {
		if b.partial.f != f {
			return nil, b.opErr("read", "", errFamilies)
		}
		return b.partial, nil
	}
	c, err := dial()
	if err != nil {
		return nil, b.opErr("open", "", err)
	}
	gen, err := c.genID()
	if err != nil {
		c.close()
		return nil, b.opErr("read", "", err)
	}
	b.partial = &partialRead{c: c, f: f, gen: gen, rr: newRuleReader(f, b.Registry)}
	return b.partial, nil
}

// same checks that the ruleset is still at the generation first read.
func (p *partialRead) same() error { return sameGen(p.c, p.gen) }

// sameGen checks that the ruleset is at generation gen.
func sameGen(c *conn, gen uint32) error {
	g, err := c.genID()
	if err != nil {
		return err
	}
	if g != gen {
		return ErrRulesetChanged
	}
	return nil
}

// LoadChains reads table name with its chains Unread: their names, and
// the built-in chains' policies and counters.
func (b *Backend) LoadChains(f table.Family, name string) (*table.Table, error) {
	if err := validTableName(name); err != nil {
		return nil, b.opErr("read", name, err)
	}
	p, err := b.partialConn(f)
	if err != nil {
		return nil, err
	}
	s := p.list
	if s == nil {
		s = &snapshot{GenID: p.gen, Tables: map[string]*rawTable{}}
		if err := s.list(p.c, nfproto(f)); err != nil {
			return nil, b.opErr("read", name, err)
		}
		if err := p.same(); err != nil {
			return nil, b.opErr("read", name, err)
		}
		// Kept for the commit only when no state file will spare it
		// reading the kernel: otherwise it is memory held for nothing.
		if g, ok := stateGen(statePath(p.c, f), f); !ok || g != p.gen {
			p.list = s
		}
	}
	raw := s.Tables[name]
	if raw == nil {
		return table.NewTable(name), nil
	}
	if why := raw.incompatible(); why != "" {
		return nil, b.opErr("read", name, &IncompatibleError{Table: name, Reason: why})
	}
	t, raws := raw.skeleton()
	for i, rc := range raws {
		// A built-in chain the kernel does not have has no rules.
		t.Chains[i].Unread = rc != nil
	}
	return t, nil
}

// ReadChain reads the rules of one chain, at the generation LoadChains
// read the table at.
func (b *Backend) ReadChain(f table.Family, tbl, chain string) ([]*table.Rule, error) {
	p, err := b.partialConn(f)
	if err != nil {
		return nil, err
	}
	rules, err := p.rr.chain(p.c, tbl, chain)
	if err == nil {
		err = p.same()
	}
	if err != nil {
		return nil, b.opErr("read", tbl, err)
	}
	return rules, nil
}

// snapshot completes the listing LoadChains made with the rules rulesOf
// accepts, read on c (the commit's socket) as readSnapshot would, at the
// same generation or not at all. The listing is used up.
func (p *partialRead) snapshot(c *conn, rulesOf func(tbl, chain string) bool, mode readMode) (*snapshot, error) {
	s := p.list
	p.list = nil
	if s == nil {
		// LoadChains counted on a state file the commit does not use
		// after all (-c compares counters, or the file went).
		return readSnapshot(c, p.f, rulesOf, mode)
	}
	if err := sameGen(c, p.gen); err != nil {
		return nil, err
	}
	if err := s.loadRules(c, nfproto(p.f), rulesOf, mode); err != nil {
		return nil, err
	}
	if err := sameGen(c, p.gen); err != nil {
		return nil, err
	}
	return s, nil
}

// partialGen returns the generation tables with Unread chains were read
// at, and whether any of tables has one.
func (b *Backend) partialGen(f table.Family, tables []*table.Table) (uint32, bool, error) {
	partial := false
	for _, t := range tables {
		partial = partial || t.Partial()
	}
	if !partial {
		return 0, false, nil
	}
	if b.partial == nil || b.partial.f != f {
		return 0, true, errNotRead
	}
	return b.partial.gen, true, nil
}

var (
	errFamilies = errors.New("one backend reads the chains of one family at a time")
	errNotRead  = errors.New("a table with unread chains was not read by this backend")
)

// closePartial ends a partial reading: its socket, its generation.
func (b *Backend) closePartial() {
	if b.partial != nil {
		b.partial.c.close()
		b.partial = nil
	}
}

// readChainsOf says which chains' rules a commit of tables read in part
// reads from the kernel to compare with: those of the tables, except the
// Unread chains and the chains the tables no longer have (whose rules
// are flushed unseen).
func readChainsOf(tables []*table.Table) func(tbl, chain string) bool {
	return func(tbl, chain string) bool {
		for _, t := range tables {
			if t.Name == tbl {
				c := t.Chain(chain)
				return c != nil && !c.Unread
			}
		}
		return false
	}
}
