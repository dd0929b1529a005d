package nft

import (
	"errors"

	"github.com/fwkit/fw/kernel"
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

// session is a partial reading (Begin): the socket and the generation of
// the reading at hand, and the pacing of the readings that follow when
// other writers change the ruleset under one (Again). Not safe for
// concurrent use: a restore reads from the one goroutine that applies
// the file.
type session struct {
	b *Backend
	f table.Family
	p *pacer
	// read is the reading at hand; nil until the first read, and again
	// after Again and Close.
	read *partialRead
}

// partialRead is one reading at one generation.
type partialRead struct {
	c   *conn
	f   table.Family
	gen uint32
	rr  *ruleReader
	// list is the family's tables and chains at gen, as Table listed
	// them, kept for the next Table and for the commit, which then dumps
	// only the rules it compares (listing 35,000 chains is a tenth of a
	// second); nil when the commit will have a state file instead, so as
	// not to hold it for nothing.
	list *snapshot
}

// Begin starts a partial reading of family f. Nothing is read until the
// first Table; the commit that takes the session is guarded by the
// generation read then.
func (b *Backend) Begin(f table.Family) (kernel.Session, error) {
	return &session{b: b, f: f, p: b.pacer()}, nil
}

// conn returns the reading at hand, opening its socket and taking the
// generation on first use.
func (s *session) conn() (*partialRead, error) {
	if s.read != nil {
		return s.read, nil
	}
	c, err := dial()
	if err != nil {
		return nil, s.b.opErr("open", "", err)
	}
	gen, err := c.genID()
	if err != nil {
		c.close()
		return nil, s.b.opErr("read", "", err)
	}
	s.read = &partialRead{c: c, f: s.f, gen: gen, rr: newRuleReader(s.f, s.b.Registry)}
	return s.read, nil
}

// Again ends the reading at hand and paces the next one (see pacer).
func (s *session) Again() bool {
	s.Close()
	return s.p.again()
}

// Close ends the reading at hand.
func (s *session) Close() error {
	if s.read != nil {
		s.read.c.close()
		s.read = nil
	}
	return nil
}

// same checks that the ruleset is still at the generation first read.
func (p *partialRead) same() error { return sameGen(p.c, p.gen) }

// moved turns a failed read into ErrRulesetChanged when the ruleset
// moved on meanwhile (a dump the kernel interrupted, a chain deleted
// under it): the other writer's doing, to be read again.
func (p *partialRead) moved(err error) error {
	if errors.Is(err, errDumpIntr) || errors.Is(p.same(), ErrRulesetChanged) {
		return ErrRulesetChanged
	}
	return err
}

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

// Table reads table name with its chains Unread: their names, and the
// built-in chains' policies and counters.
func (s *session) Table(name string) (*table.Table, error) {
	b := s.b
	if err := validTableName(name); err != nil {
		return nil, b.opErr("read", name, err)
	}
	p, err := s.conn()
	if err != nil {
		return nil, err
	}
	l := p.list
	if l == nil {
		l = &snapshot{GenID: p.gen, Tables: map[string]*rawTable{}}
		err := l.list(p.c, nfproto(s.f))
		if err == nil {
			err = p.same()
		}
		if err != nil {
			return nil, b.opErr("read", name, p.moved(err))
		}
		// Kept for the commit only when no state file will spare it
		// reading the kernel: otherwise it is memory held for nothing.
		if g, ok := stateGen(statePath(p.c, s.f), s.f); !ok || g != p.gen {
			p.list = l
		}
	}
	raw := l.Tables[name]
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

// Chain reads the rules of one chain, at the generation Table read the
// table at.
func (s *session) Chain(tbl, chain string) ([]*table.Rule, error) {
	p, err := s.conn()
	if err != nil {
		return nil, err
	}
	rules, err := p.rr.chain(p.c, tbl, chain)
	if err == nil {
		err = p.same()
	}
	if err != nil {
		return nil, s.b.opErr("read", tbl, p.moved(err))
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

// partialRead returns the reading tables with Unread chains were read
// in (opt.Session), and nil when none of tables has one.
func (b *Backend) partialRead(f table.Family, tables []*table.Table, opt kernel.CommitOptions) (*partialRead, error) {
	partial := false
	for _, t := range tables {
		partial = partial || t.Partial()
	}
	if !partial {
		return nil, nil
	}
	s, ok := opt.Session.(*session)
	if !ok || s.b != b || s.read == nil || s.read.f != f {
		return nil, errNotRead
	}
	return s.read, nil
}

var errNotRead = errors.New("a table with unread chains was not read by this backend's session")

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
