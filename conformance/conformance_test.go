package conformance

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

var (
	corpusDir = flag.String("corpus", "../testdata/ext", "corpus directory")
	only      = flag.String("only", "", "comma-separated corpus file names (without .txt) to use; empty means all")
)

// testNames resolves the names of the offline tests from testdata/etc: the
// entries of the reference machine's files that the corpus relies on. The
// oracle tests use the machine's own files, as the reference tools do, and
// so check that the two agree.
var testNames = table.NewHostFiles(os.DirFS("../testdata"))

// offlineRegistry is the registry of the tests that run without the
// reference tools.
func offlineRegistry() *table.Registry { return ext.Registry().WithNames(testNames) }

// fwRules loads a case with fw and returns the rule bodies of its chain and
// the extensions they use, printed with the registry's resolver.
func fwRules(cs *Case, fam table.Family, reg *table.Registry) ([]string, []*table.ExtInfo, error) {
	rs, err := format.Load(cs.Pos(), []byte(cs.Input()), format.LoadOptions{Family: fam, Registry: reg})
	if err != nil {
		return nil, nil, err
	}
	var out []string
	var used []*table.ExtInfo
	t := rs.Table(cs.Table)
	c := t.Chain(cs.Chain)
	w := table.Writer{Names: reg.Names()}
	for _, r := range c.Rules {
		w.Reset()
		table.RuleText(&w, r, nil)
		out = append(out, strings.TrimPrefix(w.String(), " "))
		for _, m := range r.Matches {
			used = append(used, m.Info())
		}
		if e, ok := r.Target.(table.Ext); ok {
			used = append(used, e.Info())
		}
	}
	return out, used, nil
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	corpora, err := Load(*corpusDir, *only)
	if err != nil {
		t.Fatal(err)
	}
	reg := offlineRegistry()
	covered := map[*table.ExtInfo]int{}
	for _, c := range corpora {
		for _, cs := range c.Cases {
			for _, fam := range cs.Families() {
				got, used, err := fwRules(cs, fam, reg)
				switch cs.Expect {
				case Accept:
					if err != nil {
						t.Errorf("%s (%s): %s: fw refused: %v", cs.Pos(), fam, cs.Rule, err)
						continue
					}
					if d := cmp.Diff(cs.FwOutput(), got); d != "" {
						t.Errorf("%s (%s): %s: output differs (-want +got):\n%s", cs.Pos(), fam, cs.Rule, d)
					}
					for _, u := range used {
						covered[u]++
					}
				case Fail, Strict:
					if err == nil {
						t.Errorf("%s (%s): %s: fw accepted it, printing %q", cs.Pos(), fam, cs.Rule, got)
					}
				}
			}
		}
	}
	for _, e := range reg.All() {
		if covered[e] == 0 && *only == "" {
			t.Errorf("extension %s (%s, revision %d, %s) has no accepted corpus case", e.Name, e.Kind, e.Revision, e.Family)
		}
	}
}

// loadCase returns the rules a case produces.
func loadCase(cs *Case, fam table.Family, reg *table.Registry) ([]*table.Rule, error) {
	rs, err := format.Load(cs.Pos(), []byte(cs.Input()), format.LoadOptions{Family: fam, Registry: reg})
	if err != nil {
		return nil, err
	}
	return rs.Table(cs.Table).Chain(cs.Chain).Rules, nil
}
