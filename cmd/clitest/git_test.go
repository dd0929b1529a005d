package clitest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGitWorkflow: the README's textconv and difftool set-up makes git
// show canonical, meaningful changes of a rules file.
func TestGitWorkflow(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "fw.rules"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	git("config", "diff.iptables.textconv", "fw-save --no-header --from")
	git("config", "difftool.fw.cmd", `fw-diff --color never "$LOCAL" "$REMOTE"; test $? -le 1`)
	os.WriteFile(filepath.Join(dir, ".gitattributes"), []byte("*.rules diff=iptables\n"), 0o644)
	write("*filter\n-A INPUT -p 6 --dport ssh -j ACCEPT\nCOMMIT\n")
	git("add", ".")
	git("commit", "-qm", "one")
	// Same meaning, other spelling, plus one real change.
	write("*filter\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -p udp --dport 53 -j ACCEPT\nCOMMIT\n")
	d := git("diff")
	if !strings.Contains(d, "+-A INPUT -p udp -m udp --dport 53 -j ACCEPT") || strings.Contains(d, "-A INPUT -p 6") || strings.Contains(d, "--dport ssh") {
		t.Errorf("git diff through textconv:\n%s", d)
	}
	d = git("difftool", "-y", "-t", "fw")
	if !strings.Contains(d, "1 changes: 1 rule-added") {
		t.Errorf("git difftool through fw-diff:\n%s", d)
	}
}
