package table

import "strconv"

// chainProtos is iptables' own protocol name list, consulted before
// /etc/protocols in both directions.
var chainProtos = []struct {
	name string
	num  uint8
}{
	{"tcp", 6}, {"sctp", 132}, {"udp", 17}, {"udplite", 136}, {"icmp", 1},
	{"ipv6-icmp", 58}, {"icmpv6", 58}, {"esp", 50}, {"ah", 51},
	{"mobility-header", 135}, {"ipv6-mh", 135}, {"mh", 135}, {"all", 0},
}

// ParseProtocol parses the argument of -p as xtables_parse_protocol does:
// a number, a name from iptables' list, or a name the resolver knows.
func ParseProtocol(s string, names Resolver) (uint8, bool) {
	if v, ok := ParseUint(s, 0, 255); ok {
		return uint8(v), true
	}
	for _, p := range chainProtos {
		if p.name == s {
			return p.num, true
		}
	}
	return names.Protocol(s)
}

// ProtocolName is the name iptables-save prints for a protocol number:
// iptables' list first, then the resolver's (none when names is nil),
// else the number.
func ProtocolName(p uint8, names Resolver) string {
	if p != 0 {
		for _, c := range chainProtos {
			if c.num == p {
				return c.name
			}
		}
		if names != nil {
			if n, ok := names.ProtocolName(p); ok {
				return n
			}
		}
	}
	return strconv.Itoa(int(p))
}

// ProtocolMatchName is the match iptables loads implicitly for -p p
// (-p 6 loads tcp), or "" if none.
func ProtocolMatchName(p uint8, names Resolver) string {
	if p == 0 {
		return ""
	}
	return ProtocolName(p, names)
}
