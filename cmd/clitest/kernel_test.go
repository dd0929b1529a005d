package clitest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/kernel/kerneltest"
)

var refTools = []string{"iptables-legacy-restore", "iptables-legacy-save", "ip6tables-legacy-restore", "ip6tables-legacy-save"}

func tools(path string) (restore, save, famFlag string) {
	if strings.HasSuffix(path, ".v6.rules") {
		return "ip6tables-legacy-restore", "ip6tables-legacy-save", "-6"
	}
	return "iptables-legacy-restore", "iptables-legacy-save", "-4"
}

// TestKernelRulesets: for every ruleset of the corpus, fw-restore then
// iptables-legacy-save prints what iptables-legacy-restore then
// iptables-legacy-save prints; and fw-save reads the reference's kernel
// state exactly as iptables-legacy-save does.
func TestKernelRulesets(t *testing.T) {
	kerneltest.Need(t, refTools...)
	paths, _ := filepath.Glob("../../testdata/rulesets/*.rules")
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			src := readFile(t, p)
			restore, save, fam := tools(p)
			var c []string
			if strings.HasPrefix(filepath.Base(p), "counters") {
				c = []string{"-c"}
			}
			ref := kerneltest.NewNetns(t)
			mustRun(t, ref, src, restore, c...)
			want := kerneltest.DropComments(mustRun(t, ref, "", save, c...))

			ours := kerneltest.NewNetns(t)
			if r := fwIn(t, ours, src, "fw-restore", append([]string{"--backend", "legacy", fam}, c...)...); r.Code != 0 {
				t.Fatalf("fw-restore: exit %d: %s", r.Code, r.Stderr)
			}
			if d := cmp.Diff(want, kerneltest.DropComments(mustRun(t, ours, "", save, c...))); d != "" {
				t.Errorf("after fw-restore, iptables-legacy-save prints (-after reference restore +after fw-restore):\n%s", d)
			}
			r := fwIn(t, ref, "", "fw-save", append([]string{"--backend", "legacy", fam}, c...)...)
			if r.Code != 0 {
				t.Fatalf("fw-save: exit %d: %s", r.Code, r.Stderr)
			}
			if d := cmp.Diff(want, kerneltest.DropComments(r.Stdout)); d != "" {
				t.Errorf("fw-save differs from iptables-legacy-save (-reference +fw):\n%s", d)
			}
		})
	}
}

const base = `*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:keep - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -j keep
-A keep -s 10.0.0.0/8 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth0 -j ACCEPT
COMMIT
`

