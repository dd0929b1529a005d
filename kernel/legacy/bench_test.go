package legacy

import (
	"bytes"
	"io"
	"testing"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/genrules"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

// kubeTable is the nat table of the make-bench ruleset at 10,000
// services (85,000 rules).
func kubeTable(b *testing.B) *table.Table {
	var src bytes.Buffer
	if err := genrules.Write(&src, genrules.Options{Services: 10000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	rs, err := format.Load("bench", src.Bytes(), format.LoadOptions{Family: table.IPv4, Registry: ext.Registry()})
	if err != nil {
		b.Fatal(err)
	}
	return rs.Table("nat")
}

func BenchmarkEncode(b *testing.B) {
	t := kubeTable(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(table.IPv4, t); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckEncode(b *testing.B) {
	t := kubeTable(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CheckEncode(table.IPv4, t); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	t := kubeTable(b)
	blob, err := Encode(table.IPv4, t)
	if err != nil {
		b.Fatal(err)
	}
	info := &Info{ValidHooks: blob.ValidHooks, HookEntry: blob.HookEntry, Underflow: blob.Underflow, NumEntries: uint32(blob.NumEntries), Size: uint32(len(blob.Entries))}
	reg := ext.Registry()
	b.ReportAllocs()
	for b.Loop() {
		if err := DecodeTo(table.IPv4, "nat", blob.Entries, info, reg, discard{}); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) BeginTable(*table.Table) error        { return nil }
func (discard) Rule(*table.Chain, *table.Rule) error { return nil }
func (discard) EndTable() error                      { return nil }

// TestEncodeBig: a table big enough for Encode to write it on two
// goroutines decodes back to itself, counters included.
func TestEncodeBig(t *testing.T) {
	var src bytes.Buffer
	if err := genrules.Write(&src, genrules.Options{Services: 2000, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	reg := ext.Registry()
	rs, err := format.Load("big", src.Bytes(), format.LoadOptions{Family: table.IPv4, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	nat := rs.Table("nat")
	// Counters on a few rules and a policy, for the entries to carry.
	for k, c := range nat.Chains {
		if k%7 == 0 && len(c.Rules) > 0 {
			r := *c.Rules[0]
			r.Counters = table.Counters{Packets: uint64(k + 1), Bytes: uint64(1000 * (k + 1))}
			c.Rules[0] = &r
		}
	}
	nat.Chain("PREROUTING").Counters = table.Counters{Packets: 5, Bytes: 500}
	blob, err := Encode(table.IPv4, nat)
	if err != nil {
		t.Fatal(err)
	}
	if len(blob.Entries) <= 1<<20 {
		t.Fatalf("blob of %d bytes: too small to be split", len(blob.Entries))
	}
	info := &Info{ValidHooks: blob.ValidHooks, HookEntry: blob.HookEntry, Underflow: blob.Underflow, NumEntries: uint32(blob.NumEntries), Size: uint32(len(blob.Entries))}
	back, err := Decode(table.IPv4, "nat", blob.Entries, info, reg)
	if err != nil {
		t.Fatal(err)
	}
	var want, got bytes.Buffer
	format.Encode(&want, &table.Ruleset{Family: table.IPv4, Tables: []*table.Table{nat}}, format.EncodeOptions{Counters: true})
	format.Encode(&got, &table.Ruleset{Family: table.IPv4, Tables: []*table.Table{back}}, format.EncodeOptions{Counters: true})
	if want.String() != got.String() {
		t.Errorf("decoded table differs from the encoded one")
	}
	if _, err := CheckEncode(table.IPv4, nat); err != nil {
		t.Errorf("CheckEncode: %v", err)
	}
}

// BenchmarkSave is what fw-save does after the kernel hands out the
// table: decode every entry and print it.
func BenchmarkSave(b *testing.B) {
	t := kubeTable(b)
	blob, err := Encode(table.IPv4, t)
	if err != nil {
		b.Fatal(err)
	}
	info := &Info{ValidHooks: blob.ValidHooks, HookEntry: blob.HookEntry, Underflow: blob.Underflow, NumEntries: uint32(blob.NumEntries), Size: uint32(len(blob.Entries))}
	reg := ext.Registry()
	b.ReportAllocs()
	for b.Loop() {
		if err := DecodeTo(table.IPv4, "nat", blob.Entries, info, reg, format.NewEncoder(io.Discard, format.EncodeOptions{})); err != nil {
			b.Fatal(err)
		}
	}
}
