package nft

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/table"
)

// The samples cover the IP header (addresses with byte-aligned and other
// masks, interfaces exact and wildcard, negations, -f), verdicts, jumps,
// gotos, a rule without target, the native tcp/udp (merged, ranges, flags,
// the "0:N" forms), mark, limit, NFLOG and TRACE, compat matches and
// targets (some of which need NFTA_RULE_COMPAT), and every table.
const sample4 = `*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth0 -p udp -m udp --sport 53 -j MARK --set-xmark 0x1/0xffffffff
-A OUTPUT -m mark --mark 0x5 -j RETURN
-A POSTROUTING -o eth1 -j DSCP --set-dscp 0x0a
COMMIT
*security
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -s 10.1.0.0/16 -j ACCEPT
COMMIT
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 80 -j TRACE
-A OUTPUT -j CT --notrack
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:chain_b - [0:0]
:empty - [0:0]
-A INPUT -s 10.0.0.0/8 -d 192.168.1.1/32 -i eth+ -p tcp -m tcp --dport 22 -m comment --comment "ssh in" -j ACCEPT
-A INPUT ! -i lo ! -p udp -f -j chain_b
-A INPUT ! -f -j empty
-A INPUT -g empty
-A INPUT -s 1.2.3.0/255.0.255.0
-A INPUT ! -s 10.0.0.0/9 ! -d 5.6.0.0/16 -j DROP
-A INPUT -j RETURN
-A INPUT -p tcp -m tcp --sport 5 --dport 22 -j NFLOG --nflog-prefix foo --nflog-group 3
-A INPUT -p udp -m udp -j NFLOG --nflog-size 128 --nflog-threshold 2
-A INPUT -p tcp -m tcp ! --sport 1:1024 --dport 1024:65535 --tcp-flags FIN,SYN,RST,ACK SYN
-A INPUT -p udp -m udp ! --dport 0:80
-A INPUT -p udp -m udp --sport 0:80 ! --dport 7
-A INPUT -p tcp -m tcp --dport 22 -m mark ! --mark 0x10/0xf0 -m tcp --sport 7
-A INPUT -p tcp -m tcp ! --sport 5 ! --dport 6
-A INPUT -p tcp -m tcp --tcp-option 5 -j DROP
-A INPUT -p tcp -m tcp
-A INPUT -p udp -m udp
-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 22,80,443:445 -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m limit --limit 3/sec --limit-burst 20 -j ACCEPT
-A INPUT -m limit --limit 10/min
-A INPUT -j LOG --log-prefix "x: "
-A chain_b -o wlan0 -j DROP
-A chain_b -p tcp -j REJECT --reject-with tcp-reset
-A chain_b -p 47 -j REJECT --reject-with icmp-host-prohibited
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.1:8080
-A POSTROUTING -o eth0 -j MASQUERADE
-A POSTROUTING -s 192.168.0.0/24 -j SNAT --to-source 1.2.3.4
COMMIT
`

const sample6 = `*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d ff02::/16 -j RETURN
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:user - [0:0]
:user2 - [0:0]
-A INPUT -s 2001:db8::/32 -d 2001:db8:1::/64 -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT ! -s fe80::/10 -i eth0 -j user
-A INPUT -s 2001:db8::1/128 ! -p udp -j DROP
-A INPUT -d 2001:db8::/ffff:ffff:0:ffff:: -j RETURN
-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT
-A INPUT -p udp -m udp --dport 546 -j NFLOG --nflog-group 1
-A user -m conntrack --ctstate NEW -m comment --comment "new conn" -g user2
-A user -p tcp -j REJECT --reject-with tcp-reset
COMMIT
`

func samples(t *testing.T, f table.Family) string {
	if f == table.IPv6 {
		return usable(t, f, sample6)
	}
	return usable(t, f, sample4)
}

// TestReadReference (1): iptables-nft-restore writes, fw reads; fw prints
// what iptables-nft-save prints.
func TestReadReference(t *testing.T) {
	needNft(t)
	for _, f := range []table.Family{table.IPv4, table.IPv6} {
		t.Run(f.String(), func(t *testing.T) {
			src := samples(t, f)
			ns := kerneltest.NewNetns(t)
			refRestore(t, ns, f, src)
			want := refSave(t, ns, f)
			rs, err := fwLoad(t, ns, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, encode(t, rs, false)); d != "" {
				t.Errorf("(-iptables-nft-save +fw)\n%s", d)
			}
			// With counters too (rule counters are all zero here, but
			// the [p:b] prefix and the policy counters must agree).
			wantC := refSave(t, ns, f, "-c")
			if d := cmp.Diff(wantC, encode(t, rs, true)); d != "" {
				t.Errorf("-c: (-iptables-nft-save +fw)\n%s", d)
			}
			if d := cmp.Diff(want, stream(t, ns, f, nil)); d != "" {
				t.Errorf("Stream: (-iptables-nft-save +fw)\n%s", d)
			}
		})
	}
}

