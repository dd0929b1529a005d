package ops

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/kernel/legacy"
	"github.com/fwkit/fw/kernel/nft"
	"github.com/fwkit/fw/table"
)

// appends is how many rules TestNoFlushBesideWriters appends beside the
// restores; FW_CONCURRENT_APPENDS sets another number (100 for the
// figures of issue 18).
func appends(t *testing.T) int {
	n := 30
	if s := os.Getenv("FW_CONCURRENT_APPENDS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			t.Fatalf("FW_CONCURRENT_APPENDS=%q: want a number above 0", s)
		}
	}
	return n
}

// TestNoFlushBesideWriters: legacy restores --noflush and --keep-chains
// run over and over while another program appends rules with iptables -w
// and a third holds the xtables lock in short bursts (as a slow
// iptables-restore does). No append may be lost: fw holds the lock from
// its first read of the kernel to its replace. The reference,
// iptables-legacy-restore --noflush, runs the same scenario for the same
// figure.
func TestNoFlushBesideWriters(t *testing.T) {
	kerneltest.Need(t, "iptables-legacy", "iptables-legacy-restore", "iptables-legacy-save", "flock")
	n := appends(t)
	base := "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:mine - [0:0]\n:theirs - [0:0]\n-A INPUT -j mine\n-A INPUT -j theirs\nCOMMIT\n"
	file := "*filter\n:mine - [0:0]\n-A mine -s 192.0.2.1/32 -j ACCEPT\n-A mine -s 192.0.2.2/32 -j DROP\nCOMMIT\n"
	keepFile := "*filter\n:INPUT ACCEPT [0:0]\n:mine - [0:0]\n-A INPUT -j mine\n-A INPUT -j theirs\n-A mine -s 192.0.2.1/32 -j ACCEPT\nCOMMIT\n"
	keep, _ := KeepChains("theirs")
	for _, tc := range []struct {
		name string
		// restore runs one restore in ns; ref says it is the reference.
		restore func(t *testing.T, ns *kerneltest.Netns) error
		ref     bool
	}{
		{name: "fw --noflush", restore: func(t *testing.T, ns *kerneltest.Netns) error {
			return fwRestore(ns, file, func(o *RestoreOptions) { o.NoFlush = true })
		}},
		{name: "fw --keep-chains", restore: func(t *testing.T, ns *kerneltest.Netns) error {
			return fwRestore(ns, keepFile, func(o *RestoreOptions) { o.Keep = keep })
		}},
		{name: "iptables-legacy-restore --noflush", ref: true, restore: func(t *testing.T, ns *kerneltest.Netns) error {
			r, err := ns.Run([]byte(file), "iptables-legacy-restore", "--noflush", "-w")
			if err == nil && r.Code != 0 {
				err = fmt.Errorf("exit %d: %s", r.Code, r.Stderr)
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := kerneltest.NewNetns(t)
			if r, err := ns.Run([]byte(base), "iptables-legacy-restore"); err != nil || r.Code != 0 {
				t.Fatalf("loading the base ruleset: %v %s", err, r.Stderr)
			}
			stop := holdLockInBursts(t, ns)
			defer stop()
			var wg sync.WaitGroup
			done := make(chan struct{})
			var appendErr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(done)
				for i := range n {
					r, err := ns.Run(nil, "iptables-legacy", "-w", "-A", "theirs", "-s", fmt.Sprintf("10.0.%d.%d/32", i/250, i%250+1), "-j", "ACCEPT")
					if err == nil && r.Code != 0 {
						err = fmt.Errorf("exit %d: %s", r.Code, r.Stderr)
					}
					if err != nil {
						appendErr = err
						return
					}
				}
			}()
			restores := 0
			for running := true; running; {
				select {
				case <-done:
					running = false
				default:
				}
				if err := tc.restore(t, ns); err != nil {
					t.Fatalf("restore %d: %v", restores+1, err)
				}
				restores++
			}
			wg.Wait()
			if appendErr != nil {
				t.Fatal(appendErr)
			}
			out, err := ns.Run(nil, "iptables-legacy-save", "-t", "filter")
			if err != nil {
				t.Fatal(err)
			}
			kept := strings.Count(out.Stdout, "-A theirs ")
			lost := n - kept
			t.Logf("%s: %d of %d appends lost beside %d restores", tc.name, lost, n, restores)
			if lost != 0 && !tc.ref {
				t.Errorf("%d of %d appends made with iptables -w beside the restores were lost", lost, n)
			}
			if !strings.Contains(out.Stdout, "-A mine -s 192.0.2.1/32 -j ACCEPT") {
				t.Errorf("the file's rules are not there:\n%s", out.Stdout)
			}
		})
	}
}

// fwRestore is fw-restore -w of file in ns, on the legacy backend.
func fwRestore(ns *kerneltest.Netns, file string, set func(*RestoreOptions)) error {
	b := &legacy.Backend{Registry: registry, LockFile: ns.LockFile, LockWait: -1}
	opt := RestoreOptions{Family: table.IPv4, Registry: registry, Wait: -1,
		Open: func(string, time.Duration) (kernel.Backend, string, error) { return b, "", nil },
		Read: files(map[string]string{"file": file}), File: "file"}
	set(&opt)
	return ns.Do(func() error { return Restore(opt) })
}

