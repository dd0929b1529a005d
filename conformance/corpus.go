// Package conformance holds fw's extension corpus: rule cases with the
// output iptables-legacy-save prints for them (or the fact that
// iptables-legacy-restore refuses them). The offline test checks fw
// against the corpus; the oracle test checks the corpus against the
// reference tools in a throwaway network namespace and can rewrite it
// (-update).
//
// Corpus file syntax (testdata/ext/NAME.txt, one file per extension):
//
//	# a comment
//	:family 4|6|46         families of the cases that follow (default 4)
//	:table nat             table of the cases that follow (default filter)
//	:chain POSTROUTING     chain of the cases that follow (default INPUT)
//	:prelude LINE          a line put before the rule, e.g. a user chain declaration
//	RULE                   accepted and printed back unchanged
//	RULE => OUTPUT         accepted and printed as OUTPUT (several rules: OUTPUT ;; OUTPUT)
//	RULE => (empty)        accepted and printed as a bare "-A CHAIN"
//	RULE => (none)         accepted but no rule results (a -4 line in an IPv6 file)
//	RULE => FAIL           refused by iptables and by fw
//	RULE => STRICT         accepted by iptables, refused by fw on purpose
//	... [fw: OUTPUT]       (suffix) fw prints OUTPUT where the reference prints
//	                       what "=>" says, on purpose (README: deliberate
//	                       differences); OUTPUT as after "=>"
//	... [kernel]           (suffix) refused by the reference only because of kernel
//	                       state a file cannot show (a missing set or module);
//	                       fw accepts it offline and the oracle does not compare it
package conformance

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fwkit/fw/table"
)

// Expect says what should happen to a case.
type Expect uint8

const (
	Accept Expect = iota // accepted, printed as Output
	Fail                 // refused by both
	Strict               // refused by fw only
)

// Case is one rule of the corpus.
type Case struct {
	File    string
	Line    int
	Family  table.Family
	Table   string
	Chain   string
	Prelude []string
	Rule    string
	Expect  Expect
	Output  []string // for Accept: the rule bodies printed after "-A CHAIN "
	Fw      []string // where fw prints otherwise on purpose; nil: as Output
	Kernel  bool     // the reference refuses it for want of kernel state
}

// FwOutput is what fw prints for an accepted case.
func (cs *Case) FwOutput() []string {
	if cs.Fw != nil {
		return cs.Fw
	}
	return cs.Output
}

// outputs reads the right side of "=>" or of "[fw:".
func outputs(out string) []string {
	switch out {
	case "(none)":
		return []string{}
	case "(empty)":
		return []string{""}
	}
	return strings.Split(out, " ;; ")
}

// writeOutputs is the inverse of outputs.
func writeOutputs(out []string) string {
	switch {
	case len(out) == 0:
		return "(none)"
	case len(out) == 1 && out[0] == "":
		return "(empty)"
	}
	return strings.Join(out, " ;; ")
}

// Corpus is one file: its lines (kept for rewriting) and cases.
type Corpus struct {
	Path  string
	lines []string
	cases map[int]*Case // by line index
	Cases []*Case
}

