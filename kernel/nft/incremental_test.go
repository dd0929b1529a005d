package nft

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/genrules"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/table"
)

// An incremental commit must end where a full commit of the same file
// ends. Each case loads "before" with iptables-nft-restore into two fresh
// namespaces, commits "after" incrementally in one and fully in the
// other, and compares what iptables-nft-save (and nft) print.

type incCase struct {
	name          string
	family        table.Family
	before, after string
	counters      bool // restore -c: counters are part of the end state
}

func generated(t *testing.T, services int, change float64, v6 bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := genrules.Write(&b, genrules.Options{Services: services, Seed: 7, Change: change, IPv6: v6}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const incBase = `*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:a - [0:0]
:b - [0:0]
:c - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -j a
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A a -s 10.0.0.0/8 -j b
-A a -m comment --comment "to c" -j c
-A b -j RETURN
-A c -m limit --limit 3/min -j LOG --log-prefix "c: "
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
`

func incCases(t *testing.T) []incCase {
	edit := func(from, to string) string { return edits(t, incBase, from, to) }
	return []incCase{
		{name: "same", family: table.IPv4, before: incBase, after: incBase},
		{name: "policy", family: table.IPv4, before: incBase, after: edit(":INPUT DROP", ":INPUT ACCEPT")},
		{name: "rule changed", family: table.IPv4, before: incBase, after: edit("--dport 22 -j ACCEPT", "--dport 2222 -j ACCEPT")},
		{name: "rule removed", family: table.IPv4, before: incBase, after: edit("-A INPUT -i lo -j ACCEPT\n", "")},
		{name: "duplicate removed", family: table.IPv4, before: incBase, after: edit("-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT\n", "")},
		{name: "rule inserted in the middle", family: table.IPv4, before: incBase, after: edit("-A INPUT -j a\n", "-A INPUT -p udp -j DROP\n-A INPUT -j a\n")},
		{name: "rules swapped", family: table.IPv4, before: incBase, after: edit("-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -i lo -j ACCEPT\n")},
		{name: "chain removed with its jump", family: table.IPv4, before: incBase, after: edits(t, incBase,
			":c - [0:0]\n", "", "-A a -m comment --comment \"to c\" -j c\n", "", "-A c -m limit --limit 3/min -j LOG --log-prefix \"c: \"\n", "")},
		{name: "chains removed that jump to each other", family: table.IPv4, before: incBase, after: strings.Join([]string{
			"*filter", ":INPUT DROP [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", "-A INPUT -i lo -j ACCEPT", "COMMIT",
			"*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", "COMMIT", ""}, "\n")},
		{name: "chain added", family: table.IPv4, before: incBase, after: edit(":c - [0:0]\n", ":c - [0:0]\n:d - [0:0]\n-A d -j DROP\n-A OUTPUT -j d\n")},
		{name: "new table", family: table.IPv4, before: incBase, after: incBase + "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -j NOTRACK\nCOMMIT\n"},
		{name: "everything replaced", family: table.IPv4, before: incBase, after: "*filter\n:INPUT ACCEPT [0:0]\n:x - [0:0]\n-A INPUT -j x\n-A x -j DROP\nCOMMIT\n"},
		{name: "counters", family: table.IPv4, counters: true,
			before: strings.Replace(incBase, "-A INPUT -i lo -j ACCEPT", "[5:500] -A INPUT -i lo -j ACCEPT", 1),
			after:  strings.Replace(strings.Replace(incBase, "-A INPUT -i lo -j ACCEPT", "[7:700] -A INPUT -i lo -j ACCEPT", 1), ":INPUT DROP [0:0]", ":INPUT DROP [3:30]", 1)},
		{name: "kube-proxy 5%", family: table.IPv4, before: generated(t, 300, 0, false), after: generated(t, 300, 5, false)},
		{name: "kube-proxy back", family: table.IPv4, before: generated(t, 300, 5, false), after: generated(t, 300, 0, false)},
		{name: "kube-proxy v6 5%", family: table.IPv6, before: generated(t, 200, 0, true), after: generated(t, 200, 5, true)},
		{name: "kube-proxy to hand-written", family: table.IPv4, before: generated(t, 100, 0, false), after: incBase},
	}
}

// edits replaces, in turn, each "from" of pairs by the "to" after it,
// once; a "from" that is not there fails the test.
func edits(t *testing.T, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("case text %q not found", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func commitWith(ns *kerneltest.Netns, rs *table.Ruleset, opt kernel.CommitOptions) error {
	return commitCounting(ns, rs, opt, nil)
}

// commitCounting is commitWith counting in *reads the times the commit
// reads the tables from the kernel.
func commitCounting(ns *kerneltest.Netns, rs *table.Ruleset, opt kernel.CommitOptions, reads *int) error {
	b := &Backend{Registry: registry}
	if reads != nil {
		b.onRead = func() { *reads++ }
	}
	return ns.Do(func() error { return b.Commit(rs, opt) })
}

// nftList is nft's own listing of the namespace's ruleset, which shows
// what iptables-nft-save does not (chain hooks, empty base chains).
func nftList(t *testing.T, ns *kerneltest.Netns) string {
	t.Helper()
	r, err := ns.Run(nil, "nft", "list", "ruleset")
	if err != nil || r.Code != 0 {
		t.Fatalf("nft list ruleset: %v %s", err, r.Stderr)
	}
	return r.Stdout
}

// TestIncrementalEqualsFull: for every case, "before" loaded by
// iptables-nft-restore (the incremental commit reads the kernel) and by
// fw (it trusts the state file fw wrote), then "after" committed
// incrementally, ends where a full commit of "after" ends; the state
// file then describes the kernel exactly.
func TestIncrementalEqualsFull(t *testing.T) {
	needNft(t)
	for _, c := range incCases(t) {
		for _, byFW := range []bool{false, true} {
			name := c.name
			if byFW {
				name += "/state"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var args []string
				if c.counters {
					args = []string{"-c"}
				}
				after := parseCounters(t, c.family, c.after, c.counters)
				var saves, lists [2]string
				for i, inc := range []bool{false, true} {
					ns := kerneltest.NewNetns(t)
					if byFW {
						if err := commitWith(ns, parseCounters(t, c.family, c.before, c.counters), kernel.CommitOptions{Counters: c.counters}); err != nil {
							t.Fatal(err)
						}
						checkState(t, ns, c.family)
					} else {
						refRestore(t, ns, c.family, c.before, args...)
					}
					reads := 0
					err := commitCounting(ns, after, kernel.CommitOptions{Incremental: inc, Counters: c.counters}, &reads)
					if err != nil {
						t.Fatalf("incremental=%v: %v", inc, err)
					}
					// The state file names only the tables fw
					// committed; another table has to be read.
					known := true
					for _, tb := range after.Tables {
						known = known && strings.Contains(c.before, "*"+tb.Name+"\n")
					}
					if inc && byFW && known && !c.counters && reads != 0 {
						t.Errorf("the incremental commit read the kernel although the state file was right")
					}
					if inc && (!byFW || c.counters) && reads == 0 {
						t.Errorf("the incremental commit trusted a state file it should not have")
					}
					saves[i] = refSave(t, ns, c.family, args...)
					lists[i] = nftList(t, ns)
					checkState(t, ns, c.family)
				}
				if d := cmp.Diff(saves[0], saves[1]); d != "" {
					t.Errorf("iptables-nft-save after a full (-) and an incremental (+) commit:\n%s", d)
				}
				if d := cmp.Diff(sortedListing(lists[0]), sortedListing(lists[1])); d != "" {
					t.Errorf("nft list ruleset after a full (-) and an incremental (+) commit:\n%s", d)
				}
			})
		}
	}
}

// checkState: the namespace's state file says what the kernel holds now:
// its generation, every chain of the tables it names (kind, hook,
// policy), every rule's handle in order, and every rule's digest (that of
// the rule read back).
func checkState(t *testing.T, ns *kerneltest.Netns, f table.Family) {
	t.Helper()
	err := ns.Do(func() error {
		c, err := dial()
		if err != nil {
			return err
		}
		defer c.close()
		st := loadState(statePath(c, f), f)
		if st == nil {
			return errors.New("no state file")
		}
		snap, err := readSnapshot(c, f, allTables, readFull)
		if err != nil {
			return err
		}
		if st.Gen != snap.GenID {
			return fmt.Errorf("state at generation %d, the kernel at %d", st.Gen, snap.GenID)
		}
		d := table.NewStableDigester(f)
		for _, stt := range st.Tables {
			raw := snap.Tables[stt.Name]
			if raw == nil {
				return fmt.Errorf("table %s is in the state, not in the kernel", stt.Name)
			}
			if len(raw.Chains) != len(stt.Chains) {
				return fmt.Errorf("table %s: %d chains in the state, %d in the kernel", stt.Name, len(stt.Chains), len(raw.Chains))
			}
			for _, sc := range stt.Chains {
				k := raw.chainIndex(sc.Name)
				if k < 0 {
					return fmt.Errorf("table %s chain %s is in the state, not in the kernel", stt.Name, sc.Name)
				}
				rc := raw.Chains[k]
				if rc.Base != sc.Base || rc.Hook != sc.Hook && rc.Base || rc.Policy != sc.Policy && rc.Base || (rc.Counters != nil) != sc.Counters {
					return fmt.Errorf("table %s chain %s: state %+v, kernel %+v", stt.Name, sc.Name, sc, rc)
				}
				if len(rc.Rules) != len(sc.Rules) {
					return fmt.Errorf("table %s chain %s: %d rules in the state, %d in the kernel", stt.Name, sc.Name, len(sc.Rules), len(rc.Rules))
				}
				for i := range rc.Rules {
					r, err := lift(f, registry, &rc.Rules[i])
					if err != nil {
						return err
					}
					if rc.Rules[i].Handle != sc.Rules[i].Handle || d.Digest(r) != sc.Rules[i].Key {
						return fmt.Errorf("table %s chain %s rule %d: state handle %d, kernel %d (or another digest)", stt.Name, sc.Name, i+1, sc.Rules[i].Handle, rc.Rules[i].Handle)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestStateStale: a change by another tool after fw wrote the state file
// makes the next incremental commit read the kernel instead, and end
// right.
func TestStateStale(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	if err := commitWith(ns, parse(t, "base", table.IPv4, incBase), kernel.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	checkState(t, ns, table.IPv4)
	if r, err := ns.Run(nil, "iptables-nft", "-I", "INPUT", "-j", "DROP"); err != nil || r.Code != 0 {
		t.Fatalf("iptables-nft: %v %s", err, r.Stderr)
	}
	after := strings.Replace(incBase, "--dport 22 -j ACCEPT", "--dport 2222 -j ACCEPT", 1)
	reads := 0
	if err := commitCounting(ns, parse(t, "after", table.IPv4, after), kernel.CommitOptions{Incremental: true}, &reads); err != nil {
		t.Fatal(err)
	}
	if reads != 1 {
		t.Errorf("read the kernel %d times, want 1", reads)
	}
	if d := cmp.Diff(refSaveOf(t, table.IPv4, after), refSave(t, ns, table.IPv4)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	checkState(t, ns, table.IPv4)
}

// sortedListing is nft's listing with its tables, and the chains in
// each, in name order: a full commit recreates tables and chains, an
// incremental one adds new chains at the end, and iptables cannot see
// the order.
func sortedListing(s string) []string {
	var out []string
	var tbl, cur string
	for _, line := range strings.Split(s, "\n") {
		switch {
		case strings.HasPrefix(line, "table "):
			tbl = line
		case strings.HasPrefix(line, "\tchain "):
			cur = tbl + "\n" + line + "\n"
		case line == "\t}":
			out = append(out, cur+line)
			cur = ""
		case cur != "":
			cur += line + "\n"
		case line != "" && line != "}":
			out = append(out, tbl+"\n"+line)
		}
	}
	slices.Sort(out)
	return out
}

func parseCounters(t *testing.T, f table.Family, src string, counters bool) *table.Ruleset {
	t.Helper()
	if !counters {
		return parse(t, "after.rules", f, src)
	}
	rs, err := format.Load("after.rules", []byte(src), format.LoadOptions{Family: f, Registry: registry, Apply: table.ApplyOptions{Counters: true}})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestIncrementalSendsOnlyTheChange: re-applying what the kernel holds
// sends nothing (the generation id stays), and a one-rule change of a
// generated ruleset sends a handful of messages, not the ruleset.
func TestIncrementalSendsOnlyTheChange(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	src := generated(t, 500, 0, false)
	refRestore(t, ns, table.IPv4, src)
	gen := func() uint32 {
		var g uint32
		if err := ns.Do(func() error {
			c, err := dial()
			if err != nil {
				return err
			}
			defer c.close()
			s, err := readSnapshot(c, table.IPv4, nil, readGate)
			if err != nil {
				return err
			}
			g = s.GenID
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return g
	}
	g0 := gen()
	rs := parse(t, "same.rules", table.IPv4, src)
	if err := commitWith(ns, rs, kernel.CommitOptions{Incremental: true}); err != nil {
		t.Fatal(err)
	}
	if g := gen(); g != g0 {
		t.Errorf("re-applying the live ruleset changed the generation %d -> %d: something was sent", g0, g)
	}

	var sent []msgRef
	testHookBatch = func(refs []msgRef) { sent = refs }
	t.Cleanup(func() { testHookBatch = nil })
	one := strings.Replace(src, "-j ACCEPT\n", "-j DROP\n", 1)
	if one == src {
		t.Fatal("the generated ruleset has no ACCEPT rule to change")
	}
	if err := commitWith(ns, parse(t, "one.rules", table.IPv4, one), kernel.CommitOptions{Incremental: true}); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || sent[0].rule == nil {
		t.Errorf("a one-rule change sent %d messages, want the one rule", len(sent))
	}
	if d := cmp.Diff(refSaveOf(t, table.IPv4, one), refSave(t, ns, table.IPv4)); d != "" {
		t.Errorf("after the one-rule change (-reference restore +fw incremental):\n%s", d)
	}
}

// refSaveOf is what iptables-nft-save prints after iptables-nft-restore
// of src into a fresh namespace.
func refSaveOf(t *testing.T, f table.Family, src string) string {
	t.Helper()
	ns := kerneltest.NewNetns(t)
	refRestore(t, ns, f, src)
	return refSave(t, ns, f)
}

// TestIncrementalAtomic: a rule the kernel refuses in the last table of
// an incremental commit leaves every table as it was, and the error names
// the rule.
func TestIncrementalAtomic(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	refRestore(t, ns, table.IPv4, incBase)
	want := refSave(t, ns, table.IPv4)
	rs := badRuleset(t)
	for _, test := range []bool{false, true} {
		err := commitWith(ns, rs, kernel.CommitOptions{Incremental: true, Test: test})
		if err == nil {
			t.Fatalf("test=%v: the kernel accepted a broken rule", test)
		}
		if !strings.Contains(err.Error(), "x.rules:14: table nat chain PREROUTING rule 2") {
			t.Errorf("test=%v: error %q does not name the rule", test, err)
		}
		if d := cmp.Diff(want, refSave(t, ns, table.IPv4)); d != "" {
			t.Errorf("test=%v: the kernel changed:\n%s", test, d)
		}
	}
}

// TestIncrementalGenerationChanged: a change by another writer between
// fw's reading and its batch is detected as for a full commit, and the
// retry diffs against what the other writer left.
func TestIncrementalGenerationChanged(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	refRestore(t, ns, table.IPv4, incBase)
	after := strings.Replace(incBase, "--dport 22 -j ACCEPT", "--dport 2222 -j ACCEPT", 1)
	testHookBeforeSend = func(attempt int) {
		if attempt == 0 {
			if r, err := ns.Run(nil, "iptables-nft", "-I", "INPUT", "-j", "DROP"); err != nil || r.Code != 0 {
				t.Errorf("concurrent iptables-nft: %v %s", err, r.Stderr)
			}
		}
	}
	t.Cleanup(func() { testHookBeforeSend = nil })
	if err := commitWith(ns, parse(t, "after.rules", table.IPv4, after), kernel.CommitOptions{Incremental: true}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(refSaveOf(t, table.IPv4, after), refSave(t, ns, table.IPv4)); d != "" {
		t.Errorf("after the retried incremental commit (-want +got):\n%s", d)
	}
}

// TestIncrementalReplacesNftRules: a rule nft wrote in iptables' shape
// with userdata is never kept as if fw had written it.
func TestIncrementalReplacesNftRules(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	refRestore(t, ns, table.IPv4, "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n")
	if r, err := ns.Run(nil, "nft", "add", "rule", "ip", "filter", "INPUT", "counter", "accept", "comment", `"from nft"`); err != nil || r.Code != 0 {
		t.Fatalf("nft add rule: %v %s", err, r.Stderr)
	}
	src := "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n"
	if err := commitWith(ns, parse(t, "x.rules", table.IPv4, src), kernel.CommitOptions{Incremental: true}); err != nil {
		t.Fatal(err)
	}
	if got := nftList(t, ns); strings.Contains(got, "from nft") {
		t.Errorf("the rule nft wrote is still there:\n%s", got)
	}
	if d := cmp.Diff(refSaveOf(t, table.IPv4, src), refSave(t, ns, table.IPv4)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestStateDoesNotHideForeignRules: a rule nft adds to a table fw wrote
// (in a shape iptables does not use) makes the table incompatible again:
// the state file fw wrote is stale then and does not vouch for it.
func TestStateDoesNotHideForeignRules(t *testing.T) {
	needNft(t)
	ns := kerneltest.NewNetns(t)
	rs := parse(t, "base", table.IPv4, incBase)
	if err := commitWith(ns, rs, kernel.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	if r, err := ns.Run(nil, "nft", "add", "rule", "ip", "filter", "INPUT", "ct", "state", "established", "accept"); err != nil || r.Code != 0 {
		t.Fatalf("nft add rule: %v %s", err, r.Stderr)
	}
	for _, inc := range []bool{false, true} {
		err := commitWith(ns, rs, kernel.CommitOptions{Incremental: inc})
		var ie *IncompatibleError
		if !errors.As(err, &ie) || ie.Table != "filter" {
			t.Errorf("incremental=%v: error %v, want the filter table incompatible", inc, err)
		}
	}
}
