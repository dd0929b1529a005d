// Command fwbench measures fw against the reference iptables tools side by
// side, in one run, on kube-proxy-like rulesets of several sizes generated
// by internal/genrules, inside a throwaway network namespace, and prints a
// Markdown report on stdout (progress goes to stderr): wall time, user and
// system CPU and peak memory of each tool, fw/reference ratios checked
// against the targets of issue 7, fw's wall time as a multiple of the
// kernel's own work, and fw's cost per rule at every size so that a cost
// that grows faster than the ruleset shows. Each figure is the median of
// -runs runs. make bench runs it through scripts/bench.sh.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fwkit/fw/internal/genrules"
)

// The environment gives the defaults so that "BENCH_ROWS=nft make bench"
// works without touching the Makefile; flags still win.
var (
	binDir    = flag.String("bin", "bin", "directory with the fw binaries (fw-restore, fw-save, fw-diff)")
	sizesFlag = flag.String("services", envOr("BENCH_SERVICES", "100,1000,10000"), "comma-separated service counts of the generated rulesets, about 12 lines each (env BENCH_SERVICES)")
	runsFlag  = flag.Int("runs", envInt("BENCH_RUNS", 3), "runs per measurement; the median is reported (env BENCH_RUNS)")
	rowsFlag  = flag.String("rows", os.Getenv("BENCH_ROWS"), "regexp selecting rows by id: "+strings.Join(rowIDs(), ", ")+"; empty: all (env BENCH_ROWS)")
	seedFlag  = flag.Uint64("seed", 1, "generator seed")
	timeout   = flag.Duration("timeout", 5*time.Minute, "limit for one command; a command that takes longer counts as an error")
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// dataset is one generated ruleset and its 1%-changed twin.
type dataset struct {
	services     int
	file         string // ORIGINAL
	changed      string // CHANGED: 1% of the services get new endpoints
	partial      string // PARTIAL: kube-proxy's --noflush file from ORIGINAL to CHANGED
	lines, rules int    // of ORIGINAL; rules are its -A command lines
	changedLines int    // lines of CHANGED that ORIGINAL does not have
	change       float64
}

// sample is one run of one command, or the median of several.
type sample struct {
	wall, user, sys time.Duration
	rss             int64 // bytes
	err             error
}

// result is one measured row at one size.
type result struct {
	def          *rowDef
	data         *dataset
	fw, ref, alt sample
}

// running is the command being run, killed when fwbench is interrupted
// so that nothing keeps working in the deleted namespace.
var running struct {
	sync.Mutex
	p *os.Process
}

// absBin is the directory of the fw binaries, for setup steps.
var absBin string

// bench holds what every command needs.
type bench struct {
	bin     string
	self    string // this executable, the launcher of every command
	env     []string
	devnull *os.File
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == measureArg {
		os.Exit(measureChild(os.Args[2:]))
	}
	flag.Parse()
	start := time.Now()
	if os.Geteuid() != 0 {
		fatal(errors.New("needs root (it works in a throwaway network namespace)"))
	}
	if *runsFlag < 1 {
		fatal(fmt.Errorf("-runs %d: need at least 1", *runsFlag))
	}
	sel, err := regexp.Compile(*rowsFlag)
	if err != nil {
		fatal(fmt.Errorf("-rows: %v", err))
	}
	selected := 0
	for _, id := range rowIDs() {
		if sel.MatchString(id) {
			selected++
		}
	}
	if selected == 0 {
		fatal(fmt.Errorf("-rows %q selects none of %s", *rowsFlag, strings.Join(rowIDs(), ", ")))
	}
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("-services: bad service count %q", s))
		}
		sizes = append(sizes, n)
	}
	bin, err := filepath.Abs(*binDir)
	absBin = bin
	if err != nil {
		fatal(err)
	}
	for _, tool := range []string{"fw-restore", "fw-save", "fw-diff"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			fatal(fmt.Errorf("%v (build the fw binaries first: go build -o bin/ ./cmd/...)", err))
		}
	}
	tmp, err := os.MkdirTemp("", "fwbench")
	if err != nil {
		fatal(err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fatal(err)
	}
	// The namespace is private, but /run/xtables.lock is not: a test
	// suite running next to the bench would make iptables (which does not
	// wait without -w) or fw fail at random. Both honour XTABLES_LOCKFILE.
	lock := filepath.Join(tmp, "xtables.lock")
	// fw keeps its nf_tables state file in FW_RUNDIR: the bench's own,
	// never the host's /run/fw.
	self, err := os.Executable()
	if err != nil {
		fatal(err)
	}
	b := &bench{bin: bin, self: self, env: append(os.Environ(), "XTABLES_LOCKFILE="+lock, "FW_RUNDIR="+filepath.Join(tmp, "run")), devnull: devnull}

	ns, err := enterNetns()
	if err != nil {
		os.RemoveAll(tmp)
		fatal(err)
	}
	var once sync.Once
	cleanup := func() { once.Do(func() { ns.delete(); os.RemoveAll(tmp) }) }
	// A panic must not leave the namespace (and up to 100k rules) behind.
	defer func() {
		if p := recover(); p != nil {
			cleanup()
			panic(p)
		}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		running.Lock()
		if running.p != nil {
			running.p.Kill()
		}
		running.Unlock()
		cleanup()
		fmt.Fprintf(os.Stderr, "fwbench: %v: namespace %s deleted\n", s, ns.name)
		os.Exit(130)
	}()
	progress("namespace %s; %d run(s) per measurement; sizes %v services", ns.name, *runsFlag, sizes)

	var results []*result
	var datasets []*dataset
	for _, n := range sizes {
		d, err := generate(tmp, n, *seedFlag)
		if err != nil {
			cleanup()
			fatal(err)
		}
		datasets = append(datasets, d)
		progress("%d services: %d lines, %d rules; CHANGED: %g%% of the services, %d lines differ", n, d.lines, d.rules, d.change, d.changedLines)
		for i := range rowDefs {
			def := &rowDefs[i]
			if !sel.MatchString(def.id) {
				continue
			}
			results = append(results, b.measureRow(def, d))
		}
	}
	cleanup()
	report(os.Stdout, datasets, results, time.Since(start))
}

