package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Every command fwbench starts must run in the throwaway namespace, never
// against the host ruleset. Rather than wrapping each command in "ip netns
// exec" (whose own start-up, CPU time and memory would be added to every
// sample and dominate the smallest rulesets), the main thread itself joins
// the namespace: a child inherits the network namespace of the thread that
// forks it, and os/exec forks on the calling thread. Locking the main
// goroutine to the main thread from init keeps every exec.Cmd.Start of
// the main goroutine on that thread; the Go runtime starts its other
// threads from a template thread created by LockOSThread, so they never
// inherit the namespace by accident (nothing but the main goroutine starts
// commands anyway).
func init() { runtime.LockOSThread() }

// netns is the namespace fwbench created; the main thread is inside it.
type netns struct {
	name string
}

// enterNetns creates a namespace with ip(8), so that it is visible under
// /run/netns while the bench runs (for inspection), moves the main thread
// into it and proves that a child process lands there too before anything
// is measured.
func enterNetns() (*netns, error) {
	name := fmt.Sprintf("fwbench-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("ip netns add %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	n := &netns{name: name}
	path := "/run/netns/" + name
	f, err := os.Open(path)
	if err != nil {
		n.delete()
		return nil, err
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		n.delete()
		return nil, fmt.Errorf("setns %s: %v", path, err)
	}
	var want unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &want); err != nil {
		n.delete()
		return nil, err
	}
	out, err := exec.Command("readlink", "/proc/self/ns/net").Output()
	if got := strings.TrimSpace(string(out)); err != nil || got != fmt.Sprintf("net:[%d]", want.Ino) {
		n.delete()
		return nil, fmt.Errorf("a child process is not in namespace %s (net:[%d]): it reports %q (%v); refusing to touch the host ruleset", name, want.Ino, got, err)
	}
	return n, nil
}

// delete removes the namespace name; the kernel frees it (and every rule
// loaded into it) once the last process inside has exited.
func (n *netns) delete() {
	if out, err := exec.Command("ip", "netns", "del", n.name).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "fwbench: ip netns del %s: %v: %s\n", n.name, err, bytes.TrimSpace(out))
	}
}
