// Package nft is fw's nf_tables backend: it reads and writes the
// iptables tables of the nf_tables API exactly as iptables-nft 1.8.9
// does, so that iptables-nft-save prints what fw wrote as if
// iptables-nft-restore had written it, and fw prints what iptables-nft
// wrote as iptables-nft-save does.
//
// The files follow the concerns: netlink.go (socket, dumps, the batch),
// read.go (a consistent snapshot, iptables' shape of a table), lift.go
// (expressions to rules), lower.go (rules to expressions), write.go (the
// commit batch).
package nft

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// Backend is the nf_tables backend.
type Backend struct {
	Registry *table.Registry

	// RetryFor bounds how long a commit or a read starts again while
	// other writers change the ruleset (DefaultRetryFor when zero).
	RetryFor time.Duration

	// onRead, when a test sets it, runs when an incremental commit reads
	// the tables from the kernel (instead of trusting the state file).
	onRead func()
}

var _ kernel.Backend = (*Backend)(nil)

func (b *Backend) Name() string { return "nft" }

func (b *Backend) opErr(op, tbl string, err error) error {
	return &kernel.OpError{Backend: "nft", Op: op, Table: tbl, Err: err}
}

// Available reports whether the kernel offers nf_tables to this process
// (the module is there and the generation can be read).
func Available() bool {
	c, err := dial()
	if err != nil {
		return false
	}
	defer c.close()
	_, err = c.genID()
	return err == nil
}

// HasTables reports whether nf_tables holds any iptables table of family
// f, which is how iptables tells that the nft backend is in use.
func HasTables(f table.Family) (bool, error) {
	names, err := (&Backend{}).Tables(f)
	return len(names) > 0, err
}

// Tables lists the iptables tables of family f that exist in nf_tables,
// in iptables-nft-save's order (mangle, security, raw, filter, nat).
// Tables with other names (made with nft) are not listed; a table with
// an iptables name that nft made is listed, and Load says what is wrong
// with it.
func (b *Backend) Tables(f table.Family) ([]string, error) {
	s, err := b.snapshot(f, nil, readGate, "list tables")
	if err != nil {
		return nil, err
	}
	return s.tableNames(), nil
}

// snapshot is readSnapshot on a connection of its own, its errors named
// by op.
func (b *Backend) snapshot(f table.Family, rulesOf func(tbl, chain string) bool, mode readMode, op string) (*snapshot, error) {
	c, err := dial()
	if err != nil {
		return nil, b.opErr("open", "", err)
	}
	defer c.close()
	s, err := readSnapshot(c, f, rulesOf, mode)
	if err != nil {
		return nil, b.opErr(op, "", err)
	}
	return s, nil
}

// Load reads the named tables (every existing iptables table when names
// is nil). A named table that does not exist reads as iptables-nft-save
// -t shows it: every built-in chain, ACCEPT, no rules. A table nft made
// in a shape iptables does not use is an error naming the table and the
// reason, never a partial reading. It is Stream into a table.Collector:
// the chains are read on several sockets at once (see readChains).
func (b *Backend) Load(f table.Family, names []string) (*table.Ruleset, error) {
	col := table.NewCollector(f)
	col.Owned = true // every rule is lifted into values of its own
	if err := b.Stream(f, names, col); err != nil {
		return nil, err
	}
	return &col.Ruleset, nil
}

// Stream is Load into a sink, reading each chain's rules and handing them
// on one by one, so that nothing holds the whole ruleset. A dump is not
// atomic: when the generation moved meanwhile, the sink is restarted and
// everything read again, and a sink that cannot restart gets
// ErrRulesetChanged.
func (b *Backend) Stream(f table.Family, names []string, sink table.Sink) error {
	c, err := dial()
	if err != nil {
		return b.opErr("open", "", err)
	}
	defer c.close()
	p := b.pacer()
	for {
		err := b.stream(c, f, names, sink)
		if !errors.Is(err, errMoved) {
			return err
		}
		if r, ok := sink.(table.Restarter); !ok || !r.Restart() || !p.again() {
			return b.opErr("read", "", ErrRulesetChanged)
		}
	}
}

// StreamRestarts is true: a dump is not atomic, and Stream reads again
// when the generation moved meanwhile.
func (b *Backend) StreamRestarts() bool { return true }

// testHookStreamed, when set by a test, runs after every table of a
// stream was read, before the generation is checked.
var testHookStreamed func()

// errMoved says the generation changed during a stream.
var errMoved = errors.New("the ruleset changed while it was read")

