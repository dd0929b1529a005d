package ipset

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func printSets(t testing.TB, sets []*Set) string {
	t.Helper()
	var b bytes.Buffer
	if err := Print(&b, sets); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGolden parses every testdata/text/*.in, prints it canonically
// (testdata/text/*.out, rewritten with -update), and checks that the
// canonical text is a fixpoint of Parse and Print.
func TestGolden(t *testing.T) {
	ins, err := filepath.Glob("testdata/text/*.in")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	covered := map[string]bool{}
	for _, in := range ins {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			sets, err := Parse(in, src)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sets {
				covered[s.Type.Name] = true
			}
			got := printSets(t, sets)
			out := strings.TrimSuffix(in, ".in") + ".out"
			if *update {
				if err := os.WriteFile(out, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("canonical form (-want +got):\n%s", d)
			}
			again, err := Parse(out, want)
			if err != nil {
				t.Fatalf("canonical form does not parse: %v", err)
			}
			if d := cmp.Diff(string(want), printSets(t, again)); d != "" {
				t.Errorf("canonical form is no fixpoint (-want +got):\n%s", d)
			}
			if d := Diff(sets, again); len(d) != 0 {
				t.Errorf("canonical form differs from its input: %v", d)
			}
		})
	}
	for _, name := range TypeNames() {
		if !covered[name] {
			t.Errorf("type %s has no golden case", name)
		}
	}
}
