package format

import (
	"github.com/fwkit/fw/table"
)

// LoadOptions say how to read a rules file into a ruleset.
type LoadOptions struct {
	Family   table.Family
	Registry *table.Registry
	Apply    table.ApplyOptions
}

// Load parses, decodes and applies a rules file to an empty ruleset: the
// ruleset iptables-legacy-save would show after iptables-legacy-restore of
// the file into a fresh network namespace. It streams (see ApplySource).
// The ruleset owns its text: src may change or go once Load returns.
func Load(name string, src []byte, opt LoadOptions) (*table.Ruleset, error) {
	a := table.NewApplier(opt.Family, opt.Apply, nil)
	if err := ApplySource(name, src, DecodeOptions{Family: opt.Family, Registry: opt.Registry}, a); err != nil {
		return nil, err
	}
	rs := &table.Ruleset{Family: opt.Family}
	if err := a.Finish(rs); err != nil {
		return nil, err
	}
	return rs, nil
}

// ApplySource decodes src and hands every block and operation to a as it
// goes, decoding on every core (see chunks.go): no syntax tree and no
// list of operations of the file is ever held. It returns the decoding
// errors; once there is one, a gets nothing more, and the errors of
// applying are a's, for a.Finish to report.
func ApplySource(name string, src []byte, opt DecodeOptions, a *table.Applier) error {
	return decodeChunks(name, src, opt, applySink{a}).Err()
}

// DecodeSource is Parse followed by Decode without keeping the syntax
// tree.
func DecodeSource(name string, src []byte, opt DecodeOptions) (*table.Script, error) {
	s := &table.Script{Family: opt.Family}
	if errs := decodeChunks(name, src, opt, &scriptSink{s: s}); len(errs) > 0 {
		return s, errs
	}
	return s, nil
}
