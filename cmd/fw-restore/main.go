// Command fw-restore loads a rules file into the kernel. Everything is
// parsed, validated and encoded before the first change; each table is
// replaced atomically, and a failure part-way puts back the tables already
// replaced.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/backends"
	"github.com/fwkit/fw/internal/cliutil"
	"github.com/fwkit/fw/internal/confirm"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

func main() {
	os.Args = waitArgs(os.Args)
	cliutil.Main(app())
}

// waitArgs gives "-w" without a number (iptables: wait forever) and
// "--confirm" without a number (the default timeout) explicit values,
// since flag parsers have no optional values.
func waitArgs(args []string) []string {
	out := []string{args[0]}
	for i := 1; i < len(args); i++ {
		a := args[i]
		var name, missing string
		switch a {
		case "-w", "--wait":
			name, missing = "--wait", "-1"
		case "--confirm":
			name, missing = "--confirm", strconv.Itoa(int(confirm.DefaultTimeout/time.Second))
		default:
			out = append(out, a)
			continue
		}
		if i+1 < len(args) {
			if _, err := strconv.ParseFloat(args[i+1], 64); err == nil {
				out = append(out, name+"="+args[i+1])
				i++
				continue
			}
		}
		out = append(out, name+"="+missing)
	}
	return out
}

