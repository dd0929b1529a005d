package clitest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/kernel/kerneltest"
)

// fw-restore --confirm, end to end in a namespace: the new ruleset is live
// while it waits, and the previous one comes back unless a confirmation
// arrives (terminal, file, signal) before the time runs out or the
// session dies. Nothing here sleeps: the tests wait, with generous
// deadlines, for what the program shows (its messages, its files, its
// exit).

const confirmOld = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 203.0.113.9/32 -j DROP\nCOMMIT\n"
const confirmNew = "*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"

// pending is a running fw-restore --confirm.
type pending struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string
	stderr output
	done   chan struct{}
	code   int
}

// confirmRun says how to start fw-restore --confirm.
type confirmRun struct {
	backend string   // "legacy" when ""
	tty     *os.File // its controlling terminal; none when nil
	dir     string   // its run directory; a new one when ""
	rules   string   // what it loads; confirmNew when ""
}

// startConfirm starts fw-restore in ns, in a session of its own (so
// without a controlling terminal unless r.tty is given).
func startConfirm(t *testing.T, ns *kerneltest.Netns, r confirmRun, args ...string) *pending {
	t.Helper()
	if r.backend == "" {
		r.backend = "legacy"
	}
	if r.dir == "" {
		r.dir = t.TempDir()
	}
	if r.rules == "" {
		r.rules = confirmNew
	}
	p := &pending{t: t, dir: r.dir, done: make(chan struct{})}
	rules := filepath.Join(t.TempDir(), "new.rules")
	if err := os.WriteFile(rules, []byte(r.rules), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"netns", "exec", ns.Name, filepath.Join(bin, "fw-restore"), "--backend", r.backend}, args...)
	p.cmd = exec.Command("ip", append(argv, rules)...)
	p.cmd.Env = append(os.Environ(), "FW_RUNDIR="+p.dir, "LC_ALL=C", "XTABLES_LOCKFILE="+ns.LockFile)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if r.tty != nil {
		p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = r.tty, r.tty, r.tty
		p.cmd.SysProcAttr.Setctty = true
	} else {
		p.cmd.Stderr = &p.stderr
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

var confirmWith = regexp.MustCompile(`confirm with: 'touch [^']*' or 'kill -USR1 (\d+)'\n`)

// waitPending waits until the new ruleset is live and the change waits
// for its confirmation (it says how to confirm), and returns the PID it
// names, after checking it is the first line of the pending record.
func (p *pending) waitPending() int {
	p.t.Helper()
	m := confirmWith.FindStringSubmatch(p.stderr.waitFor(p.t, confirmWith, p.done))
	pid, _ := strconv.Atoi(m[1])
	b, err := os.ReadFile(filepath.Join(p.dir, "pending.v4"))
	if err != nil {
		p.t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(b), "\n"); first != m[1] {
		p.t.Fatalf("pending.v4 %q does not start with the PID to signal, %d", b, pid)
	}
	return pid
}

func (p *pending) wait(limit time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(limit):
		p.t.Fatalf("fw-restore --confirm still running after %v\n%s", limit, p.stderr.String())
	}
	return 0
}

func liveRules(t *testing.T, ns *kerneltest.Netns) string {
	t.Helper()
	return kerneltest.DropComments(mustRun(t, ns, "", "iptables-legacy-save"))
}

