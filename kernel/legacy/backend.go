package legacy

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"time"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// Backend is the legacy x_tables backend.
type Backend struct {
	Registry *table.Registry
	// LockWait is how long Commit waits for the xtables lock: < 0 forever,
	// 0 not at all.
	LockWait time.Duration
	// LockFile is the xtables lock's path; kernel.LockFile() when "".
	LockFile string
}

var _ kernel.Backend = (*Backend)(nil)

func (b *Backend) Name() string { return "legacy" }

func (b *Backend) opErr(op, tbl string, err error) error {
	return &kernel.OpError{Backend: "legacy", Op: op, Table: tbl, Err: err}
}

// Tables lists the instantiated tables in /proc order. Tables the kernel
// has but iptables does not know are skipped here; Load reports them.
func (b *Backend) Tables(f table.Family) ([]string, error) {
	names, err := tableNames(f)
	if err != nil {
		return nil, b.opErr("list tables", "", err)
	}
	return names, nil
}

// Load reads tables. Reading a table that does not exist yet creates it
// (that is how the kernel works); names == nil reads only existing ones.
func (b *Backend) Load(f table.Family, names []string) (*table.Ruleset, error) {
	col := table.NewCollector(f)
	if err := b.Stream(f, names, col); err != nil {
		return nil, err
	}
	return &col.Ruleset, nil
}

// Stream is Load into a sink: each table is decoded straight out of the
// kernel's copy, one rule at a time.
func (b *Backend) Stream(f table.Family, names []string, sink table.Sink) error {
	if names == nil {
		var err error
		if names, err = b.Tables(f); err != nil {
			return err
		}
	}
	c, err := open(f)
	if err != nil {
		return b.opErr("open", "", err)
	}
	defer c.close()
	for _, name := range names {
		if table.LookupTable(name) == nil {
			return b.opErr("read", name, fmt.Errorf("the kernel has a table %q that iptables does not know", name))
		}
		if err := b.read(c, f, name, sink); err != nil {
			return err
		}
	}
	return nil
}

// StreamRestarts is false: each table is read in one call, atomically.
func (b *Backend) StreamRestarts() bool { return false }

// Begin takes the xtables lock (waiting LockWait) and holds it until
// the session is closed, as iptables-restore --noflush holds it from its
// first read to its replace: an iptables -w writer waits meanwhile, so a
// rule it adds between fw's read and fw's replace cannot be lost.
func (b *Backend) Begin(f table.Family) (kernel.Session, error) {
	lock, err := kernel.AcquireLock(b.LockFile, b.LockWait)
	if err != nil {
		return nil, err
	}
	return &session{b: b, f: f, lock: lock}, nil
}

// session is a reading under the xtables lock.
type session struct {
	b    *Backend
	f    table.Family
	lock *kernel.Lock
}

// Table reads the whole table: x_tables hands a table out in one piece,
// so no chain is left Unread.
func (s *session) Table(name string) (*table.Table, error) {
	rs, err := s.b.Load(s.f, []string{name})
	if err != nil {
		return nil, err
	}
	return rs.Table(name), nil
}

// Chain reads the table again and returns the chain's rules. A restore
// never needs it, since Table leaves nothing Unread.
func (s *session) Chain(tbl, chain string) ([]*table.Rule, error) {
	t, err := s.Table(tbl)
	if err != nil {
		return nil, err
	}
	c := t.Chain(chain)
	if c == nil {
		return nil, s.b.opErr("read", tbl, fmt.Errorf("no chain %q", chain))
	}
	return c.Rules, nil
}

// Again is false: under the lock no iptables writer changes the tables.
func (s *session) Again() bool { return false }

func (s *session) Close() error { return s.lock.Release() }

// held reports whether opt's session holds the xtables lock for b.
func (b *Backend) held(opt kernel.CommitOptions) bool {
	s, ok := opt.Session.(*session)
	return ok && s.b == b && s.lock.Held()
}

// UsesDigests is false: a legacy commit compares encoded tables.
func (b *Backend) UsesDigests(kernel.CommitOptions) bool { return false }

// read fetches table name and hands it to sink. The rules decoded keep
// nothing of the kernel's copy, which is given back right after.
func (b *Backend) read(c *conn, f table.Family, name string, sink table.Sink) error {
	for attempt := 0; ; attempt++ {
		in, err := c.info(name)
		if err != nil {
			return b.opErr("read info of", name, err)
		}
		blob, err := c.entries(name, in)
		if errors.Is(err, syscall.EAGAIN) && attempt < 5 {
			continue // the table changed between the two calls
		}
		if err != nil {
			return b.opErr("read", name, err)
		}
		err = DecodeTo(f, name, blob.Entries, in, b.Registry, sink)
		blob.release()
		if err != nil {
			var se *sinkError
			if errors.As(err, &se) {
				return se.err
			}
			return b.opErr("decode", name, err)
		}
		return nil
	}
}

