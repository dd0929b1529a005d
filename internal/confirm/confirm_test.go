package confirm

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// The kernel side is tested end to end in cmd/clitest; here Apply and
// Rollback only count their calls, and the time to confirm is a clock the
// test moves.

type fake struct {
	mu                  sync.Mutex
	applied, rolledBack int
	applyErr, rollErr   error
}

func (f *fake) counts() (applied, rolledBack int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied, f.rolledBack
}

// clock is a fake Options.After: it tells the test the duration asked
// and fires when the test says.
type clock struct {
	asked chan time.Duration
	fire  chan time.Time
}

func newClock() *clock {
	return &clock{asked: make(chan time.Duration, 2), fire: make(chan time.Time)}
}

func (c *clock) After(d time.Duration) <-chan time.Time {
	c.asked <- d
	return c.fire
}

const oldRules = "*filter\nCOMMIT\n"

func (f *fake) opts(t *testing.T, dir string, clk *clock) (Options, *bytes.Buffer) {
	var log bytes.Buffer
	return Options{
		Timeout: 20 * time.Second, Dir: dir, Suffix: "v4",
		Previous: func() ([]byte, error) { return []byte(oldRules), nil },
		Apply: func() error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.applied++
			return f.applyErr
		},
		Rollback: func() error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.rolledBack++
			return f.rollErr
		},
		Log: &log, Prog: "fw-restore",
		After: clk.After,
	}, &log
}

// start runs Run on a goroutine.
func start(opt Options) <-chan error {
	done := make(chan error, 1)
	go func() { done <- Run(opt) }()
	return done
}

// result waits for Run to return; the deadline only keeps a broken
// change from hanging the test.
func result(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("Run did not return")
		return nil
	}
}

// self is this process's pending record.
func self(t *testing.T) record {
	t.Helper()
	r, err := thisRun()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTimeout(t *testing.T) {
	f, clk := &fake{}, newClock()
	opt, log := f.opts(t, t.TempDir(), clk)
	opt.Timeout = 200 * time.Millisecond
	prev, pending, _ := Paths(opt.Dir, "v4")
	var atPending []byte
	var appliedWaiting, rolledWaiting int
	opt.Event = func(e Event) {
		switch e {
		case Pending:
			atPending, _ = os.ReadFile(pending)
		case Waiting:
			appliedWaiting, rolledWaiting = f.counts()
		}
	}
	done := start(opt)
	if d := <-clk.asked; d != 200*time.Millisecond {
		t.Errorf("clock asked for %v, want 200ms", d)
	}
	clk.fire <- time.Now()
	err := result(t, done)
	var nc *NotConfirmedError
	if !errors.As(err, &nc) || nc.Reason != "no confirmation within 1 second" {
		t.Fatalf("err %v", err)
	}
	if appliedWaiting != 1 || rolledWaiting != 0 {
		t.Errorf("while waiting: applied %d, rolled back %d; want 1, 0", appliedWaiting, rolledWaiting)
	}
	if a, r := f.counts(); a != 1 || r != 1 {
		t.Errorf("applied %d, rolled back %d; want 1, 1", a, r)
	}
	if d := cmp.Diff(string(self(t).bytes()), string(atPending)); d != "" {
		t.Errorf("pending record (-want +got):\n%s", d)
	}
	if b, err := os.ReadFile(prev); err != nil || string(b) != oldRules {
		t.Errorf("previous.v4: %q %v", b, err)
	}
	if _, err := os.Stat(pending); err == nil {
		t.Error("pending.v4 left behind")
	}
	if !strings.Contains(log.String(), "confirm with: 'touch "+filepath.Join(opt.Dir, "confirm")+"' or 'kill -USR1 ") {
		t.Errorf("log:\n%s", log)
	}
}

func TestConfirmFileAndSignals(t *testing.T) {
	for _, tc := range []struct {
		name      string
		act       func(dir string)
		confirmed bool
		reason    string
	}{
		{"file", func(dir string) { os.WriteFile(filepath.Join(dir, "confirm"), nil, 0o600) }, true, ""},
		{"SIGUSR1", func(string) { syscall.Kill(os.Getpid(), syscall.SIGUSR1) }, true, ""},
		{"SIGHUP", func(string) { syscall.Kill(os.Getpid(), syscall.SIGHUP) }, false, "got SIGHUP"},
		{"SIGTERM", func(string) { syscall.Kill(os.Getpid(), syscall.SIGTERM) }, false, "got SIGTERM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{}
			opt, log := f.opts(t, t.TempDir(), newClock())
			confirmFile := filepath.Join(opt.Dir, "confirm")
			// A confirmation left from an earlier change does not count:
			// it is gone before the change waits.
			os.WriteFile(confirmFile, nil, 0o600)
			opt.Event = func(e Event) {
				if e != Waiting {
					return
				}
				if _, err := os.Stat(confirmFile); err == nil {
					t.Error("a confirm file from before the change is still there")
				}
				tc.act(opt.Dir)
			}
			err := result(t, start(opt))
			_, rolledBack := f.counts()
			if tc.confirmed {
				if err != nil || rolledBack != 0 {
					t.Errorf("err %v, rolled back %d\n%s", err, rolledBack, log)
				}
				return
			}
			var nc *NotConfirmedError
			if !errors.As(err, &nc) || nc.Reason != tc.reason || rolledBack != 1 {
				t.Errorf("err %v, rolled back %d", err, rolledBack)
			}
		})
	}
}

