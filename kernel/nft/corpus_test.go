package nft

import (
	"encoding/hex"
	"flag"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/conformance"
	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/table"
)

var (
	corpusDir = flag.String("corpus", "../../testdata/ext", "corpus directory")
	only      = flag.String("only", "", "comma-separated corpus file names (without .txt) to use; empty means all")
)

// TestCorpus runs every accepted case of the extension corpus through the
// nft backend both ways, against iptables-nft 1.8.9:
//   - iptables-nft-restore writes, fw reads: fw prints what
//     iptables-nft-save prints;
//   - fw writes, iptables-nft-save reads: it prints what it prints after
//     iptables-nft-restore of the same case;
//   - and the kernel holds the same rule expressions either way;
//   - what fw saved, fw restores to the same expressions.
//
// Cases are checked in batches (conformance.Batch), and one by one where a
// batch fails. Cases whose extensions have no payload codec yet are skipped
// and counted; so are cases iptables-nft-restore refuses although
// iptables-legacy-restore accepts them (the corpus is legacy's), which fw
// must refuse too.
func TestCorpus(t *testing.T) {
	needNft(t)
	corpora, err := conformance.Load(*corpusDir, *only)
	if err != nil {
		t.Fatal(err)
	}
	if len(corpora) == 0 {
		t.Fatalf("no corpus files in %s", *corpusDir)
	}
	var ran, noCodec, refRefused, tries, lossy, unrestorable atomic.Int64
	var jobs []func(*nftWorker)
	for _, c := range corpora {
		keep := func(cs *conformance.Case, fam table.Family) bool {
			if cs.Expect != conformance.Accept || cs.Kernel {
				return false
			}
			rs, err := format.Load(cs.Pos(), []byte(cs.Input()), format.LoadOptions{Family: fam, Registry: registry})
			if err != nil {
				t.Errorf("%s (%s): %s: fw cannot load it: %v", cs.Pos(), fam, cs.Rule, err)
				return false
			}
			if missingPayload(rs) != "" {
				noCodec.Add(1)
				return false
			}
			return true
		}
		for _, b := range conformance.Batches(c, keep) {
			jobs = append(jobs, func(w *nftWorker) { tries.Add(int64(conformance.Check(b, w.check, t.Errorf))) })
		}
	}
	conformance.Work(conformance.Workers, jobs, func() *nftWorker {
		return &nftWorker{t: t, ref: kerneltest.NewNetns(t), fw: kerneltest.NewNetns(t), ran: &ran, refRefused: &refRefused, lossy: &lossy, unrestorable: &unrestorable}
	})
	t.Logf("corpus: %d case runs compared in %d restores; skipped %d whose extensions have no payload codec yet, %d that iptables-nft-restore refuses (fw refuses them too); round trip: %d case runs in batches whose saved text restores to other expressions, with iptables-nft too, %d cases whose saved text neither restores",
		ran.Load(), tries.Load(), noCodec.Load(), refRefused.Load(), lossy.Load(), unrestorable.Load())
}

// nftWorker checks batches in a namespace iptables-nft writes and one fw
// writes.
type nftWorker struct {
	t               *testing.T
	ref, fw         *kerneltest.Netns
	ran, refRefused *atomic.Int64
	lossy           *atomic.Int64 // case runs whose save restores to other expressions, with the reference too
	unrestorable    *atomic.Int64 // cases whose save the reference cannot restore either
}

// check is one try of a batch (see TestCorpus for what it checks).
func (w *nftWorker) check(b *conformance.Batch, report func(string, ...any)) bool {
	in := b.Input()
	rs, err := format.Load(b.Name(), []byte(in), format.LoadOptions{Family: b.Family, Registry: registry})
	if err != nil {
		report("%s: fw cannot load it: %v", b.Name(), err)
		return false
	}
	restore, save := nftTools(b.Family)
	r, err := w.ref.Run([]byte(in), restore)
	if err != nil {
		report("%s: %v", b.Name(), err)
		return false
	}
	if r.Code != 0 {
		if !b.Solo {
			return false
		}
		// The legacy corpus accepts it but iptables-nft refuses it
		// (-j QUEUE, "! -s 0.0.0.0/0", ...): fw must refuse it too.
		if err := fwCommit(w.fw, rs, true); err == nil {
			report("%s: iptables-nft-restore refuses it (%s) but fw --test accepts it", b.Name(), strings.TrimSpace(r.Stderr))
			return false
		}
		w.t.Logf("%s: iptables-nft-restore refuses it (%s); so does fw", b.Name(), strings.Join(strings.Fields(r.Stderr), " "))
		w.refRefused.Add(1)
		return true
	}
	ref, err := w.ref.Run(nil, save, "-t", b.Table)
	if err != nil || ref.Code != 0 {
		report("%s: %s: %v %s", b.Name(), save, err, ref.Stderr)
		return false
	}
	want := kerneltest.DropComments(ref.Stdout)
	ok := true
	// The reference wrote it; fw reads it.
	got, err := w.ref.Load(&Backend{Registry: registry}, b.Family, b.Table)
	if err != nil {
		report("%s: fw cannot read what iptables-nft-restore wrote: %v", b.Name(), err)
		ok = false
	} else if text := encode(w.t, got, false); text != want {
		report("%s: fw reads it differently (-iptables-nft-save +fw):\n%s", b.Name(), cmp.Diff(want, text))
		ok = false
	}
	// fw writes it; the reference reads it.
	if err := fwCommit(w.fw, rs, false); err != nil {
		report("%s: fw cannot write it: %v", b.Name(), err)
		return false
	}
	back, err := w.fw.Run(nil, save, "-t", b.Table)
	if err != nil || back.Code != 0 {
		report("%s: %s: %v %s", b.Name(), save, err, back.Stderr)
		return false
	}
	if d := cmp.Diff(want, kerneltest.DropComments(back.Stdout)); d != "" {
		report("%s: iptables-nft-save reads fw's rules differently (-after iptables-nft-restore +after fw):\n%s", b.Name(), d)
		ok = false
	}
	// The same expressions in the kernel, byte for byte as it lists
	// them (nft's own listing crashes on some compat payloads).
	refX, errR := kernelExprs(w.ref, b.Family, b.Table)
	fwX, errF := kernelExprs(w.fw, b.Family, b.Table)
	if errR != nil || errF != nil {
		report("%s: dump: %v / %v", b.Name(), errR, errF)
		return false
	}
	if d := cmp.Diff(refX, fwX); d != "" {
		report("%s: the kernel holds different expressions (-iptables-nft-restore +fw):\n%s", b.Name(), d)
		ok = false
	}
	// Round trip: what fw saved of iptables-nft's table, restored by fw,
	// gives the kernel the same expressions.
	if got != nil && !w.roundTrip(b, encode(w.t, got, false), refX, report) {
		ok = false
	}
	if ok {
		w.ran.Add(int64(len(b.Cases)))
	}
	return ok
}

