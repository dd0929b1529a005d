package table

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseUint(t *testing.T) {
	for _, tc := range []struct {
		in       string
		min, max uint64
		want     uint64
		ok       bool
	}{
		{"0", 0, 10, 0, true},
		{"10", 0, 10, 10, true},
		{"11", 0, 10, 0, false},
		{"0x1f", 0, 255, 31, true},
		{"0X1F", 0, 255, 31, true},
		{"010", 0, 255, 8, true},
		{"08", 0, 255, 0, false},
		{" +7", 0, 255, 7, true},
		{"+-7", 0, 255, 0, false},
		{"-7", 0, 255, 0, false},
		{"1_0", 0, 255, 0, false},
		{"0x", 0, 255, 0, false},
		{"", 0, 255, 0, false},
		{"tcp", 0, 255, 0, false},
		{"18446744073709551615", 0, 1<<64 - 1, 1<<64 - 1, true},
		{"18446744073709551616", 0, 1<<64 - 1, 0, false},
		{"0xffffffffffffffff", 0, 1<<64 - 1, 1<<64 - 1, true},
		{"0x10000000000000000", 0, 1<<64 - 1, 0, false},
		{"5", 6, 10, 0, false},
		{"9999999999999999999", 0, 1<<64 - 1, 9999999999999999999, true},
		{"99999999999999999999", 0, 1<<64 - 1, 0, false},
		{"\t\v\f\r\n 12", 0, 255, 12, true},
		{"12 ", 0, 255, 0, false},
		{"256", 0, 255, 0, false},
	} {
		got, ok := ParseUint(tc.in, tc.min, tc.max)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseUint(%q, %d, %d) = %d, %v; want %d, %v", tc.in, tc.min, tc.max, got, ok, tc.want, tc.ok)
		}
	}
}

func TestStrtoumax(t *testing.T) {
	type result struct {
		V          uint64
		Rest       string
		OK, ERange bool
	}
	for _, tc := range []struct {
		in   string
		base int
		want result
	}{
		{"12ab", 10, result{12, "ab", true, false}},
		{"12ab", 16, result{0x12ab, "", true, false}},
		{"0x1g", 0, result{1, "g", true, false}},
		{"0xg", 0, result{0, "xg", true, false}}, // "0", then "xg"
		{"0xg", 16, result{0, "xg", true, false}},
		{"08", 0, result{0, "8", true, false}},
		{" \t-1", 10, result{1<<64 - 1, "", true, false}},
		{"+", 10, result{0, "+", false, false}},
		{"x", 10, result{0, "x", false, false}},
		{"99999999999999999999z", 10, result{1<<64 - 1, "z", true, true}},
	} {
		v, rest, ok, erange := Strtoumax(tc.in, tc.base)
		if d := cmp.Diff(tc.want, result{v, rest, ok, erange}); d != "" {
			t.Errorf("Strtoumax(%q, %d) (-want +got):\n%s", tc.in, tc.base, d)
		}
	}
}

func TestStrtoulPrefix(t *testing.T) {
	type result struct {
		V    uint64
		Rest string
		OK   bool
	}
	for _, tc := range []struct {
		in       string
		min, max uint64
		want     result
	}{
		{"5/6", 0, 10, result{5, "/6", true}},
		{" +5", 0, 10, result{5, "", true}},
		{" -5", 0, 10, result{0, " -5", false}},
		{"11", 0, 10, result{0, "11", false}},
		{"0", 1, 10, result{0, "0", false}},
		{"99999999999999999999", 0, 1<<64 - 1, result{0, "99999999999999999999", false}},
	} {
		v, rest, ok := StrtoulPrefix(tc.in, tc.min, tc.max)
		if d := cmp.Diff(tc.want, result{v, rest, ok}); d != "" {
			t.Errorf("StrtoulPrefix(%q, %d, %d) (-want +got):\n%s", tc.in, tc.min, tc.max, d)
		}
	}
}