// Commit replaces every table of rs. All tables are encoded and every
// extension revision is checked before the first write; each table is
// replaced atomically by the kernel; if a later table is refused, the
// tables already replaced are put back as they were (rules and counters),
// so a failed commit leaves the kernel as it found it. The xtables lock is
// held throughout, like iptables-restore holds it: taken here, or held
// already by opt.Session (Begin), from before the tables were read.
//
// A table the kernel already holds exactly (the same entries; with -c the
// same counters too) is not replaced unless opt.ReplaceUnchanged: legacy
// x_tables can only swap whole tables, so re-applying a file in which
// one table changed costs the kernel work of that table alone. Such a
// table keeps counting where it was instead of restarting from zero.
func (b *Backend) Commit(rs *table.Ruleset, opt kernel.CommitOptions) error {
	type job struct {
		t       *table.Table
		blob    *Blob
		oldInfo *Info
		old     *Blob
		done    bool
	}
	var jobs []*job
	for _, t := range rs.Tables {
		if t.Partial() {
			return b.opErr("commit", t.Name, kernel.ErrUnread)
		}
	}
	// rs.Tables is in print order, which for legacy is newest first; the
	// kernel instantiates tables in the order fw first asks for them, so
	// walking backwards reproduces the order iptables-restore would give.
	for i := len(rs.Tables) - 1; i >= 0; i-- {
		t := rs.Tables[i]
		encode := Encode
		if opt.Test {
			encode = CheckEncode
		}
		blob, err := encode(rs.Family, t)
		if err != nil {
			return b.opErr("encode", t.Name, err)
		}
		jobs = append(jobs, &job{t: t, blob: blob})
	}
	if !b.held(opt) {
		lock, err := kernel.AcquireLock(b.LockFile, b.LockWait)
		if err != nil {
			return err
		}
		defer lock.Release()
	}
	c, err := open(rs.Family)
	if err != nil {
		return b.opErr("open", "", err)
	}
	defer c.close()
	for _, j := range jobs {
		if err := b.checkRevisions(c, j.t, j.blob); err != nil {
			return err
		}
	}
	for _, j := range jobs {
		in, err := c.info(j.t.Name)
		if err != nil {
			return b.opErr("read info of", j.t.Name, err)
		}
		if in.ValidHooks != j.blob.ValidHooks {
			return b.opErr("replace", j.t.Name, fmt.Errorf("kernel table hooks %#x, expected %#x", in.ValidHooks, j.blob.ValidHooks))
		}
		j.oldInfo = in
	}
	if opt.Test {
		if !opt.Scratch {
			return nil
		}
		// What only the kernel can check (each extension's checkentry),
		// checked in a scratch network namespace: the real ruleset is
		// not touched.
		for _, j := range jobs {
			if rerr := diagnose(rs.Family, j.t); rerr != nil {
				return b.opErr("check", j.t.Name, rerr)
			}
		}
		return nil
	}
	// The old entries serve two ends: rolling a table back when a later
	// one fails, and seeing that a table is unchanged. The biggest table
	// goes last, where no rollback can need it, so its tens of megabytes
	// are read only when its size says it may be unchanged.
	slices.SortStableFunc(jobs, func(a, b *job) int { return len(a.blob.Entries) - len(b.blob.Entries) })
	defer func() {
		for _, j := range jobs {
			j.old.release()
		}
	}()
	for i, j := range jobs {
		maySkip := !opt.ReplaceUnchanged && j.oldInfo.NumEntries == uint32(j.blob.NumEntries) && int(j.oldInfo.Size) == len(j.blob.Entries)
		if i == len(jobs)-1 && !maySkip {
			break
		}
		if j.old, err = c.entries(j.t.Name, j.oldInfo); err != nil {
			return b.opErr("read", j.t.Name, err)
		}
	}
	var failure error
	for _, j := range jobs {
		if !opt.ReplaceUnchanged && unchanged(layouts[rs.Family], j.old, j.blob, opt.Counters) {
			continue
		}
		if err := c.replace(j.t.Name, j.blob, j.oldInfo.NumEntries); err != nil {
			failure = b.opErr("replace", j.t.Name, err)
			if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EPERM) {
				if rerr := diagnose(rs.Family, j.t); rerr != nil {
					failure = b.opErr("replace", j.t.Name, rerr)
				}
			}
			break
		}
		j.done = true
		if err := c.addCounters(j.t.Name, layouts[rs.Family], j.blob); err != nil {
			failure = b.opErr("set counters of", j.t.Name, err)
			break
		}
	}
	if failure == nil {
		return nil
	}
	// Put back what was replaced, newest first.
	for i := len(jobs) - 1; i >= 0; i-- {
		j := jobs[i]
		if !j.done {
			continue
		}
		if err := b.restoreOld(c, rs.Family, j.t.Name, j.old); err != nil {
			return fmt.Errorf("%w; and rolling back table %s failed too: %v", failure, j.t.Name, err)
		}
	}
	return failure
}

// restoreOld writes back a table exactly as it was read: the same entries
// (which carry their counters) and the counters re-added.
func (b *Backend) restoreOld(c *conn, f table.Family, name string, old *Blob) error {
	cur, err := c.info(name)
	if err != nil {
		return err
	}
	for h := range old.HookEntry {
		if old.ValidHooks&(1<<h) == 0 {
			old.HookEntry[h], old.Underflow[h] = 0, 0
		}
	}
	if err := c.replace(name, old, cur.NumEntries); err != nil {
		return err
	}
	return c.addCounters(name, layouts[f], old)
}

