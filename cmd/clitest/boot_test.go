package clitest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/kernel/kerneltest"
)

// The boot service is tested as installed: "make install-systemd" into a
// scratch DESTDIR (the part of "make install" that is not the binaries),
// the test's binaries where "make install" puts them, then the unit's own
// Exec lines, parsed from the installed file, are run in a throwaway
// network namespace with the unit's capability bounding set.

// installBoot installs the units with PREFIX=/usr SYSCONFDIR=/etc under
// a scratch DESTDIR and returns it.
func installBoot(t *testing.T) string {
	t.Helper()
	kerneltest.Need(t, "make")
	dest := t.TempDir()
	cmd := exec.Command("make", "-s", "-C", "../..", "install-systemd", "DESTDIR="+dest, "PREFIX=/usr", "SYSCONFDIR=/etc")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install-systemd: %v\n%s", err, out)
	}
	sbin := filepath.Join(dest, "usr/sbin")
	if err := os.MkdirAll(sbin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"fw-save", "fw-restore", "fw-diff"} {
		b, err := os.ReadFile(filepath.Join(bin, c))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sbin, c), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dest
}

// unit is a parsed unit file: section -> key -> values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	sec := ""
	sc := bufio.NewScanner(f)
	var cont string
	for sc.Scan() {
		line := cont + sc.Text()
		cont = ""
		if strings.HasSuffix(line, `\`) {
			cont = strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			sec = strings.Trim(line, "[]")
			if u[sec] == nil {
				u[sec] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || sec == "" {
				t.Fatalf("%s: cannot read %q", path, line)
			}
			u[sec][strings.TrimSpace(k)] = append(u[sec][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

func (u unit) one(t *testing.T, sec, key string) string {
	t.Helper()
	v := u[sec][key]
	if len(v) != 1 {
		t.Fatalf("unit: [%s] %s= given %d times, want once", sec, key, len(v))
	}
	return v[0]
}

// splitUnitWords splits a command line as systemd does: blanks separate
// words, single and double quotes group, a backslash escapes.
func splitUnitWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	in := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unterminated quote in %q", s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// specifiers resolves %i and %% (the only specifiers the unit may use).
func specifiers(t *testing.T, s, instance string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			t.Fatalf("lone %% in %q", s)
		}
		i++
		switch s[i] {
		case 'i', 'I':
			b.WriteString(instance)
		case '%':
			b.WriteByte('%')
		default:
			t.Fatalf("specifier %%%c in %q: teach the test about it", s[i], s)
		}
	}
	return b.String()
}

var envRef = regexp.MustCompile(`\$\$|\$\{[A-Za-z_][A-Za-z0-9_]*\}`)

// expandEnv does systemd's environment substitution: "$NAME" as a whole
// word splits, "${NAME}" anywhere is replaced as one piece, "$$" is "$".
func expandEnv(words []string, env map[string]string) []string {
	var out []string
	for _, w := range words {
		if len(w) > 1 && w[0] == '$' && w[1] != '{' && w[1] != '$' {
			out = append(out, strings.Fields(env[w[1:]])...)
			continue
		}
		out = append(out, envRef.ReplaceAllStringFunc(w, func(m string) string {
			if m == "$$" {
				return "$"
			}
			return env[m[2:len(m)-1]]
		}))
	}
	return out
}

// relocate rewrites the installed paths in s to where they are in the
// test, under dest: the installed files, empty directories and the rules
// directory etc/fw whatever it holds (a rules file the unit names may be
// missing on purpose).
func relocate(t *testing.T, dest, s string) string {
	t.Helper()
	var paths []string
	filepath.WalkDir(dest, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if ents, _ := os.ReadDir(p); len(ents) > 0 && filepath.Base(p) != "fw" {
				return nil
			}
		}
		if p != dest {
			paths = append(paths, strings.TrimPrefix(p, dest))
		}
		return nil
	})
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	var alt []string
	for _, p := range paths {
		alt = append(alt, regexp.QuoteMeta(p))
	}
	re := regexp.MustCompile(`(^|[^A-Za-z0-9_./-])(` + strings.Join(alt, "|") + `)([^A-Za-z0-9_.-]|$)`)
	// A match consumes its neighbours; run until nothing changes.
	for {
		n := re.ReplaceAllString(s, "${1}"+dest+"${2}${3}")
		if n == s {
			return s
		}
		s = n
	}
}

// readEnvFile reads an EnvironmentFile (KEY=VALUE lines, comments,
// optional quotes).
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	env := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("%s: cannot read %q", path, l)
		}
		env[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return env
}

// bootUnit is the installed fw@.service of one instance, ready to run its
// Exec lines.
type bootUnit struct {
	t        *testing.T
	dest     string
	u        unit
	instance string
	caps     string // for setpriv --bounding-set
}

func loadBootUnit(t *testing.T, dest, instance string) *bootUnit {
	u := parseUnit(t, filepath.Join(dest, "usr/lib/systemd/system/fw@.service"))
	var caps []string
	for _, c := range strings.Fields(u.one(t, "Service", "CapabilityBoundingSet")) {
		caps = append(caps, "+"+strings.ToLower(strings.TrimPrefix(c, "CAP_")))
	}
	return &bootUnit{t: t, dest: dest, u: u, instance: instance, caps: "-all," + strings.Join(caps, ",")}
}

// env is what systemd gives the unit's commands: a fixed PATH and the
// EnvironmentFile.
func (b *bootUnit) env() map[string]string {
	t := b.t
	env := map[string]string{"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	for _, ef := range b.u["Service"]["EnvironmentFile"] {
		optional := strings.HasPrefix(ef, "-")
		p := relocate(t, b.dest, strings.TrimPrefix(ef, "-"))
		if _, err := os.Stat(p); err != nil && optional {
			continue
		}
		for k, v := range readEnvFile(t, p) {
			env[k] = v
		}
	}
	return env
}

// run runs the Exec lines of key in ns, as systemd would, and returns the
// result of the last (or first failing) one.
func (b *bootUnit) run(ns *kerneltest.Netns, key string) kerneltest.Result {
	t := b.t
	t.Helper()
	lines := b.u["Service"][key]
	if len(lines) == 0 {
		t.Fatalf("unit has no %s=", key)
	}
	env := b.env()
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	var r kerneltest.Result
	for _, line := range lines {
		words := splitUnitWords(t, specifiers(t, line, b.instance))
		ignore := false
		for len(words[0]) > 0 && strings.ContainsRune("-@:+!", rune(words[0][0])) {
			ignore = ignore || words[0][0] == '-'
			words[0] = words[0][1:]
		}
		argv := expandEnv(words, env)
		for i := range argv {
			argv[i] = relocate(t, b.dest, argv[i])
		}
		args := append([]string{"netns", "exec", ns.Name, "setpriv", "--no-new-privs", "--inh-caps=-all", "--bounding-set=" + b.caps, "--"}, argv...)
		cmd := exec.Command("ip", args...)
		// The checks read the result with iptables-legacy-save; a fresh
		// namespace would otherwise get nf_tables (FW_BACKEND may be set in
		// /etc/default/fw like this).
		cmd.Env = append(envList, "LC_ALL=C", "FW_BACKEND=legacy", "XTABLES_LOCKFILE="+ns.LockFile)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		r = kerneltest.Result{Stdout: out.String(), Stderr: errb.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.Code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		t.Logf("%s=%s\n  ran %q: exit %d\n%s", key, line, argv, r.Code, r.Stderr)
		if r.Code != 0 && !ignore {
			return r
		}
	}
	return r
}

func (b *bootUnit) write(rel, content string) {
	b.t.Helper()
	if err := os.WriteFile(filepath.Join(b.dest, rel), []byte(content), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// setDefault changes one setting in the installed /etc/default/fw.
func (b *bootUnit) setDefault(key, value string) {
	t := b.t
	t.Helper()
	p := filepath.Join(b.dest, "etc/default/fw")
	src := readFile(t, p)
	re := regexp.MustCompile(`(?m)^` + key + `=.*$`)
	if !re.MatchString(src) {
		t.Fatalf("%s has no line %s=", p, key)
	}
	if err := os.WriteFile(p, []byte(re.ReplaceAllString(src, key+"="+value)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBootUnitVerify: systemd-analyze verify has nothing to say about the
// installed units.
func TestBootUnitVerify(t *testing.T) {
	kerneltest.Need(t, "systemd-analyze")
	dest := installBoot(t)
	// verify checks that the commands exist in the root it is given.
	if err := os.MkdirAll(filepath.Join(dest, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dest, "bin/sh"), sh, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", "--root="+dest, "--man=no", "fw@4.service", "fw@6.service").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	u := parseUnit(t, filepath.Join(dest, "usr/lib/systemd/system/fw@.service"))
	for _, kv := range [][2]string{
		{"Unit", "DefaultDependencies=no"}, {"Unit", "Before=network-pre.target shutdown.target"},
		{"Unit", "Wants=network-pre.target"}, {"Service", "ProtectSystem=strict"}, {"Service", "ProtectHome=yes"},
		{"Service", "PrivateTmp=yes"}, {"Service", "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW"},
	} {
		k, v, _ := strings.Cut(kv[1], "=")
		if got := u[kv[0]][k]; len(got) != 1 || got[0] != v {
			t.Errorf("[%s] %s=%q, want %q", kv[0], k, got, v)
		}
	}
	if d := readFile(t, filepath.Join(dest, "etc/default/fw")); !strings.Contains(d, "\nFW_SAVE_ON_STOP=no\n") {
		t.Errorf("saving at shutdown is not off by default:\n%s", d)
	}
	// make install keeps an edited settings file.
	os.WriteFile(filepath.Join(dest, "etc/default/fw"), []byte("FW_SAVE_ON_STOP=yes\n"), 0o644)
	cmd := exec.Command("make", "-s", "-C", "../..", "install-systemd", "DESTDIR="+dest, "PREFIX=/usr", "SYSCONFDIR=/etc")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install-systemd again: %v\n%s", err, out)
	}
	if d := readFile(t, filepath.Join(dest, "etc/default/fw")); d != "FW_SAVE_ON_STOP=yes\n" {
		t.Errorf("make install overwrote /etc/default/fw:\n%s", d)
	}
}

const bootRules = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
*nat
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
`

const bootFallback = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -s 192.0.2.0/24 -p tcp --dport 22 -j ACCEPT
COMMIT
`

// refSave is what iptables-legacy-save prints after iptables-legacy-restore
// of src into a fresh namespace.
func refSave(t *testing.T, src string, v6 bool) string {
	t.Helper()
	restore, save := "iptables-legacy-restore", "iptables-legacy-save"
	if v6 {
		restore, save = "ip6tables-legacy-restore", "ip6tables-legacy-save"
	}
	ns := kerneltest.NewNetns(t)
	mustRun(t, ns, src, restore)
	return kerneltest.DropComments(mustRun(t, ns, "", save))
}

// TestBootUnitIPv4 runs ExecStart, ExecReload and ExecStop of fw@4 as
// the installed unit writes them.
func TestBootUnitIPv4(t *testing.T) {
	kerneltest.Need(t, append(refTools, "iptables-legacy", "setpriv")...)
	dest := installBoot(t)
	b := loadBootUnit(t, dest, "4")
	save := func(t *testing.T, ns *kerneltest.Netns) string {
		t.Helper()
		return kerneltest.DropComments(mustRun(t, ns, "", "iptables-legacy-save"))
	}

	t.Run("start, reload, stop without saving", func(t *testing.T) {
		b.t = t
		b.write("etc/fw/rules.v4", bootRules)
		ns := kerneltest.NewNetns(t)
		if r := b.run(ns, "ExecStart"); r.Code != 0 {
			t.Fatalf("ExecStart: exit %d\n%s", r.Code, r.Stderr)
		}
		if d := cmp.Diff(refSave(t, bootRules, false), save(t, ns)); d != "" {
			t.Errorf("after ExecStart (-reference +fw):\n%s", d)
		}
		changed := strings.Replace(bootRules, "--dport 22", "--dport 2222", 1)
		b.write("etc/fw/rules.v4", changed)
		if r := b.run(ns, "ExecReload"); r.Code != 0 {
			t.Fatalf("ExecReload: exit %d\n%s", r.Code, r.Stderr)
		}
		if d := cmp.Diff(refSave(t, changed, false), save(t, ns)); d != "" {
			t.Errorf("after ExecReload (-reference +fw):\n%s", d)
		}
		mustRun(t, ns, "", "iptables-legacy", "-A", "INPUT", "-s", "198.51.100.7", "-j", "DROP")
		if r := b.run(ns, "ExecStop"); r.Code != 0 {
			t.Fatalf("ExecStop: exit %d\n%s", r.Code, r.Stderr)
		}
		if got := readFile(t, filepath.Join(dest, "etc/fw/rules.v4")); got != changed {
			t.Errorf("ExecStop changed rules.v4 although saving is off:\n%s", got)
		}
	})

	t.Run("stop saves when enabled", func(t *testing.T) {
		b.t = t
		b.write("etc/fw/rules.v4", bootRules)
		b.setDefault("FW_SAVE_ON_STOP", "yes")
		defer b.setDefault("FW_SAVE_ON_STOP", "no")
		ns := kerneltest.NewNetns(t)
		if r := b.run(ns, "ExecStart"); r.Code != 0 {
			t.Fatalf("ExecStart: exit %d\n%s", r.Code, r.Stderr)
		}
		mustRun(t, ns, "", "iptables-legacy", "-A", "INPUT", "-s", "198.51.100.7", "-j", "DROP")
		live := save(t, ns)
		if r := b.run(ns, "ExecStop"); r.Code != 0 {
			t.Fatalf("ExecStop: exit %d\n%s", r.Code, r.Stderr)
		}
		got := readFile(t, filepath.Join(dest, "etc/fw/rules.v4"))
		if d := cmp.Diff(live, kerneltest.DropComments(got)); d != "" {
			t.Errorf("saved rules.v4 differs from the live ruleset (-live +saved):\n%s", d)
		}
		if !strings.Contains(got, "198.51.100.7") || !strings.HasPrefix(got, "# Generated by fw-save") {
			t.Errorf("saved rules.v4:\n%s", got)
		}
	})

	const before = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 203.0.113.9/32 -j DROP\nCOMMIT\n"
	broken := []struct{ name, src, want string }{
		{"typo", strings.Replace(bootRules, "--ctstate", "--ctsate", 1), "rules.v4:6:"},
		{"missing file", "", "rules.v4: no such file or directory"},
		// The kernel refuses it (there is no rate estimator "nosuch"),
		// or has no rateest match at all; should fw learn to see it
		// coming offline, the restore fails all the same.
		{"kernel refuses", strings.Replace(bootRules, "-A INPUT -i lo -j ACCEPT", "-A INPUT -m rateest --rateest nosuch --rateest-bps1 1 --rateest-gt -j ACCEPT", 1), "fw-restore: "},
	}
	for _, tc := range broken {
		for _, fallback := range []bool{false, true} {
			name := tc.name
			if fallback {
				name += " with fallback"
			}
			t.Run(name, func(t *testing.T) {
				b.t = t
				rules := filepath.Join(dest, "etc/fw/rules.v4")
				os.Remove(rules)
				if tc.src != "" {
					b.write("etc/fw/rules.v4", tc.src)
				}
				if fallback {
					b.write("etc/fw/fallback.v4", bootFallback)
					b.setDefault("FW_FALLBACK_V4", "/etc/fw/fallback.v4")
					defer b.setDefault("FW_FALLBACK_V4", "")
				}
				ns := kerneltest.NewNetns(t)
				mustRun(t, ns, before, "iptables-legacy-restore")
				want := before
				r := b.run(ns, "ExecStart")
				if r.Code == 0 {
					t.Fatalf("ExecStart of a broken file succeeded:\n%s", r.Stderr)
				}
				if !strings.Contains(r.Stderr, tc.want) {
					t.Errorf("stderr lacks %q:\n%s", tc.want, r.Stderr)
				}
				if fallback {
					want = bootFallback
					if !strings.Contains(r.Stderr, "loaded the fallback ruleset "+filepath.Join(dest, "etc/fw/fallback.v4")) {
						t.Errorf("stderr does not report the fallback:\n%s", r.Stderr)
					}
				}
				// Compared by meaning: a refused restore may leave an
				// empty table instantiated (reading a legacy table
				// creates it), which is no rule at all.
				wantFile := filepath.Join(t.TempDir(), "want.rules")
				os.WriteFile(wantFile, []byte(want), 0o644)
				if r := fwIn(t, ns, "", "fw-diff", "--backend", "legacy", wantFile); r.Code != 0 {
					t.Errorf("kernel ruleset after the failed start differs from %s:\n%s%s\nkernel:\n%s", map[bool]string{false: "the one before", true: "the fallback"}[fallback], r.Stdout, r.Stderr, save(t, ns))
				}
			})
		}
	}
}

// TestBootUnitIPv6: fw@6 restores rules.v6 into the IPv6 tables, and
// saves them back when asked.
func TestBootUnitIPv6(t *testing.T) {
	kerneltest.Need(t, append(refTools, "setpriv")...)
	dest := installBoot(t)
	b := loadBootUnit(t, dest, "6")
	rules := "*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p ipv6-icmp -j ACCEPT\n-A INPUT -s 2001:db8::/32 -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
	b.write("etc/fw/rules.v6", rules)
	b.setDefault("FW_SAVE_ON_STOP", "yes")
	ns := kerneltest.NewNetns(t)
	if r := b.run(ns, "ExecStart"); r.Code != 0 {
		t.Fatalf("ExecStart: exit %d\n%s", r.Code, r.Stderr)
	}
	want := refSave(t, rules, true)
	if d := cmp.Diff(want, kerneltest.DropComments(mustRun(t, ns, "", "ip6tables-legacy-save"))); d != "" {
		t.Errorf("after ExecStart (-reference +fw):\n%s", d)
	}
	if got := kerneltest.DropComments(mustRun(t, ns, "", "iptables-legacy-save")); strings.Contains(got, "2001:db8") {
		t.Errorf("fw@6 wrote IPv4 tables:\n%s", got)
	}
	if r := b.run(ns, "ExecStop"); r.Code != 0 {
		t.Fatalf("ExecStop: exit %d\n%s", r.Code, r.Stderr)
	}
	if d := cmp.Diff(want, kerneltest.DropComments(readFile(t, filepath.Join(dest, "etc/fw/rules.v6")))); d != "" {
		t.Errorf("saved rules.v6 (-live +saved):\n%s", d)
	}
}
