// Command fwbench measures fw against the reference iptables tools side by
// side, in one run, on the same generated ruleset, inside a throwaway
// network namespace, and prints wall time, user and system CPU and peak
// memory of each, with fw/reference ratios. Each measurement is the median
// of -runs runs.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

type sample struct {
	wall, user, sys time.Duration
	rss             int64 // KiB
}

type row struct {
	name     string
	ours     []string
	ref      []string
	stdin    string // file fed to both
	setup    func() // run before every measurement of the row
	services int
	anyExit  bool // diff-like commands exit 1 on a difference
}

var (
	binDir   = flag.String("bin", "bin", "directory with fw binaries")
	sizes    = flag.String("services", "10000", "comma-separated service counts for the generated rulesets")
	runs     = flag.Int("runs", 3, "runs per measurement (median is reported)")
	genrules = flag.String("genrules", "", "path of the genrules binary")
)

func main() {
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "fwbench: needs root (it works in a throwaway network namespace)")
		os.Exit(1)
	}
	tmp, err := os.MkdirTemp("", "fwbench")
	must(err)
	defer os.RemoveAll(tmp)
	ns := fmt.Sprintf("fwbench-%d", os.Getpid())
	must(exec.Command("ip", "netns", "add", ns).Run())
	defer exec.Command("ip", "netns", "del", ns).Run()
	inNS := func(args ...string) []string { return append([]string{"ip", "netns", "exec", ns}, args...) }

	var rows []row
	for _, s := range strings.Split(*sizes, ",") {
		file := filepath.Join(tmp, "rules-"+s)
		out, err := exec.Command(*genrules, "-services", s).Output()
		must(err)
		must(os.WriteFile(file, out, 0o644))
		n := 0
		fmt.Sscan(s, &n)
		lines := bytes.Count(out, []byte("\n"))
		rows = append(rows,
			row{
				name:     fmt.Sprintf("legacy restore --test (%s svc, %d lines)", s, lines),
				ours:     inNS(filepath.Join(*binDir, "fw-restore"), "--backend", "legacy", "--test", file),
				ref:      inNS("iptables-legacy-restore", "--test", file),
				services: n,
			},
			row{
				name:     fmt.Sprintf("legacy restore (%s svc)", s),
				ours:     inNS(filepath.Join(*binDir, "fw-restore"), "--backend", "legacy", file),
				ref:      inNS("iptables-legacy-restore", file),
				services: n,
			},
			row{
				name:     fmt.Sprintf("legacy save (%s svc)", s),
				ours:     inNS(filepath.Join(*binDir, "fw-save"), "--backend", "legacy"),
				ref:      inNS("iptables-legacy-save"),
				setup:    func() { must(exec.Command("ip", "netns", "exec", ns, "iptables-legacy-restore", file).Run()) },
				services: n,
			},
			row{
				name:     fmt.Sprintf("nft restore (%s svc)", s),
				ours:     inNS(filepath.Join(*binDir, "fw-restore"), "--backend", "nft", file),
				ref:      inNS("iptables-nft-restore", file),
				services: n,
			},
			row{
				name:     fmt.Sprintf("nft save (%s svc)", s),
				ours:     inNS(filepath.Join(*binDir, "fw-save"), "--backend", "nft"),
				ref:      inNS("iptables-nft-save"),
				setup:    func() { must(exec.Command("ip", "netns", "exec", ns, "iptables-nft-restore", file).Run()) },
				services: n,
			},
		)
		// Diff of two rulesets that differ in 1% of services.
		changed := filepath.Join(tmp, "rules-changed-"+s)
		out2, err := exec.Command(*genrules, "-services", s, "-change", "1").Output()
		must(err)
		must(os.WriteFile(changed, out2, 0o644))
		rows = append(rows, row{
			name:     fmt.Sprintf("diff, 1%% changed (%s svc)", s),
			ours:     []string{filepath.Join(*binDir, "fw-diff"), "--format", "stat", file, changed},
			ref:      []string{"diff", "-u", file, changed},
			services: n,
			anyExit:  true,
		})
	}
	fmt.Printf("| row | fw wall | ref wall | ratio | fw user | ref user | ratio | fw sys | ref sys | fw peak RSS | ref peak RSS | ratio |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		ours := measure(r, r.ours)
		ref := measure(r, r.ref)
		fmt.Printf("| %s | %s | %s | %.2fx | %s | %s | %.2fx | %s | %s | %s | %s | %.2fx |\n", r.name,
			dur(ours.wall), dur(ref.wall), ratio(ours.wall, ref.wall),
			dur(ours.user), dur(ref.user), ratio(ours.user, ref.user),
			dur(ours.sys), dur(ref.sys),
			mib(ours.rss), mib(ref.rss), float64(ours.rss)/float64(max(ref.rss, 1)))
	}
}

func measure(r row, argv []string) sample {
	var ss []sample
	for i := 0; i < *runs; i++ {
		if r.setup != nil {
			r.setup()
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		if r.stdin != "" {
			f, err := os.Open(r.stdin)
			must(err)
			cmd.Stdin = f
			defer f.Close()
		}
		var errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = nil, &errb
		start := time.Now()
		err := cmd.Run()
		wall := time.Since(start)
		if _, isExit := err.(*exec.ExitError); err != nil && !(r.anyExit && isExit && cmd.ProcessState.ExitCode() == 1) {
			fmt.Fprintf(os.Stderr, "fwbench: %s: %v\n%s", strings.Join(argv, " "), err, errb.String())
			os.Exit(1)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		ss = append(ss, sample{wall, time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), ru.Maxrss})
	}
	sort.Slice(ss, func(i, j int) bool { return ss[i].wall < ss[j].wall })
	return ss[len(ss)/2]
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(max(b, 1)) }
func dur(d time.Duration) string       { return fmt.Sprintf("%.3fs", d.Seconds()) }
func mib(kib int64) string             { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "fwbench:", err)
		os.Exit(1)
	}
}
