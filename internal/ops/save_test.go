package ops

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/fakekernel"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/diff"
)

// plainWriter cannot take back what it was given (it has no Reset).
type plainWriter struct{ b strings.Builder }

func (w *plainWriter) Write(p []byte) (int, error) { return w.b.Write(p) }

// TestSave: the kernel's tables in iptables-save form, whether the
// backend's reading may start again (the text is then taken back through
// the writer's Reset, or held until the reading is complete) or not.
func TestSave(t *testing.T) {
	for _, tc := range []struct {
		name     string
		restarts bool
		resets   bool // the writer has Reset
	}{
		{"one reading", false, false},
		{"reading again, writer resets", true, true},
		{"reading again, text held", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fk := &fakekernel.Backend{Restarts: tc.restarts}
			fk.Put(ruleset(t, table.IPv4, kernelBefore))
			opt := SaveOptions{Family: table.IPv4, Open: opener(fk), Tables: []string{"filter", "nat"}, Encode: format.EncodeOptions{Counters: true}}
			var got string
			if tc.resets {
				var b bytes.Buffer
				if err := Save(&b, opt); err != nil {
					t.Fatal(err)
				}
				got = b.String()
			} else {
				var w plainWriter
				if err := Save(&w, opt); err != nil {
					t.Fatal(err)
				}
				got = w.b.String()
			}
			if d := cmp.Diff(kernelBefore, got); d != "" {
				t.Errorf("save (-want +got):\n%s", d)
			}
		})
	}
	t.Run("one table", func(t *testing.T) {
		fk := &fakekernel.Backend{}
		fk.Put(ruleset(t, table.IPv4, kernelBefore))
		var b bytes.Buffer
		if err := Save(&b, SaveOptions{Family: table.IPv4, Open: opener(fk), Tables: []string{"nat"}}); err != nil {
			t.Fatal(err)
		}
		nat := kernelBefore[strings.Index(kernelBefore, "*nat"):]
		nat = strings.NewReplacer("[1:60] ", "", "[0:0] -A", "-A").Replace(nat)
		if d := cmp.Diff(nat, b.String()); d != "" {
			t.Errorf("save -t nat (-want +got):\n%s", d)
		}
	})
}

// TestDiff: two files, or a file against the kernel, compared by meaning.
func TestDiff(t *testing.T) {
	fk := &fakekernel.Backend{}
	fk.Put(ruleset(t, table.IPv4, kernelBefore))
	same := strings.Replace(kernelBefore, "-m addrtype --dst-type LOCAL", "-m addrtype --dst-type  LOCAL", 1)
	moved := strings.Replace(kernelBefore, "-A INPUT -i lo -j ACCEPT", "-A INPUT -i lo -j DROP", 1)
	read := files(map[string]string{"same": same, "moved": moved, "before": kernelBefore})
	for _, tc := range []struct {
		name    string
		opt     DiffOptions
		newName string
		changes []diff.Kind
	}{
		{"same meaning", DiffOptions{Old: "before", New: "same"}, "same", nil},
		{"a rule changed", DiffOptions{Old: "before", New: "moved"}, "moved", []diff.Kind{diff.RuleChanged}},
		{"only nat", DiffOptions{Old: "before", New: "moved", Table: "nat"}, "moved", nil},
		{"file against the kernel", DiffOptions{Old: "moved", Kernel: true}, "kernel (fake)", []diff.Kind{diff.RuleChanged}},
		{"counters count", DiffOptions{Old: "before", Kernel: true, Counters: true}, "kernel (fake)", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := tc.opt
			opt.Family, opt.Registry, opt.Read, opt.Open = table.IPv4, registry, read, opener(fk)
			res, err := Diff(opt)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []diff.Kind
			for _, c := range res.Changes {
				kinds = append(kinds, c.Kind)
			}
			if d := cmp.Diff(tc.changes, kinds); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			if res.NewName != tc.newName {
				t.Errorf("new side called %q, want %q", res.NewName, tc.newName)
			}
		})
	}
	t.Run("a file with errors", func(t *testing.T) {
		_, err := Diff(DiffOptions{Family: table.IPv4, Registry: registry, Old: "before", New: "missing", Read: read})
		if err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("got %v", err)
		}
	})
}