// TestRestoreSemantics runs the same sequence of restores through the
// reference and through fw, on both backends, and compares the end
// states.
func TestRestoreSemantics(t *testing.T) {
	kerneltest.Need(t, append(refTools, "iptables-nft-restore", "iptables-nft-save")...)
	cases := []struct {
		name  string
		input string
		args  []string
		// notNft says why the case is not compared on nf_tables.
		notNft string
	}{
		{"flush keeps unnamed policies", "*filter\n-A OUTPUT -j ACCEPT\nCOMMIT\n", nil,
			"iptables-nft-restore deletes the table and so resets them to ACCEPT; fw keeps them on both backends (README)"},
		{"noflush appends", "*filter\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n", []string{"--noflush"}, ""},
		{"noflush declared user chain is flushed", "*filter\n:keep - [0:0]\n-A keep -j RETURN\nCOMMIT\n", []string{"--noflush"}, ""},
		{"noflush insert delete replace", "*filter\n-I INPUT 2 -s 1.2.3.4 -j DROP\n-D INPUT -i lo -j ACCEPT\n-R INPUT 1 -s 5.6.7.8 -j DROP\n-D keep 1\nCOMMIT\n", []string{"--noflush"},
			"iptables-nft-restore 1.8.9 crashes on it"},
		{"noflush new chain rename delete", "*filter\n-N fresh\n-A fresh -j DROP\n-F keep\n-E keep kept\n-F INPUT\n-X kept\n-P FORWARD DROP\nCOMMIT\n", []string{"--noflush"},
			"iptables-nft-restore 1.8.9 cannot delete a chain renamed in the same file"},
		{"noflush insert and delete", "*filter\n-I INPUT 2 -s 1.2.3.4 -j DROP\n-D INPUT -i lo -j ACCEPT\n-D keep 1\nCOMMIT\n", []string{"--noflush"}, ""},
		{"noflush new chain", "*filter\n-N fresh\n-A fresh -j DROP\n-A INPUT -j fresh\n-F keep\n-P FORWARD DROP\nCOMMIT\n", []string{"--noflush"}, ""},
		{"only one table", base + "*raw\n-A PREROUTING -j ACCEPT\nCOMMIT\n", []string{"-T", "raw"}, ""},
		{"counters", "*filter\n:INPUT ACCEPT [10:20]\n[3:4] -A INPUT -j ACCEPT\n-A OUTPUT -c 5 6 -j ACCEPT\nCOMMIT\n", []string{"-c"}, ""},
		{"counters ignored without -c", "*filter\n:INPUT ACCEPT [10:20]\n[3:4] -A INPUT -j ACCEPT\n-A OUTPUT -c 5 6 -j ACCEPT\nCOMMIT\n", nil, ""},
		{"noflush keeps counters", "*filter\n-A OUTPUT -j DROP\nCOMMIT\n", []string{"--noflush"}, ""},
		{"noflush zeroes counters", "*filter\n-Z OUTPUT\nCOMMIT\n", []string{"--noflush"}, ""},
		{"noflush with counters", "*filter\n:OUTPUT DROP [1:2]\n[5:6] -A OUTPUT -j DROP\nCOMMIT\n", []string{"--noflush", "-c"}, ""},
		{"noflush flushes a built-in chain and jumps to a kept chain", "*filter\n-F INPUT\n-A FORWARD -j keep\nCOMMIT\n", []string{"--noflush"}, ""},
		{"noflush declares and deletes a chain", "*filter\n:gone - [0:0]\n-A gone -j RETURN\n-F gone\n-X gone\nCOMMIT\n", []string{"--noflush"}, ""},
		{"noflush creates a table", "*mangle\n-A PREROUTING -j ACCEPT\nCOMMIT\n", []string{"--noflush"}, ""},
		{"noflush touches two tables", "*nat\n-A POSTROUTING -o eth1 -j ACCEPT\nCOMMIT\n*filter\n-D INPUT 1\nCOMMIT\n", []string{"--noflush"}, ""},
		{"noflush redeclares a chain with the same rules", "*filter\n:keep - [0:0]\n-A keep -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n", []string{"--noflush"}, ""},
		{"noflush zeroes one rule", "*filter\n-A OUTPUT -j DROP\n-Z OUTPUT 1\nCOMMIT\n", []string{"--noflush"}, ""},
	}
	for _, backend := range []string{"legacy", "nft"} {
		restore, save := "iptables-"+backend+"-restore", "iptables-"+backend+"-save"
		for _, tc := range cases {
			if backend == "nft" && tc.notNft != "" {
				t.Logf("nft/%s: not compared: %s", tc.name, tc.notNft)
				continue
			}
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				ref := kerneltest.NewNetns(t)
				ours := kerneltest.NewNetns(t)
				for _, ns := range []*kerneltest.Netns{ref, ours} {
					mustRun(t, ns, base, restore)
					mustRun(t, ns, "*filter\n[7:700] -A OUTPUT -j ACCEPT\nCOMMIT\n", restore, "-c", "--noflush")
				}
				mustRun(t, ref, tc.input, restore, tc.args...)
				if r := fwIn(t, ours, tc.input, "fw-restore", append([]string{"--backend", backend}, tc.args...)...); r.Code != 0 {
					t.Fatalf("fw-restore: exit %d: %s", r.Code, r.Stderr)
				}
				want := kerneltest.DropComments(mustRun(t, ref, "", save, "-c"))
				got := kerneltest.DropComments(mustRun(t, ours, "", save, "-c"))
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("(-reference +fw)\n%s", d)
				}
			})
		}
	}
}