func (b *Backend) stream(c *conn, f table.Family, names []string, sink table.Sink) (err error) {
	fam := nfproto(f)
	gen, err := c.genID()
	if err != nil {
		return b.opErr("read", "", err)
	}
	// Whatever went wrong while the generation moved (a chain or table
	// deleted under the dump, a half-made table that looks foreign) is
	// the other writer's doing: start again.
	defer func() {
		if err != nil && !errors.Is(err, errMoved) {
			if g, gerr := c.genID(); errors.Is(err, errDumpIntr) || gerr == nil && g != gen {
				err = errMoved
			}
		}
	}()
	s := &snapshot{GenID: gen, Tables: map[string]*rawTable{}}
	if err := s.load(c, fam, nil, readGate); err != nil {
		return b.opErr("read", "", err)
	}
	moved := func() error {
		again, err := c.genID()
		if err != nil {
			return b.opErr("read", "", err)
		}
		if again != gen {
			return errMoved
		}
		return nil
	}
	if names == nil {
		names = s.tableNames()
	}
	// Every table's skeleton first, so that the chains' rules can be
	// read ahead, in parallel, while the sink takes them in order.
	// Only names go to the readers: the snapshot is garbage once the
	// jobs are made.
	type tableJob struct {
		t    *table.Table
		read []bool // per chain of t: whether the kernel has it
	}
	tables := make([]tableJob, len(names))
	var jobs []chainJob
	for i, name := range names {
		if err := validTableName(name); err != nil {
			return b.opErr("read", name, err)
		}
		raw := s.Tables[name]
		if raw == nil {
			tables[i] = tableJob{t: table.NewTable(name)}
			continue
		}
		if why := raw.incompatible(); why != "" {
			return b.opErr("read", name, &IncompatibleError{Table: name, Reason: why})
		}
		t, raws := raw.skeleton()
		tj := tableJob{t, make([]bool, len(raws))}
		for k, rc := range raws {
			if rc != nil {
				tj.read[k] = true
				jobs = append(jobs, chainJob{table: name, chain: rc.Name})
			}
		}
		tables[i] = tj
	}
	rd, err := b.readChains(f, jobs)
	if err != nil {
		return b.opErr("read", "", err)
	}
	defer rd.stop()
	next := 0
	for _, tj := range tables {
		if err := sink.BeginTable(tj.t); err != nil {
			return err
		}
		for i, read := range tj.read {
			if !read {
				continue
			}
			j := &jobs[next]
			next++
			rd.wait(j)
			if j.err != nil {
				return b.opErr("read", j.table, j.err)
			}
			for _, r := range j.rules {
				if err := sink.Rule(tj.t.Chains[i], r); err != nil {
					return err
				}
			}
			j.rules = nil
			rd.consumed()
		}
		if err := sink.EndTable(); err != nil {
			return err
		}
	}
	if testHookStreamed != nil {
		testHookStreamed()
	}
	return moved()
}

// chainJob is the reading of one chain's rules.
type chainJob struct {
	table, chain string
	rules        []*table.Rule
	err          error
	done         bool // guarded by chainReaders.mu
}

// readAhead bounds how many chains the readers may be ahead of the sink.
const readAhead = 512

// chainReaders read the rules of a list of chains ahead of the sink.
type chainReaders struct {
	quit   chan struct{}
	window chan struct{} // one token per job started and not yet consumed
	wg     sync.WaitGroup
	// A job's end is told through one condition rather than a channel
	// per job: a kube-proxy table has 30,000 chains.
	mu       sync.Mutex
	finished sync.Cond
}

// finish marks j read.
func (r *chainReaders) finish(j *chainJob) {
	r.mu.Lock()
	j.done = true
	r.mu.Unlock()
	r.finished.Broadcast()
}

// wait waits until j is read.
func (r *chainReaders) wait(j *chainJob) {
	r.mu.Lock()
	for !j.done {
		r.finished.Wait()
	}
	r.mu.Unlock()
}

// consumed tells the readers that the sink has taken the oldest job.
func (r *chainReaders) consumed() { <-r.window }

// stop makes the readers leave after the dump at hand and waits for them.
func (r *chainReaders) stop() {
	close(r.quit)
	r.wg.Wait()
}

// dumpSockets is how many sockets read the chains of a big ruleset at
// once: twice as many as there are CPUs to use (at most 4). The kernel's
// work of a dump, most of a save, then runs on every core, and while one
// reader lifts what it got another's dump keeps the core busy (on 2
// CPUs, 4 sockets against 2: 0.595 s against 0.625 s for a save of
// 85,000 rules, median of 14).
func dumpSockets() int { return min(2*runtime.GOMAXPROCS(0), 4) }

