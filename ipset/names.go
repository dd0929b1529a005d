package ipset

import (
	"strings"

	"github.com/fwkit/fw/table"
)

// Names of protocols, services and ICMP types, as ipset reads and
// writes them: protocols and services from /etc/protocols and
// /etc/services (through table, as iptables' names are), ICMP types
// from ipset's own lists.

// icmpName is a name of an ICMP type and code. A type/code is written
// with its first name in the list; the later ones (ping, pong, ipset's
// misspelt neigbour-*) are only read.
type icmpName struct {
	name      string
	typ, code uint8
}

var icmpNames = []icmpName{
	{name: "echo-reply", typ: 0}, {name: "pong", typ: 0},
	{name: "network-unreachable", typ: 3}, {name: "host-unreachable", typ: 3, code: 1},
	{name: "protocol-unreachable", typ: 3, code: 2}, {name: "port-unreachable", typ: 3, code: 3},
	{name: "fragmentation-needed", typ: 3, code: 4}, {name: "source-route-failed", typ: 3, code: 5},
	{name: "network-unknown", typ: 3, code: 6}, {name: "host-unknown", typ: 3, code: 7},
	{name: "network-prohibited", typ: 3, code: 9}, {name: "host-prohibited", typ: 3, code: 10},
	{name: "TOS-network-unreachable", typ: 3, code: 11}, {name: "TOS-host-unreachable", typ: 3, code: 12},
	{name: "communication-prohibited", typ: 3, code: 13}, {name: "host-precedence-violation", typ: 3, code: 14},
	{name: "precedence-cutoff", typ: 3, code: 15}, {name: "source-quench", typ: 4},
	{name: "network-redirect", typ: 5}, {name: "host-redirect", typ: 5, code: 1},
	{name: "TOS-network-redirect", typ: 5, code: 2}, {name: "TOS-host-redirect", typ: 5, code: 3},
	{name: "echo-request", typ: 8}, {name: "ping", typ: 8},
	{name: "router-advertisement", typ: 9}, {name: "router-solicitation", typ: 10},
	{name: "ttl-zero-during-transit", typ: 11}, {name: "ttl-zero-during-reassembly", typ: 11, code: 1},
	{name: "ip-header-bad", typ: 12}, {name: "required-option-missing", typ: 12, code: 1},
	{name: "timestamp-request", typ: 13}, {name: "timestamp-reply", typ: 14},
	{name: "address-mask-request", typ: 17}, {name: "address-mask-reply", typ: 18},
}

var icmpv6Names = []icmpName{
	{name: "no-route", typ: 1}, {name: "communication-prohibited", typ: 1, code: 1},
	{name: "address-unreachable", typ: 1, code: 3}, {name: "port-unreachable", typ: 1, code: 4},
	{name: "packet-too-big", typ: 2}, {name: "ttl-zero-during-transit", typ: 3},
	{name: "ttl-zero-during-reassembly", typ: 3, code: 1}, {name: "bad-header", typ: 4},
	{name: "unknown-header-type", typ: 4, code: 1}, {name: "unknown-option", typ: 4, code: 2},
	{name: "echo-request", typ: 128}, {name: "ping", typ: 128},
	{name: "echo-reply", typ: 129}, {name: "pong", typ: 129},
	{name: "router-solicitation", typ: 133}, {name: "router-advertisement", typ: 134},
	{name: "neighbour-solicitation", typ: 135}, {name: "neigbour-solicitation", typ: 135},
	{name: "neighbour-advertisement", typ: 136}, {name: "neigbour-advertisement", typ: 136},
	{name: "redirect", typ: 137},
}

// icmpTypeName is the name ipset writes for an ICMP type and code, or "".
func icmpTypeName(v6 bool, typ, code uint8) string {
	l := icmpNames
	if v6 {
		l = icmpv6Names
	}
	for _, n := range l {
		if n.typ == typ && n.code == code {
			return n.name
		}
	}
	return ""
}

// icmpByName finds an ICMP type and code by name. Like ipset it takes
// the first name the text is a prefix of, in any case ("echo" is
// echo-reply).
func icmpByName(v6 bool, s string) (uint8, uint8, bool) {
	l := icmpNames
	if v6 {
		l = icmpv6Names
	}
	if s == "" {
		return 0, 0, false
	}
	for _, n := range l {
		if len(s) <= len(n.name) && strings.EqualFold(n.name[:len(s)], s) {
			return n.typ, n.code, true
		}
	}
	return 0, 0, false
}

const (
	protoICMP    = 1
	protoTCP     = 6
	protoUDP     = 17
	protoICMPv6  = 58
	protoSCTP    = 132
	protoUDPLite = 136
)

// protoHasPorts reports whether the kernel keeps the port of an element
// of protocol p (ip_set_proto_with_ports); for the others the port part
// is a pseudo port 0, but for ICMP's type/code.
func protoHasPorts(p uint8) bool {
	switch p {
	case protoTCP, protoUDP, protoSCTP, protoUDPLite:
		return true
	}
	return false
}

// names resolves protocol and service names. ipset's API takes no
// resolver yet, so it asks the host's files.
var names = table.SystemResolver()

// protoName is the name ipset writes for protocol p: /etc/protocols'
// name, else the number.
func protoName(p uint8) string { return table.ProtocolName(p, names) }

// parseProto reads a protocol number or name as ipset does ("icmpv6" is
// ipv6-icmp).
func parseProto(s string) (uint8, bool) {
	if strings.EqualFold(s, "icmpv6") {
		return protoICMPv6, true
	}
	if strings.EqualFold(s, "all") {
		return 0, false
	}
	return table.ParseProtocol(s, names)
}

// parsePortName reads a port number or a service name of protocol
// proto (a name for getservbyname).
func parsePortName(s, proto string) (uint16, bool) {
	if v, ok := table.ParseUint(s, 0, 65535); ok {
		return uint16(v), true
	}
	return names.Service(s, proto)
}
