package ipset

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzText checks the canonical fixpoint of the text: whatever parses
// prints as text that parses to the same sets and prints the same again.
func FuzzText(f *testing.F) {
	paths, _ := filepath.Glob("testdata/text/*.in")
	bad, _ := filepath.Glob("testdata/bad/*.txt")
	for _, p := range append(paths, bad...) {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		sets, err := Parse("fuzz", src)
		if err != nil {
			return
		}
		var one bytes.Buffer
		if err := Print(&one, sets); err != nil {
			t.Fatal(err)
		}
		again, err := Parse("canonical", bytes.Clone(one.Bytes()))
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\ninput:\n%s\ncanonical:\n%s", err, src, one.Bytes())
		}
		var two bytes.Buffer
		Print(&two, again)
		if one.String() != two.String() {
			t.Fatalf("not a fixpoint:\n%s\n---\n%s", one.Bytes(), two.Bytes())
		}
		if d := Diff(sets, again); len(d) != 0 {
			t.Fatalf("canonical form differs from the input: %v", d)
		}
	})
}
