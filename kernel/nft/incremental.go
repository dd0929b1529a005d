package nft

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/internal/myers"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// Incremental commit: the difference between what nf_tables holds and the
// tables to commit, in one transaction guarded by the generation id.
//
// What the kernel holds is known one of two ways. When the state file
// (state.go) describes the kernel at its current generation and names
// every table to commit, it is the answer: each rule there is its handle
// and the digest of the rule fw wrote, compared with the digests of the
// wanted rules. Otherwise the tables are read from the kernel, and rules
// are compared by their expressions as bytes, through a 128-bit key of
// them (exprKey; neither side's bytes are kept): fw writes every
// expression attribute for attribute as the kernel dumps it, so a rule fw
// would write and the same rule read back are byte for byte equal (a rule
// with userdata was written by nft and is never kept).
//
// With opt.Counters (-c) counters are part of the comparison, so a rule
// is kept only when its counters are what the file says and the end state
// is exactly a full restore's; that needs the live counters, so -c always
// reads the kernel. Without -c they are left out, and a rule that is kept
// keeps counting (a full restore would restart it from zero: only
// iptables-nft-save -c shows the difference).
//
// Per chain the live and the wanted rule sequences are aligned with
// Myers' diff; the rules in neither common subsequence are replaced in
// place (NLM_F_REPLACE by handle, which keeps the handle) pairwise, and
// the rest deleted (by handle) or inserted before the next kept rule
// (NFTA_RULE_POSITION without NLM_F_APPEND), or appended at the end, so
// the order is exact. Inserted rules are sent with NLM_F_ECHO: the kernel
// answers with their handles, which the new state file records.

// liveTable is a table as the kernel holds it: read from the kernel
// (rules with their handles and expression keys), or known from the
// state file (st, whose chains are raw's, in the same order, with their
// rules' handles and digests).
type liveTable struct {
	raw *rawTable
	st  *stTable
}

// live turns a state table into what the diff reads.
func (t *stTable) live() *liveTable {
	lt := &liveTable{raw: &rawTable{Name: t.Name, Chains: make([]*rawChain, len(t.Chains))}, st: t}
	chains := make([]rawChain, len(t.Chains))
	var counted table.Counters
	for ci, c := range t.Chains {
		rc := &chains[ci]
		*rc = rawChain{Name: c.Name, Base: c.Base, Hook: c.Hook, Policy: c.Policy}
		if c.Counters {
			rc.Counters = &counted
		}
		lt.raw.Chains[ci] = rc
	}
	return lt
}

// maxEcho bounds the rules an incremental batch asks the kernel to echo:
// each echo is a copy of the rule in fw's receive buffer. A bigger change
// writes no state file (the next incremental restore reads the kernel).
const maxEcho = 4096

