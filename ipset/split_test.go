package ipset

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSplitLine splits lines as ipset's restore does: white space
// separates, a double quote starts or ends a quoted stretch anywhere in
// a word and is dropped, and an empty word is no word.
func TestSplitLine(t *testing.T) {
	for _, c := range []struct {
		line string
		want []word
	}{
		{"add a 10.0.0.1", []word{{"add", 1}, {"a", 5}, {"10.0.0.1", 7}}},
		{"  add\ta  ", []word{{"add", 3}, {"a", 7}}},
		{`add a b comment "x y"`, []word{{"add", 1}, {"a", 5}, {"b", 7}, {"comment", 9}, {"x y", 17}}},
		{`x"y z"w v`, []word{{"xy zw", 1}, {"v", 9}}},
		{`a "" b`, []word{{"a", 1}, {"b", 6}}},
		{`"quoted"`, []word{{"quoted", 1}}},
	} {
		got, err := splitLine(nil, c.line)
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		if d := cmp.Diff(c.want, got, cmp.AllowUnexported(word{})); d != "" {
			t.Errorf("%q (-want +got):\n%s", c.line, d)
		}
	}
	if _, err := splitLine(nil, `comment "open`); err == nil {
		t.Error("an open quote is taken")
	}
}
