package kernel

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/ipset"
	"github.com/fwkit/fw/kernel/kerneltest"
)

// bigSet writes a set of type name with n members (a bitmap: as many as
// its range holds, up to n), with options and flags on every member.
func bigSet(name string, n int) string {
	t := ipset.Types[name]
	var b strings.Builder
	set := "big"
	ext := " timeout 3600 counters comment skbinfo"
	switch t.Kind {
	case ipset.Bitmap:
		if name == "bitmap:port" {
			fmt.Fprintf(&b, "create %s %s range 0-65535%s\n", set, name, ext)
		} else {
			fmt.Fprintf(&b, "create %s %s range 10.0.0.0/16%s\n", set, name, ext)
		}
		n = min(n, 65536)
	case ipset.List:
		fmt.Fprintf(&b, "create %s %s size %d%s\n", set, name, n, ext)
	default:
		fmt.Fprintf(&b, "create %s %s hashsize 65536 maxelem %d%s\n", set, name, 2*n, ext)
	}
	for i := 0; i < n; i++ {
		a, c, d := i>>16&0xff, i>>8&0xff, i&0xff
		ip := fmt.Sprintf("10.%d.%d.%d", a, c, d)
		var elem string
		switch name {
		case "bitmap:ip", "hash:ip":
			elem = ip
		case "bitmap:ip,mac", "hash:ip,mac":
			elem = fmt.Sprintf("%s,02:00:00:%02x:%02x:%02x", ip, a, c, d)
		case "bitmap:port":
			elem = fmt.Sprint(i)
		case "hash:mac":
			elem = fmt.Sprintf("02:00:00:%02x:%02x:%02x", a, c, d)
		case "hash:net":
			elem = ip + "/32"
		case "hash:net,net":
			elem = ip + ",192.0.2.0/24"
		case "hash:ip,port", "hash:net,port":
			elem = fmt.Sprintf("%s,tcp:%d", ip, 1+i%1000)
		case "hash:ip,port,ip":
			elem = fmt.Sprintf("%s,udp:53,192.0.2.%d", ip, i%250+1)
		case "hash:ip,port,net", "hash:net,port,net":
			elem = fmt.Sprintf("%s,tcp:443,198.51.%d.0/24", ip, i%250)
		case "hash:ip,mark":
			elem = fmt.Sprintf("%s,0x%x", ip, i)
		case "hash:net,iface":
			elem = fmt.Sprintf("%s,eth%d", ip, i%10)
		case "list:set":
			elem = fmt.Sprintf("m%d", i)
		}
		fmt.Fprintf(&b, "add %s %s timeout %d packets %d bytes %d comment \"member %d\" skbmark 0x%x skbprio 1:%x skbqueue %d\n",
			set, elem, 1800+i%1000, i, 60*i, i, i, i%100, i%64)
	}
	if t.Kind == ipset.List {
		var m strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&m, "create m%d hash:ip\n", i)
		}
		return m.String() + b.String()
	}
	return b.String()
}

// TestBigRoundTrip checks both round trips on a set of 100,000 members
// (a bitmap: 65,536; a list:set: 8) of every type this kernel has, with
// every extension on every member: ipset restore, then fw's save equals
// ipset save; fw's restore of that save, then ipset save equals it. It
// logs the time of each tool.
func TestBigRoundTrip(t *testing.T) {
	kerneltest.Need(t, "ipset")
	if testing.Short() {
		t.Skip("big sets")
	}
	probe := kerneltest.NewNetns(t)
	have := kernelTypes(t, probe)
	for _, name := range ipset.TypeNames() {
		if !have[name] {
			continue
		}
		t.Run(strings.ReplaceAll(name, ":", "_"), func(t *testing.T) {
			n := 100000
			if name == "list:set" {
				n = 8
			}
			src := []byte(bigSet(name, n))
			ref := kerneltest.NewNetns(t)
			start := time.Now()
			run(t, ref, src, "restore")
			ipsetRestore := time.Since(start)
			c := open(t, ref)
			fw, want, ok := sameSave(t, ref, c)
			if !ok {
				t.Fatalf("fw's save differs from ipset's (-ipset +fw):\n%s", firstLines(cmp.Diff(want, fw), 20))
			}
			start = time.Now()
			sets, err := c.List("")
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := ipset.Print(&out, sets); err != nil {
				t.Fatal(err)
			}
			fwSave := time.Since(start)
			start = time.Now()
			run(t, ref, nil, "save")
			ipsetSave := time.Since(start)

			ns := kerneltest.NewNetns(t)
			c2 := open(t, ns)
			start = time.Now()
			parsed, err := ipset.Parse("save", []byte(want))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Restore(c2, parsed, RestoreOptions{}, nil); err != nil {
				t.Fatal(err)
			}
			fwRestore := time.Since(start)
			got := run(t, ns, nil, "save")
			if got != want && !timeoutsOnly(want, got) {
				t.Fatalf("ipset save after fw's restore (-input +after):\n%s", firstLines(cmp.Diff(want, got), 20))
			}
			// Wall times in this process (fw: parse and restore, list
			// and print) against ipset's commands (with their start).
			t.Logf("%d members: restore ipset %v, fw %v; save ipset %v, fw %v",
				len(sets[len(sets)-1].Members), ipsetRestore.Round(time.Millisecond), fwRestore.Round(time.Millisecond),
				ipsetSave.Round(time.Millisecond), fwSave.Round(time.Millisecond))
		})
	}
}

func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}
