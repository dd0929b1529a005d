package clitest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
// session dies.

const confirmOld = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 203.0.113.9/32 -j DROP\nCOMMIT\n"
const confirmNew = "*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"

// pending is a running fw-restore --confirm.
type pending struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string
	stderr bytes.Buffer
	done   chan struct{}
	code   int
}

// startConfirm starts fw-restore --confirm in ns, in a session of its own
// (so without a controlling terminal unless tty is given), with its run
// directory in a temporary directory.
func startConfirm(t *testing.T, ns *kerneltest.Netns, tty *os.File, args ...string) *pending {
	t.Helper()
	p := &pending{t: t, dir: t.TempDir(), done: make(chan struct{})}
	rules := filepath.Join(t.TempDir(), "new.rules")
	if err := os.WriteFile(rules, []byte(confirmNew), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"netns", "exec", ns.Name, filepath.Join(bin, "fw-restore"), "--backend", "legacy"}, args...)
	p.cmd = exec.Command("ip", append(argv, rules)...)
	p.cmd.Env = append(os.Environ(), "FW_RUNDIR="+p.dir, "LC_ALL=C")
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if tty != nil {
		p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = tty, tty, tty
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

// waitPending waits until the new ruleset is live and the change waits
// for its confirmation, and returns the PID in the pending file.
func (p *pending) waitPending() int {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(p.dir, "pending.v4")); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				p.t.Fatalf("pending.v4: %q", b)
			}
			return pid
		}
		select {
		case <-p.done:
			p.t.Fatalf("fw-restore --confirm ended before waiting: exit %d\n%s", p.code, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.t.Fatal("fw-restore --confirm never got to wait for its confirmation")
	return 0
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
	privateLock(t)
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
		start := time.Now()
		p := startConfirm(t, ns, nil, "--confirm", "1")
		p.waitPending()
		check(t, ns, newWant, "while waiting")
		if code := p.wait(15 * time.Second); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if el := time.Since(start); el < time.Second {
			t.Errorf("rolled back after %v, before the timeout", el)
		}
		check(t, ns, oldWant, "after the timeout")
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
		p := startConfirm(t, ns, nil, "--confirm")
		p.waitPending()
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.wait(15 * time.Second)
		if !strings.Contains(p.stderr.String(), "within 10 seconds") {
			t.Errorf("stderr:\n%s", p.stderr.String())
		}
	})

	t.Run("confirm file", func(t *testing.T) {
		ns := setup(t)
		p := startConfirm(t, ns, nil, "--confirm", "30")
		// A confirmation left from an earlier change does not count.
		os.WriteFile(filepath.Join(p.dir, "confirm"), nil, 0o600)
		p.waitPending()
		time.Sleep(300 * time.Millisecond)
		select {
		case <-p.done:
			t.Fatalf("a stale confirm file confirmed the change:\n%s", p.stderr.String())
		default:
		}
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
		p := startConfirm(t, ns, nil, "--confirm", "30")
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
			p := startConfirm(t, ns, nil, "--confirm", "30")
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
		cmd.Env = append(os.Environ(), "FW_RUNDIR="+dir)
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
				p := startConfirm(t, ns, slave, "--confirm", "30")
				slave.Close()
				out := &ptyReader{}
				go out.copy(master)
				out.waitFor(t, "Type yes within 30 seconds: ")
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

// ptyReader collects what the program writes on its terminal.
type ptyReader struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *ptyReader) copy(f *os.File) {
	b := make([]byte, 4096)
	for {
		n, err := f.Read(b)
		r.mu.Lock()
		r.buf.Write(b[:n])
		r.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (r *ptyReader) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

func (r *ptyReader) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(r.String(), s) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("terminal never showed %q:\n%s", s, r.String())
}
