package ipset

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/kernel/kerneltest"
)

// kernelTypes returns the set types the kernel in ns can create: some
// kernels are built without some types ("set type not supported").
func kernelTypes(t *testing.T, ns *kerneltest.Netns) map[string]bool {
	t.Helper()
	ok := map[string]bool{}
	for _, name := range TypeNames() {
		args := []string{"create", "probe", name}
		switch Types[name].Kind {
		case Bitmap:
			if name == "bitmap:port" {
				args = append(args, "range", "1-2")
			} else {
				args = append(args, "range", "10.0.0.0/30")
			}
		}
		r, err := ns.Run(nil, "ipset", args...)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case r.Code == 0:
			ok[name] = true
			if r, err := ns.Run(nil, "ipset", "destroy", "probe"); err != nil || r.Code != 0 {
				t.Fatalf("ipset destroy probe: %v %s", err, r.Stderr)
			}
		case strings.Contains(r.Stderr, "set type not supported"):
		default:
			t.Fatalf("ipset %s: %s", strings.Join(args, " "), r.Stderr)
		}
	}
	return ok
}

// comparableSave turns save output into what two saves of the same sets
// share: the sets in their order, each set's add lines sorted (a hash
// lists its members in the order of its buckets) but a list:set's.
func comparableSave(s string) [][]string {
	var sets [][]string
	for _, l := range strings.SplitAfter(s, "\n") {
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "create ") {
			sets = append(sets, []string{l})
			continue
		}
		if len(sets) == 0 {
			sets = append(sets, nil)
		}
		sets[len(sets)-1] = append(sets[len(sets)-1], l)
	}
	for _, b := range sets {
		if len(b) > 1 && !strings.Contains(b[0], " list:set") {
			sort.Strings(b[1:])
		}
	}
	return sets
}

// alignSaves makes ref's lines equal to want's where they differ only as
// two listings of the same sets a moment apart differ: a member's
// remaining timeout (counting down from what was added, at most slack
// seconds) and, where want gives none, the random initval the kernel
// picked.
func alignSaves(want, ref [][]string, slack int) {
	for i := range ref {
		if i >= len(want) {
			return
		}
		for j := range ref[i] {
			if j >= len(want[i]) {
				break
			}
			if j == 0 && !strings.Contains(want[i][0], " initval ") {
				ref[i][0] = dropInitval(ref[i][0])
			}
			if closeTimeouts(want[i][j], ref[i][j], slack) {
				ref[i][j] = want[i][j]
			}
		}
	}
}

func dropInitval(l string) string {
	i := strings.Index(l, " initval 0x")
	if i < 0 {
		return l
	}
	return l[:i] + l[i+len(" initval 0x")+8:]
}

// closeTimeouts reports whether add lines a and b differ only in the
// member's timeout, b's at most slack seconds below a's.
func closeTimeouts(a, b string, slack int) bool {
	wa, wb := strings.Fields(a), strings.Fields(b)
	if len(wa) != len(wb) || wa[0] != "add" {
		return false
	}
	for k := range wa {
		if wa[k] == wb[k] {
			continue
		}
		if k == 0 || wa[k-1] != "timeout" {
			return false
		}
		x, err1 := strconv.Atoi(wa[k])
		y, err2 := strconv.Atoi(wb[k])
		if err1 != nil || err2 != nil || y > x || x-y > slack {
			return false
		}
	}
	return true
}

// TestOracleText restores every golden input with ipset and compares
// ipset's save with fw's canonical form of the input: the parser reads
// what ipset reads and makes the elements the kernel stores, and the
// printer writes what ipset writes. fw writes forceadd, which ipset
// leaves out (see Print), so the golden inputs with it are compared
// without it.
func TestOracleText(t *testing.T) {
	kerneltest.Need(t, "ipset")
	ins, _ := filepath.Glob("testdata/text/*.in")
	probe := kerneltest.NewNetns(t)
	have := kernelTypes(t, probe)
	compared := 0
	for _, in := range ins {
		src, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		sets, err := Parse(in, src)
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		for _, s := range sets {
			if !have[s.Type.Name] && !slices.Contains(missing, s.Type.Name) {
				missing = append(missing, s.Type.Name)
			}
		}
		if len(missing) > 0 {
			t.Logf("%s: this kernel lacks %s; covered by the codec's offline tests", in, strings.Join(missing, ", "))
			continue
		}
		compared++
		ns := kerneltest.NewNetns(t)
		r, err := ns.Run(src, "ipset", "restore")
		if err != nil || r.Code != 0 {
			t.Fatalf("%s: ipset restore: %v %s", in, err, r.Stderr)
		}
		r, err = ns.Run(nil, "ipset", "save")
		if err != nil || r.Code != 0 {
			t.Fatalf("%s: ipset save: %v %s", in, err, r.Stderr)
		}
		ours := strings.ReplaceAll(printSets(t, sets), " forceadd", "")
		want, ref := comparableSave(ours), comparableSave(r.Stdout)
		alignSaves(want, ref, 3)
		if d := cmp.Diff(want, ref); d != "" {
			t.Errorf("%s: fw's canonical form differs from ipset's save (-fw +ipset):\n%s", in, d)
		}
	}
	if compared == 0 {
		t.Fatal("no golden input uses only types this kernel has")
	}
}

// TestOracleBadInputs checks the annotations of the bad inputs against
// ipset restore: it refuses every file but those marked as accepted.
func TestOracleBadInputs(t *testing.T) {
	kerneltest.Need(t, "ipset")
	for _, p := range badInputs(t) {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		_, refAccepts := badExpectations(src)
		ns := kerneltest.NewNetns(t)
		r, err := ns.Run(src, "ipset", "restore")
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case refAccepts && r.Code != 0:
			t.Errorf("%s: marked 'reference: accepts' but ipset refuses it: %s", p, r.Stderr)
		case !refAccepts && r.Code == 0:
			t.Errorf("%s: ipset accepts it; mark it '# reference: accepts' if fw refuses it on purpose", p)
		}
	}
}
