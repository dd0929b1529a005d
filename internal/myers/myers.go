// Package myers aligns two sequences with Myers' O((N+M)·D) difference
// algorithm. Both users compare kube-proxy-sized chains (tens of
// thousands of rules) that differ in a few places: fw-diff to report
// what changed, the nf_tables incremental restore to send only that. The
// cost follows the size of the change, not the square of the chain.
package myers

// Pairs returns the index pairs (i, j), in increasing order, of a longest
// common subsequence of two sequences of lengths n and m whose elements
// eq compares (eq(i, j): element i of the first equals element j of the
// second). The common prefix and suffix are matched first.
//
// The search keeps a trace that grows with the square of the number of
// edits; when more than maxEdits edits are needed in the middle, Pairs
// gives up there and matches only the prefix and suffix, which is a
// correct alignment, just not a minimal one.
func Pairs(n, m int, eq func(i, j int) bool, maxEdits int) [][2]int {
	pre := 0
	for pre < n && pre < m && eq(pre, pre) {
		pre++
	}
	suf := 0
	for suf < n-pre && suf < m-pre && eq(n-1-suf, m-1-suf) {
		suf++
	}
	pairs := make([][2]int, 0, pre+suf)
	for i := range pre {
		pairs = append(pairs, [2]int{i, i})
	}
	a, b := n-pre-suf, m-pre-suf
	if a > 0 && b > 0 {
		for _, p := range middle(a, b, func(i, j int) bool { return eq(pre+i, pre+j) }, maxEdits) {
			pairs = append(pairs, [2]int{pre + p[0], pre + p[1]})
		}
	}
	for k := suf; k > 0; k-- {
		pairs = append(pairs, [2]int{n - k, m - k})
	}
	return pairs
}

// middle is Myers' search and backtrack over sequences of lengths n, m.
func middle(n, m int, eq func(i, j int) bool, maxEdits int) [][2]int {
	maxD := min(n+m, maxEdits)
	off := maxD + 1
	v := make([]int32, 2*maxD+3)
	// trace[d] is v before step d over diagonals -d-1 .. d+1: all the
	// backtrack needs, in O(D²) space.
	var trace [][]int32
	found := -1
	for d := 0; d <= maxD && found < 0; d++ {
		trace = append(trace, append([]int32(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = int(v[off+k+1]) // down: an insertion
			} else {
				x = int(v[off+k-1]) + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && eq(x, y) {
				x++
				y++
			}
			v[off+k] = int32(x)
			if x >= n && y >= m {
				found = d
				break
			}
		}
	}
	if found < 0 {
		return nil
	}
	var rev [][2]int
	x, y := n, m
	for d := found; d > 0; d-- {
		prev := trace[d]
		get := func(k int) int { return int(prev[k+d+1]) }
		k := x - y
		pk := k - 1
		if k == -d || (k != d && get(k-1) < get(k+1)) {
			pk = k + 1
		}
		px := get(pk)
		py := px - pk
		// After the edit from (px, py), a snake of equal elements led
		// to (x, y).
		sx := px
		if pk == k-1 {
			sx = px + 1
		}
		for x > sx {
			x--
			y--
			rev = append(rev, [2]int{x, y})
		}
		x, y = px, py
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, [2]int{x, y})
	}
	out := make([][2]int, len(rev))
	for i, p := range rev {
		out[len(rev)-1-i] = p
	}
	return out
}
