package diff

import (
	"github.com/fwkit/fw/internal/myers"
	"github.com/fwkit/fw/table"
)

// maxEdits bounds the edits Myers' search looks for in one chain (its
// trace grows with their square); a chain changed in more places than
// that is reported as its differing middle removed and added.
const maxEdits = 4000

// align computes an edit script between a and b: equal rules, removals
// and additions, in order, each gap's removals before its additions.
func align(a, b []table.Digest) []op {
	pairs := myers.Pairs(len(a), len(b), func(i, j int) bool { return a[i] == b[j] }, maxEdits)
	out := make([]op, 0, max(len(a), len(b)))
	i, j := 0, 0
	for k := 0; k <= len(pairs); k++ {
		ie, je := len(a), len(b)
		if k < len(pairs) {
			ie, je = pairs[k][0], pairs[k][1]
		}
		for ; i < ie; i++ {
			out = append(out, op{opDel, i, 0})
		}
		for ; j < je; j++ {
			out = append(out, op{opAdd, 0, j})
		}
		if k < len(pairs) {
			out = append(out, op{opEqual, i, j})
			i, j = i+1, j+1
		}
	}
	return out
}
