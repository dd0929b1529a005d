package clitest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/kernel/kerneltest"
)

// dockerRules is what Docker leaves in filter, plus a chain of the host's
// old rules.
const dockerRules = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-USER - [0:0]
:old - [0:0]
-A INPUT -j old
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -j DOCKER
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-USER -j RETURN
-A old -j ACCEPT
COMMIT
`

// hostRules is the host's own file: it jumps to Docker's chains and
// takes DOCKER-USER over, which is meant for the host's rules.
const hostRules = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
:mine - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -j mine
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -j DOCKER
-A DOCKER-USER -s 10.0.0.0/8 -j DROP
-A DOCKER-USER -j RETURN
-A mine -p tcp --dport 22 -j ACCEPT
COMMIT
`

// TestKeepChains: --keep-chains restores the host's file beside Docker's
// chains on both backends: the chains it names and the file does not
// declare stay as they were, the file's own replace the rest, and a kept
// chain that jumps to a chain the file drops fails the restore, changing
// nothing.
func TestKeepChains(t *testing.T) {
	kerneltest.Need(t, append(refTools, "iptables-nft-restore", "iptables-nft-save")...)
	// What the kernel should end with: Docker's DOCKER and
	// DOCKER-ISOLATION-STAGE-1 as they were, the rest the file's.
	want := strings.Replace(hostRules, ":DOCKER-USER - [0:0]\n", ":DOCKER - [0:0]\n:DOCKER-ISOLATION-STAGE-1 - [0:0]\n:DOCKER-USER - [0:0]\n", 1)
	want = strings.Replace(want, "-A DOCKER-USER -s", "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT\n-A DOCKER-ISOLATION-STAGE-1 -j RETURN\n-A DOCKER-USER -s", 1)
	for _, backend := range []string{"legacy", "nft"} {
		restore, save := "iptables-"+backend+"-restore", "iptables-"+backend+"-save"
		t.Run(backend, func(t *testing.T) {
			ref := kerneltest.NewNetns(t)
			mustRun(t, ref, want, restore)
			ns := kerneltest.NewNetns(t)
			mustRun(t, ns, dockerRules, restore)
			if r := fwIn(t, ns, hostRules, "fw-restore", "--backend", backend, "--keep-chains", "DOCKER*"); r.Code != 0 {
				t.Fatalf("exit %d: %s", r.Code, r.Stderr)
			}
			if d := cmp.Diff(kerneltest.DropComments(mustRun(t, ref, "", save)), kerneltest.DropComments(mustRun(t, ns, "", save))); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}

			// Without --keep-chains the file names chains it does not
			// have.
			if r := fwIn(t, ns, hostRules, "fw-restore", "--backend", backend); r.Code == 0 || !strings.Contains(r.Stderr, "DOCKER-ISOLATION-STAGE-1") {
				t.Errorf("without --keep-chains: exit %d: %s", r.Code, r.Stderr)
			}

			// A kept chain that jumps to a chain the file drops.
			ns2 := kerneltest.NewNetns(t)
			mustRun(t, ns2, strings.Replace(dockerRules, "-A DOCKER-ISOLATION-STAGE-1 -j RETURN", "-A DOCKER-ISOLATION-STAGE-1 -j old", 1), restore)
			before := mustRun(t, ns2, "", save, "-c")
			r := fwIn(t, ns2, hostRules, "fw-restore", "--backend", backend, "--keep-chains", "DOCKER*")
			why := map[string]string{ // what each backend can tell
				"legacy": `chain DOCKER-ISOLATION-STAGE-1 rule 1: jump to missing chain "old"`,
				"nft":    "removal of chain old, which the file does not declare: the kernel refused it: it is in use",
			}[backend]
			if r.Code == 0 || !strings.Contains(r.Stderr, why) {
				t.Errorf("a kept chain's jump to a dropped chain: exit %d: %s", r.Code, r.Stderr)
			}
			if d := cmp.Diff(kerneltest.DropComments(before), kerneltest.DropComments(mustRun(t, ns2, "", save, "-c"))); d != "" {
				t.Errorf("the kernel changed after a failed restore:\n%s", d)
			}
		})
	}
}
