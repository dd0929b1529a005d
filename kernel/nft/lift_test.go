package nft

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/conformance"
	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/genrules"
	"github.com/fwkit/fw/table"
)

// dumpRule is the NEWRULE attributes fw writes for r, in the form the
// kernel dumps them back.
func dumpRule(f table.Family, tbl, chain string, r *table.Rule) ([]byte, error) {
	w := nlbuf{dumpForm: true}
	if err := writeRule(&w, f, tbl, chain, 1, 0, r); err != nil {
		return nil, err
	}
	return w.b, nil
}

// readBack parses a dumped rule message and lifts it, as a save does:
// what iptables-nft-save would refuse to print is an error too.
func readBack(l *lifter, msg []byte) (*table.Rule, error) {
	_, _, raw, err := parseRule(msg, nil)
	if err != nil {
		return nil, err
	}
	if why := raw.incompatible(); why != "" {
		return nil, fmt.Errorf("incompatible: %s", why)
	}
	return l.lift(&raw)
}

// kernelView is what the kernel stores of a rule, readable for a diff:
// the IP header, and each extension's kernel name, revision and xt
// payload bytes (what table.Digest is made of), then the counters.
func kernelView(f table.Family, r *table.Rule) []string {
	ip := r.IP
	out := []string{fmt.Sprintf("ip %+v", ip)}
	ext := func(kind string, e table.Ext) string {
		if a, ok := e.(table.Aliased); ok {
			e = a.Unaliased()
		}
		info := e.Info()
		s := fmt.Sprintf("%s %s rev %d", kind, info.KernelName(), info.Revision)
		p, ok := e.(table.Payload)
		if !ok {
			return s + " (no payload codec)"
		}
		b := make([]byte, (info.Size+7)&^7)
		if err := p.PutPayload(f, b); err != nil {
			return s + " payload error: " + err.Error()
		}
		return s + " " + hex.EncodeToString(bytes.TrimRight(b, "\x00"))
	}
	for _, m := range r.Matches {
		out = append(out, ext("match", m))
	}
	switch t := r.Target.(type) {
	case nil:
		out = append(out, "no target")
	case table.Ext:
		out = append(out, ext("target", t))
	case *table.Jump:
		out = append(out, fmt.Sprintf("jump %q goto %v", t.Chain, t.Goto))
	default:
		out = append(out, "target "+t.Name())
	}
	return append(out, fmt.Sprintf("counters %+v", r.Counters))
}

// sameRule reports, as test errors, how got differs from want: in its
// canonical text, in what the kernel stores of it, in its digest.
func sameRule(t *testing.T, where string, f table.Family, chain string, want, got *table.Rule) bool {
	t.Helper()
	ok := true
	if d := cmp.Diff(format.RuleLine(chain, want), format.RuleLine(chain, got)); d != "" {
		t.Errorf("%s: the rule read back prints differently (-written +read):\n%s", where, d)
		ok = false
	}
	if d := cmp.Diff(kernelView(f, want), kernelView(f, got)); d != "" {
		t.Errorf("%s: the rule read back holds other bytes (-written +read):\n%s", where, d)
		ok = false
	}
	dg := table.NewDigester(f)
	if a, b := dg.Digest(want), dg.Digest(got); a != b {
		t.Errorf("%s: the rule read back has another digest: %x, want %x", where, b, a)
		ok = false
	}
	return ok
}

// storable is r as nf_tables can hold it: iptables-nft writes nothing
// for "-i +" and "-o +" (any interface) but a bare meta load, and has no
// place for ip6tables' "-p all" flag (IP6T_F_PROTO without a protocol);
// both print the same either way.
func storable(r *table.Rule) *table.Rule {
	c := *r
	ip := &c.IP
	if ip.In == "+" && !ip.InvIn {
		ip.In = ""
	}
	if ip.Out == "+" && !ip.InvOut {
		ip.Out = ""
	}
	if ip.Proto == 0 && !ip.InvProto {
		ip.ProtoFlag = false
	}
	return &c
}

// readsBackAs lists the corpus rules (as testdata/ext writes them) that
// iptables-nft 1.8.9 stores in a form it reads back as another rule, with
// what it reads: fw writes and reads them the same way (TestCorpus holds
// both to iptables-nft-save).
var readsBackAs = map[string]string{
	// The native tcp and udp compares of a rule are read back into one
	// match, a later compare of the same port winning.
	"-p tcp -m tcp --dport 22 -m tcp --sport 7":                          "-p tcp -m tcp --sport 7 --dport 22",
	"-p udp -m udp --dport 1 -m udp --sport 2":                           "-p udp -m udp --sport 2 --dport 1",
	"-p tcp --dport 22 -m tcp --syn -j TCPMSS --set-mss 1460":            "-p tcp -m tcp --dport 22 --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --set-mss 1460",
	"-p tcp --syn --dport 22 -m tcp --dport 23 -j TCPMSS --set-mss 1460": "-p tcp -m tcp --dport 23 --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --set-mss 1460",
	// Flags compared under an empty mask are not written.
	"-p tcp --tcp-flags NONE SYN -j TCPMSS --set-mss 1460": "-p tcp -j TCPMSS --set-mss 1460",
	// "! 0:65534" is written as "> 65534", which reads as 65535.
	"-p udp -m udp ! --dport 0:65534": "-p udp -m udp --dport 65535",
	// A copy length is written only with --nflog-size.
	"-j NFLOG --nflog-range 1":          "-j NFLOG",
	"-j NFLOG --nflog-range 4294967295": "-j NFLOG",
}

