package ext

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fwkit/fw/table"
)

func TestParseAddr(t *testing.T) {
	const (
		v4 = table.IPv4
		v6 = table.IPv6
	)
	type result struct {
		Addr string // "" when refused
	}
	for _, tc := range []struct {
		in   string
		fam  table.Family
		syn  addrSyntax
		want result
	}{
		// getaddrinfo: inet_aton forms, IPv4-mapped literals, names.
		{"1.2.3.4", v4, viaGetaddrinfo, result{"1.2.3.4"}},
		{"10", v4, viaGetaddrinfo, result{"0.0.0.10"}},
		{"1.2", v4, viaGetaddrinfo, result{"1.0.0.2"}},
		{"1.2.3", v4, viaGetaddrinfo, result{"1.2.0.3"}},
		{"0x7f.1", v4, viaGetaddrinfo, result{"127.0.0.1"}},
		{"010.0.0.1", v4, viaGetaddrinfo, result{"8.0.0.1"}},
		{"0xffffffff", v4, viaGetaddrinfo, result{"255.255.255.255"}},
		{"0x100000000", v4, viaGetaddrinfo, result{}},
		{"1.0x1000000", v4, viaGetaddrinfo, result{}},
		{"256.1", v4, viaGetaddrinfo, result{}},
		{"08.1.2.3", v4, viaGetaddrinfo, result{}},
		{"0x", v4, viaGetaddrinfo, result{}},
		{"1.2.3.0x", v4, viaGetaddrinfo, result{}},
		{" 1.2.3.4", v4, viaGetaddrinfo, result{}},
		{"1.2.3.4 ", v4, viaGetaddrinfo, result{}},
		{"1.2.3.4.5", v4, viaGetaddrinfo, result{}},
		{"1..2", v4, viaGetaddrinfo, result{}},
		{"+1.2.3.4", v4, viaGetaddrinfo, result{}},
		{"::ffff:1.2.3.4", v4, viaGetaddrinfo, result{"1.2.3.4"}},
		{"::1", v4, viaGetaddrinfo, result{}},
		{"localhost", v4, viaGetaddrinfo, result{"127.0.0.1"}},
		{"LOCALHOST", v4, viaGetaddrinfo, result{"127.0.0.1"}},
		{"localhost", v6, viaGetaddrinfo, result{"::1"}},
		{"gateway", v4, viaGetaddrinfo, result{"10.0.0.1"}},
		{"twice", v4, viaGetaddrinfo, result{"10.0.0.9"}},
		{"multi", v4, viaGetaddrinfo, result{}},
		{"multi", v6, viaGetaddrinfo, result{"2001:db8::1"}},
		{"gw", v6, viaGetaddrinfo, result{}},
		{"nosuchhost", v4, viaGetaddrinfo, result{}},
		{"", v4, viaGetaddrinfo, result{}},
		{"2001:db8::1", v6, viaGetaddrinfo, result{"2001:db8::1"}},
		{"::ffff:1.2.3.4", v6, viaGetaddrinfo, result{"::ffff:1.2.3.4"}},
		{"1.2.3.4", v6, viaGetaddrinfo, result{}},
		{"fe80::1%lo", v6, viaGetaddrinfo, result{}},
		{"fe80::1%1", v6, viaGetaddrinfo, result{}},
		{"[::1]", v6, viaGetaddrinfo, result{}},
		// inet_pton: four decimal parts, no names.
		{"1.2.3.4", v4, viaInetPton, result{"1.2.3.4"}},
		{"10", v4, viaInetPton, result{}},
		{"01.2.3.4", v4, viaInetPton, result{}},
		{"::ffff:1.2.3.4", v4, viaInetPton, result{}},
		{"localhost", v4, viaInetPton, result{}},
		{"2001:db8::1", v6, viaInetPton, result{"2001:db8::1"}},
		{"localhost", v6, viaInetPton, result{}},
		// xtables_numeric_to_ipaddr: missing parts are zero, only 19 bytes
		// count.
		{"10", v4, viaXtablesNumeric, result{"10.0.0.0"}},
		{"10.1", v4, viaXtablesNumeric, result{"10.1.0.0"}},
		{"0x0a.010.+1. 2", v4, viaXtablesNumeric, result{"10.8.1.2"}},
		{"1.2.3.256", v4, viaXtablesNumeric, result{}},
		{"1.2.3.4.5", v4, viaXtablesNumeric, result{}},
		{"1.2.3.4xxxxxxxxxxxxxx", v4, viaXtablesNumeric, result{}},
		{"1.2.3.0000000000004xyz", v4, viaXtablesNumeric, result{"1.2.3.4"}},
		{"localhost", v4, viaXtablesNumeric, result{}},
		{"::1", v6, viaXtablesNumeric, result{"::1"}},
		{"fe80::1%lo", v6, viaXtablesNumeric, result{}},
	} {
		var got result
		if a, err := parseAddr(tc.in, tc.fam, tc.syn, testNames); err == nil {
			got.Addr = a.String()
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("parseAddr(%q, %s, %d) (-want +got):\n%s", tc.in, tc.fam, tc.syn, d)
		}
	}
}

func TestAddr16(t *testing.T) {
	for _, tc := range []struct {
		in   string
		fam  table.Family
		want string
	}{
		{"1.2.3.4", table.IPv4, "1.2.3.4"},
		{"::1.2.3.4", table.IPv6, "::1.2.3.4"},
		{"2001:db8::1", table.IPv6, "2001:db8::1"},
	} {
		b, err := parseAddr16(tc.in, tc.fam, viaInetPton, nil)
		if err != nil {
			t.Fatalf("parseAddr16(%q): %v", tc.in, err)
		}
		if d := cmp.Diff(tc.want, addr16Text(b, tc.fam)); d != "" {
			t.Errorf("addr16Text(parseAddr16(%q)) (-want +got):\n%s", tc.in, d)
		}
	}
}