func TestTerminal(t *testing.T) {
	for _, tc := range []struct {
		input  string
		ok     bool
		reason string
	}{
		{"yes\n", true, ""},
		{"\n  YES \n", true, ""},
		{"nope\n", false, `the answer was "nope", not yes`},
		{"", false, "the terminal closed"},
	} {
		f := &fake{}
		opt, log := f.opts(t, t.TempDir(), newClock())
		opt.Terminal = strings.NewReader(tc.input)
		err := result(t, start(opt))
		if !strings.Contains(log.String(), "Keep the new ruleset? Type yes within 20 seconds: ") {
			t.Errorf("%q: no question:\n%s", tc.input, log)
		}
		if _, rolledBack := f.counts(); tc.ok != (err == nil) || tc.ok == (rolledBack == 1) {
			t.Errorf("%q: err %v, rolled back %d", tc.input, err, rolledBack)
		}
		var nc *NotConfirmedError
		if !tc.ok && (!errors.As(err, &nc) || nc.Reason != tc.reason) {
			t.Errorf("%q: err %v", tc.input, err)
		}
	}
}

func TestErrors(t *testing.T) {
	t.Run("previous", func(t *testing.T) {
		f := &fake{}
		opt, _ := f.opts(t, t.TempDir(), newClock())
		opt.Previous = func() ([]byte, error) { return nil, errors.New("unreadable") }
		err := result(t, start(opt))
		_, pending, _ := Paths(opt.Dir, "v4")
		_, serr := os.Stat(pending)
		if a, _ := f.counts(); err == nil || err.Error() != "unreadable" || a != 0 || serr == nil {
			t.Errorf("err %v, applied %d, pending.v4 %v", err, a, serr)
		}
	})
	t.Run("apply", func(t *testing.T) {
		f := &fake{applyErr: errors.New("refused")}
		opt, _ := f.opts(t, t.TempDir(), newClock())
		opt.Terminal = strings.NewReader("yes\n")
		err := result(t, start(opt))
		_, pending, _ := Paths(opt.Dir, "v4")
		_, serr := os.Stat(pending)
		if _, r := f.counts(); err == nil || err.Error() != "refused" || r != 0 || serr == nil {
			t.Errorf("err %v, rolled back %d, pending.v4 %v", err, r, serr)
		}
	})
	t.Run("rollback", func(t *testing.T) {
		f := &fake{rollErr: errors.New("busy")}
		opt, _ := f.opts(t, t.TempDir(), newClock())
		opt.Terminal = strings.NewReader("no\n")
		err := result(t, start(opt))
		prev, pending, _ := Paths(opt.Dir, "v4")
		if err == nil || !strings.Contains(err.Error(), "putting the previous ruleset back failed: busy (it is saved in "+prev+": load it with 'fw-restore -c "+prev+"')") {
			t.Errorf("err %v", err)
		}
		// The record stays, for the next run to find stale.
		if b, err := os.ReadFile(pending); err != nil || string(b) != string(self(t).bytes()) {
			t.Errorf("pending.v4: %q %v", b, err)
		}
	})
}

