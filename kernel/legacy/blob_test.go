package legacy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/conformance"
	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/genrules"
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

// FuzzDecode feeds the decoder hostile blobs and hook offsets, in
// both families: it must never panic, and whatever it accepts must
// encode, decode to the same table, and encode to the same bytes again.
// Seeds are fw's blobs of the sample, of every table the extension
// corpus uses (one rule per case that encodes offline) and of a small
// kube-proxy ruleset.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds(f) {
		f.Add(s.v6, s.name, s.blob, s.hooks)
	}
	reg := ext.Registry()
	f.Fuzz(func(t *testing.T, v6 bool, name string, blob, hooks []byte) {
		fam := table.IPv4
		if v6 {
			fam = table.IPv6
		}
		tinfo := table.LookupTable(name)
		if tinfo == nil {
			return
		}
		in := &Info{Size: uint32(len(blob)), NumEntries: uint32(len(blob) / 64)}
		for h := table.Hook(0); h < table.NumHooks; h++ {
			if tinfo.Hooks&h.Mask() != 0 {
				in.ValidHooks |= 1 << h
			}
		}
		hooks = append(hooks, make([]byte, 8*table.NumHooks)...)
		for h := range table.NumHooks {
			in.HookEntry[h] = binary.LittleEndian.Uint32(hooks[8*h:])
			in.Underflow[h] = binary.LittleEndian.Uint32(hooks[8*h+4:])
		}
		tb, err := Decode(fam, name, blob, in, reg)
		if err != nil {
			return
		}
		one, err := Encode(fam, tb)
		if err != nil {
			t.Fatalf("a decoded table does not encode: %v\n%s", err, save(t, &table.Ruleset{Family: fam, Tables: []*table.Table{tb}}, true))
		}
		tb2, err := Decode(fam, name, one.Entries, infoOf(one), reg)
		if err != nil {
			t.Fatalf("re-encoded blob does not decode: %v", err)
		}
		a := save(t, &table.Ruleset{Family: fam, Tables: []*table.Table{tb}}, true)
		b := save(t, &table.Ruleset{Family: fam, Tables: []*table.Table{tb2}}, true)
		if d := cmp.Diff(a, b); d != "" {
			t.Fatalf("not a fixpoint (-decoded +decoded again):\n%s", d)
		}
		two, err := Encode(fam, tb2)
		if err != nil {
			t.Fatalf("decoded again, does not encode: %v", err)
		}
		if !bytes.Equal(one.Entries, two.Entries) || one.HookEntry != two.HookEntry || one.Underflow != two.Underflow {
			t.Fatalf("encoded again to other bytes:\n%x\n%x", one.Entries, two.Entries)
		}
	})
}

type decodeSeed struct {
	v6          bool
	name        string
	blob, hooks []byte
}

func decodeSeeds(f *testing.F) []decodeSeed {
	reg := ext.Registry()
	var out []decodeSeed
	add := func(rs *table.Ruleset) {
		for _, tb := range rs.Tables {
			b, err := Encode(rs.Family, tb)
			if err != nil {
				continue // an ipset name needs the kernel
			}
			var hooks []byte
			for h := range table.NumHooks {
				hooks = binary.LittleEndian.AppendUint32(hooks, b.HookEntry[h])
				hooks = binary.LittleEndian.AppendUint32(hooks, b.Underflow[h])
			}
			out = append(out, decodeSeed{rs.Family == table.IPv6, tb.Name, b.Entries, hooks})
		}
	}
	load := func(name, src string, fam table.Family) *table.Ruleset {
		rs, err := format.Load(name, []byte(src), format.LoadOptions{Family: fam, Registry: reg})
		if err != nil {
			f.Fatal(err)
		}
		return rs
	}
	add(load("sample", sample, table.IPv4))
	corpora, err := conformance.Load("../../testdata/ext", "")
	if err != nil || len(corpora) == 0 {
		f.Fatalf("corpus: %v", err)
	}
	// A table per corpus file, family and table name: small blobs
	// mutate well.
	for _, c := range corpora {
		for _, fam := range []table.Family{table.IPv4, table.IPv6} {
			for _, tname := range table.TableNames() {
				var src strings.Builder
				for _, cs := range c.Cases {
					if cs.Expect != conformance.Accept || cs.Table != tname || !cs.Family.Has(fam) || len(cs.Prelude) > 0 {
						continue
					}
					if _, err := Encode(fam, load(cs.Pos(), cs.Input(), fam).Tables[0]); err != nil {
						continue
					}
					if src.Len() == 0 {
						fmt.Fprintf(&src, "*%s\n:user - [0:0]\n", tname)
					}
					// A case's rule may need its chain's hook (a target
					// valid only there); a user chain's goes to one.
					to := "user"
					if _, builtin := table.HookByName(cs.Chain); builtin {
						to = cs.Chain
					}
					fmt.Fprintf(&src, "-A %s %s\n", to, cs.Rule)
				}
				if src.Len() > 0 {
					add(load(c.Path, src.String()+"COMMIT\n", fam))
				}
			}
		}
	}
	for _, fam := range []table.Family{table.IPv4, table.IPv6} {
		var src bytes.Buffer
		if err := genrules.Write(&src, genrules.Options{Services: 3, Seed: 1, IPv6: fam == table.IPv6}); err != nil {
			f.Fatal(err)
		}
		add(load("kube-proxy", src.String(), fam))
	}
	return out
}
