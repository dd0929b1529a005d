package nft

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/genrules"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/table"
)

// partialRestore is fw-restore --noflush of src in ns (with -c when
// counters is set), through a Session; it returns the
// chains it read ("table/chain"). hook, when set, runs after the file was
// applied, before the commit.
func partialRestore(ns *kerneltest.Netns, f table.Family, src string, counters bool, hook func()) ([]string, error) {
	var reads []string
	err := ns.Do(func() error {
		b := &Backend{Registry: registry}
		s, err := b.Begin(f)
		if err != nil {
			return err
		}
		defer s.Close()
		var loadErr error
		opt := table.ApplyOptions{NoFlush: true, Counters: counters, ReadChain: func(tbl, chain string) ([]*table.Rule, error) {
			reads = append(reads, tbl+"/"+chain)
			return s.Chain(tbl, chain)
		}}
		a := table.NewApplier(f, opt, func(name string) *table.Table {
			t, err := s.Table(name)
			if err != nil && loadErr == nil {
				loadErr = err
			}
			return t
		})
		err = format.ApplySource("partial", []byte(src), format.DecodeOptions{Family: f, Registry: registry}, a)
		if loadErr != nil {
			return loadErr
		}
		if err != nil {
			return err
		}
		rs := &table.Ruleset{Family: f}
		if err := a.Finish(rs); err != nil {
			return err
		}
		if hook != nil {
			hook()
		}
		return b.Commit(rs, kernel.CommitOptions{NoFlush: true, Counters: counters, Session: s})
	})
	return reads, err
}

// TestPartialNoFlush: a --noflush file applied to a table read in part
// ends where iptables-nft-restore --noflush ends, reading only the chains
// whose rules a command looks at; the state file, when fw wrote the
// table, stays exact.
func TestPartialNoFlush(t *testing.T) {
	needNft(t)
	kube := generated(t, 200, 0, false)
	cases := []struct {
		name, before, file string
		reads              []string // the chains whose rules are read
		// all says every chain the kernel has is read (which built-in
		// chains it has depends on who wrote the table).
		all      bool
		v6       bool
		counters bool // restore -c (and a state file is no use)
	}{
		{name: "declared chain replaced", before: incBase,
			file: "*filter\n:a - [0:0]\n-A a -j c\nCOMMIT\n"},
		{name: "append reads the chain", before: incBase,
			file: "*filter\n-A b -j DROP\nCOMMIT\n", reads: []string{"filter/b"}},
		{name: "delete by spec and number", before: incBase,
			file: "*filter\n-D INPUT -i lo -j ACCEPT\n-D a 2\nCOMMIT\n", reads: []string{"filter/INPUT", "filter/a"}},
		{name: "insert replace", before: incBase,
			file: "*filter\n-I INPUT 2 -s 1.2.3.4 -j DROP\n-R b 1 -j ACCEPT\nCOMMIT\n", reads: []string{"filter/INPUT", "filter/b"}},
		{name: "flush and policy", before: incBase,
			file: "*filter\n-F INPUT\n-P INPUT ACCEPT\n-A INPUT -j a\nCOMMIT\n"},
		{name: "flush all", before: incBase,
			file: "*filter\n-F\n-A OUTPUT -j DROP\nCOMMIT\n"},
		{name: "chain deleted after its jump went", before: incBase,
			file: "*filter\n:a - [0:0]\n:c - [0:0]\n-A a -j b\n-X c\nCOMMIT\n"},
		{name: "new chain in a second table", before: incBase,
			file: "*nat\n-N x\n-A x -j RETURN\n-A POSTROUTING -j x\nCOMMIT\n*filter\n-A INPUT -j b\nCOMMIT\n", reads: []string{"nat/POSTROUTING", "filter/INPUT"}},
		{name: "zero reads the whole table", before: incBase,
			file: "*filter\n-Z b\nCOMMIT\n", reads: []string{"filter/b", "filter/INPUT", "filter/a", "filter/c"}, all: true},
		{name: "rename reads the whole table", before: incBase,
			file: "*filter\n-E c d\nCOMMIT\n", reads: []string{"filter/INPUT", "filter/a", "filter/b", "filter/c"}, all: true},
		{name: "counters", before: incBase, counters: true,
			file: "*filter\n:INPUT DROP [3:4]\n:a - [0:0]\n[5:6] -A a -j c\n-A b -j DROP\nCOMMIT\n", reads: []string{"filter/b"}},
		{name: "kube-proxy partial sync", before: kube,
			file: partialFile(t, 200, 5, false)},
		{name: "kube-proxy partial sync v6", before: generated(t, 100, 0, true),
			file: partialFile(t, 100, 5, true), v6: true},
	}
	for _, tc := range cases {
		f := table.IPv4
		if tc.v6 {
			f = table.IPv6
		}
		for _, writer := range []string{"iptables-nft-restore", "fw"} {
			t.Run(tc.name+"/"+writer, func(t *testing.T) {
				ref := kerneltest.NewNetns(t)
				ours := kerneltest.NewNetns(t)
				refRestore(t, ref, f, tc.before)
				if writer == "fw" {
					// fw wrote the table: its state file describes it.
					if err := commitWith(ours, parse(t, "before", f, tc.before), kernel.CommitOptions{}); err != nil {
						t.Fatal(err)
					}
				} else {
					refRestore(t, ours, f, tc.before)
				}
				args := []string{"--noflush"}
				if tc.counters {
					args = append(args, "-c")
				}
				refRestore(t, ref, f, tc.file, args...)
				reads, err := partialRestore(ours, f, tc.file, tc.counters, nil)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(refSave(t, ref, f, "-c"), refSave(t, ours, f, "-c")); d != "" {
					t.Errorf("(-iptables-nft-restore +fw)\n%s", d)
				}
				if tc.all {
					// iptables-nft-restore made the empty built-in
					// chains too, fw did not.
					reads = slices.DeleteFunc(reads, func(s string) bool {
						return s == "filter/FORWARD" || s == "filter/OUTPUT"
					})
				}
				slices.Sort(reads)
				want := slices.Clone(tc.reads)
				slices.Sort(want)
				if !slices.Equal(want, reads) {
					t.Errorf("chains read: %q, want %q", reads, want)
				}
				// With -c the commit reads the kernel (in part), after
				// which no state file can describe it.
				if writer == "fw" && !tc.counters {
					checkState(t, ours, f)
				}
			})
		}
	}
}

