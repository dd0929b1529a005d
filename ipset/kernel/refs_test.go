package kernel

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/ipset"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

func loadRules(t *testing.T, f table.Family, src string) *table.Ruleset {
	t.Helper()
	rs, err := format.Load("rules.v4", []byte(src), format.LoadOptions{Family: f, Registry: ext.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

const refRules = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m set --match-set ok src -j DROP
-A INPUT -m set --match-set missing src -j DROP
-A INPUT -m set --match-set six src -j DROP
-A INPUT -m set --match-set pairs src -j DROP
-A INPUT -m set --match-set lists src,dst -j DROP
-A INPUT -j SET --add-set kernelonly src --exist
-A INPUT -m set --match-set pairs src,dst -j DROP
COMMIT
`

func TestCheckRefs(t *testing.T) {
	rs := loadRules(t, table.IPv4, refRules)
	refs := RuleRefs(rs)
	var names []string
	for _, r := range refs {
		names = append(names, r.Option+" "+r.Set)
	}
	want := []string{"--match-set ok", "--match-set missing", "--match-set six", "--match-set pairs",
		"--match-set lists", "--add-set kernelonly", "--match-set pairs"}
	if d := cmp.Diff(want, names); d != "" {
		t.Fatalf("refs (-want +got):\n%s", d)
	}
	file, err := ipset.Parse("sets", []byte(`create ok hash:ip
create six hash:ip family inet6
create pairs hash:ip,port
create tri hash:ip,port,ip
create lists list:set
add lists ok
add lists tri
`))
	if err != nil {
		t.Fatal(err)
	}
	kernel, err := ipset.Parse("kernel", []byte("create kernelonly hash:net\ncreate six hash:ip\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = CheckRefs(refs, file, kernel)
	if err == nil {
		t.Fatal("no error")
	}
	got := strings.Split(err.Error(), "\n")
	wantErrs := []string{
		`rules.v4:6:1: --match-set: set "missing" does not exist (hint: add the set to the set file, or create it first)`,
		`rules.v4:7:1: --match-set: set "six" is of family inet6, an inet rule never matches it`,
		`rules.v4:8:1: --match-set: set "pairs" is of type hash:ip,port with 2 parts, the rule gives 1 src/dst flags and never matches (hint: give 2 flags, such as src,dst)`,
		`rules.v4:9:1: --match-set: set "tri" (in list "lists") is of type hash:ip,port,ip with 3 parts, the rule gives 2 src/dst flags and never matches (hint: give 3 flags, such as src,dst,dst)`,
	}
	if d := cmp.Diff(wantErrs, got); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	all := append(append([]*ipset.Set{}, file...), kernel[0])
	var ref []string
	for _, s := range Referenced(refs, all) {
		ref = append(ref, s.Name)
	}
	if d := cmp.Diff([]string{"ok", "six", "pairs", "tri", "lists", "kernelonly"}, ref); d != "" {
		t.Errorf("referenced (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"missing"}, Missing(refs, all)); d != "" {
		t.Errorf("missing (-want +got):\n%s", d)
	}
}
