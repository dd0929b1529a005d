package nft

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/table"
)

func encodeState(t testing.TB, s *nftState) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := s.encode(bufio.NewWriter(&b)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzState feeds the state file decoder corrupt files: it must never
// panic, and a file it accepts must encode to a file that decodes to
// the same state and encodes to the same bytes.
func FuzzState(f *testing.F) {
	f.Add(encodeState(f, &nftState{Family: table.IPv4, Gen: 7}))
	f.Add(encodeState(f, &nftState{Family: table.IPv6, Gen: 1 << 31, Tables: []*stTable{
		{Name: "filter", Chains: []*stChain{
			{Name: "INPUT", Base: true, Hook: 1, Policy: nfDrop, Counters: true, Rules: []stRule{{Handle: 4, Key: table.Digest{1, 2}}, {Handle: 9, Key: table.Digest{3, 4}}}},
			{Name: "KUBE-SVC-X"},
			{Name: "user", Rules: []stRule{{Handle: 12, Key: table.Digest{^uint64(0), 5}}}},
		}},
		{Name: "nat"},
	}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeState(b)
		if err != nil {
			return
		}
		one := encodeState(t, s)
		again, err := decodeState(one)
		if err != nil {
			t.Fatalf("a state it decoded encodes to a file it does not decode: %v", err)
		}
		if d := cmp.Diff(s, again); d != "" {
			t.Fatalf("encoded and decoded again, the state differs (-first +again):\n%s", d)
		}
		if two := encodeState(t, again); !bytes.Equal(one, two) {
			t.Fatalf("encoded again to other bytes:\n%x\n%x", one, two)
		}
	})
}
