package conformance

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/kernel/legacy"
	"github.com/fwkit/fw/table/ext"
)

// TestKernelCorpus runs every accepted corpus case through the legacy
// kernel backend both ways:
//   - reference restore, then fw reads the kernel: fw prints what
//     iptables-legacy-save prints;
//   - fw writes the kernel, then iptables-legacy-save prints what it
//     prints after iptables-legacy-restore of the same rule.
func TestKernelCorpus(t *testing.T) {
	kerneltest.Need(t, "iptables-legacy-restore", "iptables-legacy-save", "ip6tables-legacy-restore", "ip6tables-legacy-save")
	reg := ext.Registry()
	refNS := kerneltest.NewNetns(t)
	fwNS := kerneltest.NewNetns(t)
	// The xtables lock is machine-wide; other tests' reference tools may
	// hold it for a moment.
	b := &legacy.Backend{Registry: reg, LockWait: 30 * time.Second}
	for cs, fam := range acceptedCases(t) {
		if cs.Kernel {
			continue
		}
		restore, save := refTools(fam)
		r, err := refNS.Run([]byte(cs.Input()), restore)
		if err != nil || r.Code != 0 {
			t.Errorf("%s (%s): reference restore failed: %v %s", cs.Pos(), fam, err, r.Stderr)
			continue
		}
		ref, _ := refNS.Run(nil, save, "-t", cs.Table)
		want := kerneltest.DropComments(ref.Stdout)
		// Reference wrote it; fw reads it.
		var got string
		rs, err := refNS.Load(b, fam, cs.Table)
		if err == nil {
			got, err = format.EncodeString(rs, format.EncodeOptions{})
		}
		if err != nil {
			t.Errorf("%s (%s): %s: fw cannot read what the reference wrote: %v", cs.Pos(), fam, cs.Rule, err)
		} else if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (%s): %s: fw reads it differently (-reference +fw):\n%s", cs.Pos(), fam, cs.Rule, d)
		}
		// fw writes it; the reference reads it.
		rs, err = format.Load(cs.Pos(), []byte(cs.Input()), format.LoadOptions{Family: fam, Registry: reg})
		if err != nil {
			t.Errorf("%s (%s): %v", cs.Pos(), fam, err)
			continue
		}
		err = fwNS.Do(func() error { return b.Commit(rs, kernel.CommitOptions{}) })
		if err != nil {
			t.Errorf("%s (%s): %s: fw restore failed: %v", cs.Pos(), fam, cs.Rule, err)
			continue
		}
		back, _ := fwNS.Run(nil, save, "-t", cs.Table)
		if d := cmp.Diff(want, kerneltest.DropComments(back.Stdout)); d != "" {
			t.Errorf("%s (%s): %s: the reference reads fw's rule differently (-reference restore +fw restore):\n%s", cs.Pos(), fam, cs.Rule, d)
			continue
		}
		// And the kernel holds the very same bytes.
		var refBlob, fwBlob []byte
		err1 := refNS.Do(func() error { var err error; refBlob, _, err = b.Raw(fam, cs.Table); return err })
		err2 := fwNS.Do(func() error { var err error; fwBlob, _, err = b.Raw(fam, cs.Table); return err })
		if err1 != nil || err2 != nil || len(refBlob) == 0 {
			t.Errorf("%s (%s): reading the raw tables failed: %v / %v", cs.Pos(), fam, err1, err2)
		} else if off := firstDiff(refBlob, fwBlob); off >= 0 {
			t.Errorf("%s (%s): %s: fw's kernel entries differ from the reference's at byte %d of %d/%d:\nreference % x\nfw        % x",
				cs.Pos(), fam, cs.Rule, off, len(refBlob), len(fwBlob), window(refBlob, off), window(fwBlob, off))
		}
	}
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
