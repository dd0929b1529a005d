package ext

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/table"
)

func TestParsePlen(t *testing.T) {
	type result struct {
		Len uint8
		Err bool
	}
	for _, tc := range []struct {
		in   string
		fam  table.Family
		want result
	}{
		{"24", table.IPv4, result{Len: 24}},
		{"0", table.IPv4, result{Len: 0}},
		{"0x10", table.IPv4, result{Len: 16}},
		{" +8", table.IPv4, result{Len: 8}},
		{"32", table.IPv4, result{Len: 32}},
		{"255.255.0.0", table.IPv4, result{Len: 16}},
		{"0xffffff00", table.IPv4, result{Len: 24}},
		{"0.0.0.0", table.IPv4, result{Len: 0}},
		{"::ffff:255.255.255.0", table.IPv4, result{Len: 24}},
		{"33", table.IPv4, result{Err: true}},          // 0.0.0.33, not contiguous
		{"255.0.255.0", table.IPv4, result{Err: true}}, // not contiguous
		{"localhost", table.IPv4, result{Err: true}},   // numeric only
		{"-1", table.IPv4, result{Err: true}},
		{"24x", table.IPv4, result{Err: true}},
		{"", table.IPv4, result{Err: true}},
		{"128", table.IPv6, result{Len: 128}},
		{"ffff:ffff::", table.IPv6, result{Len: 32}},
		{"ffff:0:ffff::", table.IPv6, result{Err: true}},
		{"129", table.IPv6, result{Err: true}},
		{"255.255.0.0", table.IPv6, result{Err: true}},
		{"ffff::%1", table.IPv6, result{Err: true}},
	} {
		n, err := parsePlen(tc.in, tc.fam)
		got := result{Err: err != nil}
		if err == nil {
			got.Len = n
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("parsePlen(%q, %s) (-want +got):\n%s", tc.in, tc.fam, d)
		}
	}
}

func TestParseHostMask(t *testing.T) {
	type result struct {
		Text string // hostMaskText of the value; "" when refused
		Len  uint8
		Mask [16]byte
	}
	ones := plenMask(128)
	for _, tc := range []struct {
		in   string
		fam  table.Family
		want result
	}{
		// Without a mask every byte of the mask is set, for IPv4 too.
		{"1.2.3.4", table.IPv4, result{"1.2.3.4", 32, ones}},
		{"1.2.3.4/32", table.IPv4, result{"1.2.3.4", 32, plenMask(32)}},
		// The address stays as written.
		{"1.2.3.4/16", table.IPv4, result{"1.2.3.4/16", 16, plenMask(16)}},
		{"1.2.3.4/255.255.255.0", table.IPv4, result{"1.2.3.4/24", 24, plenMask(24)}},
		{"10/8", table.IPv4, result{"0.0.0.10/8", 8, plenMask(8)}},
		{"gateway/0", table.IPv4, result{"10.0.0.1/0", 0, plenMask(0)}},
		{"1.2.3.4/255.0.255.0", table.IPv4, result{}},
		{"1.2.3.4/", table.IPv4, result{}},
		{"1.2.3.4/8/8", table.IPv4, result{}},
		{"/8", table.IPv4, result{}},
		{"2001:db8::1/64", table.IPv6, result{"2001:db8::1/64", 64, plenMask(64)}},
		{"2001:db8::1", table.IPv6, result{"2001:db8::1", 128, ones}},
		{"localhost/127", table.IPv6, result{"::1/127", 127, plenMask(127)}},
		{"fe80::1%1/64", table.IPv6, result{}},
	} {
		var got result
		if h, err := parseHostMask(tc.in, tc.fam, testNames); err == nil {
			got = result{hostMaskText(h.Addr, h.Mask, tc.fam), h.Len, h.Mask}
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("parseHostMask(%q, %s) (-want +got):\n%s", tc.in, tc.fam, d)
		}
	}
}

// TestHostMaskText covers what only the kernel can hand back: a mask that
// is not contiguous prints in address form.
func TestHostMaskText(t *testing.T) {
	for _, tc := range []struct {
		addr, mask string
		fam        table.Family
		want       string
	}{
		{"1.2.3.4", "255.0.255.0", table.IPv4, "1.2.3.4/255.0.255.0"},
		{"1.2.3.4", "255.255.255.255", table.IPv4, "1.2.3.4"},
		{"1.2.3.4", "0.0.0.0", table.IPv4, "1.2.3.4/0"},
		{"2001:db8::", "ffff:0:ffff::", table.IPv6, "2001:db8::/ffff:0:ffff::"},
	} {
		a, _ := parseAddr16(tc.addr, tc.fam, viaInetPton, nil)
		m, _ := parseAddr16(tc.mask, tc.fam, viaInetPton, nil)
		if d := cmp.Diff(tc.want, hostMaskText(a, m, tc.fam)); d != "" {
			t.Errorf("hostMaskText(%s, %s) (-want +got):\n%s", tc.addr, tc.mask, d)
		}
	}
}
