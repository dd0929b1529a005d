package table

import (
	"net/netip"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestHostFiles(t *testing.T) {
	h := NewHostFiles(fstest.MapFS{
		ProtocolsPath: {Data: []byte("# comment\nip 0 IP\ntcp 6 TCP # the usual\nfoo 6\nbad x\nlone\n")},
		ServicesPath:  {Data: []byte("ssh 22/tcp\nhttp 80/tcp www\ndomain 53/udp\ndomain 54/tcp\nbad x/tcp\nnoproto 5\n")},
		HostsPath:     {Data: []byte("10.0.0.1 a b\n::1 a\nfe80::1%lo z\n10.0.0.2 A\nnotanaddr c\n10.0.0.3\n")},
		Users.Path():  {Data: []byte("root:x:0:0::/root:/bin/sh\nroot:x:5:0::/:/bin/sh\nbad:x:y:0::\n:x:7:0::\n")},
		Groups.Path(): {Data: []byte("staff:x:50:alice\n")},
		// xtables_lmap_init: the id goes through strtoul into an int.
		Realms.Path(): {Data: []byte(" 1 one extra\n0x10 sixteen\n256 big\n4294967297 wraps\n-1 minus\n2\n3 #c\n4name\n5\tfive\n")},
		// connlabel.conf: the first line of a bit or a name wins.
		ConnLabels.Path(): {Data: []byte("1 in\n1 again\n2 in\n# 3 x\n3 bad_name\n1024 high\n4 four two\n")},
	})
	type result struct {
		Any  any
		Okay bool
	}
	r := func(v any, ok bool) result { return result{v, ok} }
	for _, tc := range []struct {
		what      string
		got, want result
	}{
		{"protocol tcp", r(h.Protocol("tcp")), r(uint8(6), true)},
		{"protocol alias", r(h.Protocol("TCP")), r(uint8(6), true)},
		{"protocol later name", r(h.Protocol("foo")), r(uint8(6), true)},
		{"protocol comment", r(h.Protocol("the")), r(uint8(0), false)},
		{"protocol number", r(h.Protocol("6")), r(uint8(0), false)},
		{"protocol name", r(h.ProtocolName(6)), r("tcp", true)},
		{"protocol name 0", r(h.ProtocolName(0)), r("ip", true)},
		{"protocol unnamed", r(h.ProtocolName(7)), r("", false)},
		{"service", r(h.Service("ssh", "tcp")), r(uint16(22), true)},
		{"service alias", r(h.Service("www", "tcp")), r(uint16(80), true)},
		{"service other proto", r(h.Service("ssh", "udp")), r(uint16(0), false)},
		{"service per proto", r(h.Service("domain", "tcp")), r(uint16(54), true)},
		{"service any proto", r(h.Service("domain", "")), r(uint16(53), true)},
		{"users first", r(h.ID(Users, "root")), r(uint32(0), true)},
		{"users bad id", r(h.ID(Users, "bad")), r(uint32(0), false)},
		{"users empty", r(h.ID(Users, "")), r(uint32(0), false)},
		{"groups", r(h.ID(Groups, "staff")), r(uint32(50), true)},
		{"realm", r(h.ID(Realms, "one")), r(uint32(1), true)},
		{"realm hex", r(h.ID(Realms, "sixteen")), r(uint32(16), true)},
		{"realm too big", r(h.ID(Realms, "big")), r(uint32(0), false)},
		{"realm wraps", r(h.ID(Realms, "wraps")), r(uint32(1), true)},
		{"realm negative", r(h.ID(Realms, "minus")), r(uint32(0), false)},
		{"realm comment", r(h.ID(Realms, "#c")), r(uint32(0), false)},
		{"realm no blank", r(h.ID(Realms, "name")), r(uint32(0), false)},
		{"realm tab", r(h.ID(Realms, "five")), r(uint32(5), true)},
		{"realm name", r(h.IDName(Realms, 16)), r("sixteen", true)},
		{"realm name first", r(h.IDName(Realms, 1)), r("one", true)},
		{"devgroups missing", r(h.ID(DevGroups, "x")), r(uint32(0), false)},
		{"label", r(h.ID(ConnLabels, "in")), r(uint32(1), true)},
		{"label bit taken", r(h.ID(ConnLabels, "again")), r(uint32(0), false)},
		{"label name taken", r(h.IDName(ConnLabels, 2)), r("", false)},
		{"label charset", r(h.ID(ConnLabels, "bad_name")), r(uint32(0), false)},
		{"label too high", r(h.ID(ConnLabels, "high")), r(uint32(0), false)},
		{"label blank", r(h.IDName(ConnLabels, 4)), r("four two", true)},
	} {
		if d := cmp.Diff(tc.want, tc.got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.what, d)
		}
	}
	for _, tc := range []struct {
		name string
		f    Family
		want []netip.Addr
	}{
		{"a", IPv4, []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")}},
		{"B", IPv4, []netip.Addr{netip.MustParseAddr("10.0.0.1")}},
		{"a", IPv6, []netip.Addr{netip.MustParseAddr("::1")}},
		{"z", IPv6, nil},
		{"c", IPv4, nil},
	} {
		if d := cmp.Diff(tc.want, h.Host(tc.name, tc.f), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
			t.Errorf("Host(%q, %s) (-want +got):\n%s", tc.name, tc.f, d)
		}
	}
}

func TestProtocolNames(t *testing.T) {
	h := NewHostFiles(fstest.MapFS{ProtocolsPath: {Data: []byte("ipcomp 108 IPCOMP\nmytcp 6\n")}})
	type result struct {
		Num uint8
		OK  bool
	}
	for _, tc := range []struct {
		in   string
		want result
	}{
		{"tcp", result{6, true}},
		{"0x11", result{17, true}},
		{"all", result{0, true}},
		{"ipcomp", result{108, true}},
		{"IPCOMP", result{108, true}},
		{"mytcp", result{6, true}},
		{"256", result{0, false}},
		{"nosuch", result{0, false}},
	} {
		n, ok := ParseProtocol(tc.in, h)
		if d := cmp.Diff(tc.want, result{n, ok}); d != "" {
			t.Errorf("ParseProtocol(%q) (-want +got):\n%s", tc.in, d)
		}
	}
	for _, tc := range []struct {
		p     uint8
		names Resolver
		want  string
	}{
		{6, h, "tcp"}, // iptables' own list comes first
		{108, h, "ipcomp"},
		{108, nil, "108"},
		{0, h, "0"},
		{200, h, "200"},
	} {
		if d := cmp.Diff(tc.want, ProtocolName(tc.p, tc.names)); d != "" {
			t.Errorf("ProtocolName(%d) (-want +got):\n%s", tc.p, d)
		}
	}
}
