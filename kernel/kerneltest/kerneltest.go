// Package kerneltest gives tests a throwaway network namespace and the
// reference iptables tools inside it. Tests that need it skip when the
// machine cannot provide it, unless FW_REQUIRE_KERNEL=1 is set, in which
// case they fail: CI sets it so that a kernel test never passes by
// skipping.
package kerneltest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
)

// This package is the one place that gives tests their xtables locks and
// run directory, so that a test never waits for the host's iptables (or
// for another test binary) and never writes into the host's /run/fw:
//   - each namespace has a lock file of its own (Netns.LockFile), which
//     every command run in it gets as XTABLES_LOCKFILE: x_tables are per
//     namespace, and so is the lock that guards them;
//   - fw's backends called inside the test process take the process's
//     XTABLES_LOCKFILE, set here to a file of this test binary's own;
//   - FW_RUNDIR, where fw keeps its state files, is a directory of this
//     test binary's own.
func init() {
	if os.Getenv("XTABLES_LOCKFILE") == "" {
		if f, err := os.CreateTemp("", "fw-test-xtables-*.lock"); err == nil {
			f.Close()
			os.Setenv("XTABLES_LOCKFILE", f.Name())
		}
	}
	if os.Getenv("FW_RUNDIR") == "" {
		if d, err := os.MkdirTemp("", "fw-test-run-*"); err == nil {
			os.Setenv("FW_RUNDIR", d)
		}
	}
}

// Required reports whether kernel tests must run (FW_REQUIRE_KERNEL=1).
func Required() bool { return os.Getenv("FW_REQUIRE_KERNEL") == "1" }

// Need skips (or, when required, fails) the test unless it runs as root
// with the named tools on PATH. Under -short it always skips: the short
// tier runs without the kernel.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("kernel test; not with -short")
	}
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "kernel test needs " + strings.Join(missing, ", ")
	if Required() {
		t.Fatal(msg + " (FW_REQUIRE_KERNEL=1)")
	}
	t.Skip(msg)
}

// Netns is a network namespace created for one test and deleted after it.
type Netns struct {
	Name string
	// LockFile is the xtables lock of this namespace (x_tables are per
	// namespace, so is the lock that guards them): commands run in it get
	// it as XTABLES_LOCKFILE, and a test gives it to fw's legacy backend.
	LockFile string
}

// NewNetns creates a namespace that is deleted when the test ends.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	n := &Netns{Name: "fwtest-" + hex.EncodeToString(b[:])}
	n.LockFile = filepath.Join(t.TempDir(), "xtables.lock")
	if out, err := exec.Command("ip", "netns", "add", n.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", n.Name, err, out)
		}
	})
	return n
}

// Result is what a command run in the namespace did.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs a command inside the namespace with stdin as input, with
// LC_ALL=C and the namespace's lock file in its environment.
func (n *Netns) Run(stdin []byte, name string, args ...string) (Result, error) {
	return n.RunEnv(nil, stdin, name, args...)
}

// RunEnv is Run with more environment variables (NAME=value), which
// override the inherited ones.
func (n *Netns) RunEnv(env []string, stdin []byte, name string, args ...string) (Result, error) {
	// A stuck command must not stall a whole test run.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "LC_ALL=C", "XTABLES_LOCKFILE="+n.LockFile)
	cmd.Env = append(cmd.Env, env...)
	// The child is forked from a thread that has joined the namespace,
	// and inherits it: cheaper than "ip netns exec", which also makes a
	// mount namespace for every command.
	err := n.Do(cmd.Run)
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
		err = nil
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

// DropComments removes the '#' lines of iptables-save output, the part
// that carries timestamps and program names.
func DropComments(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// Do runs fn on an OS thread that has joined the namespace, and waits for
// it. The thread is never returned to the Go scheduler (it exits with the
// goroutine), so no other goroutine ever runs in the namespace by
// accident.
func (n *Netns) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread dies with this goroutine.
		f, err := os.Open("/run/netns/" + n.Name)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", n.Name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Load reads the named tables in n through b.
func (n *Netns) Load(b kernel.Backend, f table.Family, tables ...string) (*table.Ruleset, error) {
	var rs *table.Ruleset
	err := n.Do(func() error {
		var err error
		rs, err = b.Load(f, tables)
		return err
	})
	return rs, err
}