// TestFailedRestoreChangesNothing: a file that fails anywhere leaves the
// kernel exactly as it was.
func TestFailedRestoreChangesNothing(t *testing.T) {
	kerneltest.Need(t, append(refTools, "iptables-nft-restore", "iptables-nft-save")...)
	for _, backend := range []string{"legacy", "nft"} {
		restore, save := "iptables-"+backend+"-restore", "iptables-"+backend+"-save"
		ns := kerneltest.NewNetns(t)
		mustRun(t, ns, base, restore)
		before := kerneltest.DropComments(mustRun(t, ns, "", save, "-c"))
		for _, bad := range []struct {
			file        string
			noflushOnly bool // without --noflush the file is fine: it flushes the table first
		}{
			{file: "*filter\n-F\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n-A POSTROUTING -j NOSUCHTARGET\nCOMMIT\n"},
			{file: "*nat\n-F\nCOMMIT\n*filter\n-A INPUT -m comment --comment \"unterminated\nCOMMIT\n"},
			{file: "*filter\n-F\nCOMMIT\n*nat\n-A PREROUTING -j MASQUERADE\nCOMMIT\n"},
			// INPUT, which the file does not name (on nft not even
			// read: the kernel refuses), still jumps to keep.
			{file: "*filter\n:keep - [0:0]\n-X keep\nCOMMIT\n", noflushOnly: true},
			// INPUT -> keep -> keep2 -> keep is a loop.
			{file: "*filter\n:keep2 - [0:0]\n-A keep2 -j keep\n-A keep -j keep2\nCOMMIT\n", noflushOnly: true},
		} {
			for _, args := range [][]string{nil, {"--noflush"}} {
				if bad.noflushOnly && args == nil {
					continue
				}
				r := fwIn(t, ns, bad.file, "fw-restore", append([]string{"--backend", backend}, args...)...)
				if r.Code == 0 {
					t.Errorf("%s %v: accepted:\n%s", backend, args, bad.file)
				}
				if !strings.Contains(r.Stderr, "<stdin>:") {
					t.Errorf("%s %v: the error names no line: %s", backend, args, r.Stderr)
				}
				after := kerneltest.DropComments(mustRun(t, ns, "", save, "-c"))
				if d := cmp.Diff(before, after); d != "" {
					t.Errorf("%s %v: kernel changed after a failed restore (%s):\n%s", backend, args, strings.TrimSpace(r.Stderr), d)
				}
			}
		}
	}
}

// TestLock: fw-restore cooperates with iptables through the xtables lock:
// busy lock = immediate, clear failure (exit 4) without -w; -w N waits N
// seconds; -w waits until the lock is free.
func TestLock(t *testing.T) {
	kerneltest.Need(t, refTools...)
	ns := kerneltest.NewNetns(t)
	f, err := os.OpenFile(ns.LockFile, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	in := "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"
	r := fwIn(t, ns, in, "fw-restore", "--backend", "legacy")
	if r.Code != 4 || !strings.Contains(r.Stderr, "another program is holding the xtables lock") {
		t.Errorf("busy lock without -w: exit %d: %s", r.Code, r.Stderr)
	}
	start := time.Now()
	r = fwIn(t, ns, in, "fw-restore", "--backend", "legacy", "-w", "1")
	if r.Code != 4 || time.Since(start) < time.Second {
		t.Errorf("-w 1: exit %d after %v: %s", r.Code, time.Since(start), r.Stderr)
	}
	go func() {
		time.Sleep(500 * time.Millisecond)
		f.Close()
	}()
	r = fwIn(t, ns, in, "fw-restore", "--backend", "legacy", "-w")
	if r.Code != 0 {
		t.Errorf("-w after release: exit %d: %s", r.Code, r.Stderr)
	}
}

// TestDriftLegacy: right after fw-restore, fw-diff FILE against the kernel
// finds nothing; after a change made with the reference iptables command
// it reports exactly that change.
func TestDriftLegacy(t *testing.T) {
	kerneltest.Need(t, append(refTools, "iptables-legacy")...)
	ns := kerneltest.NewNetns(t)
	file := filepath.Join(t.TempDir(), "rules.v4")
	if err := os.WriteFile(file, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := fwIn(t, ns, "", "fw-restore", "--backend", "legacy", file); r.Code != 0 {
		t.Fatalf("fw-restore: %d %s", r.Code, r.Stderr)
	}
	if r := fwIn(t, ns, "", "fw-diff", "--backend", "legacy", file); r.Code != 0 {
		t.Fatalf("fw-diff right after restore: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	mustRun(t, ns, "", "iptables-legacy", "-I", "keep", "2", "-s", "192.0.2.1", "-j", "DROP")
	r := fwIn(t, ns, "", "fw-diff", "--backend", "legacy", "--format", "json", file)
	if r.Code != 1 {
		t.Fatalf("fw-diff after a change: exit %d %s", r.Code, r.Stderr)
	}
	for _, want := range []string{`"kind": "rule-added"`, `"chain": "keep"`, `"new": "-A keep -s 192.0.2.1/32 -j DROP"`, `"new_pos": 2`, `"changes": 1`} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("json lacks %s:\n%s", want, r.Stdout)
		}
	}
}
