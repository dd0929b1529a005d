// Command fw-diff compares two rulesets by meaning and prints what really
// changed: two files, or a file against the live kernel (drift). Exit
// status: 0 when they mean the same, 1 when they differ, 2 on error (like
// diff(1)).
package main

import (
	"bufio"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/fwkit/fw/internal/backends"
	"github.com/fwkit/fw/internal/cliutil"
	"github.com/fwkit/fw/internal/ops"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/diff"
	"github.com/fwkit/fw/table/ext"
)

func main() { cliutil.Main(app()) }

func app() *cli.App {
	return &cli.App{
		Name:      "fw-diff",
		Usage:     "compare two rulesets by meaning, or a rules file with the live kernel",
		UsageText: "fw-diff [--backend legacy|nft|auto] [-4|-6] [--counters] [--format text|json|stat] [--color auto|always|never] [-t TABLE] OLD [NEW]",
		Flags: append([]cli.Flag{
			cliutil.BackendFlag,
			&cli.BoolFlag{Name: "counters", Usage: "count counter differences as changes"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text (unified diff per chain), json or stat"},
			&cli.StringFlag{Name: "color", Value: "auto", Usage: "color the text output: auto, always or never"},
			&cli.StringFlag{Name: "table", Aliases: []string{"t"}, Usage: "compare only `TABLE`"},
		}, cliutil.FamilyFlags...),
		Action: run,
	}
}

func run(c *cli.Context) error {
	fam, err := cliutil.Family(c)
	if err != nil {
		return err
	}
	if c.NArg() < 1 || c.NArg() > 2 {
		return cliutil.Usage("need OLD and NEW rules files (- for stdin), or one file to compare with the kernel")
	}
	only := c.String("table")
	if only != "" && table.LookupTable(only) == nil {
		return cliutil.Usage("unknown table %q", only)
	}
	reg := ext.Registry()
	oldName, newName := c.Args().Get(0), c.Args().Get(1)
	work := cliutil.Workload{Input: cliutil.InputSize(oldName, 0), KernelRead: c.NArg() == 1}
	if c.NArg() == 2 {
		work.Input += cliutil.InputSize(newName, 0)
	}
	cliutil.Tune(work)
	res, err := ops.Diff(ops.DiffOptions{
		Family: fam, Registry: reg, Read: cliutil.ReadInput,
		Open: backends.Opener(backends.Options{Name: c.String("backend"), Registry: reg, Warn: os.Stderr}, fam),
		Old:  oldName, New: newName, Kernel: c.NArg() == 1, Table: only, Counters: c.Bool("counters"),
	})
	if err != nil {
		return err
	}
	changes := res.Changes
	w := bufio.NewWriter(os.Stdout)
	switch c.String("format") {
	case "text":
		color, err := useColor(c.String("color"))
		if err != nil {
			return err
		}
		if len(changes) > 0 {
			err = diff.WriteText(w, res.Old, res.New, changes, diff.TextOptions{OldName: res.OldName, NewName: res.NewName, Color: color})
		}
		if err != nil {
			return err
		}
	case "json":
		if err := diff.WriteJSON(w, res.OldName, res.NewName, changes); err != nil {
			return err
		}
	case "stat":
		if err := diff.WriteStat(w, changes); err != nil {
			return err
		}
	default:
		return cliutil.Usage("--format must be text, json or stat")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(changes) > 0 {
		return &cliutil.ExitError{Code: 1}
	}
	return nil
}

func useColor(mode string) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		fi, err := os.Stdout.Stat()
		return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == "", nil
	}
	return false, cliutil.Usage("--color must be auto, always or never")
}
