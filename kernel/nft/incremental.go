package nft

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/internal/myers"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// Incremental commit: the difference between what nf_tables holds and the
// tables to commit, in one transaction guarded by the generation id.
//
// Rules are compared by their expressions as bytes: fw writes every
// expression attribute for attribute as the kernel dumps it, so a rule
// fw would write and the same rule read back are byte for byte equal.
// With opt.Counters (-c) the counters are part of the comparison, so a
// rule is kept only when its counters are what the file says and the end
// state is exactly a full restore's; without it they are left out, and a
// rule that is kept keeps counting (a full restore would restart it from
// zero: only iptables-nft-save -c shows the difference).
// Per chain the live and the wanted rule sequences are aligned with
// Myers' diff; the rules in neither common subsequence are replaced in
// place (NLM_F_REPLACE by handle) pairwise, and the rest deleted (by
// handle) or inserted before the next kept rule (NFTA_RULE_POSITION
// without NLM_F_APPEND), or appended at the end, so the order is exact.

// commitIncremental is Commit with opt.Incremental.
func (b *Backend) commitIncremental(op string, f table.Family, tables []*table.Table, opt kernel.CommitOptions) error {
	// The wanted rules' bytes are computed while the kernel is read.
	keysDone := make(chan wantedKeys, 1)
	go func() { keysDone <- ruleKeys(f, tables, opt.Counters) }()
	var keys *wantedKeys
	waitKeys := func() error {
		if keys == nil {
			k := <-keysDone
			keys = &k
		}
		if keys.err != nil {
			return b.opErr(op, keys.table, keys.err)
		}
		return nil
	}
	c, err := dial()
	if err != nil {
		if kerr := waitKeys(); kerr != nil {
			return kerr
		}
		return b.opErr("open", "", err)
	}
	defer c.close()
	var names []string
	for _, t := range tables {
		names = append(names, t.Name)
	}
	for attempt := 0; ; attempt++ {
		snap, err := readSnapshot(c, f, someTables(names...), readFull)
		if kerr := waitKeys(); kerr != nil {
			return kerr
		}
		if err != nil {
			return b.opErr("read", "", err)
		}
		bt := c.newBatch(nfproto(f), snap.GenID)
		var tail []func()
		for ti, t := range tables {
			old := snap.Tables[t.Name]
			if old == nil {
				// A new table is created as a full commit creates it.
				if err := writeTableHead(c, bt, t, nil); err != nil {
					return b.opErr(op, t.Name, err)
				}
				s, err := encodeTableRules(f, t)
				if err != nil {
					return b.opErr(op, t.Name, err)
				}
				bt.appendStream(c, s)
				continue
			}
			if why := old.incompatible(); why != "" {
				return b.opErr(op, t.Name, &IncompatibleError{Table: t.Name, Reason: why})
			}
			if !opt.Counters {
				old.zeroRuleCounters()
			}
			fin, err := diffTable(c, bt, f, t, old, keys.tables[ti], opt.Counters)
			if err != nil {
				return b.opErr(op, t.Name, err)
			}
			tail = append(tail, fin)
		}
		// Chains go last, after every rule that jumped to them.
		for _, fin := range tail {
			fin()
		}
		if len(bt.refs) == 0 {
			// Nothing differs: nothing to send (an empty batch would
			// still bump the generation).
			return nil
		}
		if testHookBatch != nil {
			testHookBatch(bt.refs)
		}
		if testHookBeforeSend != nil {
			testHookBeforeSend(attempt)
		}
		since := time.Now()
		res, err := c.send(bt, !opt.Test)
		if err != nil {
			return b.opErr(op, "", err)
		}
		if res.BatchErr == unix.ERESTART {
			if attempt == 0 {
				continue
			}
			return b.opErr(op, "", ErrRulesetChanged)
		}
		if len(res.Refused) > 0 {
			return b.refusal(op, res, bt.refs, since)
		}
		if res.BatchErr != 0 {
			return b.opErr(op, "", res.BatchErr)
		}
		return nil
	}
}

// zeroRuleCounters zeroes the values of the counter expressions of the
// rules read (in the copy fw holds), so that comparing rules ignores
// them: without -c a rule that is kept keeps counting.
func (t *rawTable) zeroRuleCounters() {
	for _, ch := range t.Chains {
		for i := range ch.Rules {
			for _, e := range ch.Rules[i].Exprs {
				if e.Name != exCounter {
					continue
				}
				a := newAttrs(e.Data)
				for a.next() {
					clear(a.data)
				}
			}
		}
	}
}

// wantedKeys holds, per table and chain, the expression bytes of every
// rule to commit.
type wantedKeys struct {
	tables []map[string][][]byte
	table  string // of the error
	err    error
}

func ruleKeys(f table.Family, tables []*table.Table, counters bool) wantedKeys {
	out := wantedKeys{tables: make([]map[string][][]byte, len(tables))}
	// The keys are written into chunks that are never grown: growing
	// one buffer of tens of megabytes copies it again and again.
	var w chunked
	w.dumpForm = true
	l := lowerer{w: &w.nlbuf, f: f, zeroCounters: !counters}
	for ti, t := range tables {
		m := make(map[string][][]byte, len(t.Chains))
		for _, c := range t.Chains {
			keys := make([][]byte, len(c.Rules))
			for i, r := range c.Rules {
				w.room()
				from := len(w.b)
				if err := l.exprs(r); err != nil {
					return wantedKeys{table: t.Name, err: ruleErr(t.Name, c.Name, i+1, r, err)}
				}
				keys[i] = w.b[from:len(w.b):len(w.b)]
			}
			m[c.Name] = keys
		}
		out.tables[ti] = m
	}
	return out
}

