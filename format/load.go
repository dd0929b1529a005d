package format

import "github.com/fwkit/fw/table"

// LoadOptions say how to read a rules file into a ruleset.
type LoadOptions struct {
	Family   table.Family
	Registry *table.Registry
	Apply    table.ApplyOptions
}

// Load parses, decodes and applies a rules file to an empty ruleset: the
// ruleset iptables-legacy-save would show after iptables-legacy-restore of
// the file into a fresh network namespace. The syntax tree is returned too
// (for positions), also when there are errors.
func Load(name string, src []byte, opt LoadOptions) (*table.Ruleset, *File, error) {
	f, err := Parse(name, src)
	if err != nil {
		return nil, f, err
	}
	s, err := Decode(f, DecodeOptions{Family: opt.Family, Registry: opt.Registry})
	if err != nil {
		return nil, f, err
	}
	rs := &table.Ruleset{Family: opt.Family}
	if err := s.Apply(rs, opt.Apply); err != nil {
		return nil, f, err
	}
	return rs, f, nil
}
