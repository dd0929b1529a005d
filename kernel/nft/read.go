package nft

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

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
}

func (t *rawTable) chain(name string) *rawChain {
	for _, c := range t.Chains {
		if c.Name == name {
			return c
		}
	}
	return nil
}

type rawChain struct {
	Name     string
	Base     bool
	Hook     uint32
	Prio     int32
	Type     string
	Policy   uint32
	Counters *table.Counters // base chains created with NFTA_CHAIN_COUNTERS
	Flags    uint32
	Rules    []*rawRule
}

type rawRule struct {
	Handle   uint64
	Exprs    []rawExpr
	UserData []byte
}

// rawExpr is one expression as the kernel lists it: its name and the
// attributes of NFTA_EXPR_DATA, decoded later by the expr package.
type rawExpr struct {
	Name string
	Data []byte
}

type snapshot struct {
	GenID  uint32
	Tables map[string]*rawTable
}

// readSnapshot dumps the tables and chains of family f, and the rules of
// the tables rulesOf accepts (nil: none).
func readSnapshot(c *conn, f table.Family, rulesOf func(table string) bool) (*snapshot, error) {
	fam := nfproto(f)
	for attempt := 0; ; attempt++ {
		gen, err := c.genID()
		if err != nil {
			return nil, err
		}
		s := &snapshot{GenID: gen, Tables: map[string]*rawTable{}}
		if err := s.load(c, fam, rulesOf); err != nil {
			return nil, err
		}
		again, err := c.genID()
		if err != nil {
			return nil, err
		}
		if again == gen {
			return s, nil
		}
		if attempt == 9 {
			return nil, fmt.Errorf("the nf_tables ruleset kept changing while fw was reading it")
		}
	}
}

// allTables asks readSnapshot for the rules of every table.
func allTables(string) bool { return true }

// someTables asks readSnapshot for the rules of the named tables.
func someTables(names ...string) func(string) bool {
	return func(t string) bool { return slices.Contains(names, t) }
}

func (s *snapshot) load(c *conn, fam uint8, rulesOf func(string) bool) error {
	tables, err := c.dump(unix.NFT_MSG_GETTABLE, fam, nil)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	for _, b := range tables {
		t, err := parseTable(b)
		if err != nil {
			return fmt.Errorf("list tables: %w", err)
		}
		s.Tables[t.Name] = t
	}
	if len(s.Tables) == 0 {
		return nil
	}
	chains, err := c.dump(unix.NFT_MSG_GETCHAIN, fam, nil)
	if err != nil {
		return fmt.Errorf("list chains: %w", err)
	}
	for _, b := range chains {
		tname, ch, err := parseChain(b)
		if err != nil {
			return fmt.Errorf("list chains: %w", err)
		}
		if t := s.Tables[tname]; t != nil {
			t.Chains = append(t.Chains, ch)
		}
	}
	// Rules are dumped chain by chain: the kernel finds a named chain
	// by hash, while a dump of a whole family walks again over every
	// rule already sent for each reply buffer, which is quadratic
	// (tens of seconds for 100000 rules, iptables-nft-save included).
	for _, t := range s.Tables {
		if rulesOf == nil || !rulesOf(t.Name) {
			continue
		}
		for _, ch := range t.Chains {
			ae := newEncoder()
			ae.String(unix.NFTA_RULE_TABLE, t.Name)
			ae.String(unix.NFTA_RULE_CHAIN, ch.Name)
			filter, err := ae.Encode()
			if err != nil {
				return err
			}
			rules, err := c.dump(unix.NFT_MSG_GETRULE, fam, filter)
			if err != nil {
				return fmt.Errorf("list rules of table %s chain %s: %w", t.Name, ch.Name, err)
			}
			for _, b := range rules {
				tname, cname, r, err := parseRule(b)
				if err != nil {
					return fmt.Errorf("list rules: %w", err)
				}
				if tname != t.Name || cname != ch.Name {
					return fmt.Errorf("list rules of table %s chain %s: the kernel sent a rule of table %s chain %s", t.Name, ch.Name, tname, cname)
				}
				ch.Rules = append(ch.Rules, r)
			}
		}
	}
	return nil
}

func parseTable(b []byte) (*rawTable, error) {
	ad, err := newDecoder(b)
	if err != nil {
		return nil, err
	}
	t := &rawTable{}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_TABLE_NAME:
			t.Name = ad.String()
		case unix.NFTA_TABLE_FLAGS:
			t.Flags = ad.Uint32()
		}
	}
	return t, ad.Err()
}

