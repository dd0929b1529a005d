package kernel

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/ipset"
	"github.com/fwkit/fw/kernel/kerneltest"
)

func parse(t *testing.T, src string) []*ipset.Set {
	t.Helper()
	sets, err := ipset.Parse("sets.txt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

func actions(p *Plan) string {
	var l []string
	for _, st := range p.Steps {
		l = append(l, st.Set.Name+":"+st.Action.String())
	}
	return strings.Join(l, " ")
}

// saveNoInitval is ipset save without the random initval of sets
// created without one.
func saveNoInitval(t *testing.T, ns *kerneltest.Netns) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(run(t, ns, nil, "save"), "\n") {
		b.WriteString(dropInitval(l))
	}
	return b.String()
}

func dropInitval(l string) string {
	i := strings.Index(l, " initval 0x")
	if i < 0 {
		return l
	}
	return l[:i] + l[i+len(" initval 0x")+8:]
}

// TestRestoreActions restores a file over a kernel that has some of its
// sets: kept, created, swapped (members or a swappable option changed,
// while a rule uses the set), recreated (type changed, unused), pruned
// and kept by Prune because a rule uses it; then the kernel's sets are
// the file's, the rule still uses the swapped set, and nothing of fw's
// temporaries is left.
func TestRestoreActions(t *testing.T) {
	kerneltest.Need(t, "ipset", "iptables-legacy")
	ns := kerneltest.NewNetns(t)
	run(t, ns, []byte(`create same hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x01020304
add same 10.0.0.1
create swapped hash:net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x01020304
add swapped 10.1.0.0/16
create retyped hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x01020304
add retyped 10.2.0.1
create unused hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x01020304
create used hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x01020304
`), "restore")
	for _, rule := range [][]string{
		{"-A", "INPUT", "-m", "set", "--match-set", "swapped", "src", "-j", "DROP"},
		{"-A", "INPUT", "-m", "set", "--match-set", "used", "src", "-j", "DROP"},
	} {
		if r, err := ns.Run(nil, "iptables-legacy", rule...); err != nil || r.Code != 0 {
			t.Fatalf("iptables-legacy: %v %s", err, r.Stderr)
		}
	}
	file := `create same hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x01020304
add same 10.0.0.1
create swapped hash:net family inet hashsize 1024 maxelem 1000 bucketsize 12 initval 0x01020304
add swapped 10.1.0.0/24
add swapped 10.9.0.0/16
create retyped hash:net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x01020304
add retyped 10.2.0.0/24
create fresh list:set size 8
add fresh same
`
	c := open(t, ns)
	p, err := Restore(c, parse(t, file), RestoreOptions{Prune: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := actions(p), "same:keep swapped:swap retyped:recreate fresh:create unused:destroy"; got != want {
		t.Errorf("actions\n got %s\nwant %s", got, want)
	}
	if d := cmp.Diff([]string{"used"}, p.Kept); d != "" {
		t.Errorf("kept (-want +got):\n%s", d)
	}
	want := file + "create used hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x01020304\n"
	// ipset save lists by index, list:sets last: the kernel's order.
	got := run(t, ns, nil, "save")
	if d := cmp.Diff(sortBlocks(want), sortBlocks(got)); d != "" {
		t.Errorf("sets after the restore (-want +got):\n%s", d)
	}
	r, err := ns.Run(nil, "ipset", "list", "swapped")
	if err != nil || !strings.Contains(r.Stdout, "References: 1") {
		t.Errorf("the rule no longer refers to the swapped set:\n%s %v", r.Stdout, err)
	}
}

// sortBlocks sorts the sets of a save by name, each with its lines, for
// comparisons where the kernel's index order does not matter.
func sortBlocks(s string) []string {
	var blocks []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(l, "create ") || len(blocks) == 0 {
			blocks = append(blocks, "")
		}
		blocks[len(blocks)-1] += l
	}
	for i := range blocks {
		lines := strings.SplitAfter(blocks[i], "\n")
		if len(lines) > 2 {
			body := lines[1:]
			sortStrings(body)
			blocks[i] = lines[0] + strings.Join(body, "")
		}
	}
	sortStrings(blocks)
	return blocks
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestRestoreRefused: a set whose type changes while a rule uses it is
// refused before anything changes.
func TestRestoreRefused(t *testing.T) {
	kerneltest.Need(t, "ipset", "iptables-legacy")
	ns := kerneltest.NewNetns(t)
	run(t, ns, nil, "create", "x", "hash:ip")
	run(t, ns, nil, "create", "y", "hash:ip")
	if r, err := ns.Run(nil, "iptables-legacy", "-A", "INPUT", "-m", "set", "--match-set", "x", "src", "-j", "DROP"); err != nil || r.Code != 0 {
		t.Fatalf("iptables-legacy: %v %s", err, r.Stderr)
	}
	before := run(t, ns, nil, "save")
	c := open(t, ns)
	_, err := Restore(c, parse(t, "create y hash:ip\nadd y 10.0.0.1\ncreate x hash:net\n"), RestoreOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), `set "x" is hash:ip inet in the kernel and hash:net inet in the file, and 1 references`) {
		t.Errorf("restore: %v", err)
	}
	if after := run(t, ns, nil, "save"); after != before {
		t.Errorf("sets changed (-before +after):\n%s", cmp.Diff(before, after))
	}
}

// TestRestoreRollback: when the rules cannot be loaded, or a set cannot
// be built, the sets are put back as they were: created ones destroyed,
// swapped ones swapped back, recreated ones renamed back.
func TestRestoreRollback(t *testing.T) {
	kerneltest.Need(t, "ipset")
	for _, c := range []struct {
		name, file string
		rules      error
		want       string
	}{
		{"rules fail", "create a hash:ip\nadd a 10.0.0.2\ncreate b hash:net\ncreate n hash:ip\nadd n 10.0.0.9\ncreate l list:set\nadd l n\n",
			fmt.Errorf("table filter refused"), "table filter refused"},
		{"set type lacking", "create a hash:ip\nadd a 10.0.0.2\ncreate n hash:ip\ncreate m hash:net,port,net\n",
			nil, "hash:net,port,net"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := kerneltest.NewNetns(t)
			run(t, ns, []byte("create a hash:ip\nadd a 10.0.0.1\ncreate b hash:ip\nadd b 10.0.0.1\n"), "restore")
			if c.name == "set type lacking" && kernelTypes(t, ns)["hash:net,port,net"] {
				t.Skip("this kernel has hash:net,port,net")
			}
			before := run(t, ns, nil, "save")
			conn := open(t, ns)
			called := false
			_, err := Restore(conn, parse(t, c.file), RestoreOptions{}, func() error { called = true; return c.rules })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("restore: %v, want an error with %q", err, c.want)
			}
			if called != (c.rules != nil) {
				t.Errorf("rules called: %v", called)
			}
			if after := run(t, ns, nil, "save"); after != before {
				t.Errorf("sets changed (-before +after):\n%s", cmp.Diff(before, after))
			}
		})
	}
}

