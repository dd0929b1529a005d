// Package kernel is the contract between fw and a packet-filter backend
// (legacy x_tables or nf_tables): read the iptables tables of a family,
// replace some of them all at once. It also holds what both backends
// share: errors that name the operation, and the xtables lock.
package kernel

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/fwkit/fw/table"
)

// Backend reads and writes the iptables tables of one kernel interface.
// Every ability an operation may need is part of it, so that the
// operations (internal/ops) pick their path by asking the backend, never
// by its name or by what else it happens to implement.
type Backend interface {
	// Name is "legacy" or "nft" (a test's fake has a name of its own):
	// what messages call the backend, and how a second one of the same
	// kind is asked for.
	Name() string
	// Tables lists the tables of family f that exist in the kernel, in
	// the order the backend's iptables-save prints them.
	Tables(f table.Family) ([]string, error)
	// Load reads the named tables (all existing ones when names is nil).
	Load(f table.Family, names []string) (*table.Ruleset, error)
	// Stream is Load into a table.Sink, table by table, so that saving a
	// 100k-rule ruleset never holds it whole. When StreamRestarts, the
	// sink may be restarted (table.Restarter) and given everything again.
	Stream(f table.Family, names []string, sink table.Sink) error
	// StreamRestarts reports whether Stream may have to read again
	// because the ruleset changed under it (an nf_tables dump is not
	// atomic; a legacy table is read in one call): what it hands a sink
	// is then final only once Stream returns, and text written on the
	// way to a writer that cannot take it back must be held until then.
	StreamRestarts() bool
	// Skeleton reads just the built-in chains and their policies (and
	// policy counters) of the named tables, which is all a restore
	// without --noflush needs from the kernel: it replaces everything
	// else. Tables that do not exist come back as new, empty tables, and
	// reading must not create them.
	Skeleton(f table.Family, names []string) (*table.Ruleset, error)
	// Begin starts a reading of family f's tables for a restore that
	// applies a file to what the kernel has (--noflush, --keep-chains):
	// what the Session reads is of one state of the ruleset, and a Commit
	// given the Session (CommitOptions.Session) writes on top of that
	// state or fails with ErrRulesetChanged, changing nothing. How a
	// backend holds the state still is its own: legacy takes the xtables
	// lock, which keeps every iptables writer out until the Session is
	// closed; nf_tables remembers the generation it read, which the
	// commit's batch carries.
	Begin(f table.Family) (Session, error)
	// UsesDigests reports whether Commit with opt compares or records
	// rules by their stable digests (table.Rule.Digest): a restore then
	// has its decoder compute them as it goes (format.DecodeOptions.
	// Digests) rather than leave the backend a pass over the whole
	// ruleset.
	UsesDigests(opt CommitOptions) bool
	// Commit makes the tables of rs what the kernel has, every table of
	// rs or none of them. Tables not in rs are not touched.
	Commit(rs *table.Ruleset, opt CommitOptions) error
}

// Session is one reading of a family's tables (Backend.Begin), used by
// one goroutine. Close lets go of what it holds (a socket, the xtables
// lock), after the commit that takes it; it may be called more than once.
type Session interface {
	// Table reads table name. A backend that can read a table's chains
	// without their rules leaves them Unread (table.Chain.Unread), to be
	// read by Chain when the restore needs them: a file that names 300 of
	// a kube-proxy table's 35,000 chains reads those 300. A backend that
	// reads whole tables returns the table whole. A table that does not
	// exist comes back new and empty, as from Load.
	Table(name string) (*table.Table, error)
	// Chain reads the rules of chain of table tbl, as Load would.
	Chain(tbl, chain string) ([]*table.Rule, error)
	// Again starts the reading over after a Commit or a read failed with
	// ErrRulesetChanged, pausing as the backend paces its own retries,
	// and reports false once the backend's deadline for them has passed
	// (or when the reading cannot change under it, as under a lock).
	Again() bool
	Close() error
}

// ErrRulesetChanged is a reading, or the commit of what was read, that
// another writer got in the way of: the ruleset changed since it was
// read. A restore that applies a file to what it read reads again and
// applies the file again (Session.Again).
var ErrRulesetChanged = errors.New("the ruleset changed while fw was working on it (someone else wrote it); try again")

// CommitOptions tune a commit.
type CommitOptions struct {
	// Test builds and checks everything it can without changing the
	// kernel.
	Test bool
	// Scratch, with Test, also loads the ruleset into a throwaway network
	// namespace so that the kernel's own checks (each extension's
	// checkentry) run too. It costs about as much as a real restore,
	// which is why it is not part of every Test.
	Scratch bool
	// ReplaceUnchanged replaces tables even when the kernel already
	// holds exactly what the file says (legacy skips them otherwise),
	// which restarts their counters.
	ReplaceUnchanged bool
	// Counters says the ruleset's counters are meant (restore -c): a
	// table then counts as unchanged only when its counters are too.
	Counters bool
	// Incremental sends only the difference between what the kernel
	// holds and the tables to commit (rules removed, added and replaced
	// where they differ, chains added and removed, policies) in one
	// transaction, instead of replacing every table: a small change to a
	// big ruleset then costs about as much as the change. The end state
	// is what a full commit gives, except that without Counters the
	// rules kept keep their live counters. Only the nft backend
	// supports it; a table whose live content is not in iptables' shape
	// is an error.
	Incremental bool
	// NoFlush says rs is the kernel's tables with a restore --noflush
	// file applied (or a file restored with --keep-chains): the file
	// meant to change only what it names. A
	// backend that can send just the difference does (nft, as with
	// Incremental), so that the rules the file leaves alone keep their
	// handles and counters, as the reference tool leaves them.
	NoFlush bool
	// Session, when set, is the reading (Backend.Begin) the tables of rs
	// were made from: the commit writes on top of the state it read, or
	// fails with ErrRulesetChanged. Tables with Unread chains must come
	// with the Session that read them.
	Session Session
}

// OpError is a kernel failure: which backend, which operation, which
// table, and the cause in words.
type OpError struct {
	Backend string
	Op      string
	Table   string
	Err     error
}

func (e *OpError) Error() string {
	s := e.Backend + ": " + e.Op
	if e.Table != "" {
		s += " table " + e.Table
	}
	return s + ": " + Explain(e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// Explain turns an errno into words about rulesets rather than files.
func Explain(err error) string {
	// Only a bare errno gets the generic words; an error that carries
	// its own context (a rule, a reason from the kernel log) says more.
	errno, ok := err.(syscall.Errno)
	if !ok {
		return err.Error()
	}
	switch errno {
	case syscall.EPERM:
		return "permission denied (fw needs CAP_NET_ADMIN: run it as root)"
	case syscall.ENOENT:
		return "no such table, chain, match or target in the kernel (is the module available?)"
	case syscall.EAGAIN:
		return "the ruleset changed while fw was working on it (someone else wrote it); try again"
	case syscall.ELOOP:
		return "the chains jump in a loop"
	case syscall.ENOPROTOOPT:
		return "the kernel does not support this interface (module not loaded?)"
	case syscall.EPROTONOSUPPORT:
		return "the kernel does not support this revision of the extension"
	case syscall.EINVAL:
		return "the kernel refused the ruleset as invalid (see dmesg for the extension's reason)"
	}
	return fmt.Sprintf("%v", errno)
}

// ErrUnread is a commit that would replace a table whole when some of its
// chains were not read (table.Chain.Unread): their rules would be lost.
// Only a commit that sends the difference (nft, NoFlush) takes them.
var ErrUnread = errors.New("the table was read in part (some chains' rules were not read), and replacing it whole would lose them")
