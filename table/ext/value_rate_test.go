package ext

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRateParse(t *testing.T) {
	type result struct {
		Period, Unit uint64
		OK, Err      bool
	}
	for _, tc := range []struct {
		in   string
		syn  rateSyntax
		want result
	}{
		{"3/hour", limitRateSyntax, result{limitScale * 3600 / 3, 3600, true, false}},
		{"5", limitRateSyntax, result{limitScale / 5, 1, true, false}},
		{"5/s", limitRateSyntax, result{limitScale / 5, 1, true, false}},
		{"5/MIN", limitRateSyntax, result{limitScale * 60 / 5, 60, true, false}},
		{"1/d", limitRateSyntax, result{limitScale * 86400, 86400, true, false}},
		{"5x/sec", limitRateSyntax, result{limitScale / 5, 1, true, false}}, // atoi stops at x
		{"5/", limitRateSyntax, result{}},
		{"5/week", limitRateSyntax, result{}},
		{"5/seconds", limitRateSyntax, result{}},
		{"0/s", limitRateSyntax, result{}},
		{"x/s", limitRateSyntax, result{}},
		{"10001/s", limitRateSyntax, result{OK: true, Err: true}}, // too fast
		// atoi wraps through a uint32; atoll does not.
		{"-1/day", limitRateSyntax, result{0, 0, true, true}},
		{"4294967297/s", limitRateSyntax, result{limitScale, 1, true, false}},
		{"4294967297/s", hashlimitRateSyntax, result{OK: true, Err: true}},
		{"3/hour", hashlimitRateSyntax, result{hlScale * 3600 / 3, 3600, true, false}},
		{"1000000/s", hashlimitRateSyntax, result{1, 1, true, false}},
	} {
		p, u, ok, err := tc.syn.parse(tc.in)
		got := result{p, u, ok, err != nil}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%+v.parse(%q) (-want +got):\n%s", tc.syn, tc.in, d)
		}
	}
}

func TestRateText(t *testing.T) {
	type result struct {
		Text   string
		UnitMS uint64
	}
	for _, tc := range []struct {
		period, scale uint64
		want          result
	}{
		{0, limitScale, result{"inf", 0}},
		{limitScale * 3600 / 3, limitScale, result{"3/hour", 3600 * 1000}},
		{limitScale / 5, limitScale, result{"5/sec", 1000}},
		{limitScale * 60, limitScale, result{"1/min", 60 * 1000}},
		{limitScale * 86400, limitScale, result{"1/day", 86400 * 1000}},
		{1, hlScale, result{"1000000/sec", 1000}},
	} {
		s, ms := rateText(tc.period, tc.scale)
		if d := cmp.Diff(tc.want, result{s, ms}); d != "" {
			t.Errorf("rateText(%d, %d) (-want +got):\n%s", tc.period, tc.scale, d)
		}
	}
}
