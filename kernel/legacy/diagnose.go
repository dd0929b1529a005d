package legacy

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/table"
)

// RuleError is a kernel refusal pinned to the rule that caused it.
type RuleError struct {
	Table string
	Chain string
	Index int // 1-based within the chain
	Rule  *table.Rule
	Err   error  // the errno
	Log   string // what the kernel logged about it, if anything
}

func (e *RuleError) Error() string {
	where := fmt.Sprintf("table %s chain %s rule %d", e.Table, e.Chain, e.Index)
	if e.Rule != nil && e.Rule.Pos.IsValid() {
		where = fmt.Sprintf("%s:%d: %s", e.Rule.Pos.File, e.Rule.Pos.Line, where)
	}
	msg := where + ": the kernel refused the rule: " + explain(e.Err)
	if e.Log != "" {
		msg += " (kernel log: " + e.Log + ")"
	}
	return msg
}

func (e *RuleError) Unwrap() error { return e.Err }

func explain(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EINVAL:
			return "invalid argument (an extension's own check failed)"
		case syscall.ENOENT:
			return "a match, target or object it names does not exist in the kernel"
		case syscall.ELOOP:
			return "it makes the chains jump in a loop"
		}
	}
	return err.Error()
}

// diagnose finds the first rule of t that the kernel refuses, by replacing
// growing prefixes of the table's rules in a scratch network namespace:
// the real ruleset is never touched. It returns nil when no single rule
// can be blamed.
func diagnose(f table.Family, t *table.Table) *RuleError {
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
	var result *RuleError
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
			_, err = c.replace(t.Name, b, in.NumEntries)
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
		result = &RuleError{Table: t.Name, Chain: r.chain, Index: r.index, Rule: r.rule, Err: errno, Log: kernelLog(since)}
	}()
	<-done
	return result
}

// kernelLog returns the x_tables messages the kernel logged since t: they
// carry the extension's reason for an EINVAL ("TCPMSS: only valid for
// ..."). Reading /dev/kmsg needs root, which fw has here anyway.
func kernelLog(t time.Time) string {
	// Raw non-blocking reads: each returns one record, EAGAIN at the end.
	// (An os.File would hand EAGAIN to the poller and wait forever.)
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	var info unix.Sysinfo_t
	if unix.Sysinfo(&info) != nil {
		return ""
	}
	boot := time.Now().Add(-time.Duration(info.Uptime) * time.Second)
	var msgs []string
	buf := make([]byte, 8192)
	for i := 0; i < 100000; i++ {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EPIPE) {
			continue // records were overwritten while reading
		}
		if err != nil || n <= 0 {
			break
		}
		// "prio,seq,usec,flags;message\n"
		head, msg, ok := strings.Cut(string(buf[:n]), ";")
		if !ok {
			continue
		}
		msg, _, _ = strings.Cut(msg, "\n")
		fields := strings.Split(head, ",")
		if len(fields) < 3 {
			continue
		}
		var usec int64
		fmt.Sscan(fields[2], &usec)
		if boot.Add(time.Duration(usec) * time.Microsecond).Before(t.Add(-2 * time.Second)) {
			continue
		}
		if strings.Contains(msg, "x_tables") || strings.Contains(msg, "xt_") || strings.Contains(msg, "ip_tables") ||
			strings.Contains(msg, "ip6_tables") || strings.Contains(msg, ": only valid") {
			if m := strings.TrimSpace(msg); !slices.Contains(msgs, m) {
				msgs = append(msgs, m)
			}
		}
	}
	if len(msgs) > 3 {
		msgs = msgs[len(msgs)-3:]
	}
	return strings.Join(msgs, "; ")
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
