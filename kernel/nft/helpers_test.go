package nft

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

var registry = ext.Registry()

func nftTools(f table.Family) (restore, save string) {
	if f == table.IPv6 {
		return "ip6tables-nft-restore", "ip6tables-nft-save"
	}
	return "iptables-nft-restore", "iptables-nft-save"
}

func needNft(t *testing.T) {
	t.Helper()
	kerneltest.Need(t, "iptables-nft-restore", "iptables-nft-save", "ip6tables-nft-restore", "ip6tables-nft-save", "nft")
}

func encode(t testing.TB, rs *table.Ruleset, counters bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := format.Encode(&b, rs, format.EncodeOptions{Counters: counters}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// refRestore loads src with iptables-nft-restore in ns.
func refRestore(t testing.TB, ns *kerneltest.Netns, f table.Family, src string, args ...string) {
	t.Helper()
	restore, _ := nftTools(f)
	r, err := ns.Run([]byte(src), restore, args...)
	if err != nil || r.Code != 0 {
		t.Fatalf("%s: %v (exit %d) %s\ninput:\n%s", restore, err, r.Code, r.Stderr, src)
	}
}

// refSave is iptables-nft-save's output without its comment lines.
func refSave(t testing.TB, ns *kerneltest.Netns, f table.Family, args ...string) string {
	t.Helper()
	_, save := nftTools(f)
	r, err := ns.Run(nil, save, args...)
	if err != nil || r.Code != 0 {
		t.Fatalf("%s: %v (exit %d) %s", save, err, r.Code, r.Stderr)
	}
	return kerneltest.DropComments(r.Stdout)
}

func fwLoad(t testing.TB, ns *kerneltest.Netns, f table.Family, names []string) (*table.Ruleset, error) {
	t.Helper()
	return ns.Load(&Backend{Registry: registry}, f, names...)
}

func fwCommit(ns *kerneltest.Netns, rs *table.Ruleset, test bool) error {
	return ns.Do(func() error {
		return (&Backend{Registry: registry}).Commit(rs, kernel.CommitOptions{Test: test})
	})
}

func parse(t testing.TB, name string, f table.Family, src string) *table.Ruleset {
	t.Helper()
	rs, err := format.Load(name, []byte(src), format.LoadOptions{Family: f, Registry: registry})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rs
}

// usable keeps the rule lines of a restore file whose extensions fw can
// already encode (other extensions' codecs may still be in progress),
// and logs the rest.
func usable(t testing.TB, f table.Family, src string) string {
	t.Helper()
	var out, head []string
	for _, line := range strings.Split(strings.TrimSuffix(src, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			head = []string{line}
		case strings.HasPrefix(line, ":"):
			head = append(head, line)
		case strings.HasPrefix(line, "-A "):
			one := strings.Join(head, "\n") + "\n" + line + "\nCOMMIT\n"
			rs, err := format.Load("probe", []byte(one), format.LoadOptions{Family: f, Registry: registry})
			if err != nil {
				t.Fatalf("sample line %q: %v", line, err)
			}
			if why := missingPayload(rs); why != "" {
				t.Logf("skipping %q: %s", line, why)
				continue
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n") + "\n"
}

// missingPayload names an extension of rs that has no binary codec yet.
func missingPayload(rs *table.Ruleset) string {
	for _, tb := range rs.Tables {
		for _, c := range tb.Chains {
			for _, r := range c.Rules {
				for _, m := range r.Matches {
					if _, ok := m.(table.Payload); !ok {
						return "match " + m.Name() + " has no payload codec yet"
					}
				}
				if e, ok := r.Target.(table.Ext); ok {
					if _, ok := e.(table.Payload); !ok {
						return "target " + e.Name() + " has no payload codec yet"
					}
				}
			}
		}
	}
	return ""
}
