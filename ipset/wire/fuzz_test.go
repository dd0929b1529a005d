package wire

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/ipset"
)

// FuzzListing reads arbitrary bytes as the messages of a dump. Whatever
// reads without error must survive being listed again: the sets, written
// as the kernel writes them and read back, are the same sets.
func FuzzListing(f *testing.F) {
	for _, sets := range goldenSets(f) {
		var b Builder
		for i, s := range sets {
			listReply(&b, 1, s, uint16(i), 300)
		}
		f.Add(b.B)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d SetDecoder
		if err := SplitMessages(data, func(m Message) error { return d.Message(m) }); err != nil {
			return
		}
		sets := d.Sets()
		var b Builder
		for i, s := range sets {
			listReply(&b, 1, s, uint16(i), 300)
		}
		var again SetDecoder
		if err := SplitMessages(b.B, func(m Message) error { return again.Message(m) }); err != nil {
			t.Fatalf("listing of what was read does not read: %v", err)
		}
		if d := cmp.Diff(sets, again.Sets(), cmp.Comparer(func(a, b *ipset.Type) bool { return a == b })); d != "" {
			t.Fatalf("listed again (-first +again):\n%s", d)
		}
	})
}
