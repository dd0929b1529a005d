package legacy

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// diagnose finds the first rule of t that the kernel refuses, by replacing
// growing prefixes of the table's rules in a scratch network namespace:
// the real ruleset is never touched. It returns nil when no single rule
// can be blamed.
func diagnose(f table.Family, t *table.Table) *kernel.RuleError {
	type ref struct {
		chain string
		index int
		rule  *table.Rule
	}
	// Rules that refer to namespace objects (ipsets) cannot be tried in a
	// scratch namespace, which has none: they are left out, and cannot be
	// blamed. Their payloads are encoded here, in the caller's namespace,
	// like everything else, so a missing set is still found.
	var all []ref
	for _, c := range t.Chains {
		for i, r := range c.Rules {
			if !usesNamespaceObjects(r) {
				all = append(all, ref{c.Name, i + 1, r})
			}
		}
	}
	if len(all) == 0 {
		return nil
	}
	prefix := func(n int) *table.Table {
		p := &table.Table{Name: t.Name}
		for _, c := range t.Chains {
			cc := *c
			cc.Rules = nil
			p.Chains = append(p.Chains, &cc)
		}
		for _, r := range all[:n] {
			pc := p.Chain(r.chain)
			pc.Rules = append(pc.Rules, r.rule)
		}
		return p
	}
	var result *kernel.RuleError
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		// No unlock: the thread is left in the scratch namespace and
		// exits with this goroutine.
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return
		}
		c, err := open(f)
		if err != nil {
			return
		}
		defer c.close()
		// try reports the kernel's answer to the first n rules; an error
		// of our own (encoding, reading) means the search cannot tell.
		var broken bool
		try := func(n int) error {
			b, err := Encode(f, prefix(n))
			if err != nil {
				broken = true
				return nil
			}
			in, err := c.info(t.Name)
			if err != nil {
				broken = true
				return nil
			}
			err = c.replace(t.Name, b, in.NumEntries)
			return err
		}
		since := time.Now()
		if try(len(all)) == nil {
			return // the table is fine here: no single rule is to blame
		}
		lo, hi := 0, len(all) // prefix lo passes, prefix hi fails
		for hi-lo > 1 && !broken {
			mid := (lo + hi) / 2
			if try(mid) == nil {
				lo = mid
			} else {
				hi = mid
			}
		}
		errno := try(hi)
		if broken || errno == nil {
			return
		}
		r := all[hi-1]
		result = &kernel.RuleError{Table: t.Name, Chain: r.chain, Index: r.index, Rule: r.rule, Err: errno, Log: kernel.KernelLog(since)}
	}()
	<-done
	return result
}

func usesNamespaceObjects(r *table.Rule) bool {
	for _, m := range r.Matches {
		if m.Info().NamespaceObjects {
			return true
		}
	}
	if e, ok := r.Target.(table.Ext); ok && e.Info().NamespaceObjects {
		return true
	}
	return false
}