// child starts a process that lives until the test ends and returns its
// record.
func child(t *testing.T) record {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	start, alive, err := startTime(cmd.Process.Pid)
	if err != nil || !alive {
		t.Fatalf("start time of the child: alive %v, %v", alive, err)
	}
	return record{cmd.Process.Pid, start}
}

func TestPendingRefused(t *testing.T) {
	f := &fake{}
	dir := t.TempDir()
	opt, _ := f.opts(t, dir, newClock())
	opt.Previous = func() ([]byte, error) {
		t.Error("a refused run read the previous ruleset")
		return nil, nil
	}
	prev, pending, confirmFile := Paths(dir, "v4")
	other := child(t)
	for name, data := range map[string][]byte{pending: other.bytes(), prev: []byte("from before the other run\n"), confirmFile: nil} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err := result(t, start(opt))
	var pe *PendingError
	if !errors.As(err, &pe) || pe.PID != other.pid || pe.Record != pending {
		t.Fatalf("err %v", err)
	}
	want := fmt.Sprintf("another change waits for its confirmation (PID %d, in %s); nothing was changed: confirm it ('touch %s' or 'kill -USR1 %d') or wait until it is rolled back, then try again", other.pid, pending, confirmFile, other.pid)
	if d := cmp.Diff(want, err.Error()); d != "" {
		t.Errorf("message (-want +got):\n%s", d)
	}
	if a, _ := f.counts(); a != 0 {
		t.Error("a refused run applied its change")
	}
	// The other run's files are as they were.
	for name, want := range map[string]string{pending: string(other.bytes()), prev: "from before the other run\n", confirmFile: ""} {
		if b, err := os.ReadFile(name); err != nil || string(b) != want {
			t.Errorf("%s: %q %v, want %q", filepath.Base(name), b, err, want)
		}
	}
}

