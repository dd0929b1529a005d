package conformance

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/kernel/kerneltest"
	"github.com/fwkit/fw/table"
)

// The ruleset corpus (testdata/rulesets/*.rules) holds whole files as real
// tools write them; NAME.golden is what iptables-legacy-save prints after
// iptables-legacy-restore of NAME.rules ('#' lines dropped). Files named
// *.v6.rules are IPv6; counters.rules is restored and saved with -c.

func rulesetFamily(path string) table.Family {
	if strings.HasSuffix(path, ".v6.rules") {
		return table.IPv6
	}
	return table.IPv4
}

func withCounters(path string) bool { return strings.HasPrefix(filepath.Base(path), "counters") }

func goldenPath(path string) string { return strings.TrimSuffix(path, ".rules") + ".golden" }

func fwSave(t *testing.T, path string) (string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := withCounters(path)
	rs, err := format.Load(path, src, format.LoadOptions{Family: rulesetFamily(path), Registry: offlineRegistry(), Apply: table.ApplyOptions{Counters: c}})
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := format.Encode(&b, rs, format.EncodeOptions{Counters: c, Names: testNames}); err != nil {
		t.Fatal(err)
	}
	return b.String(), nil
}

func TestRulesetsGolden(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/rulesets/*.rules")
	if len(paths) == 0 {
		t.Fatal("no rulesets")
	}
	for _, p := range paths {
		want, err := os.ReadFile(goldenPath(p))
		if err != nil {
			t.Errorf("%s: %v (run the oracle test with -update)", p, err)
			continue
		}
		got, err := fwSave(t, p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if d := cmp.Diff(string(want), got); d != "" {
			t.Errorf("%s: fw-save --from differs from iptables-legacy-save (-reference +fw):\n%s", p, d)
		}
		// A canonical file prints as itself.
		rs, err := format.Load("golden", want, format.LoadOptions{Family: rulesetFamily(p), Registry: offlineRegistry(), Apply: table.ApplyOptions{Counters: withCounters(p)}})
		if err != nil {
			t.Errorf("%s: golden does not load: %v", p, err)
			continue
		}
		// Restoring a save lists the tables in the opposite order (the
		// legacy kernel puts new tables first): reverse to compare.
		slices.Reverse(rs.Tables)
		var b bytes.Buffer
		format.Encode(&b, rs, format.EncodeOptions{Counters: withCounters(p), Names: testNames})
		if d := cmp.Diff(string(want), b.String()); d != "" {
			t.Errorf("%s: golden is not a fixpoint (-golden +fw):\n%s", p, d)
		}
	}
}

// TestOracleRulesets checks the golden files against the reference tools
// (and rewrites them with -update).
func TestOracleRulesets(t *testing.T) {
	kerneltest.Need(t, "iptables-legacy-restore", "iptables-legacy-save", "ip6tables-legacy-restore", "ip6tables-legacy-save")
	paths, _ := filepath.Glob("../testdata/rulesets/*.rules")
	for _, p := range paths {
		ns := kerneltest.NewNetns(t)
		src, _ := os.ReadFile(p)
		restore, save := refTools(rulesetFamily(p))
		var args []string
		if withCounters(p) {
			args = []string{"-c"}
		}
		r, err := ns.Run(src, restore, args...)
		if err != nil || r.Code != 0 {
			t.Errorf("%s: reference restore failed: %v %s", p, err, r.Stderr)
			continue
		}
		s, err := ns.Run(nil, save, args...)
		if err != nil || s.Code != 0 {
			t.Fatalf("%s: %v %s", save, err, s.Stderr)
		}
		got := kerneltest.DropComments(s.Stdout)
		if *update {
			if err := os.WriteFile(goldenPath(p), []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, _ := os.ReadFile(goldenPath(p))
		if d := cmp.Diff(string(want), got); d != "" {
			t.Errorf("%s: golden differs from the reference (-golden +reference):\n%s", p, d)
		}
	}
}

// Bad inputs (testdata/bad/*.rules) carry their expected errors as
// annotations: a line "# error: TEXT" says that the next non-comment line
// must get an error containing TEXT. A file whose first line is
// "# reference: accepts" is one iptables-legacy-restore lets through and
// fw refuses on purpose; every other bad file is refused by the
// reference too. Files named *.v6.rules are IPv6.
var annotation = regexp.MustCompile(`^# error: (.*)$`)

type wantErr struct {
	line int
	text string
}

func badExpectations(src []byte) (want []wantErr, refAccepts bool) {
	lines := strings.Split(string(src), "\n")
	refAccepts = len(lines) > 0 && strings.TrimSpace(lines[0]) == "# reference: accepts"
	var pending []string
	for i, l := range lines {
		if m := annotation.FindStringSubmatch(l); m != nil {
			pending = append(pending, m[1])
			continue
		}
		if strings.HasPrefix(l, "#") {
			continue
		}
		for _, p := range pending {
			want = append(want, wantErr{i + 1, p})
		}
		pending = nil
	}
	return want, refAccepts
}

func TestBadInputs(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/bad/*.rules")
	if len(paths) == 0 {
		t.Fatal("no bad inputs")
	}
	for _, p := range paths {
		src, _ := os.ReadFile(p)
		want, _ := badExpectations(src)
		if len(want) == 0 {
			t.Errorf("%s: no '# error:' annotation", p)
			continue
		}
		_, err := format.Load(p, src, format.LoadOptions{Family: rulesetFamily(p), Registry: offlineRegistry()})
		if err == nil {
			t.Errorf("%s: accepted", p)
			continue
		}
		var list table.ErrorList
		if !errors.As(err, &list) {
			t.Errorf("%s: error is not a list: %v", p, err)
			continue
		}
		for _, w := range want {
			found := false
			for _, e := range list {
				if e.Pos.Line == w.line && strings.Contains(e.Error(), w.text) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s:%d: want an error containing %q; got:\n%v", p, w.line, w.text, err)
			}
		}
		for _, e := range list {
			ok := false
			for _, w := range want {
				ok = ok || e.Pos.Line == w.line
			}
			if !ok {
				t.Errorf("%s: unexpected error %v", p, e)
			}
			if !strings.HasPrefix(e.Error(), p+":") {
				t.Errorf("%s: error does not start with file:line:col: %v", p, e)
			}
		}
	}
}

func TestOracleBadInputs(t *testing.T) {
	kerneltest.Need(t, "iptables-legacy-restore", "ip6tables-legacy-restore")
	paths, _ := filepath.Glob("../testdata/bad/*.rules")
	for _, p := range paths {
		src, _ := os.ReadFile(p)
		_, refAccepts := badExpectations(src)
		ns := kerneltest.NewNetns(t)
		restore, _ := refTools(rulesetFamily(p))
		r, err := ns.Run(src, restore)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case refAccepts && r.Code != 0:
			t.Errorf("%s: marked 'reference: accepts' but the reference refuses it: %s", p, r.Stderr)
		case !refAccepts && r.Code == 0:
			t.Errorf("%s: the reference accepts it; mark it '# reference: accepts' if fw refuses it on purpose", p)
		}
	}
}
