package ext

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseIface(t *testing.T) {
	type result struct {
		Name string
		Mask int // bytes of the mask set
		Err  bool
	}
	for _, tc := range []struct {
		in   string
		want result
	}{
		{"eth0", result{"eth0", 5, false}}, // the name and its NUL
		{"eth+", result{"eth+", 3, false}}, // a prefix: the '+' is kept, not matched
		{"+", result{"+", 0, false}},       // every interface
		{"abcdefghijklmno", result{"abcdefghijklmno", 16, false}},
		{"abcdefghijklmnop", result{Err: true}}, // IFNAMSIZ
		{"", result{Err: true}},
		{"eth/0", result{Err: true}},
		{"eth 0", result{Err: true}},
	} {
		name, mask, err := parseIface(tc.in)
		got := result{Err: true}
		if err == nil {
			n := 0
			for _, b := range mask {
				if b == 0xff {
					n++
				}
			}
			got = result{cString(name[:]), n, false}
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("parseIface(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}

func TestCheckIface(t *testing.T) {
	for _, tc := range []struct {
		in, bad string
		err     bool
	}{
		{"eth0", "/ :", false},
		{"eth:0", "/ :", true},
		{"eth:0", "/ ", false},
	} {
		err := checkIface(tc.in, tc.bad, "it is bad")
		if d := cmp.Diff(tc.err, err != nil); d != "" {
			t.Errorf("checkIface(%q, %q) error (-want +got):\n%s", tc.in, tc.bad, d)
		}
	}
}
