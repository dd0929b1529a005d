package nft

import (
	"errors"
	"math/rand/v2"
	"time"
)

// DefaultRetryFor is how long a commit or a dump keeps starting again
// while other writers change the ruleset under it. iptables-nft retries
// without limit; fw retries as long as this, so that a writer that never
// pauses turns into an error a unit can report instead of a hung boot.
const DefaultRetryFor = 60 * time.Second

// errDumpIntr says the kernel marked a dump NLM_F_DUMP_INTR (or ended it
// with EINTR): the ruleset changed while it was dumped, and what was read
// is not one state of it. Readers start again; it is never a fault.
var errDumpIntr = errors.New("the dump was interrupted by a change to the ruleset")

// pacer spaces the attempts of an operation the kernel refused because
// another writer moved the generation. Attempts are spread with a
// growing, jittered pause, so that several restores racing each other
// (boot units, kube-proxy and a CNI plugin) take turns instead of
// colliding again at once.
type pacer struct {
	until time.Time
	n     int
	sleep func(time.Duration) // time.Sleep; tests count instead
}

// pacer starts the pacing of one operation, with b.RetryFor as its
// deadline (DefaultRetryFor when unset).
func (b *Backend) pacer() *pacer {
	d := b.RetryFor
	if d <= 0 {
		d = DefaultRetryFor
	}
	return &pacer{until: time.Now().Add(d), sleep: time.Sleep}
}

// maxPause bounds one pause: a busy writer (kube-proxy syncing every
// second) leaves gaps far longer than this.
const maxPause = 100 * time.Millisecond

// again waits before the next attempt, and reports false once the
// deadline has passed. The first retry follows at once, as in iptables.
func (p *pacer) again() bool {
	if !time.Now().Before(p.until) {
		return false
	}
	if p.n > 0 {
		d := min(time.Millisecond<<min(p.n-1, 10), maxPause)
		p.sleep(d/2 + rand.N(d/2+1))
	}
	p.n++
	return true
}
