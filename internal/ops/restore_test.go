package ops

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/confirm"
	"github.com/fwkit/fw/internal/fakekernel"
	"github.com/fwkit/fw/kernel"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

var registry = ext.Registry()

// kernelBefore is what the fake kernel holds before each restore: a host
// with Docker's chains beside its own.
const kernelBefore = `*filter
:INPUT DROP [10:1000]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
:old - [0:0]
[5:500] -A INPUT -i lo -j ACCEPT
[0:0] -A FORWARD -j DOCKER-USER
[0:0] -A DOCKER-USER -j RETURN
[2:200] -A old -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
[1:60] -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
[0:0] -A DOCKER -i docker0 -j RETURN
COMMIT
`

// ruleset parses text as a save with counters.
func ruleset(t *testing.T, f table.Family, text string) *table.Ruleset {
	t.Helper()
	rs, err := format.Load("kernel", []byte(text), format.LoadOptions{Family: f, Registry: registry, Apply: table.ApplyOptions{Counters: true}})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// saved is what iptables-save -c would print of the fake kernel, the
// tables in the order of their names.
func saved(t *testing.T, fk *fakekernel.Backend, f table.Family) string {
	t.Helper()
	rs := fk.Ruleset(f)
	slices.SortFunc(rs.Tables, func(a, b *table.Table) int { return strings.Compare(a.Name, b.Name) })
	s, err := format.EncodeString(rs, format.EncodeOptions{Counters: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// otherRule is a rule another program appends to filter INPUT.
func otherRule(t *testing.T, src string) func(rs *table.Ruleset) {
	r := ruleset(t, table.IPv4, "*filter\n-A INPUT "+src+"\nCOMMIT\n").Table("filter").Chain("INPUT").Rules[0]
	return func(rs *table.Ruleset) {
		c := rs.Table("filter").Chain("INPUT")
		c.Rules = append(c.Rules, r)
	}
}

// files is a ReadFunc over files in memory.
func files(m map[string]string) ReadFunc {
	return func(name string) (string, []byte, error) {
		if name == "" || name == "-" {
			name = "<stdin>"
		}
		text, ok := m[name]
		if !ok {
			return name, nil, fmt.Errorf("open %s: no such file", name)
		}
		return name, []byte(text), nil
	}
}

// opener opens fk whatever is asked for.
func opener(fk *fakekernel.Backend) Opener {
	return func(string, time.Duration) (kernel.Backend, string, error) { return fk, "", nil }
}

// mode is how the fake kernel behaves: as nf_tables (reads in part,
// generations) or as legacy (whole tables under the xtables lock).
type mode struct {
	name string
	set  func(*fakekernel.Backend)
}

var modes = []mode{
	{"nft", func(fk *fakekernel.Backend) { fk.Partial = true }},
	{"legacy", func(fk *fakekernel.Backend) { fk.Lock = true }},
}

// TestRestore runs every restore mode against the fake kernel, which
// behaves once as nf_tables and once as legacy; both must end the same.
func TestRestore(t *testing.T) {
	cases := []struct {
		name string
		file string
		opt  func(*RestoreOptions)
		fake func(t *testing.T, fk *fakekernel.Backend)
		// want is the kernel after, "" for unchanged.
		want    string
		wantErr string
		commit  *kernel.CommitOptions // the last commit's options, when checked
		commits int                   // how many commits, when checked (-1: none)
	}{
		{
			name: "full: flush, user chains go, unset policies stay",
			file: "*filter\n:FORWARD DROP [0:0]\n:web - [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n-A web -j ACCEPT\nCOMMIT\n",
			want: strings.Replace(kernelBefore, `:INPUT DROP [10:1000]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
:old - [0:0]
[5:500] -A INPUT -i lo -j ACCEPT
[0:0] -A FORWARD -j DOCKER-USER
[0:0] -A DOCKER-USER -j RETURN
[2:200] -A old -j DROP
`, `:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:web - [0:0]
[0:0] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
[0:0] -A web -j ACCEPT
`, 1),
			commit: &kernel.CommitOptions{},
		},
		{
			name: "noflush: applied to what the kernel has",
			file: "*filter\n-A INPUT -s 10.0.0.0/8 -j DROP\n-D old 1\n-P FORWARD DROP\nCOMMIT\n",
			opt:  func(o *RestoreOptions) { o.NoFlush = true },
			want: strings.NewReplacer(":FORWARD ACCEPT [0:0]", ":FORWARD DROP [0:0]",
				"[5:500] -A INPUT -i lo -j ACCEPT\n", "[5:500] -A INPUT -i lo -j ACCEPT\n[0:0] -A INPUT -s 10.0.0.0/8 -j DROP\n",
				"[2:200] -A old -j DROP\n", "").Replace(kernelBefore),
			commit: &kernel.CommitOptions{NoFlush: true},
		},
		{
			name: "keep-chains: Docker's chains stay, the file's own replace the rest",
			file: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DOCKER-USER\nCOMMIT\n*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n",
			opt: func(o *RestoreOptions) {
				o.Keep, _ = KeepChains("DOCKER*")
			},
			want: `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
[0:0] -A INPUT -j DOCKER-USER
[0:0] -A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
[0:0] -A POSTROUTING -o eth0 -j MASQUERADE
[0:0] -A DOCKER -i docker0 -j RETURN
COMMIT
`,
			commit: &kernel.CommitOptions{NoFlush: true},
		},
		{
			name: "-T: only the table named",
			file: "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n:PREROUTING DROP [0:0]\nCOMMIT\n",
			opt:  func(o *RestoreOptions) { o.Table = "nat" },
			want: strings.NewReplacer(":PREROUTING ACCEPT [0:0]", ":PREROUTING DROP [0:0]",
				"[1:60] -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n", "",
				"[0:0] -A DOCKER -i docker0 -j RETURN\n", "",
				":DOCKER - [0:0]\n", "").Replace(kernelBefore),
		},
		{
			name: "-c: counters restored",
			file: "*nat\n:PREROUTING ACCEPT [7:700]\n[3:180] -A PREROUTING -j ACCEPT\nCOMMIT\n",
			opt:  func(o *RestoreOptions) { o.Counters = true },
			want: strings.NewReplacer(":PREROUTING ACCEPT [0:0]", ":PREROUTING ACCEPT [7:700]",
				"[1:60] -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n", "[3:180] -A PREROUTING -j ACCEPT\n",
				"[0:0] -A DOCKER -i docker0 -j RETURN\n", "",
				":DOCKER - [0:0]\n", "").Replace(kernelBefore),
			commit: &kernel.CommitOptions{Counters: true},
		},
		{
			name: "without -c the file's counters do not count",
			file: "*nat\n:PREROUTING ACCEPT [7:700]\n[3:180] -A PREROUTING -j ACCEPT\nCOMMIT\n",
			want: strings.NewReplacer(
				"[1:60] -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n", "[0:0] -A PREROUTING -j ACCEPT\n",
				"[0:0] -A DOCKER -i docker0 -j RETURN\n", "",
				":DOCKER - [0:0]\n", "").Replace(kernelBefore),
		},
		{
			name:   "test: checked, nothing changed",
			file:   "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n",
			opt:    func(o *RestoreOptions) { o.Test = true },
			commit: &kernel.CommitOptions{Test: true},
		},
		{
			name:   "test --check-kernel",
			file:   "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n",
			opt:    func(o *RestoreOptions) { o.Test, o.CheckKernel = true, true },
			commit: &kernel.CommitOptions{Test: true, Scratch: true},
		},
		{
			name: "test: a refusal is reported, nothing changed",
			file: "*filter\n-A INPUT -j LOG\nCOMMIT\n",
			opt:  func(o *RestoreOptions) { o.Test = true },
			fake: func(t *testing.T, fk *fakekernel.Backend) {
				fk.Refuse(fakekernel.Refusal{Table: "filter", Rule: "-j LOG"})
			},
			wantErr: "fake: check table filter: file:2: table filter chain INPUT rule 1: the kernel refused the rule: invalid argument",
		},
		{
			name: "test --noflush",
			file: "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n",
			opt:  func(o *RestoreOptions) { o.Test, o.NoFlush = true, true },
			// The commit took the reading the file was applied to.
			commit: &kernel.CommitOptions{Test: true, NoFlush: true},
		},
		{
			name: "incremental: the same end as a full restore",
			file: "*filter\n:web - [0:0]\n-A INPUT -j web\nCOMMIT\n",
			opt:  func(o *RestoreOptions) { o.Incremental = true },
			want: strings.Replace(strings.Replace(kernelBefore, ":INPUT DROP [10:1000]", ":INPUT DROP [0:0]", 1), `:DOCKER-USER - [0:0]
:old - [0:0]
[5:500] -A INPUT -i lo -j ACCEPT
[0:0] -A FORWARD -j DOCKER-USER
[0:0] -A DOCKER-USER -j RETURN
[2:200] -A old -j DROP
`, `:web - [0:0]
[0:0] -A INPUT -j web
`, 1),
			commit: &kernel.CommitOptions{Incremental: true},
		},
		{
			name: "replace-unchanged",
			file: "*filter\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n",
			opt:  func(o *RestoreOptions) { o.ReplaceUnchanged = true },
			want: strings.Replace(strings.Replace(kernelBefore, ":INPUT DROP [10:1000]", ":INPUT DROP [0:0]", 1), `:DOCKER-USER - [0:0]
:old - [0:0]
[5:500] -A INPUT -i lo -j ACCEPT
[0:0] -A FORWARD -j DOCKER-USER
[0:0] -A DOCKER-USER -j RETURN
[2:200] -A old -j DROP
`, `[0:0] -A INPUT -i lo -j ACCEPT
`, 1),
			commit: &kernel.CommitOptions{ReplaceUnchanged: true},
		},
		{
			name: "-Z with --noflush: the tables are replaced whole, with the counters zeroed",
			file: "*filter\n-Z INPUT\nCOMMIT\n",
			opt:  func(o *RestoreOptions) { o.NoFlush = true },
			want: strings.NewReplacer(":INPUT DROP [10:1000]", ":INPUT DROP [0:0]",
				"[5:500] -A INPUT", "[0:0] -A INPUT").Replace(kernelBefore),
			commit: &kernel.CommitOptions{ReplaceUnchanged: true},
		},
		{
			name: "a refusal in the last table: nothing changes",
			file: "*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n*mangle\n-A PREROUTING -j ACCEPT\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\n-A INPUT -p tcp -j LOG --log-prefix x\nCOMMIT\n",
			fake: func(t *testing.T, fk *fakekernel.Backend) {
				fk.Refuse(fakekernel.Refusal{Table: "filter", Rule: "-j LOG"})
			},
			wantErr: "fake: commit table filter: file:9: table filter chain INPUT rule 2: the kernel refused the rule: invalid argument",
		},
		{
			name: "a refused table",
			file: "*raw\n-A PREROUTING -j ACCEPT\nCOMMIT\n",
			fake: func(t *testing.T, fk *fakekernel.Backend) {
				fk.Refuse(fakekernel.Refusal{Table: "raw"})
			},
			wantErr: "fake: commit table raw: the kernel refused the ruleset as invalid",
		},
		{
			name: "a change by someone else between reading and commit: read again, nothing lost",
			file: "*filter\n-A INPUT -s 10.0.0.0/8 -j DROP\nCOMMIT\n",
			opt:  func(o *RestoreOptions) { o.NoFlush = true },
			fake: func(t *testing.T, fk *fakekernel.Backend) {
				add := otherRule(t, "-s 192.0.2.1/32 -j DROP")
				fk.BeforeCommit = func(n int) {
					if n == 1 {
						fk.Write(table.IPv4, add)
					}
				}
			},
			// Legacy holds the lock: the other writer waits, and its rule
			// comes after the file's. nf_tables reads again: the file's
			// rule comes after it.
			want: "per mode",
		},
		{
			name: "keep-chains while someone else writes",
			file: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DOCKER-USER\nCOMMIT\n",
			opt: func(o *RestoreOptions) {
				o.Keep, _ = KeepChains("DOCKER*")
			},
			fake: func(t *testing.T, fk *fakekernel.Backend) {
				r := ruleset(t, table.IPv4, "*filter\n:DOCKER-USER - [0:0]\n-A DOCKER-USER -j DROP\nCOMMIT\n").Table("filter").Chain("DOCKER-USER").Rules[0]
				fk.BeforeCommit = func(n int) {
					if n == 1 {
						fk.Write(table.IPv4, func(rs *table.Ruleset) {
							c := rs.Table("filter").Chain("DOCKER-USER")
							c.Rules = append(c.Rules, r)
						})
					}
				}
			},
			want: strings.Replace(kernelBefore, `*filter
:INPUT DROP [10:1000]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
:old - [0:0]
[5:500] -A INPUT -i lo -j ACCEPT
[0:0] -A FORWARD -j DOCKER-USER
[0:0] -A DOCKER-USER -j RETURN
[2:200] -A old -j DROP
`, `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
[0:0] -A INPUT -j DOCKER-USER
[0:0] -A DOCKER-USER -j RETURN
[0:0] -A DOCKER-USER -j DROP
`, 1),
			wantErr: "per mode",
		},
		{
			name: "a file that names no table",
			file: "# nothing\n",
		},
		{
			name:    "a file with errors",
			file:    "*filter\n-A NOPE -j ACCEPT\nCOMMIT\n",
			wantErr: `file:2:1: chain "NOPE" does not exist`,
			commits: -1,
		},
		{
			name:    "-D of a rule the kernel does not have",
			file:    "*filter\n-D INPUT -j REJECT\nCOMMIT\n",
			opt:     func(o *RestoreOptions) { o.NoFlush = true },
			wantErr: "file:2:",
			commits: -1,
		},
	}
	for _, m := range modes {
		for _, tc := range cases {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				fk := &fakekernel.Backend{}
				m.set(fk)
				fk.Put(ruleset(t, table.IPv4, kernelBefore))
				if tc.fake != nil {
					tc.fake(t, fk)
				}
				var log bytes.Buffer
				opt := RestoreOptions{Family: table.IPv4, Registry: registry, Open: opener(fk),
					Read: files(map[string]string{"file": tc.file}), File: "file", Log: &log, Prog: "fw-restore"}
				if tc.opt != nil {
					tc.opt(&opt)
				}
				err := Restore(opt)
				want, wantErr := tc.want, tc.wantErr
				if want == "per mode" {
					want = perMode(t, m.name, tc.name)
				}
				if wantErr == "per mode" {
					wantErr = ""
				}
				switch {
				case wantErr == "" && err != nil:
					t.Fatalf("Restore: %v", err)
				case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
					t.Fatalf("Restore: got error %v, want one with %q", err, wantErr)
				}
				if want == "" {
					want = kernelBefore
				}
				if d := cmp.Diff(want, saved(t, fk, table.IPv4)); d != "" {
					t.Errorf("the kernel after the restore (-want +got):\n%s", d)
				}
				commits := fk.Commits()
				if tc.commits < 0 && len(commits) > 0 {
					t.Errorf("%d commits, want none", len(commits))
				}
				if tc.commit != nil {
					if len(commits) == 0 {
						t.Fatal("no commit")
					}
					if d := cmp.Diff(*tc.commit, commits[len(commits)-1].Opt); d != "" {
						t.Errorf("commit options (-want +got):\n%s", d)
					}
				}
			})
		}
	}
}

// perMode is the end state where the backends differ in how they keep
// another writer's rule: both keep it.
func perMode(t *testing.T, mode, name string) string {
	file := "[0:0] -A INPUT -s 10.0.0.0/8 -j DROP\n"
	other := "[0:0] -A INPUT -s 192.0.2.1/32 -j DROP\n"
	order := other + file // nf_tables: the file applied again on top
	if mode == "legacy" {
		order = file + other // the other writer waited for the lock
	}
	return strings.Replace(kernelBefore, "[5:500] -A INPUT -i lo -j ACCEPT\n", "[5:500] -A INPUT -i lo -j ACCEPT\n"+order, 1)
}

// TestRestoreRetries: a commit the ruleset moved under is made again,
// from a fresh reading, until it gets through; one that never gets
// through fails with ErrRulesetChanged after the backend's retries, and
// the other writer's rules are all there.
func TestRestoreRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		busy     int // commits the other writer gets in the way of
		wantErr  bool
		attempts int
	}{
		{"once", 1, false, 2},
		{"three times", 3, false, 4},
		{"always", 100, true, fakekernel.DefaultRetries + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fk := &fakekernel.Backend{Partial: true}
			fk.Put(ruleset(t, table.IPv4, kernelBefore))
			add := otherRule(t, "-s 192.0.2.1/32 -j DROP")
			fk.BeforeCommit = func(n int) {
				if n <= tc.busy {
					fk.Write(table.IPv4, add)
				}
			}
			var log bytes.Buffer
			err := Restore(RestoreOptions{Family: table.IPv4, Registry: registry, Open: opener(fk), NoFlush: true,
				Read: files(map[string]string{"f": "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"}), File: "f",
				Log: &log, Verbose: true, Prog: "fw-restore"})
			if tc.wantErr != errors.Is(err, kernel.ErrRulesetChanged) {
				t.Fatalf("Restore: %v", err)
			}
			commits := fk.Commits()
			if len(commits) != tc.attempts {
				t.Errorf("%d commits, want %d", len(commits), tc.attempts)
			}
			rules := fk.Ruleset(table.IPv4).Table("filter").Chain("INPUT").Rules
			got := map[string]int{}
			for _, r := range rules {
				got[r.Target.Name()+" "+r.IP.Src.IP.String()]++
			}
			want := map[string]int{"ACCEPT invalid IP": 1, "DROP 192.0.2.1": min(tc.busy, tc.attempts)}
			if !tc.wantErr {
				want["ACCEPT invalid IP"]++ // the file's
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("INPUT's rules (-want +got):\n%s", d)
			}
			if n := strings.Count(log.String(), "reading it again"); n != tc.attempts-1 {
				t.Errorf("said %d times that it reads again, want %d:\n%s", n, tc.attempts-1, log.String())
			}
		})
	}
}

