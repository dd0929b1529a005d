package confirm

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The kernel side is tested end to end in cmd/clitest; here Apply and
// Rollback only record that they ran.

type fake struct {
	applied, rolledBack bool
	applyErr, rollErr   error
}

func (f *fake) opts(t *testing.T, timeout time.Duration) (Options, *bytes.Buffer) {
	var log bytes.Buffer
	return Options{
		Timeout: timeout, Dir: t.TempDir(), Suffix: "v4", Previous: []byte("*filter\nCOMMIT\n"),
		Apply:    func() error { f.applied = true; return f.applyErr },
		Rollback: func() error { f.rolledBack = true; return f.rollErr },
		Log:      &log, Prog: "fw-restore",
	}, &log
}

// whenPending runs fn once the change waits for its confirmation.
func whenPending(t *testing.T, opt Options, fn func(pid int)) {
	_, pending, _ := Paths(opt.Dir, opt.Suffix)
	go func() {
		for i := 0; i < 1000; i++ {
			if b, err := os.ReadFile(pending); err == nil && strings.HasSuffix(string(b), "\n") {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				fn(pid)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
}

func TestTimeout(t *testing.T) {
	f := &fake{}
	opt, log := f.opts(t, 200*time.Millisecond)
	start := time.Now()
	err := Run(opt)
	var nc *NotConfirmedError
	if !errors.As(err, &nc) || nc.Reason != "no confirmation within 1 second" {
		t.Fatalf("err %v", err)
	}
	if !f.applied || !f.rolledBack || time.Since(start) < 200*time.Millisecond {
		t.Errorf("applied %v, rolled back %v, after %v", f.applied, f.rolledBack, time.Since(start))
	}
	prev, pending, _ := Paths(opt.Dir, "v4")
	if b, err := os.ReadFile(prev); err != nil || string(b) != "*filter\nCOMMIT\n" {
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
		act       func(dir string, pid int)
		confirmed bool
		reason    string
	}{
		{"file", func(dir string, _ int) { os.WriteFile(filepath.Join(dir, "confirm"), nil, 0o600) }, true, ""},
		{"SIGUSR1", func(_ string, pid int) { syscall.Kill(pid, syscall.SIGUSR1) }, true, ""},
		{"SIGHUP", func(_ string, pid int) { syscall.Kill(pid, syscall.SIGHUP) }, false, "got SIGHUP"},
		{"SIGTERM", func(_ string, pid int) { syscall.Kill(pid, syscall.SIGTERM) }, false, "got SIGTERM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fake{}
			opt, log := f.opts(t, 20*time.Second)
			// A stale confirmation does not count.
			os.WriteFile(filepath.Join(opt.Dir, "confirm"), nil, 0o600)
			whenPending(t, opt, func(pid int) { tc.act(opt.Dir, pid) })
			err := Run(opt)
			if tc.confirmed {
				if err != nil || f.rolledBack {
					t.Errorf("err %v, rolled back %v\n%s", err, f.rolledBack, log)
				}
				return
			}
			var nc *NotConfirmedError
			if !errors.As(err, &nc) || nc.Reason != tc.reason || !f.rolledBack {
				t.Errorf("err %v, rolled back %v", err, f.rolledBack)
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
		opt, log := f.opts(t, 20*time.Second)
		opt.Terminal = strings.NewReader(tc.input)
		err := Run(opt)
		if !strings.Contains(log.String(), "Keep the new ruleset? Type yes within 20 seconds: ") {
			t.Errorf("%q: no question:\n%s", tc.input, log)
		}
		if tc.ok != (err == nil) || tc.ok == f.rolledBack {
			t.Errorf("%q: err %v, rolled back %v", tc.input, err, f.rolledBack)
		}
		var nc *NotConfirmedError
		if !tc.ok && (!errors.As(err, &nc) || nc.Reason != tc.reason) {
			t.Errorf("%q: err %v", tc.input, err)
		}
	}
}

func TestApplyAndRollbackErrors(t *testing.T) {
	f := &fake{applyErr: errors.New("refused")}
	opt, _ := f.opts(t, time.Second)
	opt.Terminal = strings.NewReader("yes\n")
	if err := Run(opt); err == nil || err.Error() != "refused" || f.rolledBack {
		t.Errorf("failed apply: err %v, rolled back %v", err, f.rolledBack)
	}
	f = &fake{rollErr: errors.New("busy")}
	opt, _ = f.opts(t, time.Second)
	opt.Terminal = io.MultiReader(strings.NewReader("no\n"))
	err := Run(opt)
	prev, _, _ := Paths(opt.Dir, "v4")
	if err == nil || !strings.Contains(err.Error(), "putting the previous ruleset back failed: busy (it is saved in "+prev+": load it with 'fw-restore -c "+prev+"')") {
		t.Errorf("failed rollback: %v", err)
	}
}
