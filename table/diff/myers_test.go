package diff

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/fwkit/fw/table"
)

// apply replays an edit script and checks it turns a into b.
func apply(t *testing.T, a, b []string, ops []op) int {
	t.Helper()
	var got []string
	edits := 0
	ia := 0
	for _, o := range ops {
		switch o.kind {
		case opEqual:
			if o.i != ia || a[o.i] != b[o.j] {
				t.Fatalf("bad equal op %+v", o)
			}
			got = append(got, a[o.i])
			ia++
		case opDel:
			if o.i != ia {
				t.Fatalf("deletion out of order %+v (at %d)", o, ia)
			}
			ia++
			edits++
		case opAdd:
			got = append(got, b[o.j])
			edits++
		}
	}
	if ia != len(a) || len(got) != len(b) {
		t.Fatalf("script covers %d/%d of a and gives %d/%d lines", ia, len(a), len(got), len(b))
	}
	for i := range b {
		if got[i] != b[i] {
			t.Fatalf("line %d: %q, want %q", i, got[i], b[i])
		}
	}
	return edits
}

// digests stands in distinct digests for strings.
func digests(xs []string) []table.Digest {
	out := make([]table.Digest, len(xs))
	for i, x := range xs {
		n, _ := strconv.Atoi(x)
		out[i] = table.Digest{uint64(n) + 1, uint64(len(x))}
	}
	return out
}

func TestAlign(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 500; iter++ {
		a := make([]string, rng.IntN(30))
		for i := range a {
			a[i] = strconv.Itoa(rng.IntN(8))
		}
		b := append([]string{}, a...)
		for e := rng.IntN(6); e > 0; e-- {
			switch {
			case len(b) > 0 && rng.IntN(2) == 0:
				k := rng.IntN(len(b))
				b = append(b[:k], b[k+1:]...)
			default:
				k := rng.IntN(len(b) + 1)
				b = append(b[:k], append([]string{strconv.Itoa(rng.IntN(8))}, b[k:]...)...)
			}
		}
		ops := align(digests(a), digests(b))
		edits := apply(t, a, b, ops)
		if edits > len(a)+len(b) {
			t.Fatalf("too many edits")
		}
	}
	if ops := align(nil, nil); len(ops) != 0 {
		t.Fatal("empty")
	}
	if e := apply(t, []string{"1", "2", "3"}, []string{"1", "3"}, align(digests([]string{"1", "2", "3"}), digests([]string{"1", "3"}))); e != 1 {
		t.Fatalf("minimal script has 1 edit, got %d", e)
	}
}
