package diff

// align computes a shortest edit script between a and b with Myers'
// O((N+M)·D) algorithm: kube-proxy chains have tens of thousands of rules
// and a drift touches few of them, so the cost follows the size of the
// change, not the square of the chain. Lines are interned to integers
// first so that comparisons are cheap.
func align(a, b []string) []op {
	ids := map[string]int32{}
	intern := func(xs []string) []int32 {
		out := make([]int32, len(xs))
		for i, x := range xs {
			id, ok := ids[x]
			if !ok {
				id = int32(len(ids))
				ids[x] = id
			}
			out[i] = id
		}
		return out
	}
	x, y := intern(a), intern(b)
	n, m := len(x), len(y)
	max := n + m
	if max == 0 {
		return nil
	}
	// v[k] is the furthest x on diagonal k; trace[d] keeps v for
	// diagonals -d..d after step d, which is all backtracking needs.
	off := max
	v := make([]int, 2*max+2)
	var trace [][]int
	var dEnd int
search:
	for d := 0; d <= max; d++ {
		snap := make([]int, 2*d+1)
		for k := -d; k <= d; k += 2 {
			var i int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				i = v[off+k+1] // down: insertion
			} else {
				i = v[off+k-1] + 1 // right: deletion
			}
			j := i - k
			for i < n && j < m && x[i] == y[j] {
				i++
				j++
			}
			v[off+k] = i
			if i >= n && j >= m {
				for kk := -d; kk <= d; kk++ {
					snap[kk+d] = v[off+kk]
				}
				trace = append(trace, snap)
				dEnd = d
				break search
			}
		}
		for k := -d; k <= d; k++ {
			snap[k+d] = v[off+k]
		}
		trace = append(trace, snap)
	}
	// Walk back from (n, m).
	var rev []op
	i, j := n, m
	for d := dEnd; d > 0; d-- {
		k := i - j
		prev := trace[d-1]
		get := func(kk int) int { return prev[kk+(d-1)] }
		var pk int
		if k == -d || (k != d && get(k-1) < get(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		pi := get(pk)
		pj := pi - pk
		// The step went from (pi, pj) down or right to (xs, xs-k); a
		// snake of equal lines then led to (i, j).
		xs := pi
		if pk == k-1 {
			xs = pi + 1
		}
		for i > xs {
			i--
			j--
			rev = append(rev, op{opEqual, i, j})
		}
		if pk == k+1 {
			j--
			rev = append(rev, op{opAdd, 0, j})
		} else {
			i--
			rev = append(rev, op{opDel, i, 0})
		}
		i, j = pi, pj
	}
	for i > 0 && j > 0 {
		i--
		j--
		rev = append(rev, op{opEqual, i, j})
	}
	out := make([]op, len(rev))
	for k := range rev {
		out[k] = rev[len(rev)-1-k]
	}
	return out
}
