// Command fw-restore loads a rules file into the kernel. Everything is
// parsed, validated and encoded before the first change; each table is
// replaced atomically, and a failure part-way puts back the tables already
// replaced.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/backends"
	"github.com/fwkit/fw/internal/cliutil"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

func main() {
	os.Args = waitArgs(os.Args)
	cliutil.Main(app())
}

// waitArgs gives "-w" without a number (iptables: wait forever) an
// explicit value, since flag parsers have no optional values.
func waitArgs(args []string) []string {
	out := []string{args[0]}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "-w" || a == "--wait" {
			if i+1 < len(args) {
				if _, err := strconv.ParseFloat(args[i+1], 64); err == nil {
					out = append(out, "--wait="+args[i+1])
					i++
					continue
				}
			}
			out = append(out, "--wait=-1")
			continue
		}
		out = append(out, a)
	}
	return out
}

func app() *cli.App {
	return &cli.App{
		Name:      "fw-restore",
		Usage:     "load a ruleset in iptables-restore format",
		UsageText: "fw-restore [--backend legacy|nft|auto] [-4|-6] [-c] [-n] [-t] [-T TABLE] [-w [SECONDS]] [-v] [FILE|-]",
		Flags: append([]cli.Flag{
			cliutil.BackendFlag,
			&cli.BoolFlag{Name: "test", Aliases: []string{"t"}, Usage: "parse, validate and check against the kernel; change nothing"},
			&cli.BoolFlag{Name: "counters", Aliases: []string{"c"}, Usage: "restore the [packets:bytes] counters"},
			&cli.BoolFlag{Name: "noflush", Aliases: []string{"n"}, Usage: "do not flush the tables first"},
			&cli.StringFlag{Name: "table", Aliases: []string{"T"}, Usage: "only restore `TABLE`"},
			&cli.Float64Flag{Name: "wait", Usage: "wait up to `SECONDS` for the xtables lock (-w alone: forever)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "say what is done"},
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
	reg := ext.Registry()
	name, src, err := cliutil.ReadInput(c.Args().First())
	if err != nil {
		return err
	}
	f, err := format.Parse(name, src)
	if err != nil {
		return err
	}
	script, err := format.Decode(f, format.DecodeOptions{Family: fam, Registry: reg, OnlyTable: c.String("table")})
	if err != nil {
		return err
	}
	applyOpt := table.ApplyOptions{Counters: c.Bool("counters"), NoFlush: c.Bool("noflush")}
	// Check the file on its own first, so that a bad file is reported
	// without touching (or even reading) the kernel.
	if err := script.Apply(&table.Ruleset{Family: fam}, applyOpt); err != nil && !applyOpt.NoFlush {
		return err
	}
	wait := time.Duration(c.Float64("wait") * float64(time.Second))
	if c.Float64("wait") < 0 {
		wait = -1
	}
	b, note, err := backends.Open(backends.Options{Name: c.String("backend"), Registry: reg, LockWait: wait}, fam)
	if err != nil {
		return err
	}
	verbose := func(format string, args ...any) {
		if c.Bool("verbose") {
			fmt.Fprintf(os.Stderr, "fw-restore: "+format+"\n", args...)
		}
	}
	if note != "" {
		verbose("backend %s: %s", b.Name(), note)
	}
	var names []string
	seen := map[string]bool{}
	for _, blk := range script.Blocks {
		if !seen[blk.Table] {
			seen[blk.Table] = true
			names = append(names, blk.Table)
		}
	}
	if len(names) == 0 {
		verbose("nothing to restore")
		return nil
	}
	// Start from what the kernel has: policies survive a restore unless
	// the file sets them, and --noflush keeps everything.
	cur, err := b.Load(fam, names)
	if err != nil {
		return err
	}
	if err := script.Apply(cur, applyOpt); err != nil {
		return err
	}
	var out table.Ruleset
	out.Family = fam
	for _, t := range cur.Tables {
		if seen[t.Name] {
			out.Tables = append(out.Tables, t)
		}
	}
	if err := b.Commit(&out, kernel.CommitOptions{Test: c.Bool("test")}); err != nil {
		return err
	}
	verbose("%s: restored %d table(s) through %s", name, len(out.Tables), b.Name())
	return nil
}