// commitIncremental is Commit with opt.Incremental or opt.NoFlush.
func (b *Backend) commitIncremental(op string, f table.Family, tables []*table.Table, opt kernel.CommitOptions) error {
	// Tables read in part (a Session) were read at one generation, and
	// the file was applied to them as they were then.
	pr, err := b.partialRead(f, tables, opt)
	if err != nil {
		return b.opErr(op, "", err)
	}
	partial := pr != nil
	// The wanted rules' digests are made while the kernel is looked at.
	digs := inBackground(func() [][][]table.Digest { return digestTables(f, tables) })
	c, err := dial()
	if err != nil {
		return b.opErr("open", "", err)
	}
	defer c.close()
	var names []string
	for _, t := range tables {
		names = append(names, t.Name)
	}
	path := ""
	if !opt.Test {
		path = statePath(c, f)
	}
	var keysOf *wantedKeys // the wanted rules' expression keys, when the kernel is read
	p := b.pacer()
	for attempt := 0; ; attempt++ {
		var gen uint32
		live := map[string]*liveTable{}
		var old *nftState // a state file that describes the kernel now
		if st := loadState(path, f); st != nil && attempt == 0 {
			if g, err := c.genID(); err == nil && g == st.Gen {
				old = st
			}
		}
		fromState := old != nil && !opt.Counters
		for _, n := range names {
			fromState = fromState && old.table(n) != nil
		}
		if fromState {
			if partial {
				pr.list = nil // not needed: garbage now
			}
			gen = old.Gen
			for _, n := range names {
				live[n] = old.table(n).live()
			}
		} else {
			if b.onRead != nil {
				b.onRead()
			}
			mode := readKeys
			if opt.Counters {
				mode = readKeysCounted
			}
			var snap *snapshot
			var err error
			if partial {
				snap, err = pr.snapshot(c, readChainsOf(tables), mode)
			} else {
				snap, err = readSnapshot(c, f, someTables(names...), mode)
			}
			if err != nil {
				return b.opErr("read", "", err)
			}
			gen = snap.GenID
			if old != nil && old.Gen != gen {
				old = nil
			}
			for _, t := range tables {
				raw := snap.Tables[t.Name]
				if raw == nil {
					continue
				}
				if why := raw.incompatible(); why != "" {
					return b.opErr(op, t.Name, &IncompatibleError{Table: t.Name, Reason: why})
				}
				live[t.Name] = &liveTable{raw: raw}
			}
			if keysOf == nil {
				k := ruleKeys(f, tables, opt.Counters)
				if k.err != nil {
					return b.opErr(op, k.table, k.err)
				}
				keysOf = &k
			}
		}
		if partial && gen != pr.gen {
			return b.opErr(op, "", ErrRulesetChanged)
		}
		// Read in part from the kernel, the tables' rules are not all
		// known: no state file can describe them.
		stateKnown := fromState || !partial
		bt := c.newBatch(nfproto(f), gen)
		next := &nftState{Family: f}
		var fresh []*freshTable
		var tail []func()
		echoes := 0
		for ti, t := range tables {
			lt := live[t.Name]
			if lt == nil {
				// A new table is created as a full commit creates it.
				ft, err := writeFreshTable(c, bt, f, t, nil, digs.wait()[ti])
				if err != nil {
					return b.opErr(op, t.Name, err)
				}
				fresh = append(fresh, ft)
				next.Tables = append(next.Tables, ft.state)
				continue
			}
			d := &tableDiff{c: c, bt: bt, f: f, t: t, live: lt, digs: digs.wait()[ti], counters: opt.Counters, echoes: &echoes}
			if !fromState {
				d.want = keysOf.tables[ti]
			}
			fin, st, err := d.write()
			if err != nil {
				return b.opErr(op, t.Name, err)
			}
			tail = append(tail, fin)
			next.Tables = append(next.Tables, st)
		}
		// Chains go last, after every rule that jumped to them.
		for _, fin := range tail {
			fin()
		}
		if old != nil {
			for _, st := range old.Tables {
				if next.table(st.Name) == nil {
					next.Tables = append(next.Tables, st)
				}
			}
		}
		if bt.count == 0 {
			// Nothing differs: nothing to send (an empty batch would
			// still bump the generation). What was read is the state.
			if !fromState && stateKnown && path != "" {
				next.Gen = gen
				saveState(path, next)
			}
			return nil
		}
		if testHookBatch != nil {
			testHookBatch(bt.refs())
		}
		res, retry, err := b.sendBatch(c, bt, opt, path, op, attempt)
		if retry {
			// With partial, the file was applied to a ruleset that is
			// gone: the caller applies it again to a fresh reading
			// (kernel.Session.Again).
			if !partial && p.again() {
				continue
			}
			return b.gaveUp(path, op)
		}
		if err == nil && !opt.Test {
			if stateKnown {
				b.recordState(c, path, next, gen, res, fresh, echoes <= maxEcho)
			} else {
				dropState(path)
			}
		}
		return err
	}
}

// recordState completes the state after a committed batch (the handles
// the kernel gave to inserted rules, from its echoes; the predicted
// handles of new tables, checked) and writes it, or removes the state
// file when the kernel cannot be known to hold exactly that.
func (b *Backend) recordState(c *conn, path string, next *nftState, gen uint32, res *batchResult, fresh []*freshTable, echoed bool) {
	if path == "" {
		return
	}
	ok := echoed && !res.Lost
	for _, t := range next.Tables {
		for _, ch := range t.Chains {
			for i := range ch.Rules {
				r := &ch.Rules[i]
				if r.Handle&pendingSeq == 0 {
					continue
				}
				h, found := res.Echo[uint32(r.Handle)]
				ok = ok && found
				r.Handle = h
			}
		}
	}
	for _, ft := range fresh {
		ok = ok && ft.verify(c, nfproto(next.Family))
	}
	if g, err := c.genID(); err != nil || g != nextGen(gen) {
		// Another commit came right after this one.
		ok = false
	}
	if !ok {
		dropState(path)
		return
	}
	next.Gen = nextGen(gen)
	saveState(path, next)
}

