package ops

import (
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// RestoreOptions say what Restore does: fw-restore's flags.
type RestoreOptions struct {
	Family   table.Family
	Registry *table.Registry
	Open     Opener
	Read     ReadFunc
	// File is the rules file ("" or "-": standard input).
	File string
	// Table, when set, restores only that table's blocks (-T).
	Table string
	// Counters restores the [packets:bytes] counters (-c).
	Counters bool
	// NoFlush applies the file to what the kernel has (-n).
	NoFlush bool
	// Keep names user chains that stay as the kernel has them unless the
	// file declares them (--keep-chains; see KeepChains). NoFlush keeps
	// every chain anyway and ignores it.
	Keep func(chain string) bool
	// Test changes nothing (-t); CheckKernel, with Test, also has the
	// kernel's own checks run where the backend can (--check-kernel).
	Test, CheckKernel bool
	// Incremental sends only the difference (--incremental);
	// ReplaceUnchanged replaces tables the kernel holds exactly
	// (--replace-unchanged). See kernel.CommitOptions.
	Incremental, ReplaceUnchanged bool
	// Wait is how long to wait for the xtables lock (-w); < 0: forever.
	Wait time.Duration
	// Confirm, when set, puts the previous ruleset back unless the change
	// is confirmed in time (--confirm).
	Confirm *ConfirmOptions
	// Fallback, when set, is a rules file loaded instead when File cannot
	// be restored (--fallback); Restore still fails.
	Fallback string

	// Log receives what -v says (when Verbose) and the messages about a
	// fallback; nil: nowhere.
	Log     io.Writer
	Verbose bool
	// Prog prefixes the messages ("fw-restore"); Version goes with it
	// into the header of the previous ruleset a confirmation saves.
	Prog, Version string
	// Report prints an error as the command prints the error it returns.
	// Before a fallback is loaded, Restore reports why the file was not
	// restored (and then why the fallback was not, if it was not), since
	// the messages about the fallback follow that reason. nil: such
	// errors go to Log as they are.
	Report func(error)
}

// FallbackError is a restore that failed, after which the fallback
// ruleset was loaded (FallbackErr nil) or failed too. Both errors have
// been reported (RestoreOptions.Report); the run's outcome is Err's.
type FallbackError struct {
	Err         error // why the file was not restored
	FallbackErr error // why the fallback was not loaded; nil when it was
}

func (e *FallbackError) Error() string {
	if e.FallbackErr != nil {
		return fmt.Sprintf("%v; and the fallback failed too: %v", e.Err, e.FallbackErr)
	}
	return fmt.Sprintf("%v; the fallback ruleset was loaded instead", e.Err)
}

func (e *FallbackError) Unwrap() error { return e.Err }

// Restore loads opt.File into the kernel: everything is parsed, validated
// and encoded before the first change, and the backend replaces the
// tables all at once or not at all. With a Fallback, a file that cannot
// be restored (a typo, a rule the kernel refuses: the kernel still has
// what it had) is reported and the fallback ruleset is loaded instead,
// and the result is a *FallbackError: the boot case, where the
// administrator prepared a minimal ruleset for a broken main one.
func Restore(opt RestoreOptions) error {
	err := restoreFile(&opt, opt.File)
	if err == nil || opt.Fallback == "" {
		return err
	}
	log := logger{opt.Log, opt.Prog}
	report := opt.Report
	if report == nil {
		report = func(err error) { log.say("%v", err) }
	}
	report(err)
	name := opt.File
	if name == "" {
		name = "<stdin>"
	}
	log.say("%s was not restored; loading the fallback ruleset %s instead", name, opt.Fallback)
	if ferr := restoreFile(&opt, opt.Fallback); ferr != nil {
		report(ferr)
		log.say("the fallback failed too; the kernel keeps the ruleset it had")
		return &FallbackError{Err: err, FallbackErr: ferr}
	}
	log.say("loaded the fallback ruleset %s", opt.Fallback)
	return &FallbackError{Err: err}
}

// restoreFile restores one rules file.
func restoreFile(opt *RestoreOptions, file string) error {
	fam := opt.Family
	verbose := func(format string, args ...any) {
		if opt.Verbose {
			logger{opt.Log, opt.Prog}.say(format, args...)
		}
	}
	name, src, err := opt.Read(file)
	if err != nil {
		return err
	}
	dopt := format.DecodeOptions{Family: fam, Registry: opt.Registry, OnlyTable: opt.Table}
	b, note, err := opt.Open("", opt.Wait)
	if err != nil {
		// A file's own errors come first (a typo matters more than a
		// missing privilege): check it alone.
		return firstErr(check(name, src, dopt), err)
	}
	if note != "" {
		verbose("backend %s: %s", b.Name(), note)
	}
	r := &restoring{opt: opt, b: b, name: name, src: src, dopt: dopt}
	r.apply = table.ApplyOptions{Counters: opt.Counters, NoFlush: opt.NoFlush, OwnBase: true, NFTCompat: b.Name() == "nft"}
	if !opt.NoFlush {
		r.apply.Keep = opt.Keep
	}
	// Kept chains, like everything with --noflush, come from the kernel.
	fromKernel := r.apply.NoFlush || r.apply.Keep != nil
	r.commit = kernel.CommitOptions{Test: opt.Test, Scratch: opt.CheckKernel, Counters: opt.Counters,
		ReplaceUnchanged: opt.ReplaceUnchanged, Incremental: opt.Incremental, NoFlush: fromKernel}
	r.dopt.Digests = b.UsesDigests(r.commit)
	if fromKernel {
		// The file is applied to one reading of the kernel's tables,
		// which the commit writes on top of (legacy: under the xtables
		// lock from the first read to the replace).
		if r.session, err = b.Begin(fam); err != nil {
			return firstErr(check(name, src, dopt), err)
		}
		defer r.session.Close()
		r.commit.Session = r.session
	}
	out, err := r.prepare()
	if err != nil {
		return err
	}
	if out == nil {
		verbose("nothing to restore")
		return nil
	}
	commit := func() error { return r.run(out) }
	if opt.Confirm != nil {
		err = confirmed(opt, b, r.names, commit)
	} else {
		err = commit()
	}
	if err != nil {
		return err
	}
	if r.commit.Test {
		verbose("%s: checked %d table(s) through %s; nothing was changed", name, len(r.names), b.Name())
	} else {
		verbose("%s: restored %d table(s) through %s", name, len(r.names), b.Name())
	}
	return nil
}

// restoring is one restore of a file under way.
type restoring struct {
	opt     *RestoreOptions
	b       kernel.Backend
	name    string
	src     []byte
	dopt    format.DecodeOptions
	apply   table.ApplyOptions
	commit  kernel.CommitOptions
	session kernel.Session // the reading applied to (--noflush, --keep-chains)
	names   []string       // the tables the file touches, in its order
	tries   int            // readings of the kernel given up because it changed
}

// prepare applies the file, reading the kernel's tables again as long as
// they change under the reading (and the backend's pacing allows), and
// returns the tables to commit; nil when the file touches none.
func (r *restoring) prepare() (*table.Ruleset, error) {
	for {
		out, err := r.applyFile()
		if !r.changed(err) {
			return out, err
		}
	}
}

// changed reports whether err says the ruleset changed under the
// session's reading, and whether to read it again: someone else wrote it
// between fw's reading and its commit.
func (r *restoring) changed(err error) bool {
	if r.session == nil || !errors.Is(err, kernel.ErrRulesetChanged) || !r.session.Again() {
		return false
	}
	if r.opt.Verbose {
		logger{r.opt.Log, r.opt.Prog}.say("the ruleset changed while it was read; reading it again")
	}
	return true
}

// run commits out, and while the ruleset changes under the reading it was
// made from, reads the kernel again and applies the file to it again, as
// iptables-restore --noflush does. The session is closed after, so that
// a confirmation's wait does not hold the xtables lock.
func (r *restoring) run(out *table.Ruleset) error {
	if r.session != nil {
		defer r.session.Close()
	}
	for {
		err := r.b.Commit(out, r.commit)
		if !r.changed(err) {
			return err
		}
		if out, err = r.prepare(); err != nil || out == nil {
			return err
		}
	}
}

// applyFile decodes the file and applies it in one pass, straight onto
// the tables it names. With --noflush (and --keep-chains) those start
// from what the kernel has, read through the session when the file first
// names them (a backend that can read a table's chains without their
// rules does, and the rules of a chain are read when a command needs
// them). Otherwise a restore keeps nothing of a table but the policies of
// built-in chains the file does not set, which are read afterwards, and
// only where the file leaves one unset (it seldom does).
func (r *restoring) applyFile() (*table.Ruleset, error) {
	fam := r.opt.Family
	var base func(string) *table.Table
	var readErr error
	apply := r.apply
	if r.session != nil {
		// A read that fails is remembered as it is: the Applier reports
		// it at a line of the file, and the restore must tell a ruleset
		// that moved under it from a read that failed.
		apply.ReadChain = func(t, chain string) ([]*table.Rule, error) {
			rules, err := r.session.Chain(t, chain)
			readErr = firstErr(readErr, err)
			return rules, err
		}
		base = func(name string) *table.Table {
			t, err := r.session.Table(name)
			readErr = firstErr(readErr, err)
			return t
		}
	}
	a := table.NewApplier(fam, apply, base)
	derr := format.ApplySource(r.name, r.src, r.dopt, a)
	if err := firstErr(readErr, derr); err != nil {
		return nil, err
	}
	cur := &table.Ruleset{Family: fam}
	err := a.Finish(cur)
	if err := firstErr(readErr, err); err != nil {
		return nil, err
	}
	if a.Zeroed() {
		// -Z changes only counters, which a commit that leaves alone
		// what the kernel already has would not write: replace the
		// tables, with the counters the file leaves them.
		r.commit.NoFlush, r.commit.ReplaceUnchanged = false, true
	}
	r.names = a.Tables()
	if len(r.names) == 0 {
		return nil, nil
	}
	if r.session == nil {
		if err := keepPolicies(r.b, fam, a, cur); err != nil {
			return nil, err
		}
	}
	// Tables go to Commit in print order, newest first: it creates
	// missing ones oldest first, so they appear in the kernel in the
	// order the file names them, as iptables-restore would leave them.
	out := &table.Ruleset{Family: fam}
	for i := len(r.names) - 1; i >= 0; i-- {
		if t := cur.Table(r.names[i]); t != nil {
			out.Tables = append(out.Tables, t)
		}
	}
	return out, nil
}

// check decodes and applies a file on its own, to empty tables.
func check(name string, src []byte, dopt format.DecodeOptions) error {
	a := table.NewApplier(dopt.Family, table.ApplyOptions{}, nil)
	if err := format.ApplySource(name, src, dopt, a); err != nil {
		return err
	}
	return a.Finish(&table.Ruleset{Family: dopt.Family})
}

// firstErr returns the first error that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// KeepChains turns the argument of --keep-chains into a test of chain
// names: globs as path.Match has them ('*', '?', '[...]'), separated by
// commas. nil for none.
func KeepChains(list string) (func(string) bool, error) {
	if list == "" {
		return nil, nil
	}
	globs := strings.Split(list, ",")
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			return nil, fmt.Errorf("--keep-chains: bad pattern %q (globs such as 'DOCKER*', separated by commas)", g)
		}
	}
	return func(name string) bool {
		for _, g := range globs {
			if ok, _ := path.Match(g, name); ok {
				return true
			}
		}
		return false
	}, nil
}

// keepPolicies gives the built-in chains whose policy the file does not
// set the policy the kernel has, as a restore without --noflush does.
func keepPolicies(b kernel.Backend, fam table.Family, a *table.Applier, cur *table.Ruleset) error {
	need := a.UnsetPolicies()
	if len(need) == 0 {
		return nil
	}
	old, err := b.Skeleton(fam, need)
	if err != nil {
		return err
	}
	for _, name := range need {
		t, o := cur.Table(name), old.Table(name)
		if t == nil || o == nil {
			continue
		}
		for _, ch := range t.Chains {
			if oc := o.Chain(ch.Name); ch.Builtin && oc != nil && !a.PolicySet(name, ch.Name) {
				ch.Policy = oc.Policy
			}
		}
	}
	return nil
}
