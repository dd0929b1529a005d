package kernel

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/kernel/legacy"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

const bootRules = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m set --match-set blocklist src -j DROP
-A INPUT -p tcp -m tcp --dport 22 -j SET --add-set seen src --exist
COMMIT
`

const bootSets = `create blocklist hash:net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x11223344
add blocklist 192.0.2.0/24
add blocklist 198.51.100.7
create seen hash:ip family inet hashsize 1024 maxelem 65536 timeout 600 bucketsize 12 initval 0x55667788
`

// restoreBoth restores sets and rules into ns as fw-restore does with a
// set file: sets first, the rules (fw's legacy backend) in between, as
// one change.
func restoreBoth(t *testing.T, ns *kerneltest.Netns, setsSrc, rulesSrc string) error {
	t.Helper()
	rs := loadRules(t, table.IPv4, rulesSrc)
	b := &legacy.Backend{Registry: ext.Registry(), LockWait: 30 * time.Second, LockFile: ns.LockFile}
	c := open(t, ns)
	var err error
	ns.Do(func() error {
		_, err = Restore(c, parse(t, setsSrc), RestoreOptions{Refs: RuleRefs(rs)}, func() error {
			return b.Commit(rs, kernel.CommitOptions{})
		})
		return nil
	})
	return err
}

// TestBootOrder restores a rules file that uses sets, with its set file,
// into an empty namespace in one call: the sets exist before the rules
// that name them are encoded. A file with a broken set, or rules that
// name a set nobody has, change nothing, sets or tables.
func TestBootOrder(t *testing.T) {
	kerneltest.Need(t, "ipset", "iptables-legacy-save")
	t.Run("empty namespace", func(t *testing.T) {
		ns := kerneltest.NewNetns(t)
		if err := restoreBoth(t, ns, bootSets, bootRules); err != nil {
			t.Fatal(err)
		}
		r, err := ns.Run(nil, "iptables-legacy-save")
		if err != nil {
			t.Fatal(err)
		}
		if got := kerneltest.DropComments(r.Stdout); got != bootRules {
			t.Errorf("rules (-want +got):\n%s", cmp.Diff(bootRules, got))
		}
		if got := run(t, ns, nil, "save"); got != bootSets {
			t.Errorf("sets (-want +got):\n%s", cmp.Diff(bootSets, got))
		}
	})
	for _, c := range []struct{ name, sets, rules, want string }{
		{"broken set", bootSets + "create later hash:net,port,net\n", bootRules, "hash:net,port,net"},
		{"missing set", strings.Replace(bootSets, "create seen", "create other", 1), bootRules, `set "seen" does not exist`},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := kerneltest.NewNetns(t)
			if c.name == "broken set" && kernelTypes(t, ns)["hash:net,port,net"] {
				t.Skip("this kernel has hash:net,port,net")
			}
			saveRules := func() string {
				r, err := ns.Run(nil, "iptables-legacy-save")
				if err != nil {
					t.Fatal(err)
				}
				return kerneltest.DropComments(r.Stdout)
			}
			rulesBefore, setsBefore := saveRules(), run(t, ns, nil, "save")
			err := restoreBoth(t, ns, c.sets, c.rules)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("restore: %v, want an error with %q", err, c.want)
			}
			if got := saveRules(); got != rulesBefore {
				t.Errorf("rules changed (-before +after):\n%s", cmp.Diff(rulesBefore, got))
			}
			if got := run(t, ns, nil, "save"); got != setsBefore {
				t.Errorf("sets changed (-before +after):\n%s", cmp.Diff(setsBefore, got))
			}
		})
	}
}

// TestSaveAndDiff: SaveSets with the references of the rules, and with
// all; DiffKernel against a changed file.
func TestSaveAndDiff(t *testing.T) {
	kerneltest.Need(t, "ipset", "iptables-legacy-save")
	ns := kerneltest.NewNetns(t)
	if err := restoreBoth(t, ns, bootSets+"create unused hash:ip\ncreate lst list:set\nadd lst unused\n", bootRules); err != nil {
		t.Fatal(err)
	}
	c := open(t, ns)
	r, err := ns.Run(nil, "iptables-legacy-save")
	if err != nil {
		t.Fatal(err)
	}
	var rs *table.Ruleset
	b := &legacy.Backend{Registry: ext.Registry(), LockWait: 30 * time.Second, LockFile: ns.LockFile}
	if rs, err = ns.Load(b, table.IPv4, "filter"); err != nil {
		t.Fatal(err, r.Stdout)
	}
	names := func(all bool) []string {
		sets, err := SaveSets(c, RuleRefs(rs), all)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, s := range sets {
			n = append(n, s.Name)
		}
		return n
	}
	if d := cmp.Diff([]string{"blocklist", "seen"}, names(false)); d != "" {
		t.Errorf("referenced sets (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"blocklist", "seen", "unused", "lst"}, names(true)); d != "" {
		t.Errorf("all sets (-want +got):\n%s", d)
	}
	changed := strings.Replace(bootSets, "add blocklist 198.51.100.7\n", "add blocklist 203.0.113.0/24\n", 1)
	cs, err := DiffKernel(c, parse(t, changed), []string{"blocklist", "seen"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range cs {
		got = append(got, ch.String())
	}
	want := []string{"-add blocklist 198.51.100.7", "+add blocklist 203.0.113.0/24"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("diff (-want +got):\n%s", d)
	}
}
