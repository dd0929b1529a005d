package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/diff"
	"github.com/fwkit/fw/table/ext"
)

// TestDiffRewritePairs: every case whose input is spelled differently
// from iptables-save's output means the same: fw-diff sees no change.
func TestDiffRewritePairs(t *testing.T) {
	t.Parallel()
	reg := ext.Registry()
	n, lossy := 0, 0
	for cs, fam := range acceptedCases(t) {
		fw := cs.FwOutput()
		if len(fw) != 1 || fw[0] == cs.Rule {
			continue
		}
		a, err1 := format.Load("a", []byte(cs.Input()), format.LoadOptions{Family: fam, Registry: reg})
		out := *cs
		out.Rule = fw[0]
		b, err2 := format.Load("b", []byte(out.Input()), format.LoadOptions{Family: fam, Registry: reg})
		if err1 != nil || err2 != nil {
			continue // TestCorpus reports those
		}
		// Where iptables-save's output loses information (-p all on
		// IPv6, a rounded rate, a date that prints as the default),
		// the two really differ in the kernel: skip those.
		if chs := diff.Compare(a, reload(t, a, fam, reg), diff.Options{}); len(chs) != 0 {
			lossy++
			// The printed form is the same on both sides: the diff
			// must say in what the rules differ.
			for _, ch := range chs {
				if ch.Old == ch.New && ch.Detail == "" {
					t.Errorf("%s (%s): %q differs from its reload with the same text and no detail: %+v", cs.Pos(), fam, cs.Rule, ch)
				} else if ch.Old == ch.New && testing.Verbose() {
					t.Logf("%s (%s): %s: %s", cs.Pos(), fam, ch.New, ch.Detail)
				}
			}
			continue
		}
		n++
		if ch := diff.Compare(a, b, diff.Options{}); len(ch) != 0 {
			t.Errorf("%s (%s): %q and %q differ: %+v", cs.Pos(), fam, cs.Rule, fw[0], ch)
		}
	}
	if n == 0 {
		t.Fatal("no rewrite pairs")
	}
	t.Logf("%d rewrite pairs compare equal; %d skipped where the printed form loses information", n, lossy)
}

// reload prints rs and reads it back.
func reload(t *testing.T, rs *table.Ruleset, fam table.Family, reg *table.Registry) *table.Ruleset {
	var b strings.Builder
	if err := format.Encode(&b, rs, format.EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	back, err := format.Load("reload", []byte(b.String()), format.LoadOptions{Family: fam, Registry: reg})
	if err != nil {
		return &table.Ruleset{}
	}
	return back
}

// TestDiffMutations: one semantic change to a ruleset is reported as that
// change, at its place.
func TestDiffMutations(t *testing.T) {
	reg := ext.Registry()
	paths, _ := filepath.Glob("../testdata/rulesets/*.golden")
	for _, p := range paths {
		src, _ := os.ReadFile(p)
		fam := table.IPv4
		if strings.HasSuffix(p, ".v6.golden") {
			fam = table.IPv6
		}
		opt := format.LoadOptions{Family: fam, Registry: reg, Apply: table.ApplyOptions{Counters: true}}
		base, err := format.Load(p, src, opt)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(src), "\n")
		var ruleLines []int
		for i, l := range lines {
			if strings.HasPrefix(l, "-A ") || strings.HasPrefix(l, "[") {
				ruleLines = append(ruleLines, i)
			}
		}
		mutate := func(name string, want diff.Kind, edit func([]string) []string) {
			t.Helper()
			m := edit(append([]string{}, lines...))
			rs, err := format.Load(p, []byte(strings.Join(m, "\n")), opt)
			if err != nil {
				t.Errorf("%s %s: mutated file does not load: %v", p, name, err)
				return
			}
			ch := diff.Compare(base, rs, diff.Options{})
			if len(ch) != 1 || ch[0].Kind != want {
				t.Errorf("%s %s: want one %s, got %+v", p, name, want, ch)
			}
		}
		for _, i := range ruleLines {
			chain := strings.Fields(strings.TrimPrefix(lines[i], "-A "))[0]
			mutate(fmt.Sprintf("remove line %d", i+1), diff.RuleRemoved, func(l []string) []string { return append(l[:i], l[i+1:]...) })
			if strings.HasSuffix(lines[i], " -j ACCEPT") {
				mutate(fmt.Sprintf("ACCEPT->DROP line %d", i+1), diff.RuleChanged, func(l []string) []string {
					l[i] = strings.TrimSuffix(l[i], "ACCEPT") + "DROP"
					return l
				})
			}
			if j := i + 1; j < len(lines) && strings.HasPrefix(lines[j], "-A "+chain+" ") && lines[i] != lines[j] {
				mutate(fmt.Sprintf("swap lines %d,%d", i+1, j+1), diff.RuleMoved, func(l []string) []string {
					l[i], l[j] = l[j], l[i]
					return l
				})
			}
		}
		for i, l := range lines {
			if strings.HasPrefix(l, ":") && strings.Contains(l, " ACCEPT ") {
				mutate(fmt.Sprintf("policy line %d", i+1), diff.PolicyChanged, func(l []string) []string {
					l[i] = strings.Replace(l[i], " ACCEPT ", " DROP ", 1)
					return l
				})
			}
		}
	}
}

