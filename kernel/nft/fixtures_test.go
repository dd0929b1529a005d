package nft

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/table"
)

// TestFixtures (6): for each testdata/fixtures/*N.rules (N = 4 or 6), the
// expressions fw stores equal those iptables-nft-restore stores, as
// `nft --debug=netlink list ruleset` shows them: per chain, the same rules
// with the same expressions in the same order (handles aside), and every
// chain fw creates has the same type, hook, priority and policy. The
// reference creates every built-in chain the file declares, fw only those
// that need to exist (see Commit), so the reference may have more empty
// ACCEPT chains.
func TestFixtures(t *testing.T) {
	needNft(t)
	files, err := filepath.Glob("testdata/fixtures/*.rules")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".rules")
		f := table.IPv4
		if strings.HasSuffix(name, "6") {
			f = table.IPv6
		}
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			src := usable(t, f, stripComments(string(b)))
			refNS := kerneltest.NewNetns(t)
			refRestore(t, refNS, f, src)
			ref := nftDebug(t, refNS)
			ns := kerneltest.NewNetns(t)
			if err := fwCommit(ns, parse(t, file, f, src), false); err != nil {
				t.Fatal(err)
			}
			got := nftDebug(t, ns)
			if d := cmp.Diff(ref.rules, got.rules); d != "" {
				t.Errorf("rule expressions (-iptables-nft-restore +fw):\n%s", d)
			}
			for key, lines := range got.chains {
				if d := cmp.Diff(ref.chains[key], lines); d != "" {
					t.Errorf("%s (-iptables-nft-restore +fw):\n%s", key, d)
				}
			}
			for key, lines := range ref.chains {
				if _, ok := got.chains[key]; ok {
					continue
				}
				if len(lines) != 1 || !strings.HasSuffix(lines[0], "policy accept;") {
					t.Errorf("%s: fw did not create it:\n%s", key, strings.Join(lines, "\n"))
				}
			}
			// And both read back the same way.
			if d := cmp.Diff(refSave(t, refNS, f), refSave(t, ns, f)); d != "" {
				t.Errorf("iptables-nft-save (-reference +fw):\n%s", d)
			}
		})
	}
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// nftListing is `nft --debug=netlink list ruleset` cut into the rules'
// expression blocks per "family table chain" (handles dropped) and the
// chain blocks of the listing that follows.
type nftListing struct {
	rules  map[string][]string
	chains map[string][]string
}

func nftDebug(t *testing.T, ns *kerneltest.Netns) nftListing {
	t.Helper()
	r, err := ns.Run(nil, "nft", "--debug=netlink", "list", "ruleset")
	if err != nil || r.Code != 0 {
		t.Fatalf("nft list ruleset: %v %s", err, r.Stderr)
	}
	return parseDebug(r.Stdout)
}

func parseDebug(s string) nftListing {
	out := nftListing{rules: map[string][]string{}, chains: map[string][]string{}}
	lines := strings.Split(s, "\n")
	i := 0
	var key string
	var block []string
	flush := func() {
		if key != "" {
			out.rules[key] = append(out.rules[key], strings.Join(block, "\n"))
		}
		key, block = "", nil
	}
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "table "); i++ {
		l := lines[i]
		switch {
		case l == "":
			flush()
		case strings.HasPrefix(l, "  "):
			block = append(block, strings.TrimSpace(l))
		default:
			flush()
			f := strings.Fields(l)
			key = strings.Join(f[:min(3, len(f))], " ")
		}
	}
	flush()
	var tbl, chain string
	for ; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "table "):
			tbl = strings.TrimSuffix(l, " {")
		case strings.HasPrefix(l, "\tchain "):
			chain = tbl + " / " + strings.TrimSuffix(strings.TrimPrefix(l, "\t"), " {")
			out.chains[chain] = nil
		case l == "\t}":
			chain = ""
		case chain != "" && strings.TrimSpace(l) != "":
			out.chains[chain] = append(out.chains[chain], strings.TrimSpace(l))
		}
	}
	return out
}