// nextGen is the generation after a commit at gen (the kernel skips 0).
func nextGen(gen uint32) uint32 {
	if gen+1 == 0 {
		return 1
	}
	return gen + 1
}

// pendingSeq marks a state rule whose handle is not known yet: its low
// 32 bits are the sequence number of the NEWRULE message the kernel will
// echo. Real handles never come near this bit.
const pendingSeq = 1 << 63

// zeroCounters zeroes the values of the rule's counter expressions (in
// the bytes it was read from), so that comparing rules ignores them:
// without -c a rule that is kept keeps counting.
func (r *rawRule) zeroCounters() {
	for _, e := range r.Exprs {
		if e.Name != exCounter {
			continue
		}
		a := newAttrs(e.Data)
		for a.next() {
			clear(a.data)
		}
	}
}

// keySeeds make exprKey's 128 bits; the keys live as long as the process.
var keySeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// exprKey is what an incremental commit that reads the kernel compares a
// rule by: 128 bits of a hash of its expressions as the kernel lists
// them, which fw writes byte for byte as the kernel would list them (the
// odds that two different rules share one are about 2^-128). It is never
// zero, the key of a rule that can match nothing.
func exprKey(b []byte) table.Digest {
	return table.Digest{maphash.Bytes(keySeeds[0], b) | 1, maphash.Bytes(keySeeds[1], b)}
}

// wantedKeys holds, per table and chain (in the table's order), the
// expression key (exprKey) of every rule to commit.
type wantedKeys struct {
	tables [][][]table.Digest
	table  string // of the error
	err    error
}

func ruleKeys(f table.Family, tables []*table.Table, counters bool) wantedKeys {
	out := wantedKeys{tables: ruleSlots(tables)}
	// Each rule is written, in the form the kernel lists it, into one
	// reused buffer and only its key is kept.
	var w nlbuf
	w.dumpForm = true
	l := lowerer{w: &w, f: f, zeroCounters: !counters}
	for ti, t := range tables {
		for ci, c := range t.Chains {
			keys := out.tables[ti][ci]
			for i, r := range c.Rules {
				w.b = w.b[:0]
				if err := l.exprs(r); err != nil {
					return wantedKeys{table: t.Name, err: ruleErr(t.Name, c.Name, i+1, r, err)}
				}
				keys[i] = exprKey(w.b)
			}
		}
	}
	return out
}

// ruleSlots returns a slot for every rule of tables, per table and chain
// in the tables' order, all cut from one slice.
func ruleSlots(tables []*table.Table) [][][]table.Digest {
	n := 0
	for _, t := range tables {
		for _, c := range t.Chains {
			n += len(c.Rules)
		}
	}
	all := make([]table.Digest, n)
	out := make([][][]table.Digest, len(tables))
	for ti, t := range tables {
		out[ti] = make([][]table.Digest, len(t.Chains))
		for ci, c := range t.Chains {
			out[ti][ci], all = all[:len(c.Rules):len(c.Rules)], all[len(c.Rules):]
		}
	}
	return out
}

