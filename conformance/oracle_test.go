package conformance

import (
	"flag"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/kernel/legacy"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

var update = flag.Bool("update", false, "rewrite the corpus from what the reference tools print")

// refTools names the legacy reference tools per family.
func refTools(f table.Family) (restore, save string) {
	if f == table.IPv6 {
		return "ip6tables-legacy-restore", "ip6tables-legacy-save"
	}
	return "iptables-legacy-restore", "iptables-legacy-save"
}

func needLegacy(t *testing.T) {
	t.Helper()
	kerneltest.Need(t, "iptables-legacy-restore", "iptables-legacy-save", "ip6tables-legacy-restore", "ip6tables-legacy-save")
}

// TestOracleCorpus holds the corpus and fw's legacy backend to
// iptables-legacy-restore and iptables-legacy-save 1.8.9:
//   - every FAIL case is refused by the reference, every STRICT case is
//     accepted by it (fw refuses both: TestCorpus);
//   - every accepted case is accepted by the reference and printed as the
//     corpus says;
//   - the reference wrote it, fw reads it: fw prints what the reference
//     save prints;
//   - fw wrote it, the reference reads it: its save prints the same;
//   - and the kernel holds the very same bytes either way;
//   - what fw saved, fw restores to the reference's very bytes.
//
// Accepted cases are checked in batches (see Batch); refused ones one by
// one, as a refusal ends a restore. With -update it rewrites the corpus
// from what the reference does instead (oracleUpdate).
func TestOracleCorpus(t *testing.T) {
	needLegacy(t)
	corpora, err := Load(*corpusDir, *only)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		oracleUpdate(t, corpora)
		return
	}
	var jobs []func(w *legacyWorker)
	var accepted, refused, tries, lossy, unrestorable atomic.Int64
	for _, c := range corpora {
		for _, b := range Batches(c, func(cs *Case, _ table.Family) bool { return cs.Expect == Accept && !cs.Kernel }) {
			accepted.Add(int64(len(b.Cases)))
			jobs = append(jobs, func(w *legacyWorker) { tries.Add(int64(Check(b, w.check, t.Errorf))) })
		}
		for _, cs := range c.Cases {
			if cs.Expect == Accept || cs.Kernel {
				continue
			}
			for _, fam := range cs.Families() {
				refused.Add(1)
				jobs = append(jobs, func(w *legacyWorker) { w.refusal(cs, fam) })
			}
		}
	}
	Work(Workers, jobs, func() *legacyWorker {
		return &legacyWorker{t: t, ref: kerneltest.NewNetns(t), fw: kerneltest.NewNetns(t),
			b: &legacy.Backend{Registry: ext.Registry(), LockWait: 30 * time.Second}, lossy: &lossy, unrestorable: &unrestorable}
	})
	t.Logf("legacy oracle: %d accepted case runs in %d restores, %d FAIL/STRICT case runs one by one; round trip: %d case runs in batches whose saved text restores to other bytes, with the reference too, %d cases whose saved text neither restores",
		accepted.Load(), tries.Load(), refused.Load(), lossy.Load(), unrestorable.Load())
}

// legacyWorker checks batches in a namespace the reference writes and one
// fw writes.
type legacyWorker struct {
	t       *testing.T
	ref, fw *kerneltest.Netns
	b       *legacy.Backend
	// Round trip: case runs whose saved text restores to other bytes,
	// with the reference too; cases whose saved text neither restores.
	lossy, unrestorable *atomic.Int64
}

// refusal checks a FAIL or STRICT case against the reference.
func (w *legacyWorker) refusal(cs *Case, fam table.Family) {
	restore, _ := refTools(fam)
	r, err := w.ref.Run([]byte(cs.Input()), restore)
	switch {
	case err != nil:
		w.t.Errorf("%s (%s): %v", cs.Pos(), fam, err)
	case cs.Expect == Fail && r.Code == 0:
		w.t.Errorf("%s (%s): %s: reference accepted it", cs.Pos(), fam, cs.Rule)
	case cs.Expect == Strict && r.Code != 0:
		w.t.Errorf("%s (%s): %s: marked STRICT but the reference refuses it too: %s", cs.Pos(), fam, cs.Rule, strings.TrimSpace(r.Stderr))
	}
}

