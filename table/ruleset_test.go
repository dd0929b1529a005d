package table

import (
	"fmt"
	"slices"
	"testing"
)

// TestChainLookup: Chain answers from Chains as it is now, whatever the
// index and the recent positions remember, on a table big enough to use
// both.
func TestChainLookup(t *testing.T) {
	tb := NewTable("filter")
	for i := range 40 {
		tb.addChain(&Chain{Name: fmt.Sprintf("C%02d", 39-i)})
	}
	want := func(name string, found bool) {
		t.Helper()
		c := tb.Chain(name)
		if found && (c == nil || c.Name != name) {
			t.Fatalf("Chain(%q) = %v, want the chain", name, c)
		}
		if !found && c != nil {
			t.Fatalf("Chain(%q) = %q, want nil", name, c.Name)
		}
	}
	// Alternate as a restore does ("-A X ... -j Y"), filling recent.
	for i := range 40 {
		want("C05", true)
		want(fmt.Sprintf("C%02d", i), true)
	}
	want("INPUT", true)
	want("nope", false)

	// Positions move under recent and the index.
	tb.SortChains()
	for i, c := range tb.Chains {
		if tb.ChainIndex(c) != i || c.pos != int32(i) {
			t.Fatalf("after SortChains chain %s at %d has pos %d", c.Name, i, c.pos)
		}
	}
	want("C05", true)
	want("C10", true)
	want("INPUT", true)

	// A deleted chain is gone even though it was just found.
	want("C05", true)
	tb.Chains = slices.DeleteFunc(tb.Chains, func(c *Chain) bool { return c.Name == "C05" })
	want("C05", false)
	want("C06", true)

	// A chain added after the deletion is found; the one before it too.
	tb.addChain(&Chain{Name: "NEW"})
	want("NEW", true)
	want("C04", true)

	// Emptied down to the small-table path.
	tb.Chains = tb.Chains[:3]
	want("C00", false)
	want("INPUT", true)
}
