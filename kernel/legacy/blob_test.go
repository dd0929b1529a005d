package legacy

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

// TestStructSizes pins the struct mirrors to the sizes and offsets of the
// C structs on amd64 (from offsetof/sizeof probes, kernel-encoding.md 1.3).
func TestStructSizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"struct ipt_entry", ipv4EntrySize, 112},
		{"struct ip6t_entry", ipv6EntrySize, 168},
		{"ipt_entry.target_offset", layouts[table.IPv4].targetOff, 88},
		{"ipt_entry.next_offset", layouts[table.IPv4].nextOff, 90},
		{"ipt_entry.counters", layouts[table.IPv4].countersOff, 96},
		{"ipt_ip.proto", layouts[table.IPv4].protoOff, 80},
		{"ip6t_entry.target_offset", layouts[table.IPv6].targetOff, 140},
		{"ip6t_entry.next_offset", layouts[table.IPv6].nextOff, 142},
		{"ip6t_entry.counters", layouts[table.IPv6].countersOff, 152},
		{"ip6t_ip6.proto", layouts[table.IPv6].protoOff, 128},
		{"ip6t_ip6.flags", layouts[table.IPv6].flagsOff, 131},
		{"struct xt_entry_match", extHeaderSize, 32},
		{"struct xt_standard_target (aligned)", standardTargetSize, 40},
		{"struct xt_error_target (aligned)", errorTargetSize, 64},
		{"struct ipt_getinfo", getInfoSize, 84},
		{"struct ipt_get_entries header", getEntriesHeader, 40},
		{"struct ipt_replace header", replaceHeader, 96},
		{"struct xt_counters_info header", countersHeader, 40},
		{"struct xt_counters", countersSize, 16},
		{"struct xt_get_revision", getRevisionSize, 30},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestFreshTableSizes: an empty table encodes to the size the kernel
// reports for a fresh one (kernel-encoding.md 1.5).
func TestFreshTableSizes(t *testing.T) {
	want := map[table.Family]map[string][2]int{
		table.IPv4: {"filter": {632, 4}, "nat": {784, 5}, "mangle": {936, 6}, "raw": {480, 3}, "security": {632, 4}},
		table.IPv6: {"filter": {856, 4}, "nat": {1064, 5}, "mangle": {1272, 6}, "raw": {648, 3}, "security": {856, 4}},
	}
	for f, m := range want {
		for name, w := range m {
			b, err := Encode(f, table.NewTable(name))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Entries) != w[0] || b.NumEntries != w[1] {
				t.Errorf("%s %s: %d bytes, %d entries; want %d, %d", f, name, len(b.Entries), b.NumEntries, w[0], w[1])
			}
		}
	}
}

func infoOf(b *Blob) *Info {
	return &Info{ValidHooks: b.ValidHooks, HookEntry: b.HookEntry, Underflow: b.Underflow, NumEntries: uint32(b.NumEntries), Size: uint32(len(b.Entries))}
}

// TestRoundTrip: Decode(Encode(t)) prints as t.
func TestRoundTrip(t *testing.T) {
	reg := ext.Registry()
	rs, err := format.Load("sample", []byte(sample), format.LoadOptions{Family: table.IPv4, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range rs.Tables {
		b, err := Encode(table.IPv4, tb)
		if err != nil {
			t.Fatal(err)
		}
		dry, err := CheckEncode(table.IPv4, tb)
		if err != nil {
			t.Fatalf("CheckEncode: %v", err)
		}
		if dry.Entries != nil || dry.NumEntries != b.NumEntries || dry.HookEntry != b.HookEntry || dry.Underflow != b.Underflow {
			t.Errorf("%s: CheckEncode differs from Encode: %d entries, hooks %v %v; want %d, %v %v", tb.Name,
				dry.NumEntries, dry.HookEntry, dry.Underflow, b.NumEntries, b.HookEntry, b.Underflow)
		}
		back, err := Decode(table.IPv4, tb.Name, b.Entries, infoOf(b), reg)
		if err != nil {
			t.Fatal(err)
		}
		want := save(t, &table.Ruleset{Tables: []*table.Table{tb}}, false)
		got := save(t, &table.Ruleset{Tables: []*table.Table{back}}, false)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: (-want +got)\n%s", tb.Name, d)
		}
	}
}

// FuzzDecode feeds the decoder hostile blobs: it must never panic, and
// whatever it accepts must encode and decode to the same ruleset.
func FuzzDecode(f *testing.F) {
	reg := ext.Registry()
	rs, err := format.Load("sample", []byte(sample), format.LoadOptions{Family: table.IPv4, Registry: reg})
	if err != nil {
		f.Fatal(err)
	}
	for _, tb := range rs.Tables {
		b, _ := Encode(table.IPv4, tb)
		f.Add(tb.Name, b.Entries, b.HookEntry[1], b.Underflow[1], b.HookEntry[4], b.Underflow[4])
	}
	f.Fuzz(func(t *testing.T, name string, blob []byte, he1, uf1, he4, uf4 uint32) {
		tinfo := table.LookupTable(name)
		if tinfo == nil {
			return
		}
		b, _ := Encode(table.IPv4, table.NewTable(name))
		in := infoOf(b)
		in.HookEntry[1], in.Underflow[1], in.HookEntry[4], in.Underflow[4] = he1, uf1, he4, uf4
		tb, err := Decode(table.IPv4, name, blob, in, reg)
		if err != nil {
			return
		}
		again, err := Encode(table.IPv4, tb)
		if err != nil {
			return // e.g. a decoded name that is too long to write back
		}
		tb2, err := Decode(table.IPv4, name, again.Entries, infoOf(again), reg)
		if err != nil {
			t.Fatalf("re-encoded blob does not decode: %v", err)
		}
		if a, b := save(t, &table.Ruleset{Tables: []*table.Table{tb}}, true), save(t, &table.Ruleset{Tables: []*table.Table{tb2}}, true); a != b {
			t.Fatalf("not a fixpoint:\n%s\n%s", a, b)
		}
	})
}