func TestStaleRecord(t *testing.T) {
	// A process that has exited: waited for without reaping it, it stays
	// a zombie until the test reaps it.
	zombie := func(t *testing.T, reap bool) record {
		t.Helper()
		cmd := exec.Command("true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		var info unix.Siginfo
		if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
			t.Fatal(err)
		}
		start, alive, err := startTime(pid)
		if err != nil || alive {
			t.Fatalf("zombie %d: alive %v, %v", pid, alive, err)
		}
		if reap {
			cmd.Wait()
		} else {
			t.Cleanup(func() { cmd.Wait() })
		}
		return record{pid, start}
	}
	for _, tc := range []struct {
		name   string
		record func(t *testing.T) record
		prev   bool // the stale run saved its previous ruleset
		why    string
	}{
		{"dead", func(t *testing.T) record { return zombie(t, true) }, true, "PID %d is gone"},
		{"zombie", func(t *testing.T) record { return zombie(t, false) }, true, "PID %d is gone"},
		{"PID reused", func(t *testing.T) record {
			r := child(t)
			r.start++
			return r
		}, true, "PID %d is now another process"},
		{"no previous", func(t *testing.T) record { return zombie(t, true) }, false, "PID %d is gone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{}
			dir := t.TempDir()
			opt, log := f.opts(t, dir, newClock())
			opt.Terminal = strings.NewReader("yes\n")
			prev, pending, _ := Paths(dir, "v4")
			stale := tc.record(t)
			os.WriteFile(pending, stale.bytes(), 0o600)
			if tc.prev {
				os.WriteFile(prev, []byte("from before the stale run\n"), 0o600)
			}
			kept := filepath.Join(dir, fmt.Sprintf("previous.stale-%d.v4", stale.pid))
			var atPending []byte
			opt.Event = func(e Event) {
				if e == Pending {
					atPending, _ = os.ReadFile(pending)
				}
			}
			if err := result(t, start(opt)); err != nil {
				t.Fatalf("err %v\n%s", err, log)
			}
			if string(atPending) != string(self(t).bytes()) {
				t.Errorf("pending.v4 %q, want this run's record", atPending)
			}
			want := fmt.Sprintf("fw-restore: found a stale pending record, %s: its run (%s) ended without rolling back, so the kernel may still hold that run's unconfirmed ruleset; ",
				pending, fmt.Sprintf(tc.why, stale.pid))
			if tc.prev {
				want += fmt.Sprintf("the ruleset from before it is in %s (load it with 'fw-restore -c %s')\n", kept, kept)
			} else {
				want += "no ruleset from before it was saved\n"
			}
			if !strings.HasPrefix(log.String(), want) {
				t.Errorf("log:\n%s\nwant it to start with:\n%s", log, want)
			}
			b, err := os.ReadFile(kept)
			if tc.prev && (err != nil || string(b) != "from before the stale run\n") {
				t.Errorf("%s: %q %v", kept, b, err)
			} else if !tc.prev && err == nil {
				t.Errorf("%s exists", kept)
			}
			if b, err := os.ReadFile(prev); err != nil || string(b) != oldRules {
				t.Errorf("previous.v4: %q %v", b, err)
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		f := &fake{}
		dir := t.TempDir()
		opt, log := f.opts(t, dir, newClock())
		opt.Terminal = strings.NewReader("yes\n")
		_, pending, _ := Paths(dir, "v4")
		os.WriteFile(pending, []byte("4242\n"), 0o600)
		if err := result(t, start(opt)); err != nil {
			t.Fatalf("err %v", err)
		}
		if want := `(it does not read as a PID and a start time: "4242\n")`; !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	})
}

// TestConcurrentStart: of two runs starting at once, one waits and the
// other is refused without changing anything.
func TestConcurrentStart(t *testing.T) {
	for i := 0; i < 500; i++ {
		f, clk := &fake{}, newClock()
		dir := t.TempDir()
		var opts [2]Options
		for j := range opts {
			opts[j], _ = f.opts(t, dir, clk)
		}
		begin := make(chan struct{})
		done := make(chan error, 2)
		for _, opt := range opts {
			go func() {
				<-begin
				done <- Run(opt)
			}()
		}
		close(begin)
		// The run that waits cannot end before the clock fires: the
		// first to end is the refused one, and only one asks the clock.
		asked := 0
		for refused := false; !refused || asked == 0; {
			select {
			case err := <-done:
				var pe *PendingError
				if refused || !errors.As(err, &pe) || pe.PID != os.Getpid() {
					t.Fatalf("round %d: a run ended with %v, want the refusal", i, err)
				}
				refused = true
			case <-clk.asked:
				if asked++; asked == 2 {
					t.Fatalf("round %d: both runs wait for a confirmation", i)
				}
			case <-time.After(time.Minute):
				t.Fatalf("round %d: no run was refused", i)
			}
		}
		if a, _ := f.counts(); a != 1 {
			t.Fatalf("round %d: applied %d times before the clock fired, want once", i, a)
		}
		clk.fire <- time.Now()
		var nc *NotConfirmedError
		if err := result(t, done); !errors.As(err, &nc) {
			t.Fatalf("round %d: the waiting run: %v", i, err)
		}
		if a, r := f.counts(); a != 1 || r != 1 {
			t.Fatalf("round %d: applied %d, rolled back %d; want 1, 1", i, a, r)
		}
	}
}

func TestParseStat(t *testing.T) {
	tail := strings.Repeat(" 0", 17) + " " // fields 5 to 21
	for _, tc := range []struct {
		line  string
		start uint64
		state string
		err   bool
	}{
		{"4242 (fw-restore) S 1" + tail + "123456 0 0\n", 123456, "S", false},
		{"4242 (a) Z (b) R 1" + tail + "99 0\n", 99, "R", false},
		{"4242 (x y) Z 1" + tail + "7\n", 7, "Z", false},
		{"4242 fw-restore S 1\n", 0, "", true},
		{"4242 (fw-restore) S 1 0\n", 0, "", true},
		{"4242 (fw-restore) S 1" + tail + "-1\n", 0, "", true},
	} {
		start, state, err := parseStat([]byte(tc.line))
		if start != tc.start || state != tc.state || (err != nil) != tc.err {
			t.Errorf("%q: %d %q %v", tc.line, start, state, err)
		}
	}
}
