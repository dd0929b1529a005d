// Command fw-diff compares two rulesets by meaning and prints what really
// changed. Exit status: 0 when they mean the same, 1 when they differ, 2
// on error (like diff(1)).
package main

import (
	"bufio"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/cliutil"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/diff"
	"github.com/fwkit/fw/table/ext"
)

func main() { cliutil.Main(app()) }

func app() *cli.App {
	return &cli.App{
		Name:      "fw-diff",
		Usage:     "compare two rulesets by meaning",
		UsageText: "fw-diff [-4|-6] [--counters] [--color auto|always|never] OLD NEW",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "counters", Usage: "count counter differences as changes"},
			&cli.StringFlag{Name: "color", Value: "auto", Usage: "color the output: auto, always or never"},
		}, cliutil.FamilyFlags...),
		Action: run,
	}
}

func run(c *cli.Context) error {
	fam, err := cliutil.Family(c)
	if err != nil {
		return err
	}
	if c.NArg() != 2 {
		return cliutil.Usage("need two rules files (- for stdin)")
	}
	reg := ext.Registry()
	load := func(arg string) (*table.Ruleset, error) {
		name, src, err := cliutil.ReadInput(arg)
		if err != nil {
			return nil, err
		}
		rs, _, err := format.Load(name, src, format.LoadOptions{Family: fam, Registry: reg, Apply: table.ApplyOptions{Counters: c.Bool("counters")}})
		return rs, err
	}
	a, err := load(c.Args().Get(0))
	if err != nil {
		return err
	}
	b, err := load(c.Args().Get(1))
	if err != nil {
		return err
	}
	changes := diff.Compare(a, b, diff.Options{Counters: c.Bool("counters")})
	color := false
	switch c.String("color") {
	case "always":
		color = true
	case "auto":
		if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == "" {
			color = true
		}
	case "never":
	default:
		return cliutil.Usage("--color must be auto, always or never")
	}
	w := bufio.NewWriter(os.Stdout)
	if len(changes) > 0 {
		if err := diff.WriteText(w, a, b, changes, diff.TextOptions{OldName: c.Args().Get(0), NewName: c.Args().Get(1), Color: color}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(changes) > 0 {
		return &cliutil.ExitError{Code: 1}
	}
	return nil
}