// diffTable writes the messages that turn old into t: new user chains,
// built-in chain policy and counter updates, then per chain the rule
// edits. It returns what has to come after every table's rules: the
// removal of the user chains t no longer has.
func diffTable(c *conn, bt *batch, f table.Family, t *table.Table, old *rawTable, keys map[string][][]byte, counters bool) (func(), error) {
	for _, ch := range t.Chains {
		if ch.Builtin || old.chain(ch.Name) != nil {
			continue
		}
		if err := writeUserChain(c, bt, t.Name, ch.Name); err != nil {
			return nil, err
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
		// A full commit recreates a built-in chain the table had with
		// the file's policy and counters, and creates a missing one
		// only when it matters (see Commit).
		if oc == nil {
			if len(ch.Rules) == 0 && ch.Policy == table.Accept && ch.Counters == (table.Counters{}) {
				continue
			}
		} else {
			policy := uint32(nfAccept)
			if ch.Policy == table.Drop {
				policy = nfDrop
			}
			if oc.Policy == policy && oc.Counters != nil && (!counters || *oc.Counters == ch.Counters) {
				continue
			}
		}
		if err := writeBaseChain(c, bt, t.Name, h, ch); err != nil {
			return nil, err
		}
	}
	for _, ch := range t.Chains {
		var live []rawRule
		if oc := old.chain(ch.Name); oc != nil {
			live = oc.Rules
		}
		if err := diffChain(c, bt, f, t.Name, ch, live, keys[ch.Name]); err != nil {
			return nil, err
		}
	}
	var gone []string
	for _, oc := range old.Chains {
		if !oc.Base && t.Chain(oc.Name) == nil {
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
			o := bt.msg(c, unix.NFT_MSG_DELCHAIN, nlmNonRec, msgRef{table: t.Name, chain: name})
			bt.cur.str(unix.NFTA_CHAIN_TABLE, t.Name)
			bt.cur.str(unix.NFTA_CHAIN_NAME, name)
			bt.cur.msgEnd(o)
		}
	}, nil
}

// diffChain writes the rule edits that turn live into ch.Rules.
func diffChain(c *conn, bt *batch, f table.Family, tbl string, ch *table.Chain, live []rawRule, want [][]byte) error {
	pairs := align(live, want)
	// Walk the gaps between kept rules (and before the first and after
	// the last one).
	li, wi := 0, 0
	for k := 0; k <= len(pairs); k++ {
		lEnd, wEnd := len(live), len(want)
		if k < len(pairs) {
			lEnd, wEnd = pairs[k][0], pairs[k][1]
		}
		var next uint64 // handle of the kept rule after the gap
		if k < len(pairs) {
			next = live[lEnd].Handle
		}
		for li < lEnd && wi < wEnd {
			if err := newRule(c, bt, f, tbl, ch, wi, live[li].Handle, 0, nlmReplace); err != nil {
				return err
			}
			li++
			wi++
		}
		for ; li < lEnd; li++ {
			o := bt.msg(c, unix.NFT_MSG_DELRULE, 0, msgRef{table: tbl, chain: ch.Name, what: fmt.Sprintf("removal of rule %d of chain %s", li+1, ch.Name)})
			bt.cur.str(unix.NFTA_RULE_TABLE, tbl)
			bt.cur.str(unix.NFTA_RULE_CHAIN, ch.Name)
			bt.cur.u64(unix.NFTA_RULE_HANDLE, live[li].Handle)
			bt.cur.msgEnd(o)
		}
		for ; wi < wEnd; wi++ {
			var err error
			if next != 0 {
				err = newRule(c, bt, f, tbl, ch, wi, 0, next, 0) // before the next kept rule
			} else {
				err = newRule(c, bt, f, tbl, ch, wi, 0, 0, nlmAppend)
			}
			if err != nil {
				return err
			}
		}
		li, wi = lEnd+1, wEnd+1
	}
	return nil
}

func newRule(c *conn, bt *batch, f table.Family, tbl string, ch *table.Chain, i int, handle, position uint64, flags uint16) error {
	r := ch.Rules[i]
	o := bt.msg(c, unix.NFT_MSG_NEWRULE, nlmCreate|flags, msgRef{table: tbl, chain: ch.Name, index: i + 1, rule: r})
	if err := writeRule(&bt.cur, f, tbl, ch.Name, handle, position, r); err != nil {
		return ruleErr(tbl, ch.Name, i+1, r, err)
	}
	bt.cur.msgEnd(o)
	return nil
}

// maxEdits bounds the edit distance Myers' algorithm searches in one
// chain (its trace grows with its square); past it, the differing middle
// of the chain is replaced as a whole, which is still correct, only not
// minimal.
const maxEdits = 2000

var keySeed = maphash.MakeSeed()

// align returns the index pairs (live, want) of a longest common
// subsequence of the two rule sequences, in order. A rule with userdata
// (written by nft) is never one fw would write, so it matches nothing.
func align(live []rawRule, want [][]byte) [][2]int {
	ha := make([]uint64, len(live))
	for i := range live {
		if live[i].UserData == nil {
			ha[i] = maphash.Bytes(keySeed, live[i].Raw) | 1
		}
	}
	hb := make([]uint64, len(want))
	for j := range want {
		hb[j] = maphash.Bytes(keySeed, want[j]) | 1
	}
	eq := func(i, j int) bool { return ha[i] == hb[j] && bytes.Equal(live[i].Raw, want[j]) }
	return myers.Pairs(len(live), len(want), eq, maxEdits)
}
