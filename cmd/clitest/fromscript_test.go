package clitest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/kernel/kerneltest"
)

// testdata/scripts holds firewall scripts in the style of the BLFS book's
// examples (written for fw, not copied). NAME.golden is what
// iptables-legacy-save prints after the script ran with the reference
// iptables in a fresh namespace (NAME.v6.golden: ip6tables-legacy-save);
// TestFromScriptOracle checks that, and -update-scripts rewrites them.

var updateScripts = flag.Bool("update-scripts", false, "rewrite testdata/scripts/*.golden from what the reference tools do with the scripts")

// scriptFixes are the modern spellings of what old scripts contain and
// iptables 1.8 refuses: for the reference run, and what --fix must do.
var scriptFixes = map[string][][2]string{
	"old-router.sh": {{"-i ! $WAN1", "! -i $WAN1"}, {"--dport ! 25", "! --dport 25"}, {"-I INPUT 0", "-I INPUT 1"}},
}

type scriptCase struct {
	script, golden string
	v6             bool
}

func scriptCases(t *testing.T) []scriptCase {
	t.Helper()
	paths, _ := filepath.Glob("../../testdata/scripts/*.sh")
	if len(paths) == 0 {
		t.Fatal("no scripts in testdata/scripts")
	}
	var cs []scriptCase
	for _, p := range paths {
		base := strings.TrimSuffix(p, ".sh")
		cs = append(cs, scriptCase{p, base + ".golden", false})
		if _, err := os.Stat(base + ".v6.golden"); err == nil {
			cs = append(cs, scriptCase{p, base + ".v6.golden", true})
		}
	}
	return cs
}

func (sc scriptCase) name() string {
	n := filepath.Base(sc.script)
	if sc.v6 {
		n += " -6"
	}
	return n
}

func (sc scriptCase) args(extra ...string) []string {
	args := []string{"--from-script", sc.script, "--no-header"}
	if sc.v6 {
		args = append(args, "-6")
	}
	if scriptFixes[filepath.Base(sc.script)] != nil {
		args = append(args, "--fix")
	}
	return append(args, extra...)
}

// TestFromScriptGolden: fw-save --from-script prints the golden file.
func TestFromScriptGolden(t *testing.T) {
	for _, sc := range scriptCases(t) {
		t.Run(sc.name(), func(t *testing.T) {
			if *updateScripts {
				t.Skip("updating")
			}
			r := fw(t, "", "fw-save", sc.args()...)
			if r.Code != 0 {
				t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
			}
			if d := cmp.Diff(readFile(t, sc.golden), r.Stdout); d != "" {
				t.Errorf("(-golden +fw-save --from-script)\n%s", d)
			}
		})
	}
}

