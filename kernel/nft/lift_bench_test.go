package nft

import (
	"bytes"
	"testing"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/genrules"
	"github.com/fwkit/fw/table"
)

// BenchmarkLift reads and lifts the rules of a kube-proxy ruleset of
// 1,000 services as a save does, from messages in the form the kernel
// dumps them (written by fw's own encoder), without a kernel.
// TestLowerLift checks that what it lifts is what was written.
func BenchmarkLift(b *testing.B) {
	var src bytes.Buffer
	if err := genrules.Write(&src, genrules.Options{Services: 1000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	rs, err := format.Load("bench", src.Bytes(), format.LoadOptions{Family: table.IPv4, Registry: registry})
	if err != nil {
		b.Fatal(err)
	}
	var msgs [][]byte
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				m, err := dumpRule(table.IPv4, t.Name, c.Name, r)
				if err != nil {
					b.Fatal(err)
				}
				msgs = append(msgs, m)
			}
		}
	}
	b.ReportAllocs()
	var scratch []rawExpr
	l := newLifter(table.IPv4, registry)
	for b.Loop() {
		for _, m := range msgs {
			_, _, r, err := parseRule(m, scratch[:0])
			if err != nil {
				b.Fatal(err)
			}
			scratch = r.Exprs
			if _, err := l.lift(&r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/rule")
	b.ReportMetric(0, "ns/op")
}
