package nft

import (
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// testHookBeforeSend, when set by a test, runs right before a commit
// batch is sent (attempt 0, then 1 on the retry).
var testHookBeforeSend func(attempt int)

// tablePlan is one table of a commit, lowered before anything is sent.
type tablePlan struct {
	t     *table.Table
	rules map[*table.Rule]*loweredRule
}

// msgRef says what a batch message is about, for errors.
type msgRef struct {
	table string
	chain string // "" for the table itself
	index int    // 1-based rule index; 0 for the chain itself
	rule  *table.Rule
}

// Commit makes every table of rs what nf_tables holds, in ONE
// transaction: for each table, DELTABLE (when it exists) and the table
// recreated with its chains and rules, all in one batch, so that all
// tables change together or none does. This is what iptables-nft-restore
// does without --noflush.
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
// starts again from a fresh reading once; a second refusal is
// ErrRulesetChanged. Tables that nft made in a shape iptables does not
// use are never replaced. With opt.Test the batch is sent without its
// end: the kernel checks every message and then aborts, changing nothing.
func (b *Backend) Commit(rs *table.Ruleset, opt kernel.CommitOptions) error {
	op := "commit"
	if opt.Test {
		op = "check"
	}
	f := rs.Family
	var plans []*tablePlan
	// rs.Tables is in the order a restore file's tables would print in
	// with legacy (newest first); walking it backwards creates the
	// tables in file order, as iptables-nft-restore does. (Only nft's
	// own listing shows the difference.)
	for i := len(rs.Tables) - 1; i >= 0; i-- {
		t := rs.Tables[i]
		if err := validTableName(t.Name); err != nil {
			return b.opErr(op, t.Name, err)
		}
		p := &tablePlan{t: t, rules: map[*table.Rule]*loweredRule{}}
		for _, c := range t.Chains {
			for i, r := range c.Rules {
				lr, err := lowerRule(f, r)
				if err != nil {
					return b.opErr(op, t.Name, ruleErr(t.Name, c.Name, i+1, r, err))
				}
				p.rules[r] = lr
			}
		}
		plans = append(plans, p)
	}
	if len(plans) == 0 {
		return nil
	}
	c, err := dial()
	if err != nil {
		return b.opErr("open", "", err)
	}
	defer c.close()
	var names []string
	for _, p := range plans {
		names = append(names, p.t.Name)
	}
	for attempt := 0; ; attempt++ {
		snap, err := readSnapshot(c, f, someTables(names...))
		if err != nil {
			return b.opErr("read", "", err)
		}
		for _, p := range plans {
			if old := snap.Tables[p.t.Name]; old != nil {
				if why := old.incompatible(); why != "" {
					return b.opErr(op, p.t.Name, &IncompatibleError{Table: p.t.Name, Reason: why})
				}
			}
		}
		msgs, refs, err := buildBatch(f, plans, snap)
		if err != nil {
			return b.opErr(op, "", err)
		}
		if testHookBeforeSend != nil {
			testHookBeforeSend(attempt)
		}
		since := time.Now()
		res, err := c.sendBatch(nfproto(f), snap.GenID, msgs, !opt.Test)
		if err != nil {
			return b.opErr(op, "", err)
		}
		if res.BatchErr == unix.ERESTART {
			if attempt == 0 {
				continue
			}
			return b.opErr(op, "", ErrRulesetChanged)
		}
		if len(res.MsgErr) > 0 {
			return b.refusal(op, res, refs, since)
		}
		if res.BatchErr != 0 {
			return b.opErr(op, "", res.BatchErr)
		}
		return nil
	}
}

// refusal reports the first refused message of a batch (later refusals
// are usually its consequences, such as rules of a chain that was not
// created).
func (b *Backend) refusal(op string, res *batchResult, refs []msgRef, since time.Time) error {
	var idx []int
	for i := range res.MsgErr {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	first := idx[0]
	ref, errno := refs[first], res.MsgErr[first]
	switch {
	case ref.rule != nil:
		re := &kernel.RuleError{Table: ref.table, Chain: ref.chain, Index: ref.index, Rule: ref.rule, Err: errno,
			Ack: res.MsgText[first], More: len(idx) - 1}
		if errno == syscall.EINVAL || errno == syscall.ENOENT || errno == syscall.ERANGE || errno == syscall.EPROTO {
			re.Log = kernel.KernelLog(since)
		}
		return b.opErr(op, ref.table, re)
	case ref.chain != "":
		return b.opErr(op, ref.table, &ObjectError{What: "chain " + ref.chain, Err: errno, Ack: res.MsgText[first], More: len(idx) - 1})
	}
	return b.opErr(op, ref.table, &ObjectError{What: "table " + ref.table, Err: errno, Ack: res.MsgText[first], More: len(idx) - 1})
}

func ruleErr(tbl, chain string, index int, r *table.Rule, err error) error {
	where := fmt.Sprintf("table %s chain %s rule %d", tbl, chain, index)
	if r.Pos.IsValid() {
		where = fmt.Sprintf("%s:%d: %s", r.Pos.File, r.Pos.Line, where)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// buildBatch lays out the messages of a commit: per table, DELTABLE if it
// exists, NEWTABLE, the built-in chains in hook order, the user chains,
// then every rule (chains first, so that jumps find their target).
func buildBatch(f table.Family, plans []*tablePlan, snap *snapshot) ([]batchMsg, []msgRef, error) {
	var msgs []batchMsg
	var refs []msgRef
	add := func(m batchMsg, r msgRef) {
		msgs = append(msgs, m)
		refs = append(refs, r)
	}
	for _, p := range plans {
		t := p.t
		old := snap.Tables[t.Name]
		nameAttr, err := tableAttrs(t.Name)
		if err != nil {
			return nil, nil, err
		}
		if old != nil {
			add(batchMsg{Type: unix.NFT_MSG_DELTABLE, Attrs: nameAttr}, msgRef{table: t.Name})
		}
		add(batchMsg{Type: unix.NFT_MSG_NEWTABLE, Flags: netlink.Create, Attrs: nameAttr}, msgRef{table: t.Name})
		info := table.LookupTable(t.Name)
		for _, name := range info.Chains() {
			h, _ := table.HookByName(name)
			c := t.Chain(name)
			if c == nil {
				c = &table.Chain{Name: name, Builtin: true, Policy: table.Accept}
			}
			existed := false
			if old != nil {
				for _, oc := range old.Chains {
					existed = existed || (oc.Base && oc.Hook == uint32(h))
				}
			}
			if len(c.Rules) == 0 && c.Policy == table.Accept && c.Counters == (table.Counters{}) && !existed {
				continue
			}
			attrs, err := baseChainAttrs(t.Name, h, c)
			if err != nil {
				return nil, nil, err
			}
			add(batchMsg{Type: unix.NFT_MSG_NEWCHAIN, Flags: netlink.Create, Attrs: attrs}, msgRef{table: t.Name, chain: name})
		}
		for _, c := range t.Chains {
			if c.Builtin {
				continue
			}
			attrs, err := userChainAttrs(t.Name, c.Name)
			if err != nil {
				return nil, nil, err
			}
			add(batchMsg{Type: unix.NFT_MSG_NEWCHAIN, Flags: netlink.Create | netlink.Excl, Attrs: attrs}, msgRef{table: t.Name, chain: c.Name})
		}
		for _, c := range t.Chains {
			for i, r := range c.Rules {
				attrs, err := p.rules[r].ruleAttrs(f, t.Name, c.Name)
				if err != nil {
					return nil, nil, ruleErr(t.Name, c.Name, i+1, r, err)
				}
				add(batchMsg{Type: unix.NFT_MSG_NEWRULE, Flags: netlink.Create | netlink.Append, Attrs: attrs},
					msgRef{table: t.Name, chain: c.Name, index: i + 1, rule: r})
			}
		}
	}
	return msgs, refs, nil
}

func tableAttrs(name string) ([]byte, error) {
	ae := newEncoder()
	ae.String(unix.NFTA_TABLE_NAME, name)
	return ae.Encode()
}

// baseChainAttrs is a built-in chain as iptables-nft creates it: hook and
// priority, policy, type, and the policy counters.
func baseChainAttrs(tbl string, h table.Hook, c *table.Chain) ([]byte, error) {
	bc := builtinChain(tbl, h)
	policy := uint32(nfAccept)
	switch c.Policy {
	case table.Accept:
	case table.Drop:
		policy = nfDrop
	default:
		return nil, fmt.Errorf("chain %s: policy %s is not ACCEPT or DROP", c.Name, c.Policy)
	}
	ae := newEncoder()
	ae.String(unix.NFTA_CHAIN_TABLE, tbl)
	ae.String(unix.NFTA_CHAIN_NAME, c.Name)
	ae.Nested(unix.NFTA_CHAIN_HOOK, func(nae *netlinkEncoder) error {
		nae.Uint32(unix.NFTA_HOOK_HOOKNUM, uint32(h))
		nae.Uint32(unix.NFTA_HOOK_PRIORITY, uint32(bc.Prio))
		return nil
	})
	ae.Uint32(unix.NFTA_CHAIN_POLICY, policy)
	ae.String(unix.NFTA_CHAIN_TYPE, bc.Type)
	ae.Nested(unix.NFTA_CHAIN_COUNTERS, func(nae *netlinkEncoder) error {
		nae.Uint64(unix.NFTA_COUNTER_PACKETS, c.Counters.Packets)
		nae.Uint64(unix.NFTA_COUNTER_BYTES, c.Counters.Bytes)
		return nil
	})
	return ae.Encode()
}

func userChainAttrs(tbl, name string) ([]byte, error) {
	if len(name) > table.MaxChainName {
		return nil, fmt.Errorf("chain name %q is longer than %d characters", name, table.MaxChainName)
	}
	ae := newEncoder()
	ae.String(unix.NFTA_CHAIN_TABLE, tbl)
	ae.String(unix.NFTA_CHAIN_NAME, name)
	return ae.Encode()
}
