package ipset

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fwkit/fw/table"
)

// Bad inputs (testdata/bad/*.txt) carry their expected errors as
// annotations, as the rules' bad inputs do: a line "# error: TEXT" says
// that the next line that is no comment must get an error containing
// TEXT. A file whose first line is "# reference: accepts" is one that
// ipset restore lets through and fw refuses on purpose; ipset refuses
// every other one too (TestOracleBadInputs).
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

func badInputs(t *testing.T) []string {
	paths, _ := filepath.Glob("testdata/bad/*.txt")
	if len(paths) == 0 {
		t.Fatal("no bad inputs")
	}
	return paths
}

func TestBadInputs(t *testing.T) {
	for _, p := range badInputs(t) {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := badExpectations(src)
		if len(want) == 0 {
			t.Errorf("%s: no '# error:' annotation", p)
			continue
		}
		_, err = Parse(p, src)
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
				found = found || e.Pos.Line == w.line && strings.Contains(e.Error(), w.text)
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
