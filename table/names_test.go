package table

import "testing"

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
