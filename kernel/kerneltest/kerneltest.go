// Package kerneltest gives tests a throwaway network namespace and the
// reference iptables tools inside it. Tests that need it skip when the
// machine cannot provide it, unless FW_REQUIRE_KERNEL=1 is set, in which
// case they fail: CI sets it so that a kernel test never passes by
// skipping.
package kerneltest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Required reports whether kernel tests must run (FW_REQUIRE_KERNEL=1).
func Required() bool { return os.Getenv("FW_REQUIRE_KERNEL") == "1" }

// Need skips (or, when required, fails) the test unless it runs as root
// with the named tools on PATH.
func Need(t testing.TB, tools ...string) {
	t.Helper()
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
}

// NewNetns creates a namespace that is deleted when the test ends.
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	n := &Netns{Name: "fwtest-" + hex.EncodeToString(b[:])}
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

// Run runs a command inside the namespace with stdin as input.
func (n *Netns) Run(stdin []byte, name string, args ...string) (Result, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	err := cmd.Run()
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
