package conformance

import (
	"flag"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/table"
)

var update = flag.Bool("update", false, "rewrite the corpus from what the reference tools print")

// refTools names the legacy reference tools per family.
func refTools(f table.Family) (restore, save string) {
	if f == table.IPv6 {
		return "ip6tables-legacy-restore", "ip6tables-legacy-save"
	}
	return "iptables-legacy-restore", "iptables-legacy-save"
}

// refRules restores a case with the reference tool and returns what the
// reference save prints for the case's chain, or ok=false if the restore
// was refused.
func refRules(t *testing.T, ns *kerneltest.Netns, cs *Case, fam table.Family) (rules []string, ok bool, stderr string) {
	restore, save := refTools(fam)
	r, err := ns.Run([]byte(cs.Input()), restore)
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != 0 {
		return nil, false, r.Stderr
	}
	s, err := ns.Run(nil, save, "-t", cs.Table)
	if err != nil || s.Code != 0 {
		t.Fatalf("%s: %v %s", save, err, s.Stderr)
	}
	return RulesOf(s.Stdout, cs.Chain), true, ""
}

// TestOracleCorpus checks the corpus against iptables-legacy-restore and
// iptables-legacy-save 1.8.9: every accepted case prints as the corpus
// says, every FAIL case is refused.
func TestOracleCorpus(t *testing.T) {
	kerneltest.Need(t, "iptables-legacy-restore", "iptables-legacy-save", "ip6tables-legacy-restore", "ip6tables-legacy-save")
	corpora, err := Load(*corpusDir, *only)
	if err != nil {
		t.Fatal(err)
	}
	ns := kerneltest.NewNetns(t)
	for _, c := range corpora {
		changed := false
		for _, cs := range c.Cases {
			if cs.Kernel {
				continue
			}
			var outs [][]string
			accepted := map[bool]int{}
			for _, fam := range cs.Families() {
				got, ok, stderr := refRules(t, ns, cs, fam)
				accepted[ok]++
				switch {
				case *update:
					if cs.Expect == Strict {
						if !ok {
							t.Logf("%s: STRICT case refused by the reference too: %s", cs.Pos(), strings.TrimSpace(stderr))
						}
						continue
					}
					if !ok {
						cs.Expect, cs.Output = Fail, nil
					} else {
						cs.Expect = Accept
						outs = append(outs, got)
						cs.Output = got
					}
					changed = true
				case cs.Expect == Accept:
					if !ok {
						t.Errorf("%s (%s): %s: reference refused it: %s", cs.Pos(), fam, cs.Rule, strings.TrimSpace(stderr))
					} else if d := cmp.Diff(cs.Output, got); d != "" {
						t.Errorf("%s (%s): %s: reference prints differently (-corpus +reference):\n%s", cs.Pos(), fam, cs.Rule, d)
					}
				case cs.Expect == Fail:
					if ok {
						t.Errorf("%s (%s): %s: reference accepted it, printing %q", cs.Pos(), fam, cs.Rule, got)
					}
				case cs.Expect == Strict:
					if !ok {
						t.Errorf("%s (%s): %s: marked STRICT but the reference refuses it too: %s", cs.Pos(), fam, cs.Rule, strings.TrimSpace(stderr))
					}
				}
			}
			if *update && accepted[true] > 0 && accepted[false] > 0 {
				t.Errorf("%s: the reference accepts it for one family only; split the case by family", cs.Pos())
			}
			if *update && len(outs) == 2 && !cmp.Equal(outs[0], outs[1]) {
				t.Errorf("%s: IPv4 and IPv6 print differently (%q vs %q); split the case by family", cs.Pos(), outs[0], outs[1])
			}
		}
		if *update && changed {
			if err := c.Rewrite(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