// runScript runs a script with the reference iptables in ns, the way
// it would run at boot, except that modprobe and sysctl do nothing and
// /proc/sys writes go to a scratch tmpfs.
func runScript(t *testing.T, ns *kerneltest.Netns, script string) {
	t.Helper()
	shims := t.TempDir()
	for name, body := range map[string]string{
		"iptables":  "exec iptables-legacy \"$@\"",
		"ip6tables": "exec ip6tables-legacy \"$@\"",
		"modprobe":  "exit 0",
		"sysctl":    "exit 0",
	} {
		if err := os.WriteFile(filepath.Join(shims, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Scripts may call /sbin/iptables by its path; in a mount namespace
	// of its own that path is the shim.
	setup := "mount -t tmpfs fwtest /proc/sys && " +
		"if [ -e /sbin/iptables ]; then mount --bind " + shims + "/iptables /sbin/iptables; fi && " +
		"PATH=" + shims + ":$PATH exec sh " + script
	r, err := ns.Run(nil, "unshare", "-m", "sh", "-c", setup)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: exit %d\n%s%s", script, r.Code, r.Stdout, r.Stderr)
}

// TestFromScriptOracle: what the reference iptables leaves in the kernel
// after running each script is the golden file.
func TestFromScriptOracle(t *testing.T) {
	kerneltest.Need(t, append(refTools, "iptables-legacy", "ip6tables-legacy", "unshare", "mount")...)
	for _, sc := range scriptCases(t) {
		t.Run(sc.name(), func(t *testing.T) {
			script := sc.script
			if fixes := scriptFixes[filepath.Base(script)]; fixes != nil {
				src := readFile(t, script)
				for _, f := range fixes {
					if !strings.Contains(src, f[0]) {
						t.Fatalf("%s does not contain %q", script, f[0])
					}
					src = strings.ReplaceAll(src, f[0], f[1])
				}
				script = filepath.Join(t.TempDir(), filepath.Base(script))
				if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			abs, _ := filepath.Abs(script)
			ns := kerneltest.NewNetns(t)
			runScript(t, ns, abs)
			save := "iptables-legacy-save"
			if sc.v6 {
				save = "ip6tables-legacy-save"
			}
			got := kerneltest.DropComments(mustRun(t, ns, "", save))
			if *updateScripts {
				if err := os.WriteFile(sc.golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if d := cmp.Diff(readFile(t, sc.golden), got); d != "" {
				t.Errorf("the reference running the script (-golden +reference):\n%s", d)
			}
		})
	}
}

// TestFromScriptRoundTrip: the converted ruleset restored with
// fw-restore, saved with fw-save, compares equal with fw-diff, and equal
// to the kernel itself.
func TestFromScriptRoundTrip(t *testing.T) {
	kerneltest.Need(t, refTools...)
	for _, sc := range scriptCases(t) {
		t.Run(sc.name(), func(t *testing.T) {
			dir := t.TempDir()
			rules := filepath.Join(dir, "rules")
			r := fw(t, "", "fw-save", sc.args("-f", rules)...)
			if r.Code != 0 {
				t.Fatalf("fw-save --from-script: exit %d\n%s", r.Code, r.Stderr)
			}
			fam := "-4"
			if sc.v6 {
				fam = "-6"
			}
			ns := kerneltest.NewNetns(t)
			if r := fwIn(t, ns, "", "fw-restore", "--backend", "legacy", fam, rules); r.Code != 0 {
				t.Fatalf("fw-restore: exit %d\n%s", r.Code, r.Stderr)
			}
			saved := filepath.Join(dir, "saved")
			if r := fwIn(t, ns, "", "fw-save", "--backend", "legacy", fam, "-f", saved); r.Code != 0 {
				t.Fatalf("fw-save: exit %d\n%s", r.Code, r.Stderr)
			}
			if r := fw(t, "", "fw-diff", fam, rules, saved); r.Code != 0 {
				t.Errorf("fw-diff converted saved: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
			}
			if r := fwIn(t, ns, "", "fw-diff", "--backend", "legacy", fam, rules); r.Code != 0 {
				t.Errorf("fw-diff converted kernel: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
			}
		})
	}
}

// TestFromScriptCLI: what fw-save --from-script says on stderr, the
// sysctl fragment, errors and --fix, and its usage errors.
func TestFromScriptCLI(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "50-fw.conf")
	r := fw(t, "", "fw-save", "--from-script", "../../testdata/scripts/masquerading-router.sh", "--sysctl", conf)
	if r.Code != 0 {
		t.Fatalf("exit %d\n%s", r.Code, r.Stderr)
	}
	for _, want := range []string{
		"fw-save: ../../testdata/scripts/masquerading-router.sh:11: skipped (not an iptables command): modprobe nf_conntrack\n",
		"fw-save: ../../testdata/scripts/masquerading-router.sh:15: skipped (kernel setting net.ipv4.ip_forward = 1): echo 1 > /proc/sys/net/ipv4/ip_forward\n",
		"fw-save: ../../testdata/scripts/masquerading-router.sh: converted 20 commands; skipped 6 other commands and 12 comment lines\n",
		"fw-save: wrote 4 kernel settings to " + conf + "\n",
	} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	if !strings.HasPrefix(r.Stdout, "# Generated by fw-save v") {
		t.Errorf("stdout:\n%s", r.Stdout)
	}
	wantConf := "# Kernel settings from ../../testdata/scripts/masquerading-router.sh, written by fw-save --from-script.\n" +
		"# Install as /etc/sysctl.d/50-fw.conf: systemd-sysctl (or 'sysctl --system') applies it at boot.\n" +
		"net.ipv4.ip_forward = 1\nnet.ipv4.conf.all.accept_redirects = 0\nnet.ipv4.conf.all.rp_filter = 1\nnet.ipv4.ip_dynaddr = 2\n"
	if d := cmp.Diff(wantConf, readFile(t, conf)); d != "" {
		t.Errorf("sysctl fragment (-want +got):\n%s", d)
	}

	r = fw(t, "", "fw-save", "--from-script", "../../testdata/scripts/dual-stack.sh", "--no-header")
	if r.Code != 0 || !strings.Contains(r.Stderr, "skipped 7 ip6tables commands (the first at line 11); convert them with -6\n") {
		t.Errorf("dual-stack: exit %d\n%s", r.Code, r.Stderr)
	}

	// Without --fix, what iptables refuses is an error with file:line:col
	// and a hint; nothing is printed on stdout.
	old := "../../testdata/scripts/old-router.sh"
	r = fw(t, "", "fw-save", "--from-script", old)
	if r.Code != 2 || r.Stdout != "" {
		t.Fatalf("old-router without --fix: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{
		"fw-save: " + old + ":16:51: '!' after -i (hint: write the negation before the option: '! -i ppp0'; --fix rewrites it)\n",
		"fw-save: " + old + ":17:36: '!' after --dport (hint: write the negation before the option: '! --dport 25'; --fix rewrites it)\n",
		"fw-save: " + old + ":19:19: invalid rule number \"0\" (hint: rule numbers start at 1: '-I INPUT 1', or no number, inserts at the top; --fix rewrites it)\n",
	} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.Stderr)
		}
	}
	r = fw(t, "", "fw-save", "--from-script", old, "--fix", "--no-header")
	if r.Code != 0 || !strings.Contains(r.Stderr, "fw-save: "+old+":16:48: rewrote '-i ! ppp0' as '! -i ppp0'") {
		t.Errorf("old-router --fix: exit %d\n%s", r.Code, r.Stderr)
	}

	// A script from standard input, and -t.
	r = fw(t, "LAN=eth1\niptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\niptables -A INPUT -i $LAN -j ACCEPT\n",
		"fw-save", "--from-script", "-", "--no-header", "-t", "filter")
	if r.Code != 0 || r.Stdout != "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i eth1 -j ACCEPT\nCOMMIT\n" {
		t.Errorf("stdin: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = fw(t, "$IPT -F\n", "fw-save", "--from-script", "-")
	if r.Code != 2 || !strings.Contains(r.Stderr, "fw-save: <stdin>:1:1: cannot tell which command this is: $IPT is not set in the script") {
		t.Errorf("unset variable: exit %d\n%s", r.Code, r.Stderr)
	}

	for _, args := range [][]string{
		{"--fix"},
		{"--sysctl", conf},
		{"--from", "x", "--from-script", "y"},
	} {
		if r := fw(t, "", "fw-save", args...); r.Code != 2 {
			t.Errorf("%v: exit %d %s", args, r.Code, r.Stderr)
		}
	}
}
