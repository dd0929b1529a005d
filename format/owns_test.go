package format_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fwkit/fw/conformance"
	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/genrules"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

// TestRulesetOwnsItsText: a ruleset read from a buffer is the same after
// the buffer is overwritten with garbage: equal, field by field, to one
// read from an untouched copy, and printed the same. Every extension's
// options are in the corpus, so every extension's kept text is checked;
// the generated file is read in several chunks on several workers.
func TestRulesetOwnsItsText(t *testing.T) {
	reg := ext.Registry()
	check := func(what string, src []byte, opt format.LoadOptions) bool {
		t.Helper()
		want, err := format.Load("x", bytes.Clone(src), opt)
		if err != nil {
			return false // the corpus and the golden tests see to those
		}
		buf := bytes.Clone(src)
		got, err := format.Load("x", buf, opt)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for i := range buf {
			buf[i] = "#\x00-A!\"x \n"[i%9]
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the ruleset changed with its input:\n%s", what, diffText(t, got, want))
		}
		return true
	}
	corpora, err := conformance.Load("../testdata/ext", "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range corpora {
		for _, cs := range c.Cases {
			if cs.Expect != conformance.Accept {
				continue
			}
			for _, fam := range cs.Families() {
				if check(cs.Pos(), []byte(cs.Input()), format.LoadOptions{Family: fam, Registry: reg}) {
					n++
				}
			}
		}
	}
	paths, _ := filepath.Glob("../testdata/rulesets/*.rules")
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fam := table.IPv4
		if strings.HasSuffix(p, ".v6.rules") {
			fam = table.IPv6
		}
		if !check(p, src, format.LoadOptions{Family: fam, Registry: reg, Apply: table.ApplyOptions{Counters: true}}) {
			t.Errorf("%s does not load", p)
		}
		n++
	}
	var big bytes.Buffer
	if err := genrules.Write(&big, genrules.Options{Services: 2000, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	if !check("genrules", big.Bytes(), format.LoadOptions{Family: table.IPv4, Registry: reg}) {
		t.Error("the generated ruleset does not load")
	}
	if n < 1000 {
		t.Fatalf("only %d inputs checked", n)
	}
}

// TestFileOwnsItsText: a syntax tree is the same after its input is
// overwritten.
func TestFileOwnsItsText(t *testing.T) {
	src := []byte("*filter\n[1:2] -A INPUT -m comment --comment \"a \\\"b\\\"\" -j ACCEPT\nCOMMIT\n")
	want := string(src)
	f, err := format.Parse("x", src)
	if err != nil {
		t.Fatal(err)
	}
	words := func() []string {
		var out []string
		for _, l := range f.Lines {
			if l.Counters != nil {
				out = append(out, l.Counters.Text)
			}
			for _, w := range l.Words {
				out = append(out, w.Text)
			}
		}
		return out
	}
	before := words()
	for i := range src {
		src[i] = 'x'
	}
	if got := string(f.Bytes()); got != want {
		t.Errorf("Print = %q, want %q", got, want)
	}
	if after := words(); !reflect.DeepEqual(after, before) {
		t.Errorf("words %q, were %q", after, before)
	}
}

func diffText(t *testing.T, got, want *table.Ruleset) string {
	t.Helper()
	var a, b bytes.Buffer
	format.Encode(&a, got, format.EncodeOptions{})
	format.Encode(&b, want, format.EncodeOptions{})
	if a.String() == b.String() {
		return "(prints the same; a value not printed differs)"
	}
	return "got:\n" + a.String() + "want:\n" + b.String()
}
