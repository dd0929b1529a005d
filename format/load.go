package format

import (
	"bytes"

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
// the file into a fresh network namespace. It streams: each line is parsed
// and decoded in turn and then forgotten, so no syntax tree of a 100k-line
// file is ever held. src must not change while the ruleset is in use
// (decoded strings may refer into it).
func Load(name string, src []byte, opt LoadOptions) (*table.Ruleset, error) {
	s, err := DecodeSource(name, src, DecodeOptions{Family: opt.Family, Registry: opt.Registry})
	if err != nil {
		return nil, err
	}
	rs := &table.Ruleset{Family: opt.Family}
	if err := s.Apply(rs, opt.Apply); err != nil {
		return nil, err
	}
	return rs, nil
}

// DecodeSource is Parse followed by Decode without keeping the syntax
// tree: what the commands use.
func DecodeSource(name string, src []byte, opt DecodeOptions) (*table.Script, error) {
	f := &File{Name: name}
	d := newDecoder(f, opt, bytes.Count(src, []byte("\n"))+1)
	lines := lineReader{f: f, src: src}
	var l Line
	for !d.full {
		ok, err := lines.next(&l)
		if !ok {
			break
		}
		if err != nil {
			d.add(err)
			continue
		}
		d.line(&l)
	}
	return d.end()
}