// holdLockInBursts starts a program that takes ns's xtables lock for 50
// ms at a time, with 20 ms between; stop ends it.
func holdLockInBursts(t *testing.T, ns *kerneltest.Netns) (stop func()) {
	cmd := exec.Command("sh", "-c", `while :; do flock "$0" sleep 0.05; sleep 0.02; done`, ns.LockFile)
	if err := ns.Do(cmd.Start); err != nil {
		t.Fatal(err)
	}
	return func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// TestNftNoFlushBesideWriters: on nf_tables, fw restores --noflush and
// --incremental run over and over while iptables-nft appends rules in a
// loop. Every restore gets through (fw reads again and re-applies the
// file when the generation moved), and no append is lost. The reference,
// iptables-nft-restore --noflush, runs beside for the same figures.
func TestNftNoFlushBesideWriters(t *testing.T) {
	kerneltest.Need(t, "iptables-nft", "iptables-nft-restore", "iptables-nft-save")
	n := appends(t)
	base := "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:mine - [0:0]\n:theirs - [0:0]\n-A INPUT -j mine\n-A INPUT -j theirs\nCOMMIT\n"
	var big strings.Builder
	big.WriteString("*filter\n:mine - [0:0]\n")
	for i := range 2000 {
		fmt.Fprintf(&big, "-A mine -s 192.0.%d.%d/32 -j ACCEPT\n", i/250, i%250+1)
	}
	big.WriteString("COMMIT\n")
	file := big.String()
	for _, tc := range []struct {
		name    string
		restore func(ns *kerneltest.Netns) error
	}{
		{"fw --noflush", func(ns *kerneltest.Netns) error {
			return nftRestore(ns, file, func(o *RestoreOptions) { o.NoFlush = true })
		}},
		{"fw --incremental", func(ns *kerneltest.Netns) error {
			// The whole table, but for chain theirs, which is kept.
			full := strings.NewReplacer("COMMIT\n", "", ":theirs - [0:0]\n", "").Replace(base) + strings.TrimPrefix(strings.Replace(file, ":mine - [0:0]\n", "", 1), "*filter\n")
			return nftRestore(ns, full, func(o *RestoreOptions) { o.Incremental = true; o.Keep, _ = KeepChains("theirs") })
		}},
		{"iptables-nft-restore --noflush", func(ns *kerneltest.Netns) error {
			r, err := ns.Run([]byte(file), "iptables-nft-restore", "--noflush")
			if err == nil && r.Code != 0 {
				err = fmt.Errorf("exit %d: %s", r.Code, r.Stderr)
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := kerneltest.NewNetns(t)
			if r, err := ns.Run([]byte(base), "iptables-nft-restore"); err != nil || r.Code != 0 {
				t.Fatalf("loading the base ruleset: %v %s", err, r.Stderr)
			}
			done := make(chan struct{})
			var appendErr error
			go func() {
				defer close(done)
				for i := range n {
					r, err := ns.Run(nil, "iptables-nft", "-A", "theirs", "-s", fmt.Sprintf("10.0.%d.%d/32", i/250, i%250+1), "-j", "ACCEPT")
					if err == nil && r.Code != 0 {
						err = fmt.Errorf("exit %d: %s", r.Code, r.Stderr)
					}
					if err != nil {
						appendErr = err
						return
					}
				}
			}()
			restores, failed := 0, 0
			var firstErr error
			for running := true; running; restores++ {
				select {
				case <-done:
					running = false
				default:
				}
				if err := tc.restore(ns); err != nil {
					failed++
					if firstErr == nil {
						firstErr = err
					}
				}
			}
			<-done
			if appendErr != nil {
				t.Fatal(appendErr)
			}
			out, err := ns.Run(nil, "iptables-nft-save", "-t", "filter")
			if err != nil {
				t.Fatal(err)
			}
			lost := n - strings.Count(out.Stdout, "-A theirs ")
			t.Logf("%s: %d of %d restores failed, %d of %d appends lost", tc.name, failed, restores, lost, n)
			if strings.HasPrefix(tc.name, "fw") && (failed != 0 || lost != 0) {
				t.Errorf("%d restores failed (first: %v), %d appends lost", failed, firstErr, lost)
			}
		})
	}
}

// nftRestore is fw-restore of file in ns, on the nf_tables backend.
func nftRestore(ns *kerneltest.Netns, file string, set func(*RestoreOptions)) error {
	b := &nft.Backend{Registry: registry}
	opt := RestoreOptions{Family: table.IPv4, Registry: registry,
		Open: func(string, time.Duration) (kernel.Backend, string, error) { return b, "", nil },
		Read: files(map[string]string{"file": file}), File: "file"}
	set(&opt)
	return ns.Do(func() error { return Restore(opt) })
}