// check is one try of a batch (see TestOracleCorpus for what it checks).
func (w *legacyWorker) check(b *Batch, report func(string, ...any)) bool {
	restore, save := refTools(b.Family)
	in := []byte(b.Input())
	r, err := w.ref.Run(in, restore)
	if err != nil || r.Code != 0 {
		report("%s: reference refused it: %v %s", b.Name(), err, strings.TrimSpace(r.Stderr))
		return false
	}
	ref, err := w.ref.Run(nil, save, "-t", b.Table)
	if err != nil || ref.Code != 0 {
		report("%s: %s: %v %s", b.Name(), save, err, ref.Stderr)
		return false
	}
	want := kerneltest.DropComments(ref.Stdout)
	ok := true
	for i, cs := range b.Cases {
		if d := cmp.Diff(cs.Output, b.Rules(want, i)); d != "" {
			report("%s (%s): %s: reference prints differently (-corpus +reference):\n%s", cs.Pos(), b.Family, cs.Rule, d)
			ok = false
		}
	}
	// The reference wrote it; fw reads it.
	rs, err := w.ref.Load(w.b, b.Family, b.Table)
	var got string
	if err == nil {
		got, err = format.EncodeString(rs, format.EncodeOptions{})
	}
	if err != nil {
		report("%s: fw cannot read what the reference wrote: %v", b.Name(), err)
		ok = false
	} else if d := cmp.Diff(b.FwText(want), got); d != "" {
		report("%s: fw reads it differently (-reference, with fw's deliberate differences +fw):\n%s", b.Name(), d)
		ok = false
	}
	// fw writes it; the reference reads it.
	rs, err = format.Load(b.Name(), in, format.LoadOptions{Family: b.Family, Registry: w.b.Registry})
	if err == nil {
		err = w.fw.Do(func() error { return w.b.Commit(rs, kernel.CommitOptions{}) })
	}
	if err != nil {
		report("%s: fw restore failed: %v", b.Name(), err)
		return false
	}
	back, err := w.fw.Run(nil, save, "-t", b.Table)
	if err != nil || back.Code != 0 {
		report("%s: %s: %v %s", b.Name(), save, err, back.Stderr)
		return false
	}
	if d := cmp.Diff(want, kerneltest.DropComments(back.Stdout)); d != "" {
		report("%s: the reference reads fw's rules differently (-reference restore +fw restore):\n%s", b.Name(), d)
		return false
	}
	// And the kernel holds the very same bytes.
	var refBlob, fwBlob []byte
	err1 := w.ref.Do(func() error { var err error; refBlob, _, err = w.b.Raw(b.Family, b.Table); return err })
	err2 := w.fw.Do(func() error { var err error; fwBlob, _, err = w.b.Raw(b.Family, b.Table); return err })
	if err1 != nil || err2 != nil || len(refBlob) == 0 {
		report("%s: reading the raw tables failed: %v / %v", b.Name(), err1, err2)
		return false
	}
	if off := firstDiff(refBlob, fwBlob); off >= 0 {
		report("%s: fw's kernel entries differ from the reference's at byte %d of %d/%d:\nreference % x\nfw        % x",
			b.Name(), off, len(refBlob), len(fwBlob), window(refBlob, off), window(fwBlob, off))
		return false
	}
	// Round trip: what fw saved of the reference's table, restored by
	// fw, puts the reference's very bytes back.
	if got == "" {
		return false
	}
	if !w.roundTrip(b, got, refBlob, report) {
		return false
	}
	return ok
}

