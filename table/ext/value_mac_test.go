package ext

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMAC(t *testing.T) {
	type result struct {
		Text string // "" when refused
	}
	for _, tc := range []struct {
		in   string
		want result
	}{
		{"42:01:02:03:04:05", result{"42:01:02:03:04:05"}},
		{"AA:bb:Cc:dd:EE:ff", result{"aa:bb:cc:dd:ee:ff"}},
		{"4:1:2:3:4:5", result{"04:01:02:03:04:05"}},
		{":::::", result{"00:00:00:00:00:00"}}, // strtoul reads nothing as 0
		{"-1:0:0:0:0:0", result{"ff:00:00:00:00:00"}},
		{"42:01:02:03:04", result{}},
		{"42:01:02:03:04:05:06", result{}},
		{"420:01:02:03:04:05", result{}},
		{"42-01-02-03-04-05", result{}},
		{"42:01:02:03:04:05 ", result{}},
	} {
		var got result
		if a, ok := parseMAC(tc.in); ok {
			got.Text = macText(a)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("parseMAC(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}
