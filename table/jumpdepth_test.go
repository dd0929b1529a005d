package table

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDeepJump(t *testing.T) {
	t.Parallel()
	// INPUT -> C1 -> ... -> Cn, plus a shallow side branch and an
	// unreachable deep chain that must not count.
	build := func(n int, gotoLast bool) *Table {
		tb := NewTable("filter")
		in := tb.Chain("INPUT")
		for i := 1; i <= n; i++ {
			tb.addChain(&Chain{Name: fmt.Sprintf("C%d", i)})
		}
		in.Rules = append(in.Rules, &Rule{Target: &Jump{Chain: "C1"}, Pos: Pos{Line: 1}})
		for i := 1; i < n; i++ {
			c := tb.Chain(fmt.Sprintf("C%d", i))
			c.Rules = append(c.Rules, &Rule{Target: &Jump{Chain: fmt.Sprintf("C%d", i+1), Goto: gotoLast && i == n-1}, Pos: Pos{Line: i + 1}})
		}
		tb.addChain(&Chain{Name: "SIDE"})
		in.Rules = append(in.Rules, &Rule{Target: &Jump{Chain: "SIDE"}})
		return tb
	}
	for _, tc := range []struct {
		n        int
		gotoLast bool
		wantLine int // of the rule making the 16th jump; 0: none
	}{
		{n: 15},
		{n: 16, wantLine: 16},
		{n: 16, gotoLast: true, wantLine: 16},
		{n: 30, wantLine: 16},
	} {
		r, path := build(tc.n, tc.gotoLast).DeepJump(16)
		got := 0
		if r != nil {
			got = r.Pos.Line
			if len(path) != 17 || path[0] != "INPUT" || path[16] != "C16" {
				t.Errorf("n=%d: path %s", tc.n, JumpPath(path))
			}
		}
		if d := cmp.Diff(tc.wantLine, got); d != "" {
			t.Errorf("n=%d goto=%v: line of the refused jump (-want +got):\n%s", tc.n, tc.gotoLast, d)
		}
	}
	// Not reachable from a built-in chain: nf_tables does not walk it.
	tb := NewTable("filter")
	for i := 1; i <= 20; i++ {
		c := &Chain{Name: fmt.Sprintf("C%d", i)}
		if i < 20 {
			c.Rules = append(c.Rules, &Rule{Target: &Jump{Chain: fmt.Sprintf("C%d", i+1)}})
		}
		tb.addChain(c)
	}
	if r, path := tb.DeepJump(16); r != nil {
		t.Errorf("unreachable chains counted: %s", strings.Join(path, " "))
	}
}