// roundTrip restores saved (fw's save of the reference's table) with fw
// and compares what the kernel then holds with want. Where the reference
// prints a rule in a form that restores to other bytes (a match that
// means nothing, such as "-i +", a default spelled out) or not at all,
// the reference's restore of the same text must do the same.
func (w *legacyWorker) roundTrip(b *Batch, saved string, want []byte, report func(string, ...any)) bool {
	rs, err := format.Load(b.Name()+" as fw saved it", []byte(saved), format.LoadOptions{Family: b.Family, Registry: w.b.Registry})
	if err == nil {
		err = w.fw.Do(func() error { return w.b.Commit(rs, kernel.CommitOptions{ReplaceUnchanged: true}) })
	}
	var blob []byte
	if err == nil {
		if err := w.fw.Do(func() error { var err error; blob, _, err = w.b.Raw(b.Family, b.Table); return err }); err != nil {
			report("%s: reading the raw table failed: %v", b.Name(), err)
			return false
		}
		if firstDiff(want, blob) < 0 {
			return true
		}
	}
	restore, _ := refTools(b.Family)
	r, rerr := w.ref.Run([]byte(saved), restore)
	switch {
	case rerr != nil:
		report("%s: %v", b.Name(), rerr)
		return false
	case err != nil && r.Code != 0:
		if b.Solo {
			w.t.Logf("%s: the reference saves a rule it cannot restore (%s); fw too: %v", b.Name(), strings.TrimSpace(r.Stderr), err)
			w.unrestorable.Add(1)
		}
		return b.Solo
	case err != nil:
		report("%s: fw cannot restore what fw-save printed (the reference can): %v\n%s", b.Name(), err, saved)
		return false
	case r.Code != 0:
		report("%s: the reference refuses what fw-save printed: %s\n%s", b.Name(), r.Stderr, saved)
		return false
	}
	var own []byte
	if err := w.ref.Do(func() error { var err error; own, _, err = w.b.Raw(b.Family, b.Table); return err }); err != nil {
		report("%s: reading the raw table failed: %v", b.Name(), err)
		return false
	}
	if off := firstDiff(own, blob); off >= 0 {
		report("%s: after a save and restore by fw the kernel entries differ from the reference's save and restore at byte %d of %d/%d:\nreference % x\nfw        % x",
			b.Name(), off, len(own), len(blob), window(own, off), window(blob, off))
		return false
	}
	w.lossy.Add(int64(len(b.Cases)))
	return true
}

// firstDiff returns the first offset where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func window(b []byte, off int) []byte {
	lo, hi := max(off-8, 0), min(off+24, len(b))
	if lo > hi {
		return nil
	}
	return b[lo:hi]
}

// refRules restores a case with the reference tool and returns what the
// reference save prints for the case's chain, or ok=false if the restore
// was refused.
func refRules(t *testing.T, ns *kerneltest.Netns, cs *Case, fam table.Family) (rules []string, ok bool, stderr string) {
	restore, save := refTools(fam)
	r, err := ns.Run([]byte(cs.Input()), restore)
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != 0 {
		return nil, false, r.Stderr
	}
	s, err := ns.Run(nil, save, "-t", cs.Table)
	if err != nil || s.Code != 0 {
		t.Fatalf("%s: %v %s", save, err, s.Stderr)
	}
	return RulesOf(s.Stdout, cs.Chain), true, ""
}

// oracleUpdate rewrites the corpus from what iptables-legacy-restore and
// iptables-legacy-save do with each case, one by one.
func oracleUpdate(t *testing.T, corpora []*Corpus) {
	ns := kerneltest.NewNetns(t)
	for _, c := range corpora {
		changed := false
		for _, cs := range c.Cases {
			if cs.Kernel {
				continue
			}
			var outs [][]string
			accepted := map[bool]int{}
			for _, fam := range cs.Families() {
				got, ok, stderr := refRules(t, ns, cs, fam)
				accepted[ok]++
				if cs.Expect == Strict {
					if !ok {
						t.Logf("%s: STRICT case refused by the reference too: %s", cs.Pos(), strings.TrimSpace(stderr))
					}
					continue
				}
				if !ok {
					cs.Expect, cs.Output = Fail, nil
				} else {
					cs.Expect = Accept
					outs = append(outs, got)
					cs.Output = got
				}
				changed = true
			}
			if accepted[true] > 0 && accepted[false] > 0 {
				t.Errorf("%s: the reference accepts it for one family only; split the case by family", cs.Pos())
			}
			if len(outs) == 2 && !cmp.Equal(outs[0], outs[1]) {
				t.Errorf("%s: IPv4 and IPv6 print differently (%q vs %q); split the case by family", cs.Pos(), outs[0], outs[1])
			}
		}
		if changed {
			if err := c.Rewrite(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
