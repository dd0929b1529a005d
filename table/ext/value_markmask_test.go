package ext

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/table"
)

func TestParseMarkMask(t *testing.T) {
	type result struct {
		V, M uint32
		Err  bool
	}
	for _, tc := range []struct {
		in   string
		l    *lmap
		want result
	}{
		{"5", nil, result{5, 0xffffffff, false}},
		{"0x5/0xf", nil, result{5, 0xf, false}},
		{" +5/ 010", nil, result{5, 8, false}},
		{"5/", nil, result{Err: true}},
		{"5x", nil, result{Err: true}},
		{"5/3/4", nil, result{Err: true}},
		{"4294967296", nil, result{Err: true}},
		{"-1", nil, result{Err: true}},
		{"cosmos", realmMap, result{0, 0xffffffff, false}},
		{"sixteen", realmMap, result{16, 0xffffffff, false}},
		{"0x10/0xff", realmMap, result{16, 0xff, false}},
		{"lan", devGroupMap, result{7, 0xffffffff, false}},
		{"lan", realmMap, result{Err: true}},
		{"cosmos/0xff", realmMap, result{Err: true}}, // a name has no mask
	} {
		v, m, err := parseMarkMask(tc.in, testNames, tc.l)
		got := result{v, m, err != nil}
		if err != nil {
			got = result{Err: true}
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("parseMarkMask(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}

func TestMarkMaskText(t *testing.T) {
	for _, tc := range []struct {
		v, m  uint32
		names table.Resolver
		l     *lmap
		want  string
	}{
		{5, 0xffffffff, nil, nil, "0x5"},
		{5, 0xf, nil, nil, "0x5/0xf"},
		{16, 0xffffffff, testNames, realmMap, "sixteen"},
		{16, 0xff, testNames, realmMap, "0x10/0xff"},
		{17, 0xffffffff, testNames, realmMap, "0x11"},
	} {
		if d := cmp.Diff(tc.want, markMaskText(tc.v, tc.m, tc.names, tc.l)); d != "" {
			t.Errorf("markMaskText(%#x, %#x) (-want +got):\n%s", tc.v, tc.m, d)
		}
	}
}
