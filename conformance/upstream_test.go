package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

// TestUpstream runs the cases of iptables' own extensions/*.t files (from a
// checkout named by FW_UPSTREAM_T; they are not part of this repository)
// through fw and through the installed reference tools, and reports per
// file how many cases agree. The files come from a newer iptables; where
// their expected column disagrees with 1.8.9, the installed tool is right,
// so only the live reference is compared. FW_UPSTREAM_ONLY limits the run
// to a comma-separated list of file names.
func TestUpstream(t *testing.T) {
	dir := os.Getenv("FW_UPSTREAM_T")
	if dir == "" {
		t.Skip("FW_UPSTREAM_T is not set")
	}
	kerneltest.Need(t, "iptables-legacy-restore", "iptables-legacy-save", "ip6tables-legacy-restore", "ip6tables-legacy-save")
	files, _ := filepath.Glob(filepath.Join(dir, "lib*.t"))
	ns := kerneltest.NewNetns(t)
	reg := ext.Registry()
	strict := map[string]bool{}
	kernelOnly := map[string]bool{} // refused by the reference for want of kernel state
	corpora, err := Load(*corpusDir, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpora {
		for _, cs := range c.Cases {
			if cs.Expect == Strict {
				strict[cs.Rule] = true
			}
			if cs.Kernel {
				kernelOnly[cs.Rule] = true
			}
		}
	}
	var report []string
	total, totalPass := 0, 0
	onlyT := os.Getenv("FW_UPSTREAM_ONLY")
	for _, path := range files {
		base := filepath.Base(path)
		if onlyT != "" && !strings.Contains(","+onlyT+",", ","+base+",") {
			continue
		}
		var fams []table.Family
		switch {
		case strings.HasPrefix(base, "libipt_"):
			fams = []table.Family{table.IPv4}
		case strings.HasPrefix(base, "libip6t_"):
			fams = []table.Family{table.IPv6}
		case strings.HasPrefix(base, "libxt_"):
			fams = []table.Family{table.IPv4, table.IPv6}
		default:
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		tbl := "filter"
		var chains []string
		n, pass, skipped, strictN := 0, 0, 0, 0
		for i, line := range strings.Split(string(src), "\n") {
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
				continue
			case strings.HasPrefix(line, "*"):
				tbl = line[1:]
				continue
			case strings.HasPrefix(line, ":"):
				chains = strings.Split(line[1:], ",")
				continue
			case strings.HasPrefix(line, "@"):
				continue
			}
			parts := strings.Split(line, ";")
			if len(parts) < 3 {
				continue
			}
			for _, chain := range chains {
				for _, fam := range fams {
					cs := &Case{File: base, Line: i + 1, Family: fam, Table: tbl, Chain: chain, Rule: parts[0]}
					want, refOK, stderr := refRules(t, ns, cs, fam)
					got, _, fwErr := fwRules(cs, fam, reg)
					n++
					switch {
					case refOK && fwErr == nil && strings.Join(want, "\n") == strings.Join(got, "\n"):
						pass++
					case !refOK && fwErr != nil:
						pass++
					case refOK && fwErr != nil && strict[cs.Rule]:
						pass++
						strictN++
					case !refOK && (kernelState(stderr) || kernelOnly[cs.Rule]):
						skipped++
						n--
					default:
						msg := fmt.Sprintf("%s:%d %s/%s %s: %s", base, i+1, tbl, chain, fam, parts[0])
						if refOK {
							msg += fmt.Sprintf("\n\treference: %q", want)
						} else {
							msg += "\n\treference refused: " + strings.TrimSpace(stderr)
						}
						if fwErr != nil {
							msg += "\n\tfw refused: " + fwErr.Error()
						} else {
							msg += fmt.Sprintf("\n\tfw:        %q", got)
						}
						t.Error(msg)
					}
				}
			}
		}
		total += n
		totalPass += pass
		report = append(report, fmt.Sprintf("%-28s %4d/%-4d (%d refused on purpose, %d skipped for kernel state)", base, pass, n, strictN, skipped))
	}
	sort.Strings(report)
	t.Logf("upstream .t cases, fw agrees with iptables-legacy 1.8.9:\n%s\nTOTAL %d/%d", strings.Join(report, "\n"), totalPass, total)
}

// kernelState recognises refusals that come from what the kernel or the
// system has (a missing module, set, accounting object, label file), not
// from the rule text.
func kernelState(stderr string) bool {
	for _, s := range []string{"No such file or directory", "Set ", "doesn't exist", "nfacct", "connlabel", "No chain/target/match by that name", "Could not open", "missing kernel module"} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}
