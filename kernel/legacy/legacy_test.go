package legacy

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

func save(t *testing.T, rs *table.Ruleset, counters bool) string {
	var b bytes.Buffer
	if err := format.Encode(&b, rs, format.EncodeOptions{Counters: counters}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const sample = `*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:chain_b - [0:0]
:empty - [0:0]
-A INPUT -s 10.0.0.0/8 -d 192.168.1.1/32 -i eth+ -p tcp -m tcp --dport 22 -m comment --comment "ssh in" -j ACCEPT
-A INPUT ! -i lo ! -p udp -f -j chain_b
-A INPUT -g empty
-A INPUT -s 1.2.3.0/255.0.255.0
-A INPUT -j RETURN
-A chain_b -o wlan0 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING DROP [0:0]
-A POSTROUTING -p tcp -m tcp --sport 1:1024 --tcp-flags FIN,SYN,RST,ACK SYN
COMMIT
`

// TestReadReference: rules written by iptables-legacy-restore read back
// through our decoder print as iptables-legacy-save prints them.
func TestReadReference(t *testing.T) {
	kerneltest.Need(t, "iptables-legacy-restore", "iptables-legacy-save")
	ns := kerneltest.NewNetns(t)
	if r, err := ns.Run([]byte(sample), "iptables-legacy-restore"); err != nil || r.Code != 0 {
		t.Fatalf("reference restore: %v %s", err, r.Stderr)
	}
	ref, _ := ns.Run(nil, "iptables-legacy-save")
	var got string
	err := ns.Do(func() error {
		b := &Backend{Registry: ext.Registry()}
		rs, err := b.Load(table.IPv4, nil)
		if err != nil {
			return err
		}
		got = save(t, rs, false)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(kerneltest.DropComments(ref.Stdout), got); d != "" {
		t.Fatalf("(-reference +fw)\n%s", d)
	}
}

// TestWriteReference: rules we write print through iptables-legacy-save
// exactly as after iptables-legacy-restore of the same file.
func TestWriteReference(t *testing.T) {
	kerneltest.Need(t, "iptables-legacy-restore", "iptables-legacy-save")
	refNS := kerneltest.NewNetns(t)
	if r, err := refNS.Run([]byte(sample), "iptables-legacy-restore"); err != nil || r.Code != 0 {
		t.Fatalf("reference restore: %v %s", err, r.Stderr)
	}
	want, _ := refNS.Run(nil, "iptables-legacy-save")
	ns := kerneltest.NewNetns(t)
	rs, err := format.Load("sample", []byte(sample), format.LoadOptions{Family: table.IPv4, Registry: ext.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	err = ns.Do(func() error {
		return (&Backend{Registry: ext.Registry()}).Commit(rs, kernel.CommitOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := ns.Run(nil, "iptables-legacy-save")
	if d := cmp.Diff(kerneltest.DropComments(want.Stdout), kerneltest.DropComments(got.Stdout)); d != "" {
		t.Fatalf("(-reference +fw)\n%s", d)
	}
}

// TestKernelRefusalNamesRule: when the kernel refuses a table, the error
// names the rule (found in a scratch namespace) and the kernel's reason,
// and --test --check-kernel finds the same without touching anything. The rule is built
// by hand, since fw's own validation would refuse it earlier.
func TestKernelRefusalNamesRule(t *testing.T) {
	kerneltest.Need(t, "iptables-legacy-save")
	reg := ext.Registry()
	rs, err := format.Load("x.rules", []byte("*filter\n-A INPUT -p udp -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"), format.LoadOptions{Family: table.IPv4, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	bad := rs.Table("filter").Chain("INPUT").Rules[1]
	bad.IP.Proto = 17 // a tcp match on a udp rule: the kernel says EINVAL
	ns := kerneltest.NewNetns(t)
	if r, err := ns.Run([]byte("*filter\n-A OUTPUT -j DROP\nCOMMIT\n"), "iptables-legacy-restore"); err != nil || r.Code != 0 {
		t.Fatal(err, r.Stderr)
	}
	before, _ := ns.Run(nil, "iptables-legacy-save")
	b := &Backend{Registry: reg}
	for _, test := range []bool{true, false} {
		err := ns.Do(func() error { return b.Commit(rs, kernel.CommitOptions{Test: test, Scratch: test}) })
		if err == nil || !strings.Contains(err.Error(), "x.rules:3: table filter chain INPUT rule 2: the kernel refused the rule") {
			t.Errorf("test=%v: error %v", test, err)
		}
		after, _ := ns.Run(nil, "iptables-legacy-save")
		if kerneltest.DropComments(after.Stdout) != kerneltest.DropComments(before.Stdout) {
			t.Errorf("test=%v: kernel changed", test)
		}
	}
	// Without the scratch namespace, --test checks only what fw knows.
	if err := ns.Do(func() error { return b.Commit(rs, kernel.CommitOptions{Test: true}) }); err != nil {
		t.Errorf("plain --test: %v", err)
	}
}

// TestSkipUnchanged: re-applying a ruleset replaces only the tables that
// changed. The counters show it: a table that is replaced restarts them,
// one that is left alone keeps them. With Counters (restore -c), counters
// that differ are a change; ReplaceUnchanged replaces regardless.
func TestSkipUnchanged(t *testing.T) {
	kerneltest.Need(t, "iptables-legacy-save")
	reg := ext.Registry()
	load := func(src string) *table.Ruleset {
		rs, err := format.Load("x.rules", []byte(src), format.LoadOptions{Family: table.IPv4, Registry: reg, Apply: table.ApplyOptions{Counters: true}})
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	withCounters := strings.ReplaceAll(sample, "-A ", "[7:700] -A ")
	changedNat := strings.Replace(sample, "--sport 1:1024", "--sport 1:1025", 1)
	ns := kerneltest.NewNetns(t)
	b := &Backend{Registry: reg}
	commit := func(rs *table.Ruleset, opt kernel.CommitOptions) {
		t.Helper()
		if err := ns.Do(func() error { return b.Commit(rs, opt) }); err != nil {
			t.Fatal(err)
		}
	}
	// counted reports, per table, whether its first rule still counts 7.
	counted := func() map[string]bool {
		t.Helper()
		r, err := ns.Run(nil, "iptables-legacy-save", "-c")
		if err != nil || r.Code != 0 {
			t.Fatal(err, r.Stderr)
		}
		out := map[string]bool{}
		cur := ""
		for _, l := range strings.Split(r.Stdout, "\n") {
			if strings.HasPrefix(l, "*") {
				cur = l[1:]
			}
			if strings.HasPrefix(l, "[7:700] -A") {
				out[cur] = true
			}
		}
		return out
	}
	for _, step := range []struct {
		name string
		rs   *table.Ruleset
		opt  kernel.CommitOptions
		want map[string]bool
	}{
		{"first, with counters", load(withCounters), kernel.CommitOptions{Counters: true}, map[string]bool{"filter": true, "nat": true}},
		{"same rules, no -c: both skipped", load(sample), kernel.CommitOptions{}, map[string]bool{"filter": true, "nat": true}},
		{"nat changed: only nat replaced", load(changedNat), kernel.CommitOptions{}, map[string]bool{"filter": true}},
		{"-c with other counters: replaced", load(changedNat), kernel.CommitOptions{Counters: true}, map[string]bool{}},
		{"counters again", load(withCounters), kernel.CommitOptions{Counters: true}, map[string]bool{"filter": true, "nat": true}},
		{"-c with the same counters: skipped", load(withCounters), kernel.CommitOptions{Counters: true}, map[string]bool{"filter": true, "nat": true}},
		{"ReplaceUnchanged", load(sample), kernel.CommitOptions{ReplaceUnchanged: true}, map[string]bool{}},
	} {
		commit(step.rs, step.opt)
		if d := cmp.Diff(step.want, counted()); d != "" {
			t.Errorf("%s: tables still counting (-want +got)\n%s", step.name, d)
		}
	}
}
