package nft

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/table"
)

// badRuleset is two tables whose second (in file order, so the last in
// the batch) holds a rule the kernel refuses: a compat icmp match on a
// tcp rule. fw's own validation would refuse it earlier, so the rule is
// broken by hand after loading.
func badRuleset(t *testing.T) *table.Ruleset {
	rs := parse(t, "x.rules", table.IPv4, `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p udp -j ACCEPT
-A PREROUTING -p icmp -m icmp --icmp-type 8 -j ACCEPT
COMMIT
`)
	bad := rs.Table("nat").Chain("PREROUTING").Rules[1]
	bad.IP.Proto = 6 // the kernel: "icmp match: only valid for protocol 1"
	return rs
}

const before = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -d 10.0.0.1/32 -j DROP
COMMIT
`

// TestAtomicity (4): a batch whose last table the kernel refuses leaves
// the first table as it was, and the error names the rule (file, line,
// table, chain, index) and the errno in words. --test finds the same
// without changing anything.
func TestAtomicity(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	refRestore(t, ns, table.IPv4, before)
	want := refSave(t, ns, table.IPv4)
	for _, test := range []bool{false, true} {
		err := fwCommit(ns, badRuleset(t), test)
		if err == nil {
			t.Fatalf("test=%v: the kernel accepted a broken rule", test)
		}
		msg := err.Error()
		for _, s := range []string{"x.rules:14: table nat chain PREROUTING rule 2: the kernel refused the rule", "invalid argument"} {
			if !strings.Contains(msg, s) {
				t.Errorf("test=%v: error %q does not say %q", test, msg, s)
			}
		}
		var re *kernel.RuleError
		if !errors.As(err, &re) || re.Rule == nil || re.Index != 2 {
			t.Errorf("test=%v: error %v is not a RuleError for rule 2", test, err)
		}
		t.Logf("test=%v: %v", test, err)
		if d := cmp.Diff(want, refSave(t, ns, table.IPv4)); d != "" {
			t.Errorf("test=%v: the kernel changed:\n%s", test, d)
		}
	}
}

// TestCheckOnly: --test of a good ruleset succeeds and changes nothing;
// the same ruleset then commits.
func TestCheckOnly(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	refRestore(t, ns, table.IPv4, before)
	want := refSave(t, ns, table.IPv4)
	rs := badRuleset(t)
	rs.Table("nat").Chain("PREROUTING").Rules[1].IP.Proto = 1
	if err := fwCommit(ns, rs, true); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, refSave(t, ns, table.IPv4)); d != "" {
		t.Errorf("--test changed the kernel:\n%s", d)
	}
	if err := fwCommit(ns, rs, false); err != nil {
		t.Fatal(err)
	}
	if got := refSave(t, ns, table.IPv4); !strings.Contains(got, "-A PREROUTING -p icmp -m icmp --icmp-type 8 -j ACCEPT") {
		t.Errorf("commit after --test did not write:\n%s", got)
	}
}

// TestGenerationChanged (5): a change to the ruleset between fw reading
// it and fw's batch arriving is detected by the generation id in the
// batch: fw starts again from a fresh reading, pausing a little longer
// each time, and gives up with ErrRulesetChanged once RetryFor has
// passed, leaving the kernel as the other writer left it.
func TestGenerationChanged(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	refRestore(t, ns, table.IPv4, before)
	rs := parse(t, "x.rules", table.IPv4, "*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n")
	n := 0
	meddle := func(attempt int) {
		n++
		// Another writer: iptables-nft adds a rule to table filter.
		if r, err := ns.Run(nil, "iptables-nft", "-A", "FORWARD", "-j", "DROP"); err != nil || r.Code != 0 {
			t.Errorf("concurrent iptables-nft: %v %s", err, r.Stderr)
		}
	}
	t.Cleanup(func() { testHookBeforeSend = nil })

	testHookBeforeSend = meddle
	err := ns.Do(func() error {
		return (&Backend{Registry: registry, RetryFor: 300 * time.Millisecond}).Commit(rs, kernel.CommitOptions{})
	})
	if !errors.Is(err, ErrRulesetChanged) {
		t.Fatalf("error %v, want ErrRulesetChanged", err)
	}
	t.Logf("%v (after %d attempts)", err, n)
	if n < 3 {
		t.Errorf("fw tried %d times in 300 ms against a writer that never pauses, want at least 3", n)
	}
	got := refSave(t, ns, table.IPv4)
	if !strings.Contains(got, "-A OUTPUT -d 10.0.0.1/32 -j DROP") || strings.Count(got, "-A FORWARD -j DROP") != n || strings.Contains(got, "-i lo") {
		t.Errorf("after the refused commits the kernel should hold the old table and the %d concurrent rules:\n%s", n, got)
	}

	// Changes during the first attempts only: a retry succeeds, and
	// fw's table replaces what the other writer did to it.
	n = 0
	testHookBeforeSend = func(attempt int) {
		if attempt < 5 {
			meddle(attempt)
		}
	}
	if err := fwCommit(ns, rs, false); err != nil {
		t.Fatal(err)
	}
	testHookBeforeSend = nil
	want := "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n"
	if d := cmp.Diff(want, refSave(t, ns, table.IPv4)); d != "" {
		t.Errorf("after the retried commit (-want +got):\n%s", d)
	}
}

// TestForeignTables: tables nft made are never misread or replaced:
// unknown names are not listed, an iptables name in another shape is an
// error naming the table and the reason, for reading and for writing.
func TestForeignTables(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	script := `table ip mine {
	chain c { type filter hook input priority 5; policy accept; }
}
table ip filter {
	chain INPUT { type filter hook input priority 10; policy accept; }
}
table ip nat {
	chain POSTROUTING { type nat hook postrouting priority 100; policy accept; ct state established accept; }
}
`
	if r, err := ns.Run([]byte(script), "nft", "-f", "-"); err != nil || r.Code != 0 {
		t.Fatalf("nft -f: %v %s", err, r.Stderr)
	}
	var names []string
	err := ns.Do(func() error {
		var err error
		names, err = (&Backend{Registry: registry}).Tables(table.IPv4)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"filter", "nat"}, names); d != "" {
		t.Errorf("Tables (-want +got):\n%s", d)
	}
	for name, why := range map[string]string{"filter": "priority 10, iptables uses 0", "nat": `expression "ct"`} {
		_, err := fwLoad(t, ns, table.IPv4, []string{name})
		var ie *IncompatibleError
		if !errors.As(err, &ie) || ie.Table != name || !strings.Contains(err.Error(), why) {
			t.Errorf("Load %s: error %v, want an IncompatibleError saying %q", name, err, why)
		}
		rs := parse(t, "x", table.IPv4, "*"+name+"\nCOMMIT\n")
		err = fwCommit(ns, rs, false)
		if !errors.As(err, &ie) || ie.Table != name {
			t.Errorf("Commit %s: error %v, want an IncompatibleError", name, err)
		}
	}
	r, _ := ns.Run(nil, "nft", "list", "table", "ip", "filter")
	if !strings.Contains(r.Stdout, "priority filter + 10") {
		t.Errorf("table filter was touched:\n%s", r.Stdout)
	}
}

// TestReadNftWritten: a rule nft wrote in iptables' shape, with a comment
// in the rule's userdata, reads as iptables-nft-save prints it (the
// comment as a comment match after all others); "! -i +" lifts to the
// negated "+" iptables-nft-save prints.
func TestReadNftWritten(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	refRestore(t, ns, table.IPv4, "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT ! -i + -j DROP\nCOMMIT\n")
	if r, err := ns.Run(nil, "nft", "add", "rule", "ip", "filter", "INPUT", "ip", "daddr", "1.2.3.4", "tcp", "dport", "22", "counter", "accept", "comment", `"hello there"`); err != nil || r.Code != 0 {
		t.Fatalf("nft add rule: %v %s", err, r.Stderr)
	}
	want := refSave(t, ns, table.IPv4)
	rs, err := fwLoad(t, ns, table.IPv4, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := rs.Table("filter").Chain("INPUT")
	if ip := in.Rules[0].IP; ip.In != "+" || !ip.InvIn {
		t.Errorf("! -i + read as In=%q InvIn=%v", ip.In, ip.InvIn)
	}
	if d := cmp.Diff(want, encode(t, rs, false)); d != "" {
		t.Errorf("(-iptables-nft-save +fw)\n%s", d)
	}
}

// TestBatchRefs: a full commit's batch records nothing per user chain or
// rule, and still says what each of its messages is about, in order.
func TestBatchRefs(t *testing.T) {
	rs := parse(t, "x.rules", table.IPv4, `*filter
