// Package genrules writes a kube-proxy-like ruleset in iptables-restore
// format: N services, each with a cluster IP, two or three endpoints picked
// at random by the statistic match, masquerade marks and DNAT. About 12
// lines per service, so -services 10000 gives a file of about 120k lines,
// the size at which users report slow restores. The output depends only on
// the flags (-seed), so benchmarks compare like with like; -change P
// rewrites that percentage of services (new endpoint addresses) for
// incremental-restore and diff benchmarks.
package genrules

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
)

// Options say what to generate.
type Options struct {
	Services int
	Seed     uint64
	// Change is the percentage of services whose endpoints change (0-100).
	Change float64
	IPv6   bool
	// Partial writes, instead of the whole ruleset, what kube-proxy's
	// partial sync hands iptables-restore --noflush after that change:
	// the nat table's top-level KUBE-SERVICES chain in full, and the
	// chains of the changed services only, each declared (and so
	// flushed) and filled again.
	Partial bool
}

// Write writes the ruleset. The output depends only on opt.
func Write(w io.Writer, opt Options) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	gen(bw, opt.Services, opt.Seed, opt.Change, opt.IPv6, opt.Partial)
	return bw.Flush()
}

func gen(w *bufio.Writer, n int, seed uint64, change float64, v6, partial bool) {
	rng := rand.New(rand.NewPCG(seed, 42))
	chrng := rand.New(rand.NewPCG(seed+1, 43))
	addr := func(a, b, c int) string {
		if v6 {
			return fmt.Sprintf("fd00:%x:%x::%x", a, b, c)
		}
		return fmt.Sprintf("10.%d.%d.%d", a, b, c)
	}
	plen := "/32"
	if v6 {
		plen = "/128"
	}
	type svc struct {
		name, ip, proto string
		port            int
		seps            []string
		eps             []string
		changed         bool
	}
	svcs := make([]svc, n)
	for i := range svcs {
		s := &svcs[i]
		s.name = fmt.Sprintf("%016X", rng.Uint64())
		s.ip = addr(96+i/65536, (i/256)%256, i%256)
		s.proto = []string{"tcp", "udp"}[rng.IntN(2)]
		s.port = 1 + rng.IntN(65000)
		bump := 0
		if change > 0 && chrng.Float64()*100 < change {
			bump = 1
		}
		s.changed = bump == 1
		for e := 0; e < 2+rng.IntN(2); e++ {
			s.seps = append(s.seps, fmt.Sprintf("%016X", rng.Uint64()))
			s.eps = append(s.eps, addr(200+bump, rng.IntN(256), rng.IntN(256)))
		}
	}
	if partial {
		fmt.Fprint(w, "*nat\n:KUBE-SERVICES - [0:0]\n")
		for _, s := range svcs {
			if s.changed {
				fmt.Fprintf(w, ":KUBE-SVC-%s - [0:0]\n", s.name)
				for _, sep := range s.seps {
					fmt.Fprintf(w, ":KUBE-SEP-%s - [0:0]\n", sep)
				}
			}
		}
		for i, s := range svcs {
			writeService(w, i, s.ip, plen, s.proto, s.port, s.name)
		}
		writeNodePorts(w)
		for i, s := range svcs {
			if s.changed {
				writeSVC(w, i, s.name, s.seps, s.eps)
				writeSEPs(w, i, s.seps, s.eps, s.proto, plen, v6)
			}
		}
		fmt.Fprint(w, "COMMIT\n")
		return
	}
	fmt.Fprint(w, "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n")
	fmt.Fprint(w, ":KUBE-MARK-MASQ - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:KUBE-POSTROUTING - [0:0]\n:KUBE-SERVICES - [0:0]\n")
	for _, s := range svcs {
		fmt.Fprintf(w, ":KUBE-SVC-%s - [0:0]\n", s.name)
		for _, sep := range s.seps {
			fmt.Fprintf(w, ":KUBE-SEP-%s - [0:0]\n", sep)
		}
	}
	fmt.Fprint(w, "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n")
	fmt.Fprint(w, "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n")
	fmt.Fprint(w, "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n")
	fmt.Fprint(w, "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n")
	fmt.Fprint(w, "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n")
	fmt.Fprint(w, "-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n")
	fmt.Fprint(w, "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n")
	for i, s := range svcs {
		writeService(w, i, s.ip, plen, s.proto, s.port, s.name)
	}
	for i, s := range svcs {
		writeSVC(w, i, s.name, s.seps, s.eps)
	}
	for i, s := range svcs {
		writeSEPs(w, i, s.seps, s.eps, s.proto, plen, v6)
	}
	writeNodePorts(w)
	fmt.Fprint(w, "COMMIT\n")
	fmt.Fprint(w, "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\n:KUBE-FORWARD - [0:0]\n")
	fmt.Fprint(w, "-A INPUT -j KUBE-FIREWALL\n-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n-A OUTPUT -j KUBE-FIREWALL\n")
	fmt.Fprint(w, "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n")
	fmt.Fprint(w, "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n")
	fmt.Fprint(w, "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n")
	fmt.Fprint(w, "COMMIT\n")
}

// writeService writes a service's rule in KUBE-SERVICES.
func writeService(w *bufio.Writer, i int, ip, plen, proto string, port int, name string) {
	fmt.Fprintf(w, "-A KUBE-SERVICES -d %s%s -p %s -m comment --comment \"ns%d/svc%d:port cluster IP\" -m %s --dport %d -j KUBE-SVC-%s\n", ip, plen, proto, i%97, i, proto, port, name)
}

// writeNodePorts writes the last rule of KUBE-SERVICES.
func writeNodePorts(w *bufio.Writer) {
	fmt.Fprint(w, "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n")
}

// writeSVC writes a service's chain: one endpoint picked at random.
func writeSVC(w *bufio.Writer, i int, name string, seps, eps []string) {
	for e, sep := range seps {
		left := len(seps) - e
		if left > 1 {
			fmt.Fprintf(w, "-A KUBE-SVC-%s -m comment --comment \"ns%d/svc%d:port -> %s\" -m statistic --mode random --probability %.11f -j KUBE-SEP-%s\n", name, i%97, i, eps[e], 1/float64(left), sep)
		} else {
			fmt.Fprintf(w, "-A KUBE-SVC-%s -m comment --comment \"ns%d/svc%d:port -> %s\" -j KUBE-SEP-%s\n", name, i%97, i, eps[e], sep)
		}
	}
}

// writeSEPs writes a service's endpoint chains: masquerade mark and DNAT.
func writeSEPs(w *bufio.Writer, i int, seps, eps []string, proto, plen string, v6 bool) {
	for e, sep := range seps {
		fmt.Fprintf(w, "-A KUBE-SEP-%s -s %s%s -m comment --comment \"ns%d/svc%d:port\" -j KUBE-MARK-MASQ\n", sep, eps[e], plen, i%97, i)
		target := eps[e]
		if v6 {
			target = "[" + target + "]"
		}
		fmt.Fprintf(w, "-A KUBE-SEP-%s -p %s -m comment --comment \"ns%d/svc%d:port\" -m %s -j DNAT --to-destination %s:%d\n", sep, proto, i%97, i, proto, target, 8000+e)
	}
}