// unchanged reports whether old, a table as the kernel hands it out,
// holds exactly what the encoded blob b would put there. The kernel's
// copy differs from an encoding only in what the kernel fills in itself,
// each entry's comefrom and counters, so those are skipped, and the
// counters compared only when withCounters. Any other difference, even
// in bytes the kernel might have changed on its own, counts as a change:
// a false "changed" costs time, a false "unchanged" would be wrong.
func unchanged(lay *entryLayout, old, b *Blob, withCounters bool) bool {
	if old == nil || old.NumEntries != b.NumEntries || len(old.Entries) != len(b.Entries) || old.ValidHooks != b.ValidHooks {
		return false
	}
	for h := range b.HookEntry {
		if b.ValidHooks&(1<<h) != 0 && (old.HookEntry[h] != b.HookEntry[h] || old.Underflow[h] != b.Underflow[h]) {
			return false
		}
	}
	skipFrom, skipTo := lay.cfOff, lay.countersOff+countersSize
	if withCounters {
		skipTo = lay.countersOff
	}
	i := 0
	for off := 0; off < len(old.Entries); i++ {
		if off+lay.size > len(old.Entries) || i >= b.NumEntries {
			return false
		}
		next := int(xtbin.Native.Uint16(old.Entries[off+lay.nextOff:]))
		if next < lay.size || off+next > len(old.Entries) {
			return false
		}
		x, y := old.Entries[off:off+next], b.Entries[off:off+next]
		if !bytes.Equal(x[:skipFrom], y[:skipFrom]) || !bytes.Equal(x[skipTo:], y[skipTo:]) {
			return false
		}
		off += next
	}
	return i == b.NumEntries
}

// checkRevisions asks the kernel for every extension revision the
// ruleset uses, so that a missing module fails before anything changes.
func (b *Backend) checkRevisions(c *conn, t *table.Table, blob *Blob) error {
	for _, info := range blob.Exts {
		err := c.revisionSupported(info.Kind, info.KernelName(), info.Revision)
		switch {
		case err == nil:
			continue
		case errors.Is(err, syscall.EPROTONOSUPPORT):
			return b.opErr("check", t.Name, fmt.Errorf("the kernel has %s %s but not revision %d, which fw writes", info.Kind, info.KernelName(), info.Revision))
		case errors.Is(err, syscall.ENOENT):
			return b.opErr("check", t.Name, fmt.Errorf("the kernel has no %s %s (module not available?)", info.Kind, info.KernelName()))
		}
		return b.opErr("check", t.Name, err)
	}
	return nil
}

// Raw returns a table's entries exactly as the kernel hands them out, for
// byte-level comparisons in tests and for debugging.
func (b *Backend) Raw(f table.Family, name string) ([]byte, *Info, error) {
	c, err := open(f)
	if err != nil {
		return nil, nil, b.opErr("open", "", err)
	}
	defer c.close()
	in, err := c.info(name)
	if err != nil {
		return nil, nil, b.opErr("read info of", name, err)
	}
	blob, err := c.entries(name, in)
	if err != nil {
		return nil, nil, b.opErr("read", name, err)
	}
	defer blob.release()
	return slices.Clone(blob.Entries), in, nil
}

// Skeleton reads the policies of the named tables without decoding their
// rules, and without creating tables that do not exist yet.
func (b *Backend) Skeleton(f table.Family, names []string) (*table.Ruleset, error) {
	existing, err := tableNames(f)
	if err != nil {
		return nil, b.opErr("list tables", "", err)
	}
	rs := &table.Ruleset{Family: f}
	var c *conn
	defer func() {
		if c != nil {
			c.close()
		}
	}()
	for _, name := range names {
		t := table.NewTable(name)
		if t == nil {
			return nil, b.opErr("read", name, fmt.Errorf("unknown table %q", name))
		}
		rs.Tables = append(rs.Tables, t)
		if !slices.Contains(existing, name) {
			continue
		}
		if c == nil {
			if c, err = open(f); err != nil {
				return nil, b.opErr("open", "", err)
			}
		}
		in, err := c.info(name)
		if err != nil {
			return nil, b.opErr("read info of", name, err)
		}
		blob, err := c.entries(name, in)
		if err != nil {
			return nil, b.opErr("read", name, err)
		}
		defer blob.release()
		for _, ch := range t.Chains {
			h, _ := table.HookByName(ch.Name)
			var e rawEntry
			if err := readEntry(layouts[f], blob.Entries, int(in.Underflow[h]), &e); err != nil {
				return nil, b.opErr("read", name, fmt.Errorf("policy of %s: %w", ch.Name, err))
			}
			switch e.verdict {
			case verdictAccept:
				ch.Policy = table.Accept
			case verdictDrop:
				ch.Policy = table.Drop
			default:
				return nil, b.opErr("read", name, fmt.Errorf("policy of %s: verdict %d", ch.Name, e.verdict))
			}
		}
	}
	return rs, nil
}