// TestSwapNeverPartial replaces a set of 100,000 members by another of
// 100,000 while a reader lists it again and again: every listing holds
// all of the old members or all of the new ones, never an empty or a
// partly filled set.
func TestSwapNeverPartial(t *testing.T) {
	kerneltest.Need(t, "ipset")
	ns := kerneltest.NewNetns(t)
	const n = 100000
	gen := func(second byte) string {
		var b strings.Builder
		b.WriteString("create big hash:ip family inet hashsize 65536 maxelem 262144\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "add big %d.%d.%d.%d\n", second, i>>16, i>>8&0xff, i&0xff)
		}
		return b.String()
	}
	run(t, ns, []byte(gen(1)), "restore")
	c := open(t, ns)
	reader := open(t, ns)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var listings, oldSeen, newSeen int
	var bad []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			sets, err := reader.List("big")
			if err != nil {
				bad = append(bad, err.Error())
				return
			}
			s := sets[0]
			listings++
			second := s.Members[0].IP[0]
			for _, m := range s.Members {
				if m.IP[0] != second {
					bad = append(bad, "a listing mixes old and new members")
					break
				}
			}
			switch {
			case len(s.Members) != n:
				bad = append(bad, fmt.Sprintf("a listing holds %d members", len(s.Members)))
			case second == 1:
				oldSeen++
			case second == 2:
				newSeen++
			}
		}
	}()
	_, err := Restore(c, parse(t, gen(2)), RestoreOptions{}, nil)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("%d listings; wrong ones: %v", listings, bad[:min(len(bad), 5)])
	}
	t.Logf("%d listings during the restore: %d of the old set, %d of the new", listings, oldSeen, newSeen)
	if oldSeen == 0 {
		t.Errorf("no listing of the old set while the new one was built: the test saw nothing")
	}
	if names := run(t, ns, nil, "list", "-n"); names != "big\n" {
		t.Errorf("sets left: %q", names)
	}
}
