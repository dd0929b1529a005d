package ext

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseUint(t *testing.T) {
	type result struct {
		V   uint64
		Err bool
	}
	for _, tc := range []struct {
		in       string
		min, max uint64
		want     result
	}{
		{"42", 0, 255, result{V: 42}},
		{"0x2a", 0, 255, result{V: 42}},
		{"052", 0, 255, result{V: 42}},
		{" +42", 0, 255, result{V: 42}},
		{"256", 0, 255, result{Err: true}},
		{"0", 1, 255, result{Err: true}},
		{"-1", 0, math.MaxUint64, result{Err: true}},
		{"42 ", 0, 255, result{Err: true}},
		{"", 0, 255, result{Err: true}},
		{"18446744073709551615", 0, math.MaxUint64, result{V: math.MaxUint64}},
		{"18446744073709551616", 0, math.MaxUint64, result{Err: true}},
	} {
		v, err := parseUint(tc.in, tc.min, tc.max)
		got := result{V: v, Err: err != nil}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("parseUint(%q, %d, %d) (-want +got):\n%s", tc.in, tc.min, tc.max, d)
		}
	}
}

func TestParseUintRange(t *testing.T) {
	type result struct {
		Lo, Hi uint64
		N      int
		Err    bool
	}
	for _, tc := range []struct {
		in   string
		max  uint64
		want result
	}{
		{"5", 0xffff, result{5, 5, 1, false}},
		{"5:7", 0xffff, result{5, 7, 2, false}},
		{"7:5", 0xffff, result{7, 5, 2, false}}, // reversed: the caller decides
		{":7", 0xffff, result{0, 7, 2, false}},
		{"5:", 0xffff, result{5, 0xffff, 2, false}},
		{":", 0xffff, result{0, 0xffff, 2, false}},
		{"", 0xffff, result{0, 0, 1, false}},
		{" 5: 0x7", 0xffff, result{5, 7, 2, false}},
		{"5:7:9", 0xffff, result{Err: true}},
		{"5 :7", 0xffff, result{Err: true}},
		{"5x", 0xffff, result{Err: true}},
		{"-5", 0xffff, result{Err: true}},
		{"65536", 0xffff, result{Err: true}},
		{"4294967295:", math.MaxUint32, result{math.MaxUint32, math.MaxUint32, 2, false}},
	} {
		lo, hi, n, err := parseUintRange(tc.in, tc.max)
		got := result{lo, hi, n, err != nil}
		if err != nil {
			got = result{Err: true}
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("parseUintRange(%q, %d) (-want +got):\n%s", tc.in, tc.max, d)
		}
	}
}

func TestCheckLiveRange(t *testing.T) {
	for _, tc := range []struct {
		lo, hi uint64
		inv    bool
		err    bool
	}{
		{1, 2, false, false},
		{2, 2, true, false},
		{3, 2, false, true},
		{0, 0xffff, false, false},
		{0, 0xffff, true, true},
	} {
		err := checkLiveRange("x", tc.lo, tc.hi, 0xffff, tc.inv)
		if d := cmp.Diff(tc.err, err != nil); d != "" {
			t.Errorf("checkLiveRange(%d, %d, %v) error (-want +got):\n%s", tc.lo, tc.hi, tc.inv, d)
		}
	}
}

func TestRangeText(t *testing.T) {
	for _, tc := range []struct {
		lo, hi uint64
		want   string
	}{
		{5, 5, "5"},
		{5, 7, "5:7"},
		{0, math.MaxUint64, "0:18446744073709551615"},
	} {
		if d := cmp.Diff(tc.want, rangeText(tc.lo, tc.hi)); d != "" {
			t.Errorf("rangeText(%d, %d) (-want +got):\n%s", tc.lo, tc.hi, d)
		}
	}
}
