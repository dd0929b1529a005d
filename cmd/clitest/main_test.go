// Package clitest runs the real fw binaries the way users do: built once,
// run in throwaway network namespaces next to the reference tools, and
// judged by their output, exit status and stderr.
package clitest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwkit/fw/kernel/kerneltest"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fw-clitest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, c := range []string{"fw-save", "fw-restore", "fw-diff"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, c), "github.com/fwkit/fw/cmd/"+c).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", c, err, out)
			os.Exit(1)
		}
	}
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fw runs one of our binaries (outside any namespace) with stdin.
func fw(t *testing.T, stdin string, name string, args ...string) kerneltest.Result {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := kerneltest.Result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// fwIn runs one of our binaries inside a namespace.
func fwIn(t *testing.T, ns *kerneltest.Netns, stdin string, name string, args ...string) kerneltest.Result {
	t.Helper()
	r, err := ns.Run([]byte(stdin), filepath.Join(bin, name), args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustRun(t *testing.T, ns *kerneltest.Netns, stdin string, name string, args ...string) string {
	t.Helper()
	r, err := ns.Run([]byte(stdin), name, args...)
	if err != nil || r.Code != 0 {
		t.Fatalf("%s %v: %v (exit %d) %s", name, args, err, r.Code, r.Stderr)
	}
	return r.Stdout
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
