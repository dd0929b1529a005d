package ext

import (
	"bytes"
	enchex "encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fwkit/fw/conformance"
	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/kernel/legacy"
	"github.com/fwkit/fw/table"
)

// TestSetPayloadLayout checks the set match bytes without a kernel: the
// index comes from the lookup, everything else from the value.
func TestSetPayloadLayout(t *testing.T) {
	oldIndex, oldName := setIndexOf, setNameOf
	t.Cleanup(func() { setIndexOf, setNameOf = oldIndex, oldName })
	setIndexOf = func(name string, f table.Family) (uint16, error) {
		if name != "foo" {
			t.Errorf("index asked for %q", name)
		}
		return 0x0302, nil
	}
	setNameOf = func(idx uint16) (string, error) {
		if idx != 0x0302 {
			t.Errorf("name asked for index %#x", idx)
		}
		return "foo", nil
	}
	m := &Set{
		MatchSet: SetMatchSpec{Name: "foo", Dim: 3, Flags: setInvMatch | 1<<2},
		Packets:  SetMatchCounter{Value: 0x1122334455667788, Op: setCounterNE},
		Bytes:    SetMatchCounter{Value: 9, Op: setCounterGT},
		Flags:    setFlagReturnNomatch | setFlagSkipCounter,
	}
	b, err := table.MarshalPayload(m, m.Info(), table.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	want := "0203" + "03" + "05" + "00000000" +
		"8877665544332211" + "02" + "00000000000000" +
		"0900000000000000" + "04" + "00000000000000" +
		"88000000" + "00000000"
	if got := enchex.EncodeToString(b); got != want {
		t.Errorf("payload\n got %s\nwant %s", got, want)
	}
	var back Set
	if err := back.UnmarshalPayload(table.IPv4, b); err != nil {
		t.Fatal(err)
	}
	if back != *m {
		t.Errorf("round trip: got %+v, want %+v", back, *m)
	}
}

// setSets are created, in this order, in every namespace of the kernel
// test: the same order gives the same indexes, so the reference's and fw's
// entries can be compared byte for byte, and the sets used most have
// indexes other than 0. The list:set ones serve both families, as the
// corpus needs.
var setSets = [][]string{
	{"a", "hash:ip"},
	{"b", "hash:ip,port"},
	{"six", "hash:net", "family", "inet6"},
	{"foo", "list:set"},
	{"bar", "list:set"},
	{"abcdefghijklmnopqrstuvwxyz01234", "list:set"},
}

// setKernelEnv is a pair of namespaces holding setSets: one for the
// reference tools, one for fw.
type setKernelEnv struct {
	ref, fw *kerneltest.Netns
	b       *legacy.Backend
}

func newSetKernelEnv(t *testing.T) *setKernelEnv {
	kerneltest.Need(t, "ipset", "iptables-legacy-restore", "iptables-legacy-save", "ip6tables-legacy-restore", "ip6tables-legacy-save")
	e := &setKernelEnv{
		ref: kerneltest.NewNetns(t), fw: kerneltest.NewNetns(t),
		b: &legacy.Backend{Registry: Registry(), LockWait: 30 * time.Second},
	}
	for _, ns := range []*kerneltest.Netns{e.ref, e.fw} {
		for _, s := range setSets {
			r, err := ns.Run(nil, "ipset", append([]string{"create"}, s...)...)
			if err != nil || r.Code != 0 {
				t.Fatalf("ipset create %v: %v %s", s, err, r.Stderr)
			}
		}
	}
	return e
}

func setRefTools(f table.Family) (restore, save string) {
	if f == table.IPv6 {
		return "ip6tables-legacy-restore", "ip6tables-legacy-save"
	}
	return "iptables-legacy-restore", "iptables-legacy-save"
}

// bothWays restores input with the reference and checks that fw reads it
// back as the reference prints it; then restores it with fw and checks
// that the reference prints the same and that the kernel holds the same
// bytes. It returns the reference's output, "" when something failed.
func (e *setKernelEnv) bothWays(t *testing.T, name string, fam table.Family, tbl, input string) string {
	t.Helper()
	restore, save := setRefTools(fam)
	r, err := e.ref.Run([]byte(input), restore)
	if err != nil || r.Code != 0 {
		t.Errorf("%s: reference restore failed: %v %s", name, err, r.Stderr)
		return ""
	}
	ref, _ := e.ref.Run(nil, save, "-t", tbl)
	want := kerneltest.DropComments(ref.Stdout)
	// The reference wrote the index; fw reads the name.
	var got string
	rs, err := e.ref.Load(e.b, fam, tbl)
	if err == nil {
		got, err = format.EncodeString(rs, format.EncodeOptions{})
	}
	if err != nil {
		t.Errorf("%s: fw cannot read what the reference wrote: %v", name, err)
		return ""
	}
	if got != want {
		t.Errorf("%s: fw reads\n%s\nthe reference\n%s", name, got, want)
	}
	// fw writes the index; the reference reads the name, and the kernel
	// holds the same bytes.
	rs, err = format.Load(name, []byte(input), format.LoadOptions{Family: fam, Registry: e.b.Registry})
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return ""
	}
	if err := e.fw.Do(func() error { return e.b.Commit(rs, kernel.CommitOptions{}) }); err != nil {
		t.Errorf("%s: fw restore failed: %v", name, err)
		return ""
	}
	back, _ := e.fw.Run(nil, save, "-t", tbl)
	if g := kerneltest.DropComments(back.Stdout); g != want {
		t.Errorf("%s: after fw's restore the reference prints\n%s\nafter its own\n%s", name, g, want)
	}
	var refBlob, fwBlob []byte
	if err := e.ref.Do(func() (err error) { refBlob, _, err = e.b.Raw(fam, tbl); return }); err != nil {
		t.Fatal(err)
	}
	if err := e.fw.Do(func() (err error) { fwBlob, _, err = e.b.Raw(fam, tbl); return }); err != nil {
		t.Fatal(err)
	}
	if len(refBlob) == 0 || !bytes.Equal(refBlob, fwBlob) {
		t.Errorf("%s: kernel entries differ\nreference %x\nfw        %x", name, refBlob, fwBlob)
	}
	return want
}