func TestConfirm(t *testing.T) {
	kerneltest.Need(t, refTools...)
	oldWant, newWant := refSave(t, confirmOld, false), refSave(t, confirmNew, false)
	setup := func(t *testing.T) *kerneltest.Netns {
		ns := kerneltest.NewNetns(t)
		mustRun(t, ns, confirmOld, "iptables-legacy-restore")
		return ns
	}
	check := func(t *testing.T, ns *kerneltest.Netns, want, what string) {
		t.Helper()
		if d := cmp.Diff(want, liveRules(t, ns)); d != "" {
			t.Errorf("%s (-want +got):\n%s", what, d)
		}
	}

	t.Run("timeout rolls back", func(t *testing.T) {
		ns := setup(t)
		// A confirmation left from an earlier change does not count.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "confirm"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		p := startConfirm(t, ns, confirmRun{dir: dir}, "--confirm", "1")
		p.waitPending()
		check(t, ns, newWant, "while waiting")
		if code := p.wait(15 * time.Second); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if el := time.Since(start); el < time.Second {
			t.Errorf("rolled back after %v, before the timeout", el)
		}
		check(t, ns, oldWant, "after the timeout")
		if strings.Contains(p.stderr.String(), "confirmed") {
			t.Errorf("a confirm file from before the change confirmed it:\n%s", p.stderr.String())
		}
		for _, want := range []string{"no confirmation within 1 second; the previous ruleset is back", "touch " + filepath.Join(p.dir, "confirm"), "kill -USR1 "} {
			if !strings.Contains(p.stderr.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, p.stderr.String())
			}
		}
		if _, err := os.Stat(filepath.Join(p.dir, "pending.v4")); err == nil {
			t.Error("pending.v4 left behind")
		}
		// The saved copy restores the previous ruleset.
		prev := filepath.Join(p.dir, "previous.v4")
		if fi, err := os.Stat(prev); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("previous.v4: %v %v", fi, err)
		}
		other := kerneltest.NewNetns(t)
		if r := fwIn(t, other, "", "fw-restore", "--backend", "legacy", "-c", prev); r.Code != 0 {
			t.Fatalf("restoring previous.v4: exit %d %s", r.Code, r.Stderr)
		}
		check(t, other, oldWant, "previous.v4")
	})

	t.Run("default timeout is 10 seconds", func(t *testing.T) {
		ns := setup(t)
		p := startConfirm(t, ns, confirmRun{}, "--confirm")
		p.waitPending()
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.wait(15 * time.Second)
		if !strings.Contains(p.stderr.String(), "within 10 seconds") {
			t.Errorf("stderr:\n%s", p.stderr.String())
		}
	})

	t.Run("confirm file", func(t *testing.T) {
		ns := setup(t)
		p := startConfirm(t, ns, confirmRun{}, "--confirm", "30")
		p.waitPending()
		if err := os.WriteFile(filepath.Join(p.dir, "confirm"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(10 * time.Second); code != 0 {
			t.Fatalf("exit %d\n%s", code, p.stderr.String())
		}
		check(t, ns, newWant, "after confirming")
		if !strings.Contains(p.stderr.String(), "confirmed by "+filepath.Join(p.dir, "confirm")) {
			t.Errorf("stderr:\n%s", p.stderr.String())
		}
	})

	t.Run("SIGUSR1 confirms", func(t *testing.T) {
		ns := setup(t)
		p := startConfirm(t, ns, confirmRun{}, "--confirm", "30")
		pid := p.waitPending()
		if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(10 * time.Second); code != 0 {
			t.Fatalf("exit %d\n%s", code, p.stderr.String())
		}
		check(t, ns, newWant, "after SIGUSR1")
	})

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		t.Run(unix.SignalName(sig)+" rolls back", func(t *testing.T) {
			ns := setup(t)
			p := startConfirm(t, ns, confirmRun{}, "--confirm", "30")
			pid := p.waitPending()
			syscall.Kill(pid, sig)
			if code := p.wait(10 * time.Second); code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			check(t, ns, oldWant, "after "+unix.SignalName(sig))
			if !strings.Contains(p.stderr.String(), "got "+unix.SignalName(sig)+"; the previous ruleset is back") {
				t.Errorf("stderr:\n%s", p.stderr.String())
			}
		})
	}

	t.Run("failed apply changes nothing", func(t *testing.T) {
		ns := setup(t)
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.rules")
		os.WriteFile(bad, []byte("*filter\n-A INPUT -m rateest --rateest nosuch --rateest-bps1 1 --rateest-gt -j ACCEPT\nCOMMIT\n"), 0o644)
		cmd := exec.Command("ip", "netns", "exec", ns.Name, filepath.Join(bin, "fw-restore"), "--backend", "legacy", "--confirm", "30", bad)
		cmd.Env = append(os.Environ(), "FW_RUNDIR="+dir, "XTABLES_LOCKFILE="+ns.LockFile)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		out, err := cmd.CombinedOutput()
		if err == nil || strings.Contains(string(out), "live") {
			t.Errorf("err %v:\n%s", err, out)
		}
		check(t, ns, oldWant, "after a refused apply")
	})

	t.Run("terminal", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			answer string // "" closes the terminal
			code   int
			live   string
		}{
			{"yes", "yes\n", 0, newWant},
			{"no", "no\n", 1, oldWant},
			{"hangup", "", 1, oldWant},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ns := setup(t)
				master, slave := openPty(t)
				p := startConfirm(t, ns, confirmRun{tty: slave}, "--confirm", "30")
				slave.Close()
				out := &output{}
				go out.copyFrom(master)
				out.waitFor(t, regexp.MustCompile(`Type yes within 30 seconds: `), p.done)
				check(t, ns, newWant, "while asking")
				if tc.answer == "" {
					master.Close()
				} else if _, err := master.Write([]byte(tc.answer)); err != nil {
					t.Fatal(err)
				}
				if code := p.wait(10 * time.Second); code != tc.code {
					t.Errorf("exit %d, want %d\n%s", code, tc.code, out.String())
				}
				check(t, ns, tc.live, "after the answer")
				if tc.answer != "" {
					master.Close()
				}
			})
		}
	})
}