// digestTables returns, per table and chain (in the table's order), the
// stable digest of every rule to commit, which the state file records. It
// takes the digests the decoder left on the rules
// (format.DecodeOptions.Digests) and works out, on as many goroutines as
// there are CPUs, those it did not.
func digestTables(f table.Family, tables []*table.Table) [][][]table.Digest {
	out := ruleSlots(tables)
	type job struct {
		c  *table.Chain
		ds []table.Digest
	}
	var jobs []job
	for ti, t := range tables {
		for ci, c := range t.Chains {
			jobs = append(jobs, job{c, out[ti][ci]})
		}
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), len(jobs)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := table.NewStableDigester(f)
			for k := w; k < len(jobs); k += workers {
				for i, r := range jobs[k].c.Rules {
					jobs[k].ds[i] = d.Cached(r)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// tableDiff writes the messages that turn a live table into t.
type tableDiff struct {
	c        *conn
	bt       *batch
	f        table.Family
	t        *table.Table
	live     *liveTable
	want     [][]table.Digest // the wanted rules' expression keys per chain of t (kernel read)
	digs     [][]table.Digest // the wanted rules' digests per chain of t
	counters bool
	echoes   *int
}

// write writes new user chains, built-in chain policy and counter
// updates, then per chain the rule edits. It returns what has to come
// after every table's rules (the removal of the user chains t no longer
// has) and the table's state after the commit.
func (d *tableDiff) write() (func(), *stTable, error) {
	c, bt, t, old := d.c, d.bt, d.t, d.live.raw
	st := &stTable{Name: t.Name}
	// liveOf[i] is the position in old of t's chain i, or -1. The two
	// are mostly in the same order (fw wrote the live table from an
	// earlier version of the file), so they are walked side by side and
	// a name is looked up only where the orders part.
	liveOf := make([]int, len(t.Chains))
	kept := make([]bool, len(old.Chains))
	oi := 0
	for ci, ch := range t.Chains {
		k := oi
		if k >= len(old.Chains) || old.Chains[k].Name != ch.Name {
			k = old.chainIndex(ch.Name)
		}
		if k >= 0 {
			kept[k] = true
			oi = k + 1
		}
		liveOf[ci] = k
	}
	for ci, ch := range t.Chains {
		if ch.Builtin || liveOf[ci] >= 0 {
			continue
		}
		if err := writeUserChain(c, bt, t.Name, ch.Name); err != nil {
			return nil, nil, err
		}
	}
	info := table.LookupTable(t.Name)
	for _, name := range info.Chains() {
		h, _ := table.HookByName(name)
		ch := t.Chain(name)
		if ch == nil {
			ch = &table.Chain{Name: name, Builtin: true, Policy: table.Accept}
		}
		var oc *rawChain
		for _, x := range old.Chains {
			if x.Base && x.Hook == uint32(h) {
				oc = x
			}
		}
		policy := uint32(nfAccept)
		if ch.Policy == table.Drop {
			policy = nfDrop
		}
		// A full commit recreates a built-in chain the table had with
		// the file's policy and counters, and creates a missing one
		// only when it matters (see Commit).
		if oc == nil {
			if len(ch.Rules) == 0 && ch.Policy == table.Accept && ch.Counters == (table.Counters{}) {
				continue
			}
		} else if oc.Policy == policy && oc.Counters != nil && (!d.counters || *oc.Counters == ch.Counters) {
			st.Chains = append(st.Chains, &stChain{Name: name, Base: true, Hook: uint32(h), Policy: policy, Counters: true})
			continue
		}
		if err := writeBaseChain(c, bt, t.Name, h, ch); err != nil {
			return nil, nil, err
		}
		st.Chains = append(st.Chains, &stChain{Name: name, Base: true, Hook: uint32(h), Policy: policy, Counters: true})
	}
	base := make(map[string]*stChain, len(st.Chains))
	for _, sc := range st.Chains {
		base[sc.Name] = sc
	}
	// The user chains' state entries in one allocation: a kube-proxy
	// table has 35,000.
	slab := make([]stChain, 0, len(t.Chains))
	for ci, ch := range t.Chains {
		k := liveOf[ci]
		var sc *stChain
		if ch.Builtin {
			sc = base[ch.Name]
		}
		if sc == nil {
			if ch.Builtin {
				// An empty ACCEPT built-in chain neither side has.
				continue
			}
			slab = append(slab, stChain{Name: ch.Name})
			sc = &slab[len(slab)-1]
			st.Chains = append(st.Chains, sc)
		}
		if ch.Unread {
			// Left as the kernel has it; the state, if it says, keeps
			// saying it (its rules shared: nothing changes them later).
			if k >= 0 && d.live.st != nil {
				sc.Rules = d.live.st.Chains[k].Rules
			}
			continue
		}
		if err := d.chain(ch, ci, k, sc); err != nil {
			return nil, nil, err
		}
	}
	var gone []string
	for k, oc := range old.Chains {
		if !oc.Base && !kept[k] {
			gone = append(gone, oc.Name)
		}
	}
	return func() {
		// Flush every removed chain first: one may jump to another.
		for _, name := range gone {
			o := bt.msg(c, unix.NFT_MSG_DELRULE, 0, msgRef{table: t.Name, chain: name, what: "flush of chain " + name})
			bt.cur.str(unix.NFTA_RULE_TABLE, t.Name)
			bt.cur.str(unix.NFTA_RULE_CHAIN, name)
			bt.cur.msgEnd(o)
		}
		for _, name := range gone {
			// Jumps from chains the file did not read (or kept) are the
			// kernel's to find: its refusal names the -X line, or says
			// the chain went because the file does not have it.
			ref := msgRef{table: t.Name, chain: name, what: "removal of chain " + name + ", which the file does not declare"}
			if p, ok := t.DeletedAt(name); ok && p.IsValid() {
				ref.what = fmt.Sprintf("%s:%d: deletion of chain %s", p.File, p.Line, name)
			}
			o := bt.msg(c, unix.NFT_MSG_DELCHAIN, nlmNonRec, ref)
			bt.cur.str(unix.NFTA_CHAIN_TABLE, t.Name)
			bt.cur.str(unix.NFTA_CHAIN_NAME, name)
			bt.cur.msgEnd(o)
		}
	}, st, nil
}

// chain writes the rule edits that turn the live chain k (-1: none) into
// ch, chain ci of the table, and records the chain's rules after them in
// sc. Live rules from the state file are compared by digest; read from
// the kernel, by their expressions.
func (d *tableDiff) chain(ch *table.Chain, ci, k int, sc *stChain) error {
	c, bt, tbl := d.c, d.bt, d.t.Name
	digs := d.digs[ci]
	var nlive int
	var handle func(i int) uint64
	var pairs [][2]int
	switch {
	case k < 0:
	case d.live.st != nil:
		live := d.live.st.Chains[k].Rules
		nlive, handle = len(live), func(i int) uint64 { return live[i].Handle }
		pairs = myers.Pairs(len(live), len(digs), func(i, j int) bool { return live[i].Key == digs[j] }, maxEdits)
	default:
		live, want := d.live.raw.Chains[k].Rules, d.want[ci]
		nlive, handle = len(live), func(i int) uint64 { return live[i].Handle }
		pairs = myers.Pairs(len(live), len(want), func(i, j int) bool { return live[i].Key == want[j] }, maxEdits)
	}
	sc.Rules = make([]stRule, 0, len(ch.Rules))
	add := func(wi int, handle, position uint64, flags uint16) error {
		r := ch.Rules[wi]
		pending := handle == 0
		if pending {
			*d.echoes++
			if *d.echoes <= maxEcho {
				flags |= nlmEcho
			}
		}
		o := bt.msg(c, unix.NFT_MSG_NEWRULE, nlmCreate|flags, msgRef{table: tbl, chain: ch.Name, index: wi + 1, rule: r})
		if err := writeRule(&bt.cur, d.f, tbl, ch.Name, handle, position, r); err != nil {
			return ruleErr(tbl, ch.Name, wi+1, r, err)
		}
		bt.cur.msgEnd(o)
		if pending {
			handle = pendingSeq | uint64(c.seq)
		}
		sc.Rules = append(sc.Rules, stRule{Handle: handle, Key: digs[wi]})
		return nil
	}
	// Walk the gaps between kept rules (and before the first and after
	// the last one).
	li, wi := 0, 0
	for k := 0; k <= len(pairs); k++ {
		lEnd, wEnd := nlive, len(ch.Rules)
		if k < len(pairs) {
			lEnd, wEnd = pairs[k][0], pairs[k][1]
		}
		var next uint64 // handle of the kept rule after the gap
		if k < len(pairs) {
			next = handle(lEnd)
		}
		for li < lEnd && wi < wEnd {
			if err := add(wi, handle(li), 0, nlmReplace); err != nil {
				return err
			}
			li++
			wi++
		}
		for ; li < lEnd; li++ {
			o := bt.msg(c, unix.NFT_MSG_DELRULE, 0, msgRef{table: tbl, chain: ch.Name, what: fmt.Sprintf("removal of rule %d of chain %s", li+1, ch.Name)})
			bt.cur.str(unix.NFTA_RULE_TABLE, tbl)
			bt.cur.str(unix.NFTA_RULE_CHAIN, ch.Name)
			bt.cur.u64(unix.NFTA_RULE_HANDLE, handle(li))
			bt.cur.msgEnd(o)
		}
		for ; wi < wEnd; wi++ {
			var err error
			if next != 0 {
				err = add(wi, 0, next, 0) // before the next kept rule
			} else {
				err = add(wi, 0, 0, nlmAppend)
			}
			if err != nil {
				return err
			}
		}
		if k < len(pairs) {
			sc.Rules = append(sc.Rules, stRule{Handle: handle(lEnd), Key: digs[wEnd]})
		}
		li, wi = lEnd+1, wEnd+1
	}
	return nil
}

// maxEdits bounds the edit distance Myers' algorithm searches in one
// chain (its trace grows with its square); past it, the differing middle
// of the chain is replaced as a whole, which is still correct, only not
// minimal.
const maxEdits = 2000
