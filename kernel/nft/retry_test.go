package nft

import (
	"testing"
	"time"
)

// TestPacer: the first retry is immediate, later pauses grow and stay
// within maxPause, and again reports false once the deadline passed.
func TestPacer(t *testing.T) {
	t.Parallel()
	var pauses []time.Duration
	p := (&Backend{RetryFor: time.Hour}).pacer()
	p.sleep = func(d time.Duration) { pauses = append(pauses, d) }
	for i := 0; i < 20; i++ {
		if !p.again() {
			t.Fatalf("retry %d refused before the deadline", i)
		}
	}
	if len(pauses) != 19 {
		t.Fatalf("%d pauses for 20 retries, want 19 (the first is immediate)", len(pauses))
	}
	for i, d := range pauses {
		lo := min(time.Millisecond<<min(i, 10), maxPause) / 2
		if d < lo || d > maxPause {
			t.Errorf("pause %d is %v, want within [%v, %v]", i, d, lo, maxPause)
		}
	}
	p.until = time.Now().Add(-time.Second)
	if p.again() {
		t.Error("retry allowed after the deadline")
	}
	if d := time.Until((&Backend{}).pacer().until); d < DefaultRetryFor-time.Second {
		t.Errorf("unset RetryFor gives a deadline in %v, want DefaultRetryFor", d)
	}
}
