package nft

import (
	"fmt"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// testHookBeforeSend, when set by a test, runs right before a commit
// batch is sent (attempt 0, then 1, 2, ... on the retries).
var testHookBeforeSend func(attempt int)

// testHookBatch, when set by a test, is shown what an incremental commit
// is about to send.
var testHookBatch func(refs []msgRef)

// msgRef says what a batch message is about, for errors.
type msgRef struct {
	table string
	chain string // "" for the table itself
	index int    // 1-based rule index; 0 for the chain itself
	rule  *table.Rule
	what  string // names a message that is not about a table, chain or rule being written
}

// ruleStream is the NEWRULE messages of one table, every rule of t in
// chain order, encoded before the batch around them is known (their
// sequence numbers are filled in when the batch is put together).
type ruleStream struct {
	chunked
	t *table.Table
	n int
}

// encodeTableRules lowers and encodes every rule of t, appended to its
// chain in order (NLM_F_APPEND, as iptables-nft's -A).
func encodeTableRules(f table.Family, t *table.Table) (*ruleStream, error) {
	s := &ruleStream{t: t}
	fam := nfproto(f)
	for _, c := range t.Chains {
		for i, r := range c.Rules {
			s.room()
			o := s.msgBegin(nftType(unix.NFT_MSG_NEWRULE), nlmRequest|nlmCreate|nlmAppend, 0, fam, 0)
			if err := writeRule(&s.nlbuf, f, t.Name, c.Name, 0, 0, r); err != nil {
				return nil, ruleErr(t.Name, c.Name, i+1, r, err)
			}
			s.msgEnd(o)
			s.n++
		}
	}
	return s, nil
}

// streamRef says what the i-th message of t's rule stream is about.
func streamRef(t *table.Table, i int) msgRef {
	for _, c := range t.Chains {
		if i < len(c.Rules) {
			return msgRef{table: t.Name, chain: c.Name, index: i + 1, rule: c.Rules[i]}
		}
		i -= len(c.Rules)
	}
	return msgRef{table: t.Name}
}

// background is work running on a goroutine of its own, so that user
// time (encoding, digests) overlaps the kernel's; wait gives its result,
// the same every time.
type background[T any] struct {
	ch   chan T
	v    T
	done bool
}

func inBackground[T any](fn func() T) *background[T] {
	b := &background[T]{ch: make(chan T, 1)}
	go func() { b.ch <- fn() }()
	return b
}

func (b *background[T]) wait() T {
	if !b.done {
		b.v, b.done = <-b.ch, true
	}
	return b.v
}

// encoded is the outcome of encoding the rules of a commit's tables.
type encoded struct {
	streams []*ruleStream
	table   string // of the error
	err     error
}

// encodeAll encodes the rules of tables; it runs while the kernel is
// read, which is the other core's work.
func encodeAll(f table.Family, tables []*table.Table) encoded {
	out := encoded{streams: make([]*ruleStream, len(tables))}
	for i, t := range tables {
		s, err := encodeTableRules(f, t)
		if err != nil {
			return encoded{table: t.Name, err: err}
		}
		out.streams[i] = s
	}
	return out
}

// commitOrder returns the tables of rs in the order a commit creates
// them, checking their names. rs.Tables is in the order a restore file's
// tables would print in with legacy (newest first); walking it backwards
// creates the tables in file order, as iptables-nft-restore does. (Only
// nft's own listing shows the difference.)
// jumpStackSize is NFT_JUMP_STACK_SIZE: nf_tables refuses a ruleset with
// a way of that many jumps or gotos from a base chain.
const jumpStackSize = 16

func commitOrder(rs *table.Ruleset) ([]*table.Table, error) {
	var out []*table.Table
	for i := len(rs.Tables) - 1; i >= 0; i-- {
		t := rs.Tables[i]
		if err := validTableName(t.Name); err != nil {
			return nil, &kernel.OpError{Backend: "nft", Op: "commit", Table: t.Name, Err: err}
		}
		// The kernel would refuse the jump too, but at whichever rule
		// of the batch completes the path, which is seldom the one to
		// change; and a check (--test) may not get that far.
		if r, path := t.DeepJump(jumpStackSize); r != nil {
			return nil, &kernel.OpError{Backend: "nft", Op: "commit", Table: t.Name,
				Err: table.Errorf(r.Pos, "jumps nested %d deep (%s); nf_tables allows at most %d", jumpStackSize, table.JumpPath(path), jumpStackSize-1)}
		}
		out = append(out, t)
	}
	return out, nil
}

// UsesDigests says which commits digest every rule: all but a full
// commit's check, which writes no state file.
func (b *Backend) UsesDigests(opt kernel.CommitOptions) bool { return incremental(opt) || !opt.Test }

// incremental says whether a commit sends only the difference: when asked
// to, and for a restore --noflush, which iptables-nft-restore applies
// command by command, leaving every other rule (and its counters) alone.
func incremental(opt kernel.CommitOptions) bool { return opt.Incremental || opt.NoFlush }

// Commit makes every table of rs what nf_tables holds, in ONE
// transaction, so that all tables change together or none does.
//
// A full commit (what iptables-nft-restore does without --noflush) sends,
// for each table, DELTABLE (when it exists) and the table recreated with
// its chains and rules. With opt.Incremental (or opt.NoFlush) only the
// difference between what the kernel holds and rs is sent (see
// commitIncremental); the result is the same.
//
// Which built-in chains are created: iptables-nft-restore creates those
// named in a ":CHAIN" line or used by a rule, and the model does not keep
// which were named. fw creates a built-in chain when it has rules, a DROP
// policy or non-zero counters, or when the table had it before the commit.
// iptables-nft-save prints a missing built-in chain as "ACCEPT [0:0]", so
// its output is the same either way; what differs is only that an empty
// ACCEPT chain fw leaves out does not hook into the stack. Every built-in
// chain fw creates gets NFTA_CHAIN_COUNTERS (its policy counters, zero
// unless set), like a ":CHAIN POLICY [p:b]" line in a restore.
//
// The batch carries the generation fw read the ruleset at: if someone
// changed the ruleset meanwhile, the kernel refuses it (ERESTART) and fw
// starts again from a fresh reading, as iptables-nft does, pausing a
// little longer each time; once b.RetryFor has passed it gives up with
// ErrRulesetChanged. Tables that nft made in a shape iptables does not
// use are never replaced. With opt.Test the batch is sent without its
// end: the kernel checks every message and then aborts, changing nothing.
func (b *Backend) Commit(rs *table.Ruleset, opt kernel.CommitOptions) error {
	op := "commit"
	if opt.Test {
		op = "check"
	}
	f := rs.Family
	tables, err := commitOrder(rs)
	if err != nil {
		return err
	}
	if len(tables) == 0 {
		return nil
	}
	if incremental(opt) {
		return b.commitIncremental(op, f, tables, opt)
	}
	for _, t := range tables {
		if t.Partial() {
			return b.opErr(op, t.Name, kernel.ErrUnread)
		}
	}
	// Lowering and encoding (user time) overlap reading the kernel
	// (system time); the digests the state file records are made
	// meanwhile too, and are needed only after the commit.
	enc := inBackground(func() encoded { return encodeAll(f, tables) })
	var digs *background[[][][]table.Digest]
	if !opt.Test {
		digs = inBackground(func() [][][]table.Digest { return digestTables(f, tables) })
	}
	waitEnc := func() error {
		if e := enc.wait(); e.err != nil {
			return b.opErr(op, e.table, e.err)
		}
		return nil
	}
	c, err := dial()
	if err != nil {
		if eerr := waitEnc(); eerr != nil {
			return eerr
		}
		return b.opErr("open", "", err)
	}
	defer c.close()
	var names []string
	for _, t := range tables {
		names = append(names, t.Name)
	}
	here := statePath(c, f)
	path := ""
	if !opt.Test {
		path = here
	}
	p := b.pacer()
	for attempt := 0; ; attempt++ {
		// Each rule of a table to replace is checked against the shape
		// iptables gives its rules, which costs a dump of the table;
		// a table the state file describes at the current generation
		// was written by fw, and only its chains need a look.
		gate := someTables(names...)
		st := loadState(here, f)
		if st != nil {
			if g, err := c.genID(); err != nil || g != st.Gen {
				st = nil
			}
		}
		if st != nil {
			gate = func(t, _ string) bool { return slices.Contains(names, t) && st.table(t) == nil }
		}
		snap, err := readSnapshot(c, f, gate, readGate)
		if err == nil && st != nil && snap.GenID != st.Gen {
			snap, err = readSnapshot(c, f, someTables(names...), readGate)
		}
		if eerr := waitEnc(); eerr != nil {
			return eerr
		}
		if err != nil {
			return b.opErr("read", "", err)
		}
		for _, t := range tables {
			if old := snap.Tables[t.Name]; old != nil {
				if why := old.incompatible(); why != "" {
					return b.opErr(op, t.Name, &IncompatibleError{Table: t.Name, Reason: why})
				}
			}
		}
		bt := c.newBatch(nfproto(f), snap.GenID)
		made := make([][]*stChain, len(tables))
		for i, t := range tables {
			if made[i], err = writeTableHead(c, bt, t, snap.Tables[t.Name]); err != nil {
				return b.opErr(op, t.Name, err)
			}
			bt.appendStream(c, enc.wait().streams[i])
		}
		res, retry, err := b.sendBatch(c, bt, opt, path, op, attempt)
		if retry {
			if p.again() {
				continue
			}
			err = b.gaveUp(path, op)
		}
		if err == nil && !opt.Test {
			b.recordFull(c, path, f, snap.GenID, tables, made, digs.wait(), res)
		}
		return err
	}
}

// recordFull writes the state after a full commit: the tables it made,
// and those of a state file that was right before it.
func (b *Backend) recordFull(c *conn, path string, f table.Family, gen uint32, tables []*table.Table, made [][]*stChain, digs [][][]table.Digest, res *batchResult) {
	if path == "" {
		return
	}
	next := &nftState{Family: f}
	var fresh []*freshTable
	for i, t := range tables {
		ft := freshState(t, made[i], digs[i])
		fresh = append(fresh, ft)
		next.Tables = append(next.Tables, ft.state)
	}
	if old := loadState(path, f); old != nil && old.Gen == gen {
		for _, st := range old.Tables {
			if next.table(st.Name) == nil {
				next.Tables = append(next.Tables, st)
			}
		}
	}
	b.recordState(c, path, next, gen, res, fresh, true)
}

// sendBatch sends a transaction and sorts out what came back. retry is
// set when the generation moved under it (someone changed the ruleset
// since it was read, or since the state file was written): the caller
// reads again, or gives up (gaveUp). Any other failure drops the state
// file, which may no longer describe the kernel.
func (b *Backend) sendBatch(c *conn, bt *batch, opt kernel.CommitOptions, path, op string, attempt int) (res *batchResult, retry bool, err error) {
	if testHookBeforeSend != nil {
		testHookBeforeSend(attempt)
	}
	since := time.Now()
	res, err = c.send(bt, !opt.Test)
	switch {
	case err != nil:
	case res.BatchErr == unix.ERESTART:
		return nil, true, nil
	case len(res.Refused) > 0:
		return nil, false, b.refusal(op, res, bt, since)
	case res.BatchErr != 0:
		err = res.BatchErr
	default:
		return res, false, nil
	}
	dropState(path)
	return nil, false, b.opErr(op, "", err)
}

// gaveUp is the error of a commit whose retries ran out while other
// writers kept changing the ruleset.
func (b *Backend) gaveUp(path, op string) error {
	dropState(path)
	return b.opErr(op, "", ErrRulesetChanged)
}

// refusal reports the first refused message of a batch (later refusals
// are usually its consequences, such as rules of a chain that was not
// created).
func (b *Backend) refusal(op string, res *batchResult, bt *batch, since time.Time) error {
	first := slices.MinFunc(res.Refused, func(x, y refusedMsg) int { return x.Index - y.Index })
	ref, errno := bt.refAt(first.Index), first.Errno
	more := len(res.Refused) - 1
	if res.Lost {
		more++
	}
	switch {
	case ref.what != "":
		return b.opErr(op, ref.table, &ObjectError{What: ref.what, Err: errno, Ack: first.Text, More: more})
	case ref.rule != nil:
		re := &kernel.RuleError{Table: ref.table, Chain: ref.chain, Index: ref.index, Rule: ref.rule, Err: errno,
			Ack: first.Text, More: more}
		if errno == syscall.EINVAL || errno == syscall.ENOENT || errno == syscall.ERANGE || errno == syscall.EPROTO {
			re.Log = kernel.KernelLog(since)
		}
		return b.opErr(op, ref.table, re)
	case ref.chain != "":
		return b.opErr(op, ref.table, &ObjectError{What: "chain " + ref.chain, Err: errno, Ack: first.Text, More: more})
	}
	return b.opErr(op, ref.table, &ObjectError{What: "table " + ref.table, Err: errno, Ack: first.Text, More: more})
}

func ruleErr(tbl, chain string, index int, r *table.Rule, err error) error {
	where := fmt.Sprintf("table %s chain %s rule %d", tbl, chain, index)
	if r.Pos.IsValid() {
		where = fmt.Sprintf("%s:%d: %s", r.Pos.File, r.Pos.Line, where)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// writeTableHead writes the table part of a full commit of t: DELTABLE
// if it exists (old), NEWTABLE, the built-in chains in hook order, the
// user chains (chains first, so that jumps find their target). It
// returns the chains it created, in order, as the state records them.
func writeTableHead(c *conn, bt *batch, t *table.Table, old *rawTable) ([]*stChain, error) {
	w := &bt.cur
	if old != nil {
		o := bt.msg(c, unix.NFT_MSG_DELTABLE, 0, msgRef{table: t.Name})
		w.str(unix.NFTA_TABLE_NAME, t.Name)
		w.msgEnd(o)
	}
	o := bt.msg(c, unix.NFT_MSG_NEWTABLE, nlmCreate, msgRef{table: t.Name})
	w.str(unix.NFTA_TABLE_NAME, t.Name)
	w.msgEnd(o)
	// The state's chains, in one allocation.
	info := table.LookupTable(t.Name)
	n := len(t.Chains) + len(info.Chains())
	made := make([]*stChain, 0, n)
	chains := make([]stChain, 0, n)
	add := func(sc stChain) {
		chains = append(chains, sc)
		made = append(made, &chains[len(chains)-1])
	}
	for _, name := range info.Chains() {
		h, _ := table.HookByName(name)
		ch := t.Chain(name)
		if ch == nil {
			ch = &table.Chain{Name: name, Builtin: true, Policy: table.Accept}
		}
		existed := false
		if old != nil {
			for _, oc := range old.Chains {
				existed = existed || (oc.Base && oc.Hook == uint32(h))
			}
		}
		if len(ch.Rules) == 0 && ch.Policy == table.Accept && ch.Counters == (table.Counters{}) && !existed {
			continue
		}
		if err := writeBaseChain(c, bt, t.Name, h, ch); err != nil {
			return nil, err
		}
		policy := uint32(nfAccept)
		if ch.Policy == table.Drop {
			policy = nfDrop
		}
		add(stChain{Name: name, Base: true, Hook: uint32(h), Policy: policy, Counters: true})
	}
	if err := writeUserChains(c, bt, t); err != nil {
		return nil, err
	}
	for _, ch := range t.Chains {
		if !ch.Builtin {
			add(stChain{Name: ch.Name})
		}
	}
	return made, nil
}

// freshTable is a table a batch creates from scratch. Its handles are
// known without asking: a new nf_tables table numbers the chains and
// rules made in it 1, 2, 3, ... in the order they are created (one
// counter per table, nf_tables_alloc_handle), and the batch creates its
// chains and then its rules in a known order. The commit checks the
// prediction on the last rule before the state file relies on it.
type freshTable struct {
	state     *stTable
	lastChain string
	lastRule  uint64 // 0 when the table has no rules
}

// freshState is the state of t written from scratch after the chains
// made: rules in t's chain order, as encodeTableRules writes them. made
// is the built-in chains writeTableHead wrote, then t's user chains in
// t's order, so the two are walked side by side (a kube-proxy table has
// 35,000 chains, not worth a map).
func freshState(t *table.Table, made []*stChain, digs [][]table.Digest) *freshTable {
	ft := &freshTable{state: &stTable{Name: t.Name, Chains: made}}
	nb := 0
	for nb < len(made) && made[nb].Base {
		nb++
	}
	user := made[nb:]
	n := 0
	for _, ch := range t.Chains {
		n += len(ch.Rules)
	}
	rules := make([]stRule, n) // every chain's, in one allocation
	handle := uint64(len(made))
	for ci, ch := range t.Chains {
		var sc *stChain
		if ch.Builtin {
			for _, x := range made[:nb] {
				if x.Name == ch.Name {
					sc = x
				}
			}
		} else {
			sc, user = user[0], user[1:]
		}
		if len(ch.Rules) == 0 {
			continue
		}
		ds := digs[ci]
		sc.Rules, rules = rules[:len(ch.Rules):len(ch.Rules)], rules[len(ch.Rules):]
		for i := range ch.Rules {
			handle++
			sc.Rules[i] = stRule{Handle: handle, Key: ds[i]}
		}
		ft.lastChain, ft.lastRule = ch.Name, handle
	}
	return ft
}

// verify checks the predicted handle of the table's last rule.
func (ft *freshTable) verify(c *conn, fam uint8) bool {
	if ft.lastRule == 0 {
		return true
	}
	ok, err := c.ruleExists(fam, ft.state.Name, ft.lastChain, ft.lastRule)
	return err == nil && ok
}

// writeFreshTable writes t from scratch (see writeTableHead) with its
// rules.
func writeFreshTable(c *conn, bt *batch, f table.Family, t *table.Table, old *rawTable, digs [][]table.Digest) (*freshTable, error) {
	made, err := writeTableHead(c, bt, t, old)
	if err != nil {
		return nil, err
	}
	s, err := encodeTableRules(f, t)
	if err != nil {
		return nil, err
	}
	bt.appendStream(c, s)
	return freshState(t, made, digs), nil
}

// writeBaseChain is a built-in chain as iptables-nft creates it (or
// updates its policy): hook and priority, policy, type, and the policy
// counters.
func writeBaseChain(c *conn, bt *batch, tbl string, h table.Hook, ch *table.Chain) error {
	bc := builtinChain(tbl, h)
	policy := uint32(nfAccept)
	switch ch.Policy {
	case table.Accept:
	case table.Drop:
		policy = nfDrop
	default:
		return fmt.Errorf("chain %s: policy %s is not ACCEPT or DROP", ch.Name, ch.Policy)
	}
	w := &bt.cur
	o := bt.msg(c, unix.NFT_MSG_NEWCHAIN, nlmCreate, msgRef{table: tbl, chain: ch.Name})
	w.str(unix.NFTA_CHAIN_TABLE, tbl)
	w.str(unix.NFTA_CHAIN_NAME, ch.Name)
	n := w.begin(unix.NFTA_CHAIN_HOOK)
	w.u32(unix.NFTA_HOOK_HOOKNUM, uint32(h))
	w.u32(unix.NFTA_HOOK_PRIORITY, uint32(bc.Prio))
	w.end(n)
	w.u32(unix.NFTA_CHAIN_POLICY, policy)
	w.str(unix.NFTA_CHAIN_TYPE, bc.Type)
	n = w.begin(unix.NFTA_CHAIN_COUNTERS)
	w.u64(unix.NFTA_COUNTER_PACKETS, ch.Counters.Packets)
	w.u64(unix.NFTA_COUNTER_BYTES, ch.Counters.Bytes)
	w.end(n)
	w.msgEnd(o)
	return nil
}

// writeUserChain creates a user chain (NLM_F_EXCL, as "-N").
func writeUserChain(c *conn, bt *batch, tbl, name string) error {
	return newChainMsg(c, bt, tbl, name, true)
}

// writeUserChains creates t's user chains. When they follow its built-in
// chains in t.Chains, as table.Table.SortChains puts them, what each
// message is about is worked out from t when needed (see refSeg) rather
// than recorded: a kube-proxy table has 30,000 chains.
func writeUserChains(c *conn, bt *batch, t *table.Table) error {
	from := slices.IndexFunc(t.Chains, func(ch *table.Chain) bool { return !ch.Builtin })
	if from < 0 {
		return nil
	}
	lazy := !slices.ContainsFunc(t.Chains[from:], func(ch *table.Chain) bool { return ch.Builtin })
	if lazy {
		bt.segs = append(bt.segs, refSeg{first: bt.count, t: t, n: len(t.Chains) - from, chains: from})
	}
	for _, ch := range t.Chains[from:] {
		if ch.Builtin {
			continue
		}
		if err := newChainMsg(c, bt, t.Name, ch.Name, !lazy); err != nil {
			return err
		}
	}
	return nil
}

// newChainMsg writes a NEWCHAIN message for a user chain, recording what
// it is about when record is set.
func newChainMsg(c *conn, bt *batch, tbl, name string, record bool) error {
	if len(name) > table.MaxChainName {
		return fmt.Errorf("chain name %q is longer than %d characters", name, table.MaxChainName)
	}
	var o int
	if record {
		o = bt.msg(c, unix.NFT_MSG_NEWCHAIN, nlmCreate|nlmExcl, msgRef{table: tbl, chain: name})
	} else {
		o = bt.counted(c, unix.NFT_MSG_NEWCHAIN, nlmCreate|nlmExcl)
	}
	bt.cur.str(unix.NFTA_CHAIN_TABLE, tbl)
	bt.cur.str(unix.NFTA_CHAIN_NAME, name)
	bt.cur.msgEnd(o)
	return nil
}
