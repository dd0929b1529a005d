package format_test

import (
	"bytes"
	"testing"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/genrules"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

// TestDecodeDigests checks the digests the decoder leaves on rules
// against digests worked out from the final rules, through the commands
// that copy or change rules after they are decoded (a renamed chain
// changes the jumps to it).
func TestDecodeDigests(t *testing.T) {
	small := `*filter
:INPUT ACCEPT [0:0]
:a - [0:0]
[3:4] -A INPUT -s 10.0.0.1,10.0.0.2 -p tcp --dport 22 -j a
-A INPUT -m comment --comment x -j ACCEPT
-I INPUT 1 -g a
-R INPUT 2 -p udp -j DROP
-A a -j RETURN
-E a b
-Z INPUT
COMMIT
`
	// Big enough to be decoded in several chunks on several workers.
	var big bytes.Buffer
	if err := genrules.Write(&big, genrules.Options{Services: 2000, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	d := table.NewStableDigester(table.IPv4)
	check := func(src []byte) (cached, jumpsToB int) {
		t.Helper()
		a := table.NewApplier(table.IPv4, table.ApplyOptions{Counters: true}, nil)
		if err := format.ApplySource("x", src, format.DecodeOptions{Family: table.IPv4, Registry: ext.Registry(), Digests: true}, a); err != nil {
			t.Fatal(err)
		}
		rs := &table.Ruleset{Family: table.IPv4}
		if err := a.Finish(rs); err != nil {
			t.Fatal(err)
		}
		for _, tb := range rs.Tables {
			for _, ch := range tb.Chains {
				for i, r := range ch.Rules {
					if got, want := d.Cached(r), d.Digest(r); got != want {
						t.Errorf("%s rule %d: digest %x, worked out %x", ch.Name, i+1, got, want)
					}
					if r.Digest != (table.Digest{}) {
						cached++
					}
					if j, ok := r.Target.(*table.Jump); ok && j.Chain == "b" {
						jumpsToB++
					}
				}
			}
		}
		return cached, jumpsToB
	}
	if cached, jumps := check([]byte(small)); cached < 3 || jumps != 2 {
		t.Errorf("%d rules with digests, %d jumps to b: the test no longer tests", cached, jumps)
	}
	if cached, _ := check(big.Bytes()); cached < 10000 {
		t.Errorf("only %d rules of the generated ruleset have digests", cached)
	}
}