:INPUT DROP [0:0]
:b - [0:0]
:a - [0:0]
-A INPUT -j a
-A a -j b
-A b -j ACCEPT
-A b -j DROP
COMMIT
`)
	tb := rs.Tables[0]
	s, err := encodeTableRules(table.IPv4, tb)
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{}
	bt := c.newBatch(nfproto(table.IPv4), 1)
	if _, err := writeTableHead(c, bt, tb, nil); err != nil {
		t.Fatal(err)
	}
	bt.appendStream(c, s)
	var got []string
	for _, r := range bt.refs() {
		got = append(got, fmt.Sprintf("%s/%s/%d", r.table, r.chain, r.index))
	}
	want := []string{"filter//0", "filter/INPUT/0", "filter/a/0", "filter/b/0", "filter/INPUT/1", "filter/a/1", "filter/b/1", "filter/b/2"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("refs (-want +got):\n%s", d)
	}
	if n := len(bt.segs[0].refs); n != 2 {
		t.Errorf("%d messages recorded one by one, want the table's and the built-in chain's", n)
	}
}

// TestJumpDepth: nf_tables refuses 16 nested jumps; fw refuses them
// before sending, also in a check, naming the rule that makes the 16th
// jump (as iptables-nft-restore does), and loads 15 as the kernel does.
func TestJumpDepth(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	file := func(n int) string {
		var b strings.Builder
		b.WriteString("*filter\n")
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, ":C%d - [0:0]\n", i)
		}
		b.WriteString("-A INPUT -j C1\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&b, "-A C%d -j C%d\n", i, i+1)
		}
		b.WriteString("COMMIT\n")
		return b.String()
	}
	for _, test := range []bool{true, false} {
		err := fwCommit(ns, parse(t, "deep.rules", table.IPv4, file(16)), test)
		if err == nil || !strings.Contains(err.Error(), "deep.rules:33:1: jumps nested 16 deep") {
			t.Errorf("test=%v: 16 nested jumps: error %v, want one at deep.rules:33:1", test, err)
		}
	}
	if r, err := ns.Run([]byte(file(16)), "iptables-nft-restore"); err != nil || r.Code == 0 {
		t.Errorf("iptables-nft-restore loads 16 nested jumps (%v): the kernel's limit moved", err)
	}
	if err := fwCommit(ns, parse(t, "deep.rules", table.IPv4, file(15)), false); err != nil {
		t.Errorf("15 nested jumps: %v", err)
	}
}