// lowerLift lowers r, reads it back and checks that it reads as r (as
// far as nf_tables can hold it: storable), or, when readsAs is not
// empty, as that rule body; and that what it reads lowers and reads back
// as itself. It returns false, without a test error, when r cannot be
// written to nf_tables; the error says why.
func lowerLift(t *testing.T, l *lifter, where string, f table.Family, tbl, chain string, r *table.Rule, readsAs string) (bool, error) {
	t.Helper()
	// Counters travel in the counter expression.
	r.Counters = table.Counters{Packets: 7, Bytes: 1<<40 + 3}
	msg, err := dumpRule(f, tbl, chain, r)
	if err != nil {
		return false, err
	}
	got, err := readBack(l, msg)
	if err != nil {
		t.Errorf("%s: fw wrote it but cannot read it back: %v", where, err)
		return true, nil
	}
	if readsAs == "" {
		if !sameRule(t, where, f, chain, storable(r), got) {
			return true, nil
		}
	} else if d := cmp.Diff("-A "+chain+" "+readsAs, format.RuleLine(chain, got)); d != "" {
		t.Errorf("%s: the rule read back is not what iptables-nft reads (-iptables-nft +fw):\n%s", where, d)
		return true, nil
	}
	msg, err = dumpRule(f, tbl, chain, got)
	if err != nil {
		t.Errorf("%s: fw cannot write the rule it read back: %v", where, err)
		return true, nil
	}
	again, err := readBack(l, msg)
	if err != nil {
		t.Errorf("%s: fw cannot read back the rule it read back: %v", where, err)
		return true, nil
	}
	sameRule(t, where+" (written again)", f, chain, got, again)
	return true, nil
}

// TestLowerLift: a rule fw writes to nf_tables reads back as itself,
// offline: lowered to expressions in the form the kernel dumps them,
// parsed and lifted. Every accepted case of the extension corpus whose
// extensions have a payload codec, in each of its families, and
// kube-proxy rulesets of both families. The kernel tests (TestCorpus,
// TestFixtures) hold the expressions to iptables-nft's; this one holds
// the lifter to the lowerer, rule by rule, without root.
func TestLowerLift(t *testing.T) {
	corpora, err := conformance.Load(*corpusDir, *only)
	if err != nil {
		t.Fatal(err)
	}
	var rules, noCodec, refused int
	used := map[string]bool{}
	lifters := map[table.Family]*lifter{table.IPv4: newLifter(table.IPv4, registry), table.IPv6: newLifter(table.IPv6, registry)}
	for _, c := range corpora {
		for _, cs := range c.Cases {
			if cs.Expect != conformance.Accept {
				continue
			}
			for _, fam := range cs.Families() {
				pos := fmt.Sprintf("%s:%d (%s)", filepath.Base(cs.File), cs.Line, fam)
				rs, err := format.Load(pos, []byte(cs.Input()), format.LoadOptions{Family: fam, Registry: registry})
				if err != nil {
					t.Errorf("%s: fw cannot load an accepted case: %v", pos, err)
					continue
				}
				if _, ok := readsBackAs[cs.Rule]; ok {
					used[cs.Rule] = true
				}
				if missingPayload(rs) != "" {
					noCodec++
					continue
				}
				for _, tb := range rs.Tables {
					for _, ch := range tb.Chains {
						for _, r := range ch.Rules {
							where := pos + ": " + format.RuleLine(ch.Name, r)
							ok, err := lowerLift(t, lifters[fam], where, fam, tb.Name, ch.Name, r, readsBackAs[cs.Rule])
							if !ok {
								t.Logf("%s: not written: %v", where, err)
								refused++
								continue
							}
							rules++
						}
					}
				}
			}
		}
	}
	if *only == "" {
		for r := range readsBackAs {
			if !used[r] {
				t.Errorf("readsBackAs: %q is not a rule of the corpus", r)
			}
		}
		for _, fam := range []table.Family{table.IPv4, table.IPv6} {
			var src bytes.Buffer
			if err := genrules.Write(&src, genrules.Options{Services: 50, Seed: 1, IPv6: fam == table.IPv6}); err != nil {
				t.Fatal(err)
			}
			rs, err := format.Load("kube-proxy", src.Bytes(), format.LoadOptions{Family: fam, Registry: registry})
			if err != nil {
				t.Fatal(err)
			}
			for _, tb := range rs.Tables {
				for _, ch := range tb.Chains {
					for _, r := range ch.Rules {
						where := fmt.Sprintf("kube-proxy (%s) table %s: %s", fam, tb.Name, format.RuleLine(ch.Name, r))
						if ok, err := lowerLift(t, lifters[fam], where, fam, tb.Name, ch.Name, r, ""); !ok {
							t.Errorf("%s: not written: %v", where, err)
							continue
						}
						rules++
					}
				}
			}
		}
	}
	t.Logf("%d rules written and read back; %d case runs without a payload codec; %d rules not written (nf_tables cannot hold them, or writing them needs the kernel: ipset indexes)", rules, noCodec, refused)
	if rules == 0 {
		t.Fatal("no rule was compared")
	}
}

