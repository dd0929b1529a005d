// Command fw-restore loads a rules file. Everything is parsed and
// validated before anything is touched; --test stops there.
package main

import (
	"github.com/urfave/cli/v2"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/cliutil"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

func main() { cliutil.Main(app()) }

func app() *cli.App {
	return &cli.App{
		Name:      "fw-restore",
		Usage:     "load a ruleset in iptables-restore format",
		UsageText: "fw-restore --test [-4|-6] [-c] [-n] [-T TABLE] [FILE|-]",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "test", Aliases: []string{"t"}, Usage: "only parse and validate; change nothing"},
			&cli.BoolFlag{Name: "counters", Aliases: []string{"c"}, Usage: "restore counters"},
			&cli.BoolFlag{Name: "noflush", Aliases: []string{"n"}, Usage: "do not flush the tables first"},
			&cli.StringFlag{Name: "table", Aliases: []string{"T"}, Usage: "only restore `TABLE`"},
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
	name, src, err := cliutil.ReadInput(c.Args().First())
	if err != nil {
		return err
	}
	f, err := format.Parse(name, src)
	if err != nil {
		return err
	}
	s, err := format.Decode(f, format.DecodeOptions{Family: fam, Registry: ext.Registry(), OnlyTable: c.String("table")})
	if err != nil {
		return err
	}
	rs := &table.Ruleset{Family: fam}
	if err := s.Apply(rs, table.ApplyOptions{Counters: c.Bool("counters"), NoFlush: c.Bool("noflush")}); err != nil {
		return err
	}
	if !c.Bool("test") {
		return &cliutil.ExitError{Code: cliutil.ExitFailure, Err: errNoBackend}
	}
	return nil
}

// errNoBackend: the kernel backends are the next milestone; until then
// only --test is meaningful, and saying so beats pretending.
var errNoBackend = cliError("no kernel backend is built in yet: only --test is available")

type cliError string

func (e cliError) Error() string { return string(e) }