// roundTrip restores saved (fw's save of the reference's table) with fw
// and compares the kernel's expressions with want. Where iptables-nft-save
// prints a rule in a form that restores to other expressions (a match
// that means nothing, such as "-i +", or options merged into one match)
// or not at all, iptables-nft-restore of the same text must do the same.
func (w *nftWorker) roundTrip(b *conformance.Batch, saved string, want map[string][]string, report func(string, ...any)) bool {
	rs, err := format.Load(b.Name()+" as fw saved it", []byte(saved), format.LoadOptions{Family: b.Family, Registry: registry, Apply: table.ApplyOptions{NFTCompat: true}})
	if err == nil {
		err = fwCommit(w.fw, rs, false)
	}
	var got map[string][]string
	if err == nil {
		if got, err = kernelExprs(w.fw, b.Family, b.Table); err != nil {
			report("%s: dump: %v", b.Name(), err)
			return false
		}
		if cmp.Equal(want, got) {
			return true
		}
	}
	restore, _ := nftTools(b.Family)
	r, rerr := w.ref.Run([]byte(saved), restore)
	switch {
	case rerr != nil:
		report("%s: %v", b.Name(), rerr)
		return false
	case err != nil && r.Code != 0:
		if b.Solo {
			w.t.Logf("%s: iptables-nft-save prints a rule iptables-nft-restore refuses (%s); fw too: %v", b.Name(), strings.TrimSpace(r.Stderr), err)
			w.unrestorable.Add(1)
		}
		return b.Solo // narrowed down to the case: this is the reference's own
	case err != nil:
		report("%s: fw cannot restore what fw-save printed (iptables-nft-restore can): %v\n%s", b.Name(), err, saved)
		return false
	case r.Code != 0:
		report("%s: iptables-nft-restore refuses what fw-save printed: %s\n%s", b.Name(), r.Stderr, saved)
		return false
	}
	own, err := kernelExprs(w.ref, b.Family, b.Table)
	if err != nil {
		report("%s: dump: %v", b.Name(), err)
		return false
	}
	if d := cmp.Diff(own, got); d != "" {
		report("%s: after a save and restore by fw the kernel holds different expressions than after iptables-nft-restore of the same text (-iptables-nft +fw):\n%s", b.Name(), d)
		return false
	}
	w.lossy.Add(int64(len(b.Cases)))
	return true
}

// kernelExprs lists, per chain, each rule's expressions as the kernel
// returns them: name and attributes in hex. Counter values are left out:
// ip6tables-nft-restore 1.8.9 drops the counters given with -c or
// --set-counters on a rule (iptables-nft-restore keeps them, and so does
// fw for both families; TestFixtures checks them for IPv4).
func kernelExprs(ns *kerneltest.Netns, f table.Family, tbl string) (map[string][]string, error) {
	out := map[string][]string{}
	err := ns.Do(func() error {
		c, err := dial()
		if err != nil {
			return err
		}
		defer c.close()
		s, err := readSnapshot(c, f, someTables(tbl), readFull)
		if err != nil {
			return err
		}
		if raw := s.Tables[tbl]; raw != nil {
			for _, ch := range raw.Chains {
				for _, r := range ch.Rules {
					var parts []string
					for _, e := range r.Exprs {
						if e.Name == "counter" {
							parts = append(parts, "counter")
							continue
						}
						parts = append(parts, e.Name+" "+hex.EncodeToString(e.Data))
					}
					out[ch.Name] = append(out[ch.Name], strings.Join(parts, "\n"))
				}
			}
		}
		return nil
	})
	return out, err
}
