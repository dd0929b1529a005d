package ops

import (
	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/diff"
)

// DiffOptions say what Diff compares.
type DiffOptions struct {
	Family   table.Family
	Registry *table.Registry
	Read     ReadFunc
	// Open is needed only to compare a file with the kernel.
	Open Opener
	// Old and New are rules files ("-": standard input); with Kernel, New
	// is not read and the kernel's ruleset is compared with Old instead.
	Old, New string
	Kernel   bool
	// Table, when set, compares only that table.
	Table string
	// Counters makes counter differences count.
	Counters bool
}

// DiffResult is what Diff found: the two rulesets, the names to call
// them by, and the changes that turn Old into New.
type DiffResult struct {
	Old, New         *table.Ruleset
	OldName, NewName string
	Changes          []diff.Change
}

// Diff compares two rules files, or a rules file with the kernel (drift),
// by meaning.
func Diff(opt DiffOptions) (*DiffResult, error) {
	load := func(arg string) (*table.Ruleset, error) {
		name, src, err := opt.Read(arg)
		if err != nil {
			return nil, err
		}
		return format.Load(name, src, format.LoadOptions{Family: opt.Family, Registry: opt.Registry,
			Apply: table.ApplyOptions{Counters: opt.Counters}})
	}
	res := &DiffResult{OldName: opt.Old, NewName: opt.New}
	var err error
	if opt.Kernel {
		if res.Old, err = load(opt.Old); err != nil {
			return nil, err
		}
		b, _, err := opt.Open("", 0)
		if err != nil {
			return nil, err
		}
		res.NewName = "kernel (" + b.Name() + ")"
		if res.New, err = b.Load(opt.Family, nil); err != nil {
			return nil, err
		}
	} else {
		// The two sides are independent: read them at the same time.
		var errNew error
		done := make(chan struct{})
		go func() { res.New, errNew = load(opt.New); close(done) }()
		res.Old, err = load(opt.Old)
		<-done
		if err := firstErr(err, errNew); err != nil {
			return nil, err
		}
	}
	if opt.Table != "" {
		res.Old.Tables, res.New.Tables = only(res.Old, opt.Table), only(res.New, opt.Table)
	}
	res.Changes = diff.Compare(res.Old, res.New, diff.Options{Counters: opt.Counters})
	return res, nil
}

// only is the table called name of rs, alone, or nothing.
func only(rs *table.Ruleset, name string) []*table.Table {
	if t := rs.Table(name); t != nil {
		return []*table.Table{t}
	}
	return nil
}