// TestDigestsDistinct: rules that iptables-save prints differently are
// different kernel contents, so their digests must differ; the corpus
// gives thousands of rules that differ in a single payload byte.
func TestDigestsDistinct(t *testing.T) {
	t.Parallel()
	reg := ext.Registry()
	type key struct {
		fam table.Family
		d   table.Digest
	}
	seen := map[key]string{}
	n := 0
	for cs, fam := range acceptedCases(t) {
		if len(cs.FwOutput()) != 1 {
			continue
		}
		out := *cs
		out.Rule = cs.FwOutput()[0]
		// Decoded with the digests worked out as the rules are
		// made, which must be what they are worked out to be.
		a := table.NewApplier(fam, table.ApplyOptions{}, nil)
		rs := &table.Ruleset{Family: fam}
		if err := format.ApplySource("x", []byte(out.Input()), format.DecodeOptions{Family: fam, Registry: reg, Digests: true}, a); err != nil {
			continue // TestCorpus reports those
		}
		if err := a.Finish(rs); err != nil {
			continue
		}
		d := table.NewStableDigester(fam)
		for _, tb := range rs.Tables {
			for _, ch := range tb.Chains {
				for _, r := range ch.Rules {
					// Print-only aliases (-m state, -j NOTRACK)
					// are the same kernel contents as what they
					// stand for, and digest so.
					u := *r
					u.Matches = nil
					for _, m := range r.Matches {
						if a, ok := m.(table.Aliased); ok {
							m = a.Unaliased()
						}
						u.Matches = append(u.Matches, m)
					}
					if a, ok := r.Target.(table.Aliased); ok {
						u.Target = a.Unaliased()
					}
					var w table.Writer
					table.RuleText(&w, &u, nil)
					text := w.String()
					k := key{fam, d.Digest(r)}
					if r.Digest != k.d {
						t.Errorf("%s (%s): the decoder's digest %x, worked out %x", cs.Pos(), fam, r.Digest, k.d)
					}
					if prev, ok := seen[k]; ok && prev != text {
						t.Errorf("%s (%s): %q and %q share a digest", cs.Pos(), fam, prev, text)
					}
					seen[k] = text
					n++
				}
			}
		}
	}
	if len(seen) < 1000 {
		t.Fatalf("only %d distinct rules digested", len(seen))
	}
	t.Logf("%d rules, %d distinct digests", n, len(seen))
}

// TestDiffSameTextSaysWhy: bytes the kernel ignores for the family (the
// IPv6 part of an IPv4 mask) are no change; a change that prints the same
// on both sides is shown with the field that differs and both values.
func TestDiffSameTextSaysWhy(t *testing.T) {
	t.Parallel()
	reg := ext.Registry()
	load := func(rule string) *table.Ruleset {
		rs, err := format.Load("x", []byte("*filter\n-A INPUT "+rule+"\nCOMMIT\n"), format.LoadOptions{Family: table.IPv4, Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	for _, pair := range [][2]string{
		{"-m recent --set --name x", "-m recent --set --name x --mask 255.255.255.255"},
		{"-m connlimit --connlimit-above 2", "-m connlimit --connlimit-above 2 --connlimit-mask 32"},
	} {
		if ch := diff.Compare(load(pair[0]), load(pair[1]), diff.Options{}); len(ch) != 0 {
			t.Errorf("%q and %q match the same packets, but fw-diff reports %+v", pair[0], pair[1], ch)
		}
	}
	for _, pair := range [][2]string{
		{"-j CONNMARK --set-mark 1 --mask 0xf0", "-j CONNMARK --set-xmark 0x1/0xf0"},
	} {
		if ch := diff.Compare(load(pair[0]), load(pair[1]), diff.Options{}); len(ch) != 0 {
			t.Errorf("%q and %q do the same, but fw-diff reports %+v", pair[0], pair[1], ch)
		}
	}
	// Bit 0 of --monthdays (day 0, which no month has) is not printed
	// but is in the kernel.
	a, b := load("-m time --monthdays 1"), load("-m time --monthdays 1")
	b.Tables[0].Chain("INPUT").Rules[0].Matches[0].(*ext.TimeMatch).MonthdaysMatch |= 1
	ch := diff.Compare(a, b, diff.Options{})
	if len(ch) != 1 || ch[0].Old != ch[0].New || !strings.Contains(ch[0].Detail, "time.MonthdaysMatch: 2, now 3") {
		t.Fatalf("changes %+v, want one rule-changed with the same text and MonthdaysMatch in its detail", ch)
	}
	var out strings.Builder
	if err := diff.WriteText(&out, a, b, ch, diff.TextOptions{OldName: "a", NewName: "b"}); err != nil {
		t.Fatal(err)
	}
	if want := "filter/INPUT rule 1 (-A INPUT -m time --monthdays 1 --datestop 2038-01-19T03:14:07) prints the same on both sides but differs: match time.MonthdaysMatch: 2, now 3\n"; !strings.Contains(out.String(), want) {
		t.Errorf("text output lacks %q:\n%s", want, out.String())
	}
}
