package table

// Sink takes a ruleset one table at a time, as a backend reads it, so that
// a save never holds a whole 100k-rule ruleset: BeginTable with the
// table's chains (name, policy, policy counters; their Rules are not to
// be read) in print order, then every rule chain by chain in that order,
// then EndTable.
//
// What Rule gets is only valid during the call: backends decode every
// rule into the same Rule value. A sink that keeps rules copies them
// (Collector does).
type Sink interface {
	BeginTable(t *Table) error
	Rule(c *Chain, r *Rule) error
	EndTable() error
}

// Restarter is a Sink that may be able to forget everything it was
// given, for a backend that must read again because the ruleset changed
// under it (nf_tables dumps are not atomic). Restart reports whether it
// could; when it cannot (or the sink is no Restarter), such a backend
// fails instead of retrying.
type Restarter interface {
	Restart() bool
}

// Collector is the Sink that builds the Ruleset.
type Collector struct {
	Ruleset Ruleset
	// Owned says the backend hands over every rule for good (a fresh
	// value it never touches again, as nf_tables' reader lifts them):
	// the collector keeps it as it is instead of copying it.
	Owned bool

	cur   *Table
	byPtr map[*Chain]*Chain // the backend's chain -> ours
	rules []Rule            // slab
	lists []Match           // slab
	jumps []Jump            // slab
}

// NewCollector returns a collector for a ruleset of family f.
func NewCollector(f Family) *Collector { return &Collector{Ruleset: Ruleset{Family: f}} }

func (c *Collector) BeginTable(t *Table) error {
	nt := &Table{Name: t.Name, Chains: make([]*Chain, len(t.Chains))}
	chains := make([]Chain, len(t.Chains))
	c.byPtr = make(map[*Chain]*Chain, len(t.Chains))
	for i, ch := range t.Chains {
		chains[i] = Chain{Name: ch.Name, Builtin: ch.Builtin, Policy: ch.Policy, Counters: ch.Counters}
		nt.Chains[i] = &chains[i]
		c.byPtr[ch] = &chains[i]
	}
	c.cur = nt
	return nil
}

func (c *Collector) Rule(ch *Chain, r *Rule) error {
	own := c.byPtr[ch]
	if c.Owned {
		own.Rules = append(own.Rules, r)
		return nil
	}
	if len(c.rules) == 0 {
		c.rules = make([]Rule, 1024)
	}
	nr := &c.rules[0]
	c.rules = c.rules[1:]
	*nr = *r
	if n := len(r.Matches); n > 0 {
		if len(c.lists) < n {
			c.lists = make([]Match, max(n, 1024))
		}
		nr.Matches = c.lists[:n:n]
		c.lists = c.lists[n:]
		copy(nr.Matches, r.Matches)
	}
	if j, ok := r.Target.(*Jump); ok {
		if len(c.jumps) == 0 {
			c.jumps = make([]Jump, 1024)
		}
		nj := &c.jumps[0]
		c.jumps = c.jumps[1:]
		*nj = *j
		nr.Target = nj
	}
	own.Rules = append(own.Rules, nr)
	return nil
}

func (c *Collector) EndTable() error {
	c.Ruleset.Tables = append(c.Ruleset.Tables, c.cur)
	c.cur, c.byPtr = nil, nil
	return nil
}

// Restart drops what was collected.
func (c *Collector) Restart() bool {
	*c = Collector{Ruleset: Ruleset{Family: c.Ruleset.Family}, Owned: c.Owned}
	return true
}

// Emit hands every table of rs to sink, in order.
func (rs *Ruleset) Emit(sink Sink) error {
	for _, t := range rs.Tables {
		if err := t.Emit(sink); err != nil {
			return err
		}
	}
	return nil
}

// Emit hands the table to sink: its chains, then its rules.
func (t *Table) Emit(sink Sink) error {
	head := Table{Name: t.Name, Chains: t.Chains}
	if err := sink.BeginTable(&head); err != nil {
		return err
	}
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			if err := sink.Rule(c, r); err != nil {
				return err
			}
		}
	}
	return sink.EndTable()
}
