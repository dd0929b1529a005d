package format

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func words(l *Line) []string {
	var out []string
	for _, w := range l.Words {
		out = append(out, w.Text)
	}
	return out
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "-A INPUT -j ACCEPT", want: []string{"-A", "INPUT", "-j", "ACCEPT"}},
		{in: "-A  INPUT\t-j ACCEPT  ", want: []string{"-A", "INPUT", "-j", "ACCEPT"}},
		{in: `-m comment --comment "hello world"`, want: []string{"-m", "comment", "--comment", "hello world"}},
		{in: `--comment ""`, want: []string{"--comment", ""}},
		{in: `--comment "x\"y\\z\q"`, want: []string{"--comment", `x"y\zq`}},
		{in: `--comment ab"cd ef"`, want: []string{"--comment", "abcd ef"}},
		{in: `--comment 'a`, want: []string{"--comment", "'a"}},
		{in: `--comment a\b`, want: []string{"--comment", `a\b`}},
		{in: `--comment "tab	here"`, want: []string{"--comment", "tab\there"}},
		{in: `--comment "open`, err: "1:11: unterminated quote"},
		{in: `--comment "ab"cd`, err: "1:15: text right after a closing quote"},
		{in: "-A INPUT\x01", err: "1:9: control character 0x01"},
		{in: "-A INPUT\r", err: "1:9: carriage return"},
		// A control byte is reported first, wherever it stands: after
		// another fault of the line, inside quotes, escaped, in counters.
		{in: "--comment \"open \x02", err: "1:17: control character 0x02"},
		{in: "--comment \"ab\"cd \x00", err: "1:18: NUL byte"},
		{in: "--comment \"a\x03b\"", err: "1:13: control character 0x03"},
		{in: "--comment \"a\\\x04\"", err: "1:14: control character 0x04"},
		{in: "[1:\x052] -A INPUT", err: "1:4: control character 0x05"},
		{in: "[1:2 -A INPUT\x7f", err: "1:14: control character 0x7f"},
	}
	for _, tt := range tests {
		f, err := Parse("", []byte(tt.in+"\n"))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if d := cmp.Diff(tt.want, words(f.Lines[0])); d != "" {
			t.Errorf("%q: (-want +got)\n%s", tt.in, d)
		}
	}
}

func TestLineKinds(t *testing.T) {
	src := "# comment\n\n*filter\n:INPUT ACCEPT [1:2]\n[3:4] -A INPUT -j ACCEPT\nCOMMIT\n"
	f, err := Parse("x", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []LineKind
	for _, l := range f.Lines {
		kinds = append(kinds, l.Kind)
	}
	want := []LineKind{Comment, Blank, TableLine, ChainLine, CommandLine, CommitLine}
	if d := cmp.Diff(want, kinds); d != "" {
		t.Fatalf("(-want +got)\n%s", d)
	}
	if c := f.Lines[4].Counters; c == nil || c.Text != "[3:4]" {
		t.Errorf("counters word = %+v", c)
	}
}

// TestLossless: every file of the repository's rules corpus prints back
// byte for byte.
func TestLossless(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/*/*.rules")
	if len(paths) == 0 {
		t.Fatal("no rules files found")
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := Parse(p, src)
		if got := string(f.Bytes()); got != string(src) {
			t.Errorf("%s: Print(Parse(src)) != src", p)
		}
	}
}

func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob("../testdata/*/*.rules")
	for _, p := range paths {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("*filter\n-A INPUT -m comment --comment \"a \\\"b\\\" c\" -j ACCEPT\nCOMMIT\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse("fuzz", src)
		if err != nil {
			return
		}
		if got := file.Bytes(); string(got) != string(src) {
			t.Fatalf("Print(Parse(src)) != src:\n%q\n%q", src, got)
		}
	})
}
