package myers

import (
	"math/rand/v2"
	"testing"
)

// lcsLen is the textbook dynamic program, for checking.
func lcsLen(a, b []int) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func check(t *testing.T, a, b []int, pairs [][2]int) {
	t.Helper()
	pi, pj := -1, -1
	for _, p := range pairs {
		if p[0] <= pi || p[1] <= pj || p[0] >= len(a) || p[1] >= len(b) {
			t.Fatalf("pairs out of order or range: %v (a=%v b=%v)", pairs, a, b)
		}
		if a[p[0]] != b[p[1]] {
			t.Fatalf("pair %v matches %d with %d", p, a[p[0]], b[p[1]])
		}
		pi, pj = p[0], p[1]
	}
}

// TestPairsMinimal: on random small sequences Pairs finds a longest
// common subsequence (as long as the dynamic program's), in order.
func TestPairsMinimal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		a := make([]int, r.IntN(12))
		b := make([]int, r.IntN(12))
		for i := range a {
			a[i] = r.IntN(4)
		}
		for i := range b {
			b[i] = r.IntN(4)
		}
		pairs := Pairs(len(a), len(b), func(i, j int) bool { return a[i] == b[j] }, 1000)
		check(t, a, b, pairs)
		if want := lcsLen(a, b); len(pairs) != want {
			t.Fatalf("a=%v b=%v: %d pairs, longest common subsequence is %d", a, b, len(pairs), want)
		}
	}
}

// TestPairsBounded: past maxEdits the middle is left unmatched, and what
// is matched is still a valid alignment.
func TestPairsBounded(t *testing.T) {
	a := []int{1, 2, 3, 4, 5, 6, 7, 8, 9}
	b := []int{1, 9, 8, 7, 6, 5, 4, 3, 2, 9}
	pairs := Pairs(len(a), len(b), func(i, j int) bool { return a[i] == b[j] }, 2)
	check(t, a, b, pairs)
	if len(pairs) != 2 {
		t.Errorf("bounded search matched %v, want the prefix and suffix only", pairs)
	}
}

// TestPairsLarge: a 20000-element sequence with a few edits aligns in
// time proportional to the edits.
func TestPairsLarge(t *testing.T) {
	a := make([]int, 20000)
	for i := range a {
		a[i] = i
	}
	b := append([]int(nil), a...)
	b[5000] = -1                                              // changed
	b = append(b[:12000], b[12001:]...)                       // removed
	b = append(b[:15000], append([]int{-2}, b[15000:]...)...) // added
	calls := 0
	pairs := Pairs(len(a), len(b), func(i, j int) bool { calls++; return a[i] == b[j] }, 1000)
	check(t, a, b, pairs)
	if want := len(a) - 2; len(pairs) != want {
		t.Errorf("%d pairs, want %d", len(pairs), want)
	}
	if calls > 10*len(a) {
		t.Errorf("%d comparisons for a 3-edit change of %d elements", calls, len(a))
	}
}