func parseChain(b []byte) (string, *rawChain, error) {
	ad, err := newDecoder(b)
	if err != nil {
		return "", nil, err
	}
	var tname string
	c := &rawChain{}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_CHAIN_TABLE:
			tname = ad.String()
		case unix.NFTA_CHAIN_NAME:
			c.Name = ad.String()
		case unix.NFTA_CHAIN_HOOK:
			c.Base = true
			ad.Nested(func(nad *netlinkDecoder) error {
				for nad.Next() {
					switch nad.Type() {
					case unix.NFTA_HOOK_HOOKNUM:
						c.Hook = nad.Uint32()
					case unix.NFTA_HOOK_PRIORITY:
						c.Prio = int32(nad.Uint32())
					}
				}
				return nil
			})
		case unix.NFTA_CHAIN_POLICY:
			c.Policy = ad.Uint32()
		case unix.NFTA_CHAIN_TYPE:
			c.Type = ad.String()
		case unix.NFTA_CHAIN_COUNTERS:
			var cnt table.Counters
			ad.Nested(func(nad *netlinkDecoder) error {
				for nad.Next() {
					switch nad.Type() {
					case unix.NFTA_COUNTER_PACKETS:
						cnt.Packets = nad.Uint64()
					case unix.NFTA_COUNTER_BYTES:
						cnt.Bytes = nad.Uint64()
					}
				}
				return nil
			})
			c.Counters = &cnt
		case attrChainFlags:
			c.Flags = ad.Uint32()
		}
	}
	return tname, c, ad.Err()
}

func parseRule(b []byte) (tname, cname string, r *rawRule, err error) {
	ad, err := newDecoder(b)
	if err != nil {
		return "", "", nil, err
	}
	r = &rawRule{}
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_RULE_TABLE:
			tname = ad.String()
		case unix.NFTA_RULE_CHAIN:
			cname = ad.String()
		case unix.NFTA_RULE_HANDLE:
			r.Handle = ad.Uint64()
		case unix.NFTA_RULE_USERDATA:
			r.UserData = bytes.Clone(ad.Bytes())
		case unix.NFTA_RULE_EXPRESSIONS:
			ad.Nested(func(nad *netlinkDecoder) error {
				for nad.Next() {
					if nad.Type() != unix.NFTA_LIST_ELEM {
						continue
					}
					var e rawExpr
					nad.Nested(func(ead *netlinkDecoder) error {
						for ead.Next() {
							switch ead.Type() {
							case unix.NFTA_EXPR_NAME:
								e.Name = ead.String()
							case unix.NFTA_EXPR_DATA:
								e.Data = bytes.Clone(ead.Bytes())
							}
						}
						return nil
					})
					r.Exprs = append(r.Exprs, e)
				}
				return nil
			})
		}
	}
	return tname, cname, r, ad.Err()
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
	for _, c := range t.Chains {
		for i, r := range c.Rules {
			if why := r.incompatible(); why != "" {
				return fmt.Sprintf("chain %s rule %d: %s", c.Name, i+1, why)
			}
		}
	}
	return ""
}

func hookName(h uint32) string {
	if h < uint32(table.NumHooks) {
		return table.Hook(h).String()
	}
	return fmt.Sprintf("hook %d", h)
}

// incompatible is iptables-nft-save's expression gate for one rule.
func (r *rawRule) incompatible() string {
	for _, e := range r.Exprs {
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

// toTable lifts a compatible table into the model: every built-in chain
// of the table (those the kernel lacks as iptables-nft-save shows them,
// ACCEPT with zero counters), user chains sorted by name, rules in
// kernel order.
func (t *rawTable) toTable(f table.Family, reg *table.Registry) (*table.Table, error) {
	if why := t.incompatible(); why != "" {
		return nil, &IncompatibleError{Table: t.Name, Reason: why}
	}
	out := table.NewTable(t.Name)
	for _, c := range t.Chains {
		var ch *table.Chain
		if c.Base {
			ch = out.Chain(table.Hook(c.Hook).String())
			if c.Policy == nfDrop {
				ch.Policy = table.Drop
			} else {
				ch.Policy = table.Accept
			}
			if c.Counters != nil {
				ch.Counters = *c.Counters
			}
		} else {
			ch = &table.Chain{Name: c.Name}
			out.Chains = append(out.Chains, ch)
		}
		for i, r := range c.Rules {
			rule, err := lift(f, reg, r)
			if err != nil {
				return nil, fmt.Errorf("chain %s rule %d: %w", c.Name, i+1, err)
			}
			ch.Rules = append(ch.Rules, rule)
		}
	}
	out.SortChains()
	return out, nil
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