// partialFile is kube-proxy's --noflush file for a change of change% of
// services.
func partialFile(t *testing.T, services int, change float64, v6 bool) string {
	t.Helper()
	var b strings.Builder
	if err := genrules.Write(&b, genrules.Options{Services: services, Seed: 7, Change: change, Partial: true, IPv6: v6}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPartialRefusals: what the file's own view of a table read in part
// cannot see, the kernel refuses, and the error names the line; nothing
// changes. A change by someone else after the table was read fails the
// restore; a whole-table commit of a table read in part is refused.
func TestPartialRefusals(t *testing.T) {
	needNft(t)
	for _, tc := range []struct {
		name, file, want string
	}{
		// a (not read) jumps to b.
		{"deleting a chain still jumped to", "*filter\n:b - [0:0]\n-X b\nCOMMIT\n", "partial:3: deletion of chain b"},
		// a (not read) jumps to b, so b -> a is a loop.
		{"a loop through a chain not read", "*filter\n:b - [0:0]\n-A b -j a\nCOMMIT\n", "partial:3:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := kerneltest.NewNetns(t)
			refRestore(t, ns, table.IPv4, incBase)
			before := refSave(t, ns, table.IPv4)
			_, err := partialRestore(ns, table.IPv4, tc.file, false, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q", err, tc.want)
			}
			if d := cmp.Diff(before, refSave(t, ns, table.IPv4)); d != "" {
				t.Errorf("the kernel changed (-before +after)\n%s", d)
			}
		})
	}
	t.Run("changed underneath", func(t *testing.T) {
		ns := kerneltest.NewNetns(t)
		refRestore(t, ns, table.IPv4, incBase)
		_, err := partialRestore(ns, table.IPv4, "*filter\n-A b -j DROP\nCOMMIT\n", false, func() {
			refRestore(t, ns, table.IPv4, "*filter\n-A c -j ACCEPT\nCOMMIT\n", "--noflush")
		})
		if !errors.Is(err, ErrRulesetChanged) {
			t.Fatalf("got %v, want ErrRulesetChanged", err)
		}
		if got := refSave(t, ns, table.IPv4); strings.Contains(got, "-A b -j DROP") || !strings.Contains(got, "-A c -j ACCEPT") {
			t.Errorf("the file was applied on top of another change:\n%s", got)
		}
	})
	t.Run("whole-table commit", func(t *testing.T) {
		ns := kerneltest.NewNetns(t)
		refRestore(t, ns, table.IPv4, incBase)
		err := ns.Do(func() error {
			b := &Backend{Registry: registry}
			s, err := b.Begin(table.IPv4)
			if err != nil {
				return err
			}
			defer s.Close()
			tb, err := s.Table("filter")
			if err != nil {
				return err
			}
			return b.Commit(&table.Ruleset{Family: table.IPv4, Tables: []*table.Table{tb}}, kernel.CommitOptions{Session: s})
		})
		if !errors.Is(err, kernel.ErrUnread) {
			t.Fatalf("got %v, want kernel.ErrUnread", err)
		}
	})
}
