package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Targets every row shares (issue 7): fw/reference user CPU and peak RSS.
const (
	userTarget = 0.2
	rssTarget  = 0.5
)

// report prints the Markdown report: the sizes, the measured rows, the
// per-rule scaling table, what the marks mean, and the total time.
func report(w io.Writer, datasets []*dataset, results []*result, total time.Duration) {
	fmt.Fprintf(w, "## make bench: fw against the reference tools\n\n")
	fmt.Fprintf(w, "%s; %s; median of %d run(s) per figure; every command in one throwaway network namespace; fw/ref ratios, ✓ target met, ✗ missed.\n\n",
		time.Now().Format("2006-01-02 15:04"), machine(), *runsFlag)

	fmt.Fprintf(w, "| services | lines | rules | CHANGED: services changed | CHANGED: lines that differ |\n|---:|---:|---:|---:|---:|\n")
	for _, d := range datasets {
		fmt.Fprintf(w, "| %s | %s | %s | %g%% | %s |\n", num(int64(d.services)), num(int64(d.lines)), num(int64(d.rules)), d.change, num(int64(d.changedLines)))
	}
	fmt.Fprintf(w, "\nORIGINAL is `genrules.Write(Options{Services: N, Seed: %d})`; CHANGED the same with `Change: 1` (1%% of the services get new endpoints; "+
		"more when 1%% of a small ruleset happens to change nothing); rules are the `-A` command lines.\n\n", *seedFlag)

	fmt.Fprintf(w, "| row | services | lines | fw wall | ref wall | wall fw/ref | wall target | fw user | ref user | user fw/ref (target ≤%.1fx) | fw sys | ref sys | fw peak RSS | ref peak RSS | RSS fw/ref (target ≤%.1fx) | fw wall / kernel floor |\n", userTarget, rssTarget)
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range results {
		target := "—"
		if r.def.wallTarget > 0 {
			target = fmt.Sprintf("≤%.1fx", r.def.wallTarget)
			if r.def.targetNote != "" {
				target = r.def.targetNote
			}
		}
		printRow(w, r.def.title, r.data, r.fw, r.ref, r.def.wallTarget, target, r.def.floor)
		if r.def.altTitle != "" {
			printRow(w, r.def.altTitle, r.data, r.alt, r.ref, 0, "—", r.def.altFloor)
		}
	}

	fmt.Fprintf(w, "\n### Scaling: fw per rule\n\nfw's wall time in µs per rule and peak RSS in bytes per rule; flat across a row means cost linear in the ruleset.\n\n")
	fmt.Fprintf(w, "| row |")
	for _, d := range datasets {
		fmt.Fprintf(w, " %s svc (%s rules): µs/rule | B/rule |", num(int64(d.services)), num(int64(d.rules)))
	}
	fmt.Fprintf(w, "\n|---|")
	for range datasets {
		fmt.Fprintf(w, "---:|---:|")
	}
	fmt.Fprintln(w)
	type line struct {
		title string
		alt   bool
	}
	var lines []line
	seen := map[string]bool{}
	for _, r := range results {
		if !seen[r.def.id] {
			seen[r.def.id] = true
			lines = append(lines, line{r.def.title, false})
			if r.def.altTitle != "" {
				lines = append(lines, line{r.def.altTitle, true})
			}
		}
	}
	for _, l := range lines {
		fmt.Fprintf(w, "| %s |", l.title)
		for _, d := range datasets {
			s, ok := sampleFor(results, l.title, l.alt, d)
			switch {
			case !ok:
				fmt.Fprintf(w, " | |")
			case s.err != nil:
				fmt.Fprintf(w, " n/a | n/a |")
			default:
				fmt.Fprintf(w, " %.2f | %s |", float64(s.wall.Microseconds())/float64(d.rules), num(s.rss/int64(d.rules)))
			}
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "\nTargets (issue 7, fw/reference): parse-only wall ≤0.1x, legacy restore and save ≤0.4x, nft restore ≤0.6x, nft save ≤0.5x, "+
		"nft incremental at least 10x faster than the reference's full restore (≤0.1x), user CPU ≤%.1fx and peak RSS ≤%.1fx in every row. "+
		"The kernel floor of a restore row (and of legacy save, one IPT_SO_GET_ENTRIES per table in both tools) is max(ref sys, fw sys), named in the cell: the reference's system CPU is mostly the kernel's own work, "+
		"which fw cannot avoid either; rows where fw does less kernel work than the reference by design (incremental, re-apply) have none. "+
		"Start states: every row starts with both interfaces empty; legacy restore empties the tables and nft restore flushes the ruleset before every run; "+
		"the save and re-apply rows load ORIGINAL once with the reference tool; nft incremental puts ORIGINAL back with fw-restore --incremental before every run "+
		"(a user who re-applies with fw: fw finds the state file its last commit wrote and reads nothing back from the kernel), "+
		"nft incremental cold loads it with iptables-nft-restore (no state file: fw reads the tables back). "+
		"None of that is measured. The kernel splits a process's CPU time into user and system at clock-tick granularity, "+
		"so both are coarse for runs of a few tens of milliseconds (a ratio over 0 reads n/a).\n\n", userTarget, rssTarget)
	fmt.Fprintf(w, "Total bench time: %s.\n", total.Round(time.Second))
}

// printRow prints one table row; the wall target is checked when above 0.
func printRow(w io.Writer, title string, d *dataset, fw, ref sample, wallTarget float64, target string, floor bool) {
	c := []string{title, num(int64(d.services)), num(int64(d.lines))}
	switch {
	case fw.err != nil && ref.err != nil && fw.err.Error() == ref.err.Error():
		// The row could not be prepared: one message is enough.
		c = append(c, errCell(fw.err), "n/a", "n/a", target, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a")
	default:
		c = append(c, wallCell(fw), wallCell(ref),
			ratio(fw, ref, float64(fw.wall), float64(ref.wall), wallTarget), target,
			cell(fw, func(s sample) string { return dur(s.user) }), cell(ref, func(s sample) string { return dur(s.user) }),
			ratio(fw, ref, float64(fw.user), float64(ref.user), userTarget),
			cell(fw, func(s sample) string { return dur(s.sys) }), cell(ref, func(s sample) string { return dur(s.sys) }),
			cell(fw, func(s sample) string { return mib(s.rss) }), cell(ref, func(s sample) string { return mib(s.rss) }),
			ratio(fw, ref, float64(fw.rss), float64(ref.rss), rssTarget),
			floorCell(fw, ref, floor))
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(c, " | "))
}

// sampleFor finds the fw sample of a row (or its third figure) at a size.
func sampleFor(results []*result, title string, alt bool, d *dataset) (sample, bool) {
	for _, r := range results {
		if r.data != d {
			continue
		}
		if !alt && r.def.title == title {
			return r.fw, true
		}
		if alt && r.def.altTitle == title {
			return r.alt, true
		}
	}
	return sample{}, false
}

// wallCell is the first cell of a side: a failure (its first line of
// stderr) is said there, and the side's other cells read n/a.
func wallCell(s sample) string {
	if s.err != nil {
		return errCell(s.err)
	}
	return dur(s.wall)
}

// cell prints a figure of s, or n/a when s failed.
func cell(s sample, f func(sample) string) string {
	if s.err != nil {
		return "n/a"
	}
	return f(s)
}

func errCell(err error) string {
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:117] + "..."
	}
	return "n/a (error: " + strings.ReplaceAll(msg, "|", `\|`) + ")"
}