// FuzzLift feeds the rule reader hostile rule messages (the attributes
// of a dumped NEWRULE): parsing and lifting must never panic, and a rule
// that lifts must be a fixpoint of writing and reading: written, read
// back and written again, it prints the same, carries the same counters
// and is written with the same bytes. (The model itself may differ in one
// place: a limit's average interval, which iptables-nft converts to and
// from a rate per unit with rounding; both print and write as the same
// rate.) Seeds are fw's own messages for the extension corpus and a
// kube-proxy ruleset.
func FuzzLift(f *testing.F) {
	for _, s := range liftSeeds(f) {
		f.Add(s.msg, s.v6)
	}
	lifters := map[table.Family]*lifter{table.IPv4: newLifter(table.IPv4, registry), table.IPv6: newLifter(table.IPv6, registry)}
	f.Fuzz(func(t *testing.T, msg []byte, v6 bool) {
		fam := table.IPv4
		if v6 {
			fam = table.IPv6
		}
		l := lifters[fam]
		r, err := readBack(l, msg)
		if err != nil {
			return
		}
		text := format.RuleLine("C", r)
		// Lowering refuses what nf_tables cannot be given: a rule that
		// lifts as "! -s 0.0.0.0/0" (iptables-nft lists it too).
		one, err := dumpRule(fam, "filter", "C", r)
		if err != nil {
			return
		}
		again, err := readBack(l, one)
		if err != nil {
			t.Fatalf("%s: fw cannot read back what it wrote for a rule it read: %v", text, err)
		}
		if d := cmp.Diff(text, format.RuleLine("C", again)); d != "" {
			t.Fatalf("written and read back, the rule prints otherwise (-read +read again):\n%s", d)
		}
		if r.Counters != again.Counters {
			t.Fatalf("%s: written and read back, counters %+v become %+v", text, r.Counters, again.Counters)
		}
		two, err := dumpRule(fam, "filter", "C", again)
		if err != nil {
			t.Fatalf("%s: fw cannot write it again: %v", text, err)
		}
		if !bytes.Equal(one, two) {
			t.Fatalf("%s: written again with other bytes:\n%x\n%x", text, one, two)
		}
	})
}

type liftSeed struct {
	msg []byte
	v6  bool
}

// liftSeeds are the messages fw writes for every corpus case it can
// write offline, in each family, and for a small kube-proxy ruleset.
func liftSeeds(f *testing.F) []liftSeed {
	corpora, err := conformance.Load(*corpusDir, "")
	if err != nil {
		f.Fatal(err)
	}
	var out []liftSeed
	add := func(rs *table.Ruleset) {
		for _, tb := range rs.Tables {
			for _, ch := range tb.Chains {
				for _, r := range ch.Rules {
					if m, err := dumpRule(rs.Family, tb.Name, ch.Name, r); err == nil {
						out = append(out, liftSeed{m, rs.Family == table.IPv6})
					}
				}
			}
		}
	}
	for _, c := range corpora {
		for _, cs := range c.Cases {
			if cs.Expect != conformance.Accept {
				continue
			}
			for _, fam := range cs.Families() {
				rs, err := format.Load(cs.Pos(), []byte(cs.Input()), format.LoadOptions{Family: fam, Registry: registry})
				if err == nil && missingPayload(rs) == "" {
					add(rs)
				}
			}
		}
	}
	for _, v6 := range []bool{false, true} {
		var src bytes.Buffer
		if err := genrules.Write(&src, genrules.Options{Services: 3, Seed: 1, IPv6: v6}); err != nil {
			f.Fatal(err)
		}
		fam := table.IPv4
		if v6 {
			fam = table.IPv6
		}
		rs, err := format.Load("kube-proxy", src.Bytes(), format.LoadOptions{Family: fam, Registry: registry})
		if err != nil {
			f.Fatal(err)
		}
		add(rs)
	}
	if len(out) == 0 {
		f.Fatal("no seeds")
	}
	return out
}
