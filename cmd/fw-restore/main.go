// Command fw-restore loads a rules file into the kernel (internal/ops
// does it: see ops.Restore).
package main

import (
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fwkit/fw/internal/backends"
	"github.com/fwkit/fw/internal/cliutil"
	"github.com/fwkit/fw/internal/confirm"
	"github.com/fwkit/fw/internal/ops"
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
	keep, err := ops.KeepChains(c.String("keep-chains"))
	if err != nil {
		return cliutil.Usage("%v", err)
	}
	test, fallback := c.Bool("test"), c.String("fallback")
	switch {
	case c.IsSet("confirm") && test:
		return cliutil.Usage("--confirm and --test cannot be given together")
	case c.IsSet("confirm") && c.Float64("confirm") <= 0:
		return cliutil.Usage("--confirm needs a number of seconds above 0")
	case c.Bool("incremental") && c.Bool("replace-unchanged"):
		return cliutil.Usage("--incremental and --replace-unchanged cannot be given together")
	case c.Bool("check-kernel") && !test:
		return cliutil.Usage("--check-kernel goes with --test")
	case fallback != "" && (test || c.IsSet("confirm")):
		return cliutil.Usage("--fallback cannot be given with --test or --confirm")
	}
	file := c.Args().First()
	reg := ext.Registry()
	opt := ops.RestoreOptions{
		Family: fam, Registry: reg, File: file, Table: c.String("table"), Fallback: fallback,
		Open:     backends.Opener(backends.Options{Name: c.String("backend"), Registry: reg, Warn: os.Stderr}, fam),
		Read:     cliutil.ReadInput,
		Counters: c.Bool("counters"), NoFlush: c.Bool("noflush"), Keep: keep,
		Test: test, CheckKernel: c.Bool("check-kernel"),
		Incremental: c.Bool("incremental"), ReplaceUnchanged: c.Bool("replace-unchanged"),
		Wait: seconds(c.Float64("wait")),
		Log:  os.Stderr, Verbose: c.Bool("verbose"), Prog: "fw-restore", Version: cliutil.Version,
		Report: func(err error) { cliutil.Report("fw-restore", err, os.Stderr) },
	}
	if c.IsSet("confirm") {
		term, log, done := cliutil.Terminal(file)
		defer done()
		opt.Confirm = &ops.ConfirmOptions{Timeout: seconds(c.Float64("confirm")), Terminal: term, Log: log}
	}
	cliutil.Tune(cliutil.Workload{
		Input: cliutil.InputSize(file, -1), Builds: true, FromKernel: opt.NoFlush || keep != nil,
		WritesAll: !(test && !opt.CheckKernel || opt.Incremental),
	})
	return ops.Restore(opt)
}

// seconds turns a flag's seconds into a duration; < 0 stays < 0
// (forever).
func seconds(s float64) time.Duration {
	if s < 0 {
		return -1
	}
	return time.Duration(s * float64(time.Second))
}