// ratio prints fw/ref with a met/missed mark when target > 0.
func ratio(fw, ref sample, a, b float64, target float64) string {
	switch {
	case fw.err != nil || ref.err != nil || b <= 0:
		return "n/a"
	}
	r := a / b
	s := fmt.Sprintf("%.2fx", r)
	if target > 0 {
		if r <= target {
			s += " ✓"
		} else {
			s += " ✗"
		}
	}
	return s
}

func floorCell(fw, ref sample, floor bool) string {
	if !floor {
		return "—"
	}
	if fw.err != nil || ref.err != nil {
		return "n/a"
	}
	f, which := ref.sys, "ref sys"
	if fw.sys > f {
		f, which = fw.sys, "fw sys"
	}
	if f <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fx (%s %s)", float64(fw.wall)/float64(f), which, dur(f))
}

// machine names what the figures were measured on, since they mean
// little without it.
func machine() string {
	cpu := ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	var u unix.Utsname
	kernel := "?"
	if unix.Uname(&u) == nil {
		kernel = unix.ByteSliceToString(u.Release[:])
	}
	ipt := "?"
	if out, err := exec.Command("iptables-legacy-restore", "--version").Output(); err == nil {
		ipt = strings.TrimSpace(string(out))
	}
	s := fmt.Sprintf("%d CPUs", runtime.NumCPU())
	if cpu != "" {
		s += " (" + cpu + ")"
	}
	return fmt.Sprintf("%s, Linux %s, %s, %s", s, kernel, ipt, runtime.Version())
}

func dur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// num groups thousands, as the README writes counts.
func num(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + num(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