// TestSetMatchKernel creates sets with the ipset tool in throwaway
// namespaces and checks the name <-> index translation both ways against
// the reference, for rules of its own and for the [kernel] cases of the
// set corpus (whose printed form it checks too).
func TestSetMatchKernel(t *testing.T) {
	e := newSetKernelEnv(t)
	cases := []struct {
		fam  table.Family
		rule string
	}{
		{table.IPv4, "-A INPUT -m set --match-set a src,dst"},
		{table.IPv4, "-A INPUT -m set ! --match-set b dst,src --return-nomatch ! --update-counters ! --update-subcounters --packets-gt 3 --bytes-eq 70000000000"},
		{table.IPv4, "-A INPUT -m set --match-set a src -m set ! --match-set foo dst,dst,src --packets-lt 1"},
		{table.IPv4, "-A FORWARD -m set --match-set abcdefghijklmnopqrstuvwxyz01234 src ! --packets-eq 5 --bytes-lt 16"},
		{table.IPv6, "-A INPUT -m set --match-set six src"},
		{table.IPv6, "-A OUTPUT -m set ! --match-set bar src,src,src,src,src,src --bytes-gt 1"},
	}
	for _, c := range cases {
		want := e.bothWays(t, c.rule, c.fam, "filter", "*filter\n"+c.rule+"\nCOMMIT\n")
		if want != "" && !strings.Contains(want, c.rule+"\n") {
			t.Errorf("%s: the reference prints\n%s", c.rule, want)
		}
	}

	corpus, err := conformance.LoadFile("../../testdata/ext/set.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cs := range corpus.Cases {
		if cs.Expect != conformance.Accept || !cs.Kernel {
			continue
		}
		for _, fam := range cs.Families() {
			n++
			want := e.bothWays(t, fmt.Sprintf("%s (%s)", cs.Pos(), fam), fam, cs.Table, cs.Input())
			if want == "" {
				continue
			}
			if got := conformance.RulesOf(want, cs.Chain); !slices.Equal(got, cs.Output) {
				t.Errorf("%s (%s): the reference prints %q, the corpus says %q", cs.Pos(), fam, got, cs.Output)
			}
		}
	}
	if n == 0 {
		t.Error("no [kernel] cases in the set corpus")
	}

	// Sets the reference refuses: fw refuses them too, naming the set.
	bad := []struct {
		fam  table.Family
		rule string
		msg  string
	}{
		{table.IPv4, "-A INPUT -m set --match-set nosuch src", `set "nosuch" does not exist`},
		{table.IPv6, "-A INPUT -m set --match-set a src", `set "a" is of family IPv4`},
		{table.IPv4, "-A INPUT -m set --match-set six src", `set "six" is of family IPv6`},
	}
	for _, c := range bad {
		input := "*filter\n" + c.rule + "\nCOMMIT\n"
		restore, _ := setRefTools(c.fam)
		if r, err := e.ref.Run([]byte(input), restore); err != nil || r.Code == 0 {
			t.Errorf("%s: the reference accepts it (%v)", c.rule, err)
		}
		rs, err := format.Load("test", []byte(input), format.LoadOptions{Family: c.fam, Registry: e.b.Registry})
		if err != nil {
			t.Errorf("%s: %v", c.rule, err)
			continue
		}
		err = e.fw.Do(func() error { return e.b.Commit(rs, kernel.CommitOptions{}) })
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: fw says %v, want an error with %q", c.rule, err, c.msg)
		}
	}

	// Index lookups directly: a known set, and an index with no set
	// behind it, which is an error rather than an empty name.
	err = e.fw.Do(func() error {
		name, err := ipsetName(3)
		if err == nil && name != "foo" {
			t.Errorf("set index 3 is %q, want foo", name)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
	err = e.fw.Do(func() error {
		_, err := ipsetName(uint16(len(setSets) + 3))
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "no such set") {
		t.Errorf("unused set index: %v", err)
	}
}