// TestConfirmOverlap: on each backend, a second --confirm while the
// first waits is refused, names the waiting run and changes nothing, and
// when the first one's time runs out the kernel holds the ruleset from
// before both.
func TestConfirmOverlap(t *testing.T) {
	kerneltest.Need(t, "iptables-legacy-restore", "iptables-legacy-save", "iptables-nft-restore", "iptables-nft-save")
	const second = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 198.51.100.0/24 -j DROP\nCOMMIT\n"
	for _, backend := range []string{"legacy", "nft"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			restore, save := "iptables-"+backend+"-restore", "iptables-"+backend+"-save"
			saved := func(src string) string {
				ns := kerneltest.NewNetns(t)
				mustRun(t, ns, src, restore)
				return kerneltest.DropComments(mustRun(t, ns, "", save))
			}
			oldWant, newWant := saved(confirmOld), saved(confirmNew)
			ns := kerneltest.NewNetns(t)
			mustRun(t, ns, confirmOld, restore)
			check := func(want, what string) {
				t.Helper()
				if d := cmp.Diff(want, kerneltest.DropComments(mustRun(t, ns, "", save))); d != "" {
					t.Errorf("%s (-want +got):\n%s", what, d)
				}
			}
			dir := t.TempDir()
			// The first run's time is long enough for the second to
			// start and be refused many times over.
			first := startConfirm(t, ns, confirmRun{backend: backend, dir: dir}, "--confirm", "10")
			pid := first.waitPending()
			record := readFile(t, filepath.Join(dir, "pending.v4"))
			prev := readFile(t, filepath.Join(dir, "previous.v4"))

			p := startConfirm(t, ns, confirmRun{backend: backend, dir: dir, rules: second}, "--confirm", "30")
			if code := p.wait(20 * time.Second); code != 4 {
				t.Fatalf("second run: exit %d, want 4\n%s\nfirst run:\n%s", code, p.stderr.String(), first.stderr.String())
			}
			want := fmt.Sprintf("fw-restore: another change waits for its confirmation (PID %d, in %s); nothing was changed: confirm it ('touch %s' or 'kill -USR1 %d') or wait until it is rolled back, then try again\n",
				pid, filepath.Join(dir, "pending.v4"), filepath.Join(dir, "confirm"), pid)
			if d := cmp.Diff(want, p.stderr.String()); d != "" {
				t.Errorf("second run's stderr (-want +got):\n%s", d)
			}
			check(newWant, "after the second run")
			for name, want := range map[string]string{"pending.v4": record, "previous.v4": prev} {
				if got := readFile(t, filepath.Join(dir, name)); got != want {
					t.Errorf("the second run changed %s: %q, was %q", name, got, want)
				}
			}

			if code := first.wait(30 * time.Second); code != 1 {
				t.Errorf("first run: exit %d, want 1\n%s", code, first.stderr.String())
			}
			if !strings.Contains(first.stderr.String(), "no confirmation within 10 seconds; the previous ruleset is back") {
				t.Errorf("first run's stderr:\n%s", first.stderr.String())
			}
			check(oldWant, "after the first run's time ran out")
		})
	}
}

func TestConfirmUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--confirm", "5", "--test", "-"},
		{"--confirm", "0", "-"},
		{"--confirm", "--fallback", "x", "-"},
		{"--fallback", "x", "--test", "-"},
	} {
		if r := fw(t, "", "fw-restore", args...); r.Code != 2 {
			t.Errorf("%v: exit %d %s", args, r.Code, r.Stderr)
		}
	}
}

func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := m.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var ierr error
	rc.Control(func(fd uintptr) {
		if ierr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ierr == nil {
			n, ierr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
		}
	})
	if ierr != nil {
		t.Fatal(ierr)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, s
}

// output collects what a program writes, on a pipe or a terminal, and
// wakes whoever waits for it.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed at the next write
}

func (o *output) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(b)
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
	return len(b), nil
}

func (o *output) copyFrom(f *os.File) {
	b := make([]byte, 4096)
	for {
		n, err := f.Read(b)
		o.Write(b[:n])
		if err != nil {
			return
		}
	}
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor waits until the output matches re and returns it; the program
// ending first (done closed) or a generous deadline fails the test.
func (o *output) waitFor(t *testing.T, re *regexp.Regexp, done <-chan struct{}) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		o.mu.Lock()
		s := o.buf.String()
		if o.changed == nil {
			o.changed = make(chan struct{})
		}
		changed := o.changed
		o.mu.Unlock()
		if re.MatchString(s) {
			return s
		}
		select {
		case <-changed:
		case <-done:
			if s := o.String(); re.MatchString(s) {
				return s
			}
			t.Fatalf("the program ended before writing %q:\n%s", re, o.String())
		case <-deadline:
			t.Fatalf("the program never wrote %q:\n%s", re, o.String())
		}
	}
}
