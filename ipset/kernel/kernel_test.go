package kernel

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/ipset"
	"github.com/fwkit/fw/kernel/kerneltest"
)

// open opens a Conn in ns.
func open(t *testing.T, ns *kerneltest.Netns) *Conn {
	t.Helper()
	var c *Conn
	if err := ns.Do(func() error {
		var err error
		c, err = Open()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func run(t *testing.T, ns *kerneltest.Netns, stdin []byte, args ...string) string {
	t.Helper()
	r, err := ns.Run(stdin, "ipset", args...)
	if err != nil || r.Code != 0 {
		t.Fatalf("ipset %s: %v %s", strings.Join(args, " "), err, r.Stderr)
	}
	return r.Stdout
}

// kernelTypes are the set types the kernel can create.
func kernelTypes(t *testing.T, ns *kerneltest.Netns) map[string]bool {
	t.Helper()
	ok := map[string]bool{}
	for _, name := range ipset.TypeNames() {
		args := []string{"create", "probe", name}
		if ipset.Types[name].Kind == ipset.Bitmap {
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
		if r.Code == 0 {
			ok[name] = true
			run(t, ns, nil, "destroy", "probe")
		} else if !strings.Contains(r.Stderr, "set type not supported") {
			t.Fatalf("ipset %s: %s", strings.Join(args, " "), r.Stderr)
		}
	}
	return ok
}

// goldenInput is one of the text package's golden inputs.
type goldenInput struct {
	name string
	src  []byte
	sets []*ipset.Set
}

// goldenInputs returns the golden inputs whose types the kernel has and
// the names of those it lacks.
func goldenInputs(t *testing.T, have map[string]bool) (in []goldenInput, lacking []string) {
	t.Helper()
	paths, _ := filepath.Glob("../testdata/text/*.in")
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sets, err := ipset.Parse(p, src)
		if err != nil {
			t.Fatal(err)
		}
		ok := true
		for _, s := range sets {
			ok = ok && have[s.Type.Name]
		}
		if ok {
			in = append(in, goldenInput{filepath.Base(p), src, sets})
		} else {
			lacking = append(lacking, filepath.Base(p))
		}
	}
	if len(in) == 0 {
		t.Fatal("no golden input uses only types this kernel has")
	}
	return in, lacking
}

// printSave is fw's save of the kernel's sets in ns: List, then Print.
func printSave(t *testing.T, c *Conn) string {
	t.Helper()
	sets, err := c.List("")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := ipset.Print(&b, sets); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// withoutForceadd drops forceadd, which fw writes and ipset save leaves
// out (see ipset.Print).
func withoutForceadd(s string) string { return strings.ReplaceAll(s, " forceadd", "") }

// sameSave compares fw's save with ipset's of the same kernel, taken
// around it: members' timeouts count down between the reads, so fw's
// must equal one of the two, or the one before with timeouts at most maxCountdown
// seconds lower.
func sameSave(t *testing.T, ns *kerneltest.Netns, c *Conn) (fw, ref string, ok bool) {
	t.Helper()
	for try := 0; try < 3; try++ {
		before := run(t, ns, nil, "save")
		fw = printSave(t, c)
		after := run(t, ns, nil, "save")
		f := withoutForceadd(fw)
		if f == before || f == after || timeoutsOnly(before, f) {
			return fw, before, true
		}
		ref = before
		if before != after {
			continue // a second passed during the reads
		}
		break
	}
	return fw, ref, false
}

// TestSaveOracle loads every golden input with ipset restore and checks
// that fw's save of the kernel is ipset save's, byte for byte.
func TestSaveOracle(t *testing.T) {
	kerneltest.Need(t, "ipset")
	probe := kerneltest.NewNetns(t)
	inputs, lacking := goldenInputs(t, kernelTypes(t, probe))
	t.Logf("lacking types, covered offline by ipset/wire: %v", lacking)
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			ns := kerneltest.NewNetns(t)
			run(t, ns, in.src, "restore")
			c := open(t, ns)
			fw, ref, ok := sameSave(t, ns, c)
			if !ok {
				t.Errorf("fw's save differs from ipset's (-ipset +fw):\n%s", cmp.Diff(ref, fw))
			}
		})
	}
}

// TestRestoreOracle restores ipset's save of every golden input with fw
// into an empty namespace and checks that ipset save there gives the
// same text, byte for byte: same definitions (initval included, so the
// same hash layout), same members in the same order.
func TestRestoreOracle(t *testing.T) {
	kerneltest.Need(t, "ipset")
	probe := kerneltest.NewNetns(t)
	inputs, _ := goldenInputs(t, kernelTypes(t, probe))
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			ref := kerneltest.NewNetns(t)
			run(t, ref, in.src, "restore")
			want := run(t, ref, nil, "save")
			sets, err := ipset.Parse("save", []byte(want))
			if err != nil {
				t.Fatal(err)
			}
			ns := kerneltest.NewNetns(t)
			c := open(t, ns)
			if _, err := Restore(c, sets, RestoreOptions{}, nil); err != nil {
				t.Fatal(err)
			}
			got := run(t, ns, nil, "save")
			if got != want && !timeoutsOnly(want, got) {
				t.Errorf("ipset save after fw's restore (-ipset's input +after fw):\n%s", cmp.Diff(want, got))
			}
		})
	}
}