// Load reads every corpus file in dir, or only those named in only (base
// names without .txt, comma-separated) when it is not empty.
func Load(dir, only string) ([]*Corpus, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	var out []*Corpus
	for _, p := range paths {
		if only != "" && !slices.Contains(strings.Split(only, ","), strings.TrimSuffix(filepath.Base(p), ".txt")) {
			continue
		}
		c, err := LoadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// LoadFile reads one corpus file.
func LoadFile(path string) (*Corpus, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	c := &Corpus{Path: path, cases: map[int]*Case{}}
	fam := table.IPv4
	tbl, chain := "filter", "INPUT"
	var prelude []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		idx := len(c.lines)
		c.lines = append(c.lines, line)
		t := strings.TrimSpace(line)
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
			continue
		case strings.HasPrefix(t, ":"):
			key, val, _ := strings.Cut(t[1:], " ")
			switch key {
			case "family":
				switch val {
				case "4":
					fam = table.IPv4
				case "6":
					fam = table.IPv6
				case "46":
					fam = table.BothFamilies
				default:
					return nil, fmt.Errorf("%s:%d: bad family %q", path, idx+1, val)
				}
			case "table":
				tbl = val
			case "chain":
				chain = val
			case "prelude":
				if val == "" {
					prelude = nil
				} else {
					prelude = append(prelude, val)
				}
			default:
				return nil, fmt.Errorf("%s:%d: unknown directive %q", path, idx+1, key)
			}
			continue
		}
		cs := &Case{File: path, Line: idx + 1, Family: fam, Table: tbl, Chain: chain, Prelude: prelude}
		if strings.HasSuffix(t, " [kernel]") {
			cs.Kernel = true
			t = strings.TrimSuffix(t, " [kernel]")
		}
		if i := strings.LastIndex(t, " [fw: "); i >= 0 && strings.HasSuffix(t, "]") {
			cs.Fw = outputs(t[i+len(" [fw: ") : len(t)-1])
			t = t[:i]
		}
		rule, out, has := strings.Cut(t, " =>")
		cs.Rule = strings.TrimSpace(rule)
		switch out = strings.TrimSpace(out); {
		case !has:
			cs.Output = []string{cs.Rule}
		case out == "FAIL":
			cs.Expect = Fail
		case out == "STRICT":
			cs.Expect = Strict
		case out == "(none)":
			cs.Output = nil
		default:
			cs.Output = outputs(out)
		}
		c.cases[idx] = cs
		c.Cases = append(c.Cases, cs)
	}
	return c, sc.Err()
}

// Families lists the single families of a case.
func (cs *Case) Families() []table.Family {
	var out []table.Family
	for _, f := range []table.Family{table.IPv4, table.IPv6} {
		if cs.Family.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// Input is the restore file for the case.
func (cs *Case) Input() string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s\n", cs.Table)
	for _, p := range cs.Prelude {
		b.WriteString(p + "\n")
	}
	if _, builtin := table.HookByName(cs.Chain); !builtin {
		if !strings.Contains(strings.Join(cs.Prelude, "\n"), ":"+cs.Chain+" ") {
			fmt.Fprintf(&b, ":%s - [0:0]\n", cs.Chain)
		}
	}
	fmt.Fprintf(&b, "-A %s %s\nCOMMIT\n", cs.Chain, cs.Rule)
	return b.String()
}

// Pos names the case in messages.
func (cs *Case) Pos() string { return fmt.Sprintf("%s:%d", cs.File, cs.Line) }

// RulesOf extracts the rule bodies of chain from iptables-save output.
func RulesOf(save, chain string) []string {
	var out []string
	prefix := "-A " + chain + " "
	for _, l := range strings.Split(save, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, strings.TrimPrefix(l, prefix))
		} else if l == "-A "+chain {
			out = append(out, "")
		}
	}
	return out
}

// Rewrite writes the corpus back with the cases' current expectations.
func (c *Corpus) Rewrite() error {
	var b strings.Builder
	for i, l := range c.lines {
		cs, ok := c.cases[i]
		if !ok {
			b.WriteString(l + "\n")
			continue
		}
		b.WriteString(cs.Rule)
		switch {
		case cs.Expect == Fail:
			b.WriteString(" => FAIL")
		case cs.Expect == Strict:
			b.WriteString(" => STRICT")
		case len(cs.Output) == 1 && cs.Output[0] == cs.Rule:
		default:
			b.WriteString(" => " + writeOutputs(cs.Output))
		}
		if cs.Fw != nil {
			b.WriteString(" [fw: " + writeOutputs(cs.Fw) + "]")
		}
		if cs.Kernel {
			b.WriteString(" [kernel]")
		}
		b.WriteString("\n")
	}
	return os.WriteFile(c.Path, []byte(b.String()), 0o644)
}