// generate writes ORIGINAL and CHANGED for n services and counts them.
// CHANGED has 1% of the services changed; the generator draws that 1% at
// random, which for a small ruleset can be no service at all, and then
// the diff and incremental rows would measure nothing: the percentage is
// raised one point at a time until at least one line differs.
func generate(dir string, n int, seed uint64) (*dataset, error) {
	d := &dataset{
		services: n,
		file:     filepath.Join(dir, fmt.Sprintf("original-%d.rules", n)),
		changed:  filepath.Join(dir, fmt.Sprintf("changed-%d.rules", n)),
		partial:  filepath.Join(dir, fmt.Sprintf("partial-%d.rules", n)),
	}
	var orig, chg bytes.Buffer
	if err := genrules.Write(&orig, genrules.Options{Services: n, Seed: seed}); err != nil {
		return nil, err
	}
	have := map[string]int{}
	for _, l := range bytes.SplitAfter(orig.Bytes(), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		d.lines++
		if bytes.HasPrefix(l, []byte("-A ")) {
			d.rules++
		}
		have[string(l)]++
	}
	for d.change = 1; d.changedLines == 0 && d.change <= 100; d.change++ {
		chg.Reset()
		if err := genrules.Write(&chg, genrules.Options{Services: n, Seed: seed, Change: d.change}); err != nil {
			return nil, err
		}
		left := make(map[string]int, len(have))
		for k, v := range have {
			left[k] = v
		}
		for _, l := range bytes.SplitAfter(chg.Bytes(), []byte("\n")) {
			if left[string(l)] > 0 {
				left[string(l)]--
			} else if len(l) > 0 {
				d.changedLines++
			}
		}
	}
	d.change--
	var part bytes.Buffer
	if err := genrules.Write(&part, genrules.Options{Services: n, Seed: seed, Change: d.change, Partial: true}); err != nil {
		return nil, err
	}
	for name, b := range map[string][]byte{d.file: orig.Bytes(), d.changed: chg.Bytes(), d.partial: part.Bytes()} {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// measureRow runs the row's commands -runs times each, interleaved (fw,
// reference, fw's alternative, then again) so that a change in machine
// load during the row hits both sides alike, and keeps the medians.
func (b *bench) measureRow(def *rowDef, d *dataset) *result {
	r := &result{def: def, data: d}
	cmds := def.cmds(b, d)
	label := fmt.Sprintf("%s (%d svc)", def.id, d.services)
	if err := b.state(def.prepare, d); err != nil {
		err = fmt.Errorf("preparing the row: %v", err)
		progress("%s: %v", label, err)
		r.fw.err, r.ref.err, r.alt.err = err, err, err
		return r
	}
	names := []string{"fw", "ref", "fw full"}
	samples := make([][]sample, 3)
	failed := make([]error, 3)
	for run := 1; run <= *runsFlag; run++ {
		for i, argv := range [][]string{cmds.fw, cmds.ref, cmds.alt} {
			if argv == nil || failed[i] != nil {
				continue
			}
			if err := b.state(def.setup, d); err != nil {
				failed[i] = fmt.Errorf("setup: %v", err)
				progress("%s run %d %s: %v", label, run, names[i], failed[i])
				continue
			}
			s := b.run(argv, "", def.exit1OK)
			if s.err != nil {
				failed[i] = s.err
				progress("%s run %d %s: %v", label, run, names[i], s.err)
				continue
			}
			samples[i] = append(samples[i], s)
			progress("%s run %d/%d %-7s wall %s user %s sys %s rss %s", label, run, *runsFlag, names[i], dur(s.wall), dur(s.user), dur(s.sys), mib(s.rss))
		}
	}
	out := []*sample{&r.fw, &r.ref, &r.alt}
	for i := range out {
		if failed[i] != nil {
			out[i].err = failed[i]
		} else if len(samples[i]) > 0 {
			*out[i] = median(samples[i])
		}
	}
	return r
}

// state brings the namespace into a known state (see rowDef.prepare and
// rowDef.setup); the commands it runs are not measured.
func (b *bench) state(steps []step, d *dataset) error {
	for _, st := range steps {
		argv, stdin := st(d)
		if s := b.run(argv, stdin, false); s.err != nil {
			return s.err
		}
	}
	return nil
}

// measureArg makes fwbench a launcher (measureChild) instead of the bench.
const measureArg = "-measure-child"

// measureChild runs argv with the launcher's standard files, waits for
// it and writes its wall time and wait4 resource usage to file
// descriptor 3; it exits with argv's status.
//
// Why a launcher: a child's ru_maxrss is at least the resident size of
// the process it was forked from (exec records the old memory's high
// water mark, and Go forks with CLONE_VM), so commands started by the
// bench itself, which holds the generated rulesets, all reported about
// 92 MiB whatever they used. The launcher is small, so what it forks
// reports its own peak.
func measureChild(argv []string) int {
	report := os.NewFile(3, "measure-report")
	if len(argv) == 0 || report == nil {
		fmt.Fprintln(os.Stderr, "fwbench: "+measureArg+" needs a command and file descriptor 3")
		return 127
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// It dies with the launcher, which the bench kills on a timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(argv[0]), err)
		return 127
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "fwbench: no resource usage from wait4")
		return 127
	}
	// ru_maxrss is in KiB on Linux.
	fmt.Fprintf(report, "%d %d %d %d\n", wall, ru.Utime.Nano(), ru.Stime.Nano(), ru.Maxrss*1024)
	report.Close()
	return cmd.ProcessState.ExitCode()
}

// run starts one command in the namespace (see netns.go: the main thread
// is in it) through the launcher (measureChild) with its output
// discarded. exit1OK accepts exit status 1 (diff tools: "different").
func (b *bench) run(argv []string, stdin string, exit1OK bool) sample {
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.self, append([]string{measureArg}, argv...)...)
	cmd.Env = b.env
	cmd.Stdout = b.devnull
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	rep, repw, err := os.Pipe()
	if err != nil {
		return sample{err: err}
	}
	defer rep.Close()
	cmd.ExtraFiles = []*os.File{repw}
	err = cmd.Start()
	repw.Close()
	var measured []byte
	if err == nil {
		running.Lock()
		running.p = cmd.Process
		running.Unlock()
		measured, _ = io.ReadAll(rep)
		err = cmd.Wait()
		running.Lock()
		running.p = nil
		running.Unlock()
	}
	var exit *exec.ExitError
	if err != nil && !(exit1OK && errors.As(err, &exit) && exit.ExitCode() == 1) {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %v", *timeout)
		}
		msg := firstLine(errb.String())
		if msg == "" {
			msg = err.Error()
		}
		if name := filepath.Base(argv[0]); !strings.HasPrefix(msg, name+":") {
			msg = name + ": " + msg
		}
		return sample{err: errors.New(msg)}
	}
	var s sample
	if _, err := fmt.Sscan(string(measured), &s.wall, &s.user, &s.sys, &s.rss); err != nil {
		return sample{err: fmt.Errorf("%s: no measurement from the launcher (%q)", filepath.Base(argv[0]), measured)}
	}
	return s
}

// median takes the median of every figure on its own: the runs of one
// command differ by noise, not by kind, so the typical wall time and the
// typical memory need not come from the same run.
func median(ss []sample) sample {
	mid := func(get func(sample) int64) int64 {
		v := make([]int64, len(ss))
		for i, s := range ss {
			v[i] = get(s)
		}
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return sample{
		wall: time.Duration(mid(func(s sample) int64 { return int64(s.wall) })),
		user: time.Duration(mid(func(s sample) int64 { return int64(s.user) })),
		sys:  time.Duration(mid(func(s sample) int64 { return int64(s.sys) })),
		rss:  mid(func(s sample) int64 { return s.rss }),
	}
}

func firstLine(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			return l
		}
	}
	return ""
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fwbench: "+format+"\n", args...)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "fwbench:", err)
	os.Exit(1)
}