func app() *cli.App {
	return &cli.App{
		Name:      "fw-restore",
		Usage:     "load a ruleset in iptables-restore format",
		UsageText: "fw-restore [--backend legacy|nft|auto] [-4|-6] [-c] [-n] [-t] [--incremental] [--keep-chains GLOBS] [-T TABLE] [-w [SECONDS]] [-v] [--confirm [SECONDS] | --fallback FILE] [FILE|-]",
		Flags: append([]cli.Flag{
			cliutil.BackendFlag,
			&cli.BoolFlag{Name: "test", Aliases: []string{"t"}, Usage: "parse, validate, encode and check that the kernel has every extension; change nothing"},
			&cli.BoolFlag{Name: "check-kernel", Usage: "with --test: also load the ruleset into a throwaway network namespace so the kernel's own checks run (legacy; slower, about the cost of a restore)"},
			&cli.BoolFlag{Name: "counters", Aliases: []string{"c"}, Usage: "restore the [packets:bytes] counters"},
			&cli.BoolFlag{Name: "noflush", Aliases: []string{"n"}, Usage: "do not flush the tables first: apply the file to what the kernel has (nft: only the difference is sent, so the rest keeps its counters)"},
			&cli.StringFlag{Name: "keep-chains", Usage: "leave the user chains matching `GLOBS` (comma-separated, e.g. 'DOCKER*,KUBE-*') as the kernel has them, unless the file declares them; rules in the file may jump to them (without --noflush; nft then sends only the difference)"},
			&cli.BoolFlag{Name: "incremental", Usage: "nft: send only the difference between the live ruleset and the file, in one transaction (legacy skips unchanged tables anyway)"},
			&cli.BoolFlag{Name: "replace-unchanged", Usage: "legacy: replace tables the kernel already holds exactly, restarting their counters (by default they are left alone)"},
			&cli.StringFlag{Name: "table", Aliases: []string{"T"}, Usage: "only restore `TABLE`"},
			&cli.Float64Flag{Name: "wait", Usage: "wait up to `SECONDS` for the xtables lock (-w alone: forever)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "say what is done"},
			&cli.Float64Flag{Name: "confirm", DefaultText: "off", Usage: "apply, then put the previous ruleset back unless confirmed within `SECONDS` (10 without a number): answer yes on the terminal, touch $FW_RUNDIR/confirm (/run/fw/confirm) or send SIGUSR1"},
			&cli.StringFlag{Name: "fallback", Usage: "when FILE cannot be restored, report why and load the ruleset in `FALLBACK` instead (exit status still non-zero); empty: none"},
		}, cliutil.FamilyFlags...),
		Action: run,
	}
}

func run(c *cli.Context) error {
	fam, err := cliutil.Family(c)
	if err != nil {
		return err
	}
	if c.NArg() > 1 {
		return cliutil.Usage("at most one file")
	}
	if t := c.String("table"); t != "" && table.LookupTable(t) == nil {
		return cliutil.Usage("unknown table %q", t)
	}
	if _, err := keepChains(c.String("keep-chains")); err != nil {
		return cliutil.Usage("%v", err)
	}
	fallback := c.String("fallback")
	switch {
	case c.IsSet("confirm") && c.Bool("test"):
		return cliutil.Usage("--confirm and --test cannot be given together")
	case c.IsSet("confirm") && c.Float64("confirm") <= 0:
		return cliutil.Usage("--confirm needs a number of seconds above 0")
	case c.Bool("incremental") && c.Bool("replace-unchanged"):
		return cliutil.Usage("--incremental and --replace-unchanged cannot be given together")
	case c.Bool("check-kernel") && !c.Bool("test"):
		return cliutil.Usage("--check-kernel goes with --test")
	case fallback != "" && (c.Bool("test") || c.IsSet("confirm")):
		return cliutil.Usage("--fallback cannot be given with --test or --confirm")
	}
	// A restore holds about 8 bytes for every byte of the file; the
	// limit leaves room for twice that, and for a small file at least
	// 256 MiB. A pipe's size is not known: it is collected as usual.
	size := cliutil.InputSize(c.Args().First(), -1)
	if size >= 0 {
		cliutil.CollectOnlyNear(max(256<<20, 16*int64(size)))
	}
	if c.Bool("test") && !c.Bool("check-kernel") || c.Bool("incremental") {
		// Huge pages slow down a restore that writes a whole ruleset to
		// the kernel (see PrimeHeap); a check alone, or an incremental
		// restore that sends only a difference, gains from them.
		cliutil.PrimeHeap(cliutil.HeapPerInputByte * max(size, 0))
	}
	err = restore(c, fam, c.Args().First())
	if err == nil || fallback == "" {
		return err
	}
	// The boot case: the file is broken (a typo, a rule the kernel
	// refuses) and the kernel still has what it had. Say why, then load
	// the minimal ruleset the administrator prepared, and still fail.
	code := cliutil.Report("fw-restore", err, os.Stderr)
	name := c.Args().First()
	if name == "" {
		name = "<stdin>"
	}
	fmt.Fprintf(os.Stderr, "fw-restore: %s was not restored; loading the fallback ruleset %s instead\n", name, fallback)
	if ferr := restore(c, fam, fallback); ferr != nil {
		cliutil.Report("fw-restore", ferr, os.Stderr)
		fmt.Fprintf(os.Stderr, "fw-restore: the fallback failed too; the kernel keeps the ruleset it had\n")
		return &cliutil.ExitError{Code: code}
	}
	fmt.Fprintf(os.Stderr, "fw-restore: loaded the fallback ruleset %s\n", fallback)
	return &cliutil.ExitError{Code: code}
}

// restore loads one rules file (- or "" for standard input).
func restore(c *cli.Context, fam table.Family, file string) error {
	reg := ext.Registry()
	name, src, release, err := cliutil.ReadInputReleasable(file)
	if err != nil {
		return err
	}
	defer release()
	// The tables the Applier starts from (--noflush) are read for it
	// alone.
	applyOpt := table.ApplyOptions{Counters: c.Bool("counters"), NoFlush: c.Bool("noflush"), OwnBase: true}
	if !applyOpt.NoFlush {
		applyOpt.Keep, _ = keepChains(c.String("keep-chains")) // checked in run
	}
	// Kept chains, like everything with --noflush, come from the kernel.
	fromKernel := applyOpt.NoFlush || applyOpt.Keep != nil
	wait := time.Duration(c.Float64("wait") * float64(time.Second))
	if c.Float64("wait") < 0 {
		wait = -1
	}
	b, note, err := backends.Open(backends.Options{Name: c.String("backend"), Registry: reg, LockWait: wait, Warn: os.Stderr}, fam)
	if err != nil {
		// A file's own errors come first (a typo matters more than a
		// missing privilege): check it alone.
		dopt := format.DecodeOptions{Family: fam, Registry: reg, OnlyTable: c.String("table")}
		a := table.NewApplier(fam, table.ApplyOptions{}, nil)
		derr := format.ApplySource(name, src, dopt, a)
		if derr == nil {
			derr = a.Finish(&table.Ruleset{Family: fam})
		}
		if derr != nil {
			return derr
		}
		return err
	}
	applyOpt.NFTCompat = b.Name() == "nft"
	verbose := func(format string, args ...any) {
		if c.Bool("verbose") {
			fmt.Fprintf(os.Stderr, "fw-restore: "+format+"\n", args...)
		}
	}
	if note != "" {
		verbose("backend %s: %s", b.Name(), note)
	}
	// The file is decoded and applied in one pass, straight onto the
	// tables it names. With --noflush those start from what the kernel
	// has, read when the file first names them (a backend that can
	// read a table's chains without their rules does, and the rules of
	// a chain are read when a command needs them). Without it a restore
	// keeps nothing of a table but the policies of built-in chains the
	// file does not set, which are read afterwards, and only where the
	// file leaves one unset (it seldom does). --keep-chains starts from
	// the kernel's tables too, and keeps the chains it names.
	var base func(string) *table.Table
	var baseErr error
	if fromKernel {
		load := func(t string) (*table.Table, error) {
			rs, err := b.Load(fam, []string{t})
			if err != nil {
				return nil, err
			}
			return rs.Table(t), nil
		}
		if cl, ok := b.(kernel.ChainLoader); ok {
			// Little of what such a restore allocates stays live (the
			// chain lists it reads, the state): the collector that
			// CollectOnlyNear put off for a ruleset built whole runs.
			cliutil.SetGCPercent(100)
			load = func(t string) (*table.Table, error) { return cl.LoadChains(fam, t) }
			applyOpt.ReadChain = func(t, chain string) ([]*table.Rule, error) { return cl.ReadChain(fam, t, chain) }
		}
		base = func(name string) *table.Table {
			t, err := load(name)
			if err != nil {
				if baseErr == nil {
					baseErr = err
				}
				return nil
			}
			return t
		}
	}
	copt := kernel.CommitOptions{Test: c.Bool("test"), Scratch: c.Bool("check-kernel"), Counters: c.Bool("counters"),
		ReplaceUnchanged: c.Bool("replace-unchanged"), Incremental: c.Bool("incremental"), NoFlush: fromKernel}
	dopt := format.DecodeOptions{Family: fam, Registry: reg, OnlyTable: c.String("table")}
	if du, ok := b.(kernel.DigestUser); ok {
		dopt.Digests = du.UsesDigests(copt)
	}
	a := table.NewApplier(fam, applyOpt, base)
	derr := format.ApplySource(name, src, dopt, a)
	if baseErr != nil {
		return baseErr
	}
	if derr != nil {
		return derr
	}
	cur := &table.Ruleset{Family: fam}
	if err := a.Finish(cur); err != nil {
		return err
	}
	if a.Zeroed() {
		// -Z changes only counters, which a commit that leaves alone
		// what the kernel already has would not write: replace the
		// tables, with the counters the file leaves them.
		copt.NoFlush, copt.ReplaceUnchanged = false, true
	}
	// The ruleset owns its text; the file's memory can go before the
	// kernel call, the peak of a big restore.
	release()
	names := a.Tables()
	if len(names) == 0 {
		verbose("nothing to restore")
		return nil
	}
	if !fromKernel {
		if err := keepPolicies(b, fam, a, cur); err != nil {
			return err
		}
	}
	// Tables go to Commit in print order, newest first: it creates
	// missing ones oldest first, so they appear in the kernel in the
	// order the file names them, as iptables-restore would leave them.
	var out table.Ruleset
	out.Family = fam
	for i := len(names) - 1; i >= 0; i-- {
		if t := cur.Table(names[i]); t != nil {
			out.Tables = append(out.Tables, t)
		}
	}
	commit := func() error {
		return b.Commit(&out, copt)
	}
	if c.IsSet("confirm") {
		if err := applyConfirmed(c, b, reg, fam, names, commit); err != nil {
			return err
		}
	} else if err := commit(); err != nil {
		return err
	}
	if copt.Test {
		verbose("%s: checked %d table(s) through %s; nothing was changed", name, len(out.Tables), b.Name())
	} else {
		verbose("%s: restored %d table(s) through %s", name, len(out.Tables), b.Name())
	}
	return nil
}

// keepChains turns --keep-chains into a test of chain names: globs as
// path.Match has them ('*', '?', '[...]'), separated by commas. nil for
// none.
func keepChains(list string) (func(string) bool, error) {
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
	var old *table.Ruleset
	var err error
	if sk, ok := b.(kernel.SkeletonLoader); ok {
		old, err = sk.Skeleton(fam, need)
	} else {
		old, err = b.Load(fam, need)
	}
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

// applyConfirmed commits through internal/confirm: once no other change
// of the family is pending, the tables about to be replaced are read once
// more (Apply above changed the first copy) and written to the run
// directory, then put back unless the change is confirmed in time.
func applyConfirmed(c *cli.Context, b kernel.Backend, reg *table.Registry, fam table.Family, names []string, commit func() error) error {
	// The rollback waits for the xtables lock as long as it takes: a
	// lock held for a moment by another tool must not leave the new
	// ruleset, which may lock the administrator out, in place.
	rb, _, err := backends.Open(backends.Options{Name: b.Name(), Registry: reg, LockWait: -1}, fam)
	if err != nil {
		return err
	}
	prog := "fw-restore --confirm"
	suffix := "v4"
	if fam == table.IPv6 {
		prog += " -6"
		suffix = "v6"
	}
	var prev *table.Ruleset
	opt := confirm.Options{
		Timeout: time.Duration(c.Float64("confirm") * float64(time.Second)),
		Suffix:  suffix,
		Previous: func() ([]byte, error) {
			cur, err := b.Load(fam, names)
			if err != nil {
				return nil, err
			}
			prev = cur
			var saved bytes.Buffer
			err = format.Encode(&saved, prev, format.EncodeOptions{Counters: true, Program: prog + " v" + cliutil.Version})
			return saved.Bytes(), err
		},
		Apply:    commit,
		Rollback: func() error { return rb.Commit(prev, kernel.CommitOptions{}) },
		Log:      os.Stderr,
		Prog:     "fw-restore",
	}
	// The answer comes from standard input when it is a terminal and the
	// rules came from a file; otherwise from the controlling terminal,
	// if there is one.
	if f := c.Args().First(); f != "" && f != "-" && confirm.Foreground(os.Stdin) {
		opt.Terminal = os.Stdin
	} else if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		defer tty.Close()
		if confirm.Foreground(tty) {
			opt.Terminal, opt.Log = tty, tty
		}
	}
	err = confirm.Run(opt)
	// Another change pending is a resource in use, as a held xtables
	// lock is.
	var pe *confirm.PendingError
	if errors.As(err, &pe) {
		return &cliutil.ExitError{Code: cliutil.ExitResource, Err: err}
	}
	return err
}