// stream is what fw-save prints through Stream (without its header).
func stream(t testing.TB, ns *kerneltest.Netns, f table.Family, names []string) string {
	t.Helper()
	var out bytes.Buffer
	err := ns.Do(func() error {
		return (&Backend{Registry: registry}).Stream(f, names, format.NewEncoder(&out, format.EncodeOptions{}))
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestStreamMany: a kube-proxy-like ruleset of thousands of chains, read
// by several readers ahead of the printer, prints in iptables-nft-save's
// order; one table at a time too.
func TestStreamMany(t *testing.T) {
	needNft(t)
	f := table.IPv4
	ns := kerneltest.NewNetns(t)
	refRestore(t, ns, f, generated(t, 1500, 0, false))
	if d := cmp.Diff(refSave(t, ns, f), stream(t, ns, f, nil)); d != "" {
		t.Errorf("(-iptables-nft-save +fw)\n%s", d)
	}
	if d := cmp.Diff(refSave(t, ns, f, "-t", "nat"), stream(t, ns, f, []string{"nat"})); d != "" {
		t.Errorf("-t nat: (-iptables-nft-save +fw)\n%s", d)
	}
}

// TestBigRuleFirst: a rule bigger than a page that is the first one a
// fresh socket dumps is read (the kernel ends a dump whose first reply
// buffer it does not fit, as if the chain were empty), by Stream, whose
// readers dial sockets of their own, and by Load.
func TestBigRuleFirst(t *testing.T) {
	needNft(t)
	f := table.IPv4
	ns := kerneltest.NewNetns(t)
	refRestore(t, ns, f, `*filter
-A INPUT -m u32 --u32 "0=1" -m u32 ! --u32 "4=2" -m u32 --u32 "8=3"
-A INPUT -j ACCEPT
-A OUTPUT -m u32 --u32 "0=1" -m u32 --u32 "4=2"
COMMIT
`)
	want := refSave(t, ns, f)
	if !strings.Contains(want, "--u32 \"0x8=0x3\"") {
		t.Fatalf("the reference does not print the big rule:\n%s", want)
	}
	if d := cmp.Diff(want, stream(t, ns, f, nil)); d != "" {
		t.Errorf("Stream (-iptables-nft-save +fw)\n%s", d)
	}
	rs, err := fwLoad(t, ns, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, encode(t, rs, false)); d != "" {
		t.Errorf("Load (-iptables-nft-save +fw)\n%s", d)
	}
}

// TestStreamRestart: a ruleset changed while it is streamed is read
// again from the start, and what the sink gets is the new one; a sink
// that cannot forget what it got makes Stream fail instead.
func TestStreamRestart(t *testing.T) {
	needNft(t)
	f := table.IPv4
	ns := kerneltest.NewNetns(t)
	refRestore(t, ns, f, generated(t, 200, 0, false))
	n := 0
	testHookStreamed = func() {
		if n++; n == 1 {
			if r, err := ns.Run(nil, "iptables-nft", "-A", "FORWARD", "-j", "DROP"); err != nil || r.Code != 0 {
				t.Errorf("concurrent iptables-nft: %v %s", err, r.Stderr)
			}
		}
	}
	t.Cleanup(func() { testHookStreamed = nil })
	got := stream(t, ns, f, nil)
	if n != 2 {
		t.Errorf("streamed %d times, want 2", n)
	}
	if d := cmp.Diff(refSave(t, ns, f), got); d != "" {
		t.Errorf("(-iptables-nft-save +fw)\n%s", d)
	}
	n = 0
	err := ns.Do(func() error {
		return (&Backend{Registry: registry}).Stream(f, nil, format.NewEncoder(io.Discard, format.EncodeOptions{}))
	})
	if !errors.Is(err, ErrRulesetChanged) {
		t.Errorf("a sink that cannot restart: error %v, want ErrRulesetChanged", err)
	}
}

// TestWriteReference (2): fw writes, iptables-nft-save reads; it prints
// what it prints after iptables-nft-restore of the same file.
func TestWriteReference(t *testing.T) {
	needNft(t)
	for _, f := range []table.Family{table.IPv4, table.IPv6} {
		t.Run(f.String(), func(t *testing.T) {
			src := samples(t, f)
			refNS := kerneltest.NewNetns(t)
			refRestore(t, refNS, f, src)
			want := refSave(t, refNS, f)
			ns := kerneltest.NewNetns(t)
			if err := fwCommit(ns, parse(t, "sample", f, src), false); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, refSave(t, ns, f)); d != "" {
				t.Errorf("(-after iptables-nft-restore +after fw)\n%s", d)
			}
			// A second commit replaces the tables (DELTABLE + recreate)
			// and gives the same result.
			if err := fwCommit(ns, parse(t, "sample", f, src), false); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, refSave(t, ns, f)); d != "" {
				t.Errorf("second commit: (-after iptables-nft-restore +after fw)\n%s", d)
			}
		})
	}
}

const counted = `*filter
:INPUT DROP [7:800]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [3:4]
:user - [0:0]
[5:600] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
[1:2] -A INPUT -j user
[9:10] -A user
COMMIT
*nat
:PREROUTING ACCEPT [1:1]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
[4:4] -A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
`

// TestCounters: rule and policy counters, written with -c by either side,
// read back the same by both.
func TestCounters(t *testing.T) {
	needNft(t)
	f := table.IPv4
	refNS := kerneltest.NewNetns(t)
	refRestore(t, refNS, f, counted, "-c")
	want := refSave(t, refNS, f, "-c")
	rs, err := fwLoad(t, refNS, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, encode(t, rs, true)); d != "" {
		t.Errorf("fw reads (-iptables-nft-save -c +fw):\n%s", d)
	}
	in, err := format.Load("counted", []byte(counted), format.LoadOptions{Family: f, Registry: registry, Apply: table.ApplyOptions{Counters: true}})
	if err != nil {
		t.Fatal(err)
	}
	ns := kerneltest.NewNetns(t)
	if err := fwCommit(ns, in, false); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, refSave(t, ns, f, "-c")); d != "" {
		t.Errorf("fw writes (-after iptables-nft-restore -c +after fw):\n%s", d)
	}
}