// timeoutsOnly reports whether a and b differ only in members'
// timeouts, b's at most maxCountdown seconds below a's.
func timeoutsOnly(a, b string) bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) != len(lb) {
		return false
	}
	for i := range la {
		if la[i] == lb[i] {
			continue
		}
		wa, wb := strings.Fields(la[i]), strings.Fields(lb[i])
		if len(wa) != len(wb) {
			return false
		}
		for k := range wa {
			if wa[k] != wb[k] && (k == 0 || wa[k-1] != "timeout" || !closeNum(wa[k], wb[k])) {
				return false
			}
		}
	}
	return true
}

func closeNum(a, b string) bool {
	var x, y int
	for _, c := range a {
		x = x*10 + int(c-'0')
	}
	for _, c := range b {
		y = y*10 + int(c-'0')
	}
	return y <= x && x-y <= maxCountdown
}

// maxCountdown bounds how far timeouts count down between two reads of
// a set: reading 100,000 members twice on a busy 2-core machine has taken
// more than two seconds.
const maxCountdown = 30

// TestErrors checks the kernel's refusals as fw reports them: the member
// and where it is written.
func TestErrors(t *testing.T) {
	kerneltest.Need(t, "ipset")
	ns := kerneltest.NewNetns(t)
	c := open(t, ns)
	src := "create a hash:ip maxelem 4\nadd a 10.0.0.1\nadd a 10.0.0.2\n"
	sets, err := ipset.Parse("sets.txt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s := sets[0]
	if err := c.Create("a", s); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("a", s); err == nil || !strings.Contains(err.Error(), `create set "a": a set of that name already exists`) {
		t.Errorf("second create: %v", err)
	}
	if err := c.Add("a", s); err != nil {
		t.Fatal(err)
	}
	err = c.Add("a", s)
	want := `ipset: add set "a": member 10.0.0.1 (sets.txt:2:7): it already exists`
	if err == nil || err.Error() != want {
		t.Errorf("second add:\n got %v\nwant %s", err, want)
	}
	if _, err := c.List("nope"); err == nil || !strings.Contains(err.Error(), "set does not exist") {
		t.Errorf("list of a missing set: %v", err)
	}
	if err := c.Destroy("nope"); err == nil || !strings.Contains(err.Error(), `destroy set "nope": set does not exist`) {
		t.Errorf("destroy of a missing set: %v", err)
	}
	lacking := []string{}
	for _, name := range ipset.TypeNames() {
		if !kernelTypes(t, ns)[name] {
			lacking = append(lacking, name)
		}
	}
	if len(lacking) > 0 {
		x := &ipset.Set{Name: "x", Type: ipset.Types[lacking[0]], Family: ipset.FamilyInet}
		err := c.Create("x", x)
		if err == nil || !slices.ContainsFunc([]string{"set type not supported", "revisions"}, func(w string) bool { return strings.Contains(err.Error(), w) }) {
			t.Errorf("create of lacking type %s: %v", lacking[0], err)
		}
	}
}
