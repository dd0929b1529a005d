package format_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

// FuzzCanonical checks the canonical fixpoint: whatever input loads, its
// canonical output loads again and prints identically.
func FuzzCanonical(f *testing.F) {
	paths, _ := filepath.Glob("../testdata/rulesets/*.rules")
	for _, p := range paths {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src, filepath.Ext(p) == ".v6.rules")
		}
	}
	f.Add([]byte("*filter\n-A INPUT -p tcp --dport 22 -m comment --comment \"x\\\"y\" -j ACCEPT\nCOMMIT\n"), false)
	reg := ext.Registry()
	f.Fuzz(func(t *testing.T, src []byte, v6 bool) {
		fam := table.IPv4
		if v6 {
			fam = table.IPv6
		}
		opt := format.LoadOptions{Family: fam, Registry: reg}
		rs, err := format.Load("fuzz", src, opt)
		if err != nil {
			return
		}
		var one bytes.Buffer
		if err := format.Encode(&one, rs, format.EncodeOptions{}); err != nil {
			t.Fatal(err)
		}
		// Restoring a save makes the legacy kernel list the tables in the
		// opposite order, so compare with the tables in a fixed order.
		byName(rs)
		rs2, err := format.Load("canonical", bytes.Clone(one.Bytes()), opt)
		if err != nil {
			t.Fatalf("canonical output does not load: %v\ninput:\n%s\noutput:\n%s", err, src, one.Bytes())
		}
		byName(rs2)
		one.Reset()
		format.Encode(&one, rs, format.EncodeOptions{})
		var two bytes.Buffer
		format.Encode(&two, rs2, format.EncodeOptions{})
		if one.String() != two.String() {
			t.Fatalf("not a fixpoint:\n%s\n---\n%s", one.Bytes(), two.Bytes())
		}
	})
}

func byName(rs *table.Ruleset) {
	sort.Slice(rs.Tables, func(i, j int) bool { return rs.Tables[i].Name < rs.Tables[j].Name })
}