// dialSome opens up to n sockets, as many as it can. It runs on the
// caller's thread, which is in the network namespace to read; the
// sockets may then be used from any thread.
func dialSome(n int) ([]*conn, error) {
	var conns []*conn
	for range n {
		c, err := dial()
		if err != nil {
			if len(conns) == 0 {
				return nil, err
			}
			break
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// readChains starts reading the rules of jobs, in order, on sockets of
// their own (dumpSockets). Wait for a job with wait.
func (b *Backend) readChains(f table.Family, jobs []chainJob) (*chainReaders, error) {
	conns, err := dialSome(max(1, min(dumpSockets(), len(jobs))))
	if err != nil {
		return nil, err
	}
	rd := &chainReaders{quit: make(chan struct{}), window: make(chan struct{}, readAhead)}
	rd.finished.L = &rd.mu
	var next atomic.Int64
	for _, c := range conns {
		rd.wg.Add(1)
		go func() {
			defer rd.wg.Done()
			defer c.close()
			rr := newRuleReader(f, b.Registry)
			for {
				select {
				case <-rd.quit:
					return
				default:
				}
				select {
				case rd.window <- struct{}{}:
				case <-rd.quit:
					return
				}
				k := int(next.Add(1)) - 1
				if k >= len(jobs) {
					return
				}
				j := &jobs[k]
				j.rules, j.err = rr.chain(c, j.table, j.chain)
				rd.finish(j)
			}
		}()
	}
	return rd, nil
}

// ruleReader reads chains' rules, lifted, one chain after another; what
// it needs from chain to chain is kept (see lifter).
type ruleReader struct {
	f       table.Family
	filter  nlbuf
	scratch []rawExpr
	l       *lifter
}

func newRuleReader(f table.Family, reg *table.Registry) *ruleReader {
	return &ruleReader{f: f, l: newLifter(f, reg)}
}

// chain reads the rules of one chain on c.
func (rr *ruleReader) chain(c *conn, tbl, chain string) ([]*table.Rule, error) {
	filter := &rr.filter
	filter.b = filter.b[:0]
	filter.str(unix.NFTA_RULE_TABLE, tbl)
	filter.str(unix.NFTA_RULE_CHAIN, chain)
	var rules []*table.Rule
	err := c.dump(unix.NFT_MSG_GETRULE, nfproto(rr.f), filter.b, func(m []byte) error {
		_, _, r, err := parseRule(m, rr.scratch[:0])
		if err != nil {
			return err
		}
		rr.scratch = r.Exprs
		if why := r.incompatible(); why != "" {
			return &IncompatibleError{Table: tbl, Reason: fmt.Sprintf("chain %s rule %d: %s", chain, len(rules)+1, why)}
		}
		rule, err := rr.l.lift(&r)
		if err != nil {
			return fmt.Errorf("chain %s rule %d: %w", chain, len(rules)+1, err)
		}
		rules = append(rules, rule)
		return nil
	})
	return rules, err
}

// Skeleton reads the built-in chains' policies and counters of the named
// tables, without their rules: all a restore without --noflush needs,
// since it replaces everything else. Tables that do not exist come back
// new and empty (nothing is created). A table nft made in another shape
// is an error, as for Load; its rules are checked by the commit.
func (b *Backend) Skeleton(f table.Family, names []string) (*table.Ruleset, error) {
	s, err := b.snapshot(f, nil, readGate, "read")
	if err != nil {
		return nil, err
	}
	rs := &table.Ruleset{Family: f}
	for _, name := range names {
		if err := validTableName(name); err != nil {
			return nil, b.opErr("read", name, err)
		}
		t := table.NewTable(name)
		rs.Tables = append(rs.Tables, t)
		raw := s.Tables[name]
		if raw == nil {
			continue
		}
		if why := raw.incompatible(); why != "" {
			return nil, b.opErr("read", name, &IncompatibleError{Table: name, Reason: why})
		}
		for _, c := range raw.Chains {
			if !c.Base {
				continue
			}
			ch := t.Chain(table.Hook(c.Hook).String())
			if c.Policy == nfDrop {
				ch.Policy = table.Drop
			}
			if c.Counters != nil {
				ch.Counters = *c.Counters
			}
		}
	}
	return rs, nil
}

// ErrRulesetChanged is returned by Commit when the nf_tables ruleset
// changed between fw reading it and fw's batch reaching the kernel, and
// went on changing until b.RetryFor passed; or at once, when the tables
// were read in part by a Session, whose user reads them again.
var ErrRulesetChanged = kernel.ErrRulesetChanged

// ObjectError is a kernel refusal of a table or chain message.
type ObjectError struct {
	What string // "table filter", "chain INPUT"
	Err  error
	Ack  string
	More int
}

func (e *ObjectError) Error() string {
	msg := e.What + ": the kernel refused it: " + kernel.Refusal(e.Err)
	if e.Ack != "" {
		msg += " (kernel: " + e.Ack + ")"
	}
	if e.More > 0 {
		msg += fmt.Sprintf("; %d more refusal(s) followed", e.More)
	}
	return msg
}

func (e *ObjectError) Unwrap() error { return e.Err }
