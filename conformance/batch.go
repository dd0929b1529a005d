package conformance

import (
	"fmt"
	"strings"
	"sync"

	"github.com/fwkit/fw/table"
)

// A Batch is corpus cases of one family and table checked with one
// restore and one save: each case's rule goes into a user chain of its
// own, jumped to from the case's built-in chain (so the kernel checks the
// rule against the hooks it would be reached from as written). Starting a
// reference tool costs milliseconds; a batch of a corpus file's cases
// costs about as much as one case.
//
// A batch either passes as a whole or is split (Check) until every case
// is checked alone, as written (its own chain and prelude): a case is
// only ever reported for what it does alone, so batching never changes a
// verdict, only how many tools are started to reach it.
type Batch struct {
	Family table.Family
	Table  string
	Cases  []*Case
	// Solo is a batch of one case restored as written (Case.Input).
	Solo bool
}

// Batchable reports whether cs can share a batch: it is accepted and has
// no prelude (a prelude sets up state, such as a named rate estimator, the
// case depends on and other cases must not see) and is not marked
// [kernel].
func (cs *Case) Batchable() bool {
	return cs.Expect == Accept && !cs.Kernel && len(cs.Prelude) == 0
}

// Batches groups the cases of c for which keep is true by family and
// table, in file order. Cases that are not Batchable come as solo
// batches.
func Batches(c *Corpus, keep func(*Case, table.Family) bool) []*Batch {
	var out []*Batch
	shared := map[string]*Batch{}
	for _, cs := range c.Cases {
		for _, fam := range cs.Families() {
			if !keep(cs, fam) {
				continue
			}
			if !cs.Batchable() {
				out = append(out, &Batch{Family: fam, Table: cs.Table, Cases: []*Case{cs}, Solo: true})
				continue
			}
			key := fam.String() + "/" + cs.Table
			b := shared[key]
			if b == nil {
				b = &Batch{Family: fam, Table: cs.Table}
				shared[key] = b
				out = append(out, b)
			}
			b.Cases = append(b.Cases, cs)
		}
	}
	return out
}

// Chain is the chain that holds case i's rules.
func (b *Batch) Chain(i int) string {
	if b.Solo {
		return b.Cases[i].Chain
	}
	return fmt.Sprintf("fwcase%04d", i)
}

// Input is the batch's restore file.
func (b *Batch) Input() string {
	if b.Solo {
		return b.Cases[0].Input()
	}
	var s strings.Builder
	fmt.Fprintf(&s, "*%s\n", b.Table)
	for i := range b.Cases {
		fmt.Fprintf(&s, ":%s - [0:0]\n", b.Chain(i))
	}
	for i, cs := range b.Cases {
		if _, builtin := table.HookByName(cs.Chain); builtin {
			fmt.Fprintf(&s, "-A %s -j %s\n", cs.Chain, b.Chain(i))
		}
		fmt.Fprintf(&s, "-A %s %s\n", b.Chain(i), cs.Rule)
	}
	s.WriteString("COMMIT\n")
	return s.String()
}

// Rules is what a save prints for case i: the rule bodies of its chain.
func (b *Batch) Rules(save string, i int) []string { return RulesOf(save, b.Chain(i)) }

// FwText is save (the reference's save of the batch's table) with the
// rules of every case fw prints otherwise on purpose (Case.Fw) as fw
// prints them: what fw's save of the same table must print.
func (b *Batch) FwText(save string) string {
	fw := map[string][]string{} // "-A chain" -> fw's rule bodies
	for i, cs := range b.Cases {
		if cs.Fw != nil {
			fw["-A "+b.Chain(i)] = cs.Fw
		}
	}
	if len(fw) == 0 {
		return save
	}
	var out strings.Builder
	for _, l := range strings.SplitAfter(save, "\n") {
		head, _, _ := strings.Cut(strings.TrimSuffix(l, "\n"), " ")
		if head == "-A" {
			f := strings.Fields(l)
			if bodies, ok := fw["-A "+f[1]]; ok {
				for _, body := range bodies {
					out.WriteString(strings.TrimSuffix("-A "+f[1]+" "+body, " ") + "\n")
				}
				fw["-A "+f[1]] = nil
				continue
			}
		}
		out.WriteString(l)
	}
	return out.String()
}

// Name names the batch in messages: the case for a single case, else the
// file, family and table.
func (b *Batch) Name() string {
	if len(b.Cases) == 1 {
		return fmt.Sprintf("%s (%s): %s", b.Cases[0].Pos(), b.Family, b.Cases[0].Rule)
	}
	return fmt.Sprintf("%s (%s, %s): %d cases", b.Cases[0].File, b.Family, b.Table, len(b.Cases))
}

// Check runs check on b and, when it fails, on each half of b, down to
// single cases, which are checked as written (solo). check reports
// through report; reports of a batch of more than one case are dropped,
// since what a batch shows may come from its cases together: only a solo
// check's reports reach solo. Check returns the number of tries.
func Check(b *Batch, check func(b *Batch, report func(format string, args ...any)) bool, solo func(format string, args ...any)) int {
	if len(b.Cases) == 1 && !b.Solo {
		b = &Batch{Family: b.Family, Table: b.Table, Cases: b.Cases, Solo: true}
	}
	if b.Solo {
		check(b, solo)
		return 1
	}
	if check(b, func(string, ...any) {}) {
		return 1
	}
	half := len(b.Cases) / 2
	lo := &Batch{Family: b.Family, Table: b.Table, Cases: b.Cases[:half]}
	hi := &Batch{Family: b.Family, Table: b.Table, Cases: b.Cases[half:]}
	return 1 + Check(lo, check, solo) + Check(hi, check, solo)
}

// Workers is how many batches the oracle tests check at once, each in
// namespaces of its own: most of a batch's time is spent waiting for the
// reference tools.
const Workers = 4

// Work runs jobs on n goroutines, each with a state newWorker makes for it
// once (before any job starts).
func Work[W any](n int, jobs []func(W), newWorker func() W) {
	ch := make(chan func(W))
	var wg sync.WaitGroup
	for range n {
		w := newWorker()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range ch {
				job(w)
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
}