// TestRestoreOpenErrors: a file's own errors come before a backend that
// cannot be opened, or a lock another program holds.
func TestRestoreOpenErrors(t *testing.T) {
	bad := "*filter\n-A INPUT -j NOPE\nCOMMIT\n"
	good := "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n"
	noBackend := func(string, time.Duration) (kernel.Backend, string, error) {
		return nil, "", errors.New("permission denied")
	}
	locked := &fakekernel.Backend{Lock: true}
	s, err := locked.Begin(table.IPv4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		name    string
		open    Opener
		file    string
		noflush bool
		want    string
	}{
		{"no backend, bad file", noBackend, bad, false, "file:2:"},
		{"no backend, good file", noBackend, good, false, "permission denied"},
		{"lock held, bad file", opener(locked), bad, true, "file:2:"},
		{"lock held, good file", opener(locked), good, true, "another program is holding the xtables lock"},
		{"no such file", noBackend, "", false, "open missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "file"
			if tc.file == "" {
				name = "missing"
			}
			err := Restore(RestoreOptions{Family: table.IPv4, Registry: registry, Open: tc.open, NoFlush: tc.noflush,
				Read: files(map[string]string{"file": tc.file}), File: name})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestFallback: a file that cannot be restored is reported, and the
// fallback ruleset loaded instead; the result is still an error.
func TestFallback(t *testing.T) {
	fallback := "*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n"
	for _, tc := range []struct {
		name, file, fallback string
		want                 string // the kernel's filter table after
		wantLog              []string
		fallbackFailed       bool
	}{
		{
			name: "refused rule", file: "*filter\n-A INPUT -j LOG\nCOMMIT\n", fallback: fallback,
			want: ":INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n[0:0] -A INPUT -i lo -j ACCEPT\n",
			wantLog: []string{
				"report: fake: commit table filter: file:2: table filter chain INPUT rule 1: the kernel refused the rule: invalid argument",
				"fw-restore: file was not restored; loading the fallback ruleset fallback instead",
				"fw-restore: loaded the fallback ruleset fallback",
			},
		},
		{
			name: "typo, and the fallback refused too", file: "*filter\n-A INPUT -j NOPE\nCOMMIT\n", fallback: "*filter\n-A INPUT -j LOG\nCOMMIT\n",
			want: ":INPUT DROP [10:1000]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:DOCKER-USER - [0:0]\n:old - [0:0]\n[5:500] -A INPUT -i lo -j ACCEPT\n[0:0] -A FORWARD -j DOCKER-USER\n[0:0] -A DOCKER-USER -j RETURN\n[2:200] -A old -j DROP\n",
			wantLog: []string{
				`report: file:2:`,
				"fw-restore: file was not restored; loading the fallback ruleset fallback instead",
				"report: fake: commit table filter: fallback:2:",
				"fw-restore: the fallback failed too; the kernel keeps the ruleset it had",
			},
			fallbackFailed: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fk := &fakekernel.Backend{}
			fk.Put(ruleset(t, table.IPv4, kernelBefore))
			fk.Refuse(fakekernel.Refusal{Table: "filter", Rule: "-j LOG"})
			var log bytes.Buffer
			err := Restore(RestoreOptions{Family: table.IPv4, Registry: registry, Open: opener(fk),
				Read: files(map[string]string{"file": tc.file, "fallback": tc.fallback}), File: "file", Fallback: "fallback",
				Log: &log, Prog: "fw-restore", Report: func(err error) { fmt.Fprintf(&log, "report: %v\n", err) }})
			var fe *FallbackError
			if !errors.As(err, &fe) || (fe.FallbackErr != nil) != tc.fallbackFailed {
				t.Fatalf("got %v, want a FallbackError", err)
			}
			wantMsg := "; the fallback ruleset was loaded instead"
			if tc.fallbackFailed {
				wantMsg = "; and the fallback failed too: "
			}
			if !strings.Contains(err.Error(), wantMsg) || errors.Unwrap(err) == nil {
				t.Errorf("error %q does not say %q or unwrap", err, wantMsg)
			}
			lines := strings.Split(strings.TrimSpace(log.String()), "\n")
			if len(lines) != len(tc.wantLog) {
				t.Fatalf("log:\n%s", log.String())
			}
			for i, w := range tc.wantLog {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("log line %d: %q, want it to start with %q", i+1, lines[i], w)
				}
			}
			got := saved(t, fk, table.IPv4)
			got = got[len("*filter\n"):strings.Index(got, "*nat\n")]
			if d := cmp.Diff(tc.want+"COMMIT\n", got); d != "" {
				t.Errorf("filter after (-want +got):\n%s", d)
			}
		})
	}
}

// TestConfirm: a confirmed change stays; one not confirmed in time, or
// answered otherwise, is rolled back to what the kernel had; on both
// kinds of kernel, so that the reading's lock is let go before the wait
// (the rollback needs it).
func TestConfirm(t *testing.T) {
	file := "*filter\n-A INPUT -s 10.0.0.0/8 -j DROP\nCOMMIT\n"
	changed := strings.Replace(kernelBefore, "[5:500] -A INPUT -i lo -j ACCEPT\n", "[5:500] -A INPUT -i lo -j ACCEPT\n[0:0] -A INPUT -s 10.0.0.0/8 -j DROP\n", 1)
	for _, m := range modes {
		for _, tc := range []struct {
			name     string
			terminal string // "" for none
			timeout  bool
			want     string
			wantErr  string
		}{
			{name: "yes", terminal: "yes\n", want: changed},
			{name: "no", terminal: "no\n", want: kernelBefore, wantErr: `the answer was "no", not yes; the previous ruleset is back`},
			{name: "time out", timeout: true, want: kernelBefore, wantErr: "no confirmation within 10 seconds; the previous ruleset is back"},
		} {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				fk := &fakekernel.Backend{}
				m.set(fk)
				fk.Put(ruleset(t, table.IPv4, kernelBefore))
				dir := t.TempDir()
				timeout := make(chan time.Time, 1)
				var events []confirm.Event
				co := &ConfirmOptions{Dir: dir, Timeout: 10 * time.Second,
					After: func(time.Duration) <-chan time.Time { return timeout },
					Event: func(e confirm.Event) {
						events = append(events, e)
						if e == confirm.Waiting {
							if d := cmp.Diff(changed, saved(t, fk, table.IPv4)); d != "" {
								t.Errorf("the kernel while waiting (-want +got):\n%s", d)
							}
							if tc.timeout {
								timeout <- time.Now()
							}
						}
					}}
				if tc.terminal != "" {
					co.Terminal = strings.NewReader(tc.terminal)
				}
				err := Restore(RestoreOptions{Family: table.IPv4, Registry: registry, Open: opener(fk), NoFlush: true,
					Read: files(map[string]string{"file": file}), File: "file", Confirm: co, Prog: "fw-restore", Version: "test"})
				if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				if d := cmp.Diff(tc.want, saved(t, fk, table.IPv4)); d != "" {
					t.Errorf("the kernel after (-want +got):\n%s", d)
				}
				if d := cmp.Diff([]confirm.Event{confirm.Pending, confirm.Waiting}, events); d != "" {
					t.Errorf("events (-want +got):\n%s", d)
				}
			})
		}
	}
}

func TestKeepChains(t *testing.T) {
	keep, err := KeepChains("DOCKER*,KUBE-?")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, c := range []string{"DOCKER", "DOCKER-USER", "KUBE-A", "KUBE-AB", "docker"} {
		got[c] = keep(c)
	}
	if d := cmp.Diff(map[string]bool{"DOCKER": true, "DOCKER-USER": true, "KUBE-A": true, "KUBE-AB": false, "docker": false}, got); d != "" {
		t.Errorf("kept (-want +got):\n%s", d)
	}
	if keep, err := KeepChains(""); keep != nil || err != nil {
		t.Errorf("empty list: %v, %v", keep != nil, err)
	}
	for _, bad := range []string{"a,,b", "[x"} {
		if _, err := KeepChains(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
