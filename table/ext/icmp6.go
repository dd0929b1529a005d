package ext

import "github.com/fwkit/fw/table"

// ICMP6 is the IPv6 icmp6 match; it mirrors struct ip6t_icmp. Unlike IPv4,
// type 255 is an ordinary type.
type ICMP6 struct{ icmpMatch }

var icmp6Info = &table.ExtInfo{
	Name: "icmp6", Aliases: []string{"icmpv6", "ipv6-icmp"},
	Kind: table.MatchKind, Family: table.IPv6, Size: icmpSize,
	Options: opts("!icmpv6-type="),
	New: func(table.Family) table.Ext {
		return &ICMP6{icmpMatch{Code: [2]uint8{0, 0xff}}}
	},
}

// icmp6Names is libxt_icmp.h's ICMPv6 table as of 1.8.9 (the MLD names of
// later versions are not there), in its order.
var icmp6Names = []icmpName{
	{"destination-unreachable", 1, 0, 0xff},
	{"no-route", 1, 0, 0},
	{"communication-prohibited", 1, 1, 1},
	{"beyond-scope", 1, 2, 2},
	{"address-unreachable", 1, 3, 3},
	{"port-unreachable", 1, 4, 4},
	{"failed-policy", 1, 5, 5},
	{"reject-route", 1, 6, 6},
	{"packet-too-big", 2, 0, 0xff},
	{"time-exceeded", 3, 0, 0xff},
	{"ttl-exceeded", 3, 0, 0xff},
	{"ttl-zero-during-transit", 3, 0, 0},
	{"ttl-zero-during-reassembly", 3, 1, 1},
	{"parameter-problem", 4, 0, 0xff},
	{"bad-header", 4, 0, 0},
	{"unknown-header-type", 4, 1, 1},
	{"unknown-option", 4, 2, 2},
	{"echo-request", 128, 0, 0xff},
	{"ping", 128, 0, 0xff},
	{"echo-reply", 129, 0, 0xff},
	{"pong", 129, 0, 0xff},
	{"router-solicitation", 133, 0, 0xff},
	{"router-advertisement", 134, 0, 0xff},
	{"neighbour-solicitation", 135, 0, 0xff},
	{"neighbor-solicitation", 135, 0, 0xff},
	{"neighbour-advertisement", 136, 0, 0xff},
	{"neighbor-advertisement", 136, 0, 0xff},
	{"redirect", 137, 0, 0xff},
}

func (m *ICMP6) Info() *table.ExtInfo { return icmp6Info }

// Name is always icmp6: iptables maps -m icmpv6 and -m ipv6-icmp to it.
func (m *ICMP6) Name() string { return "icmp6" }

// Parse refuses code ranges that iptables-save would shorten.
func (m *ICMP6) Parse(a *table.OptArgs) error {
	typ, code, err := parseICMPType(a.Arg, icmp6Names)
	if err != nil {
		return err
	}
	return m.set(typ, code, a.Invert, true)
}

func (m *ICMP6) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("icmpv6-type") {
		return table.WithHint("add e.g. --icmpv6-type echo-request", "--icmpv6-type is required")
	}
	return nil
}

func (m *ICMP6) Check(c *table.CheckContext) error {
	return needProto(c, "icmp6 match", protoICMPv6)
}

func (m *ICMP6) Print(w *table.Writer) {
	w.Opt(m.Invflags&icmpInv != 0, "icmpv6-type", icmpTypeText(m.Type, m.Code))
}
