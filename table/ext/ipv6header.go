package ext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// IPv6Header matches on the set of extension headers a packet has; it
// mirrors struct ip6t_ipv6header_info. InvFlags and ModeFlag are 0 or 0xff
// (what iptables writes for '!' and --soft).
type IPv6Header struct {
	MatchFlags uint8
	InvFlags   uint8
	ModeFlag   uint8
}

// ipv6HeaderBits lists the headers in the order of their mask bits, high
// bit first, which is also the order iptables prints them in.
var ipv6HeaderBits = []struct {
	proto uint8
	bit   uint8
	name  string // iptables' own name, used when /etc/protocols has none
}{
	{0, 0x80, "hop-by-hop"},
	{60, 0x40, "dst"},
	{43, 0x20, "route"},
	{44, 0x10, "frag"},
	{51, 0x08, "auth"},
	{50, 0x04, "esp"},
	{59, 0x02, "none"},
	{255, 0x01, "protocol"},
}

// ipv6HeaderNames are the names iptables knows besides /etc/protocols.
var ipv6HeaderNames = map[string]uint8{
	"hop-by-hop": 0, "protocol": 255, "hop": 0, "dst": 60, "route": 43,
	"frag": 44, "auth": 51, "esp": 50, "none": 59, "prot": 255,
	"0": 0, "60": 60, "43": 43, "44": 44, "51": 51, "50": 50, "59": 59, "255": 255,
}

var ipv6headerInfo = &table.ExtInfo{
	Name: "ipv6header", Kind: table.MatchKind, Family: table.IPv6, Size: ipv6headerSize,
	Options: opts("!header=", "soft"),
	New:     func(table.Family) table.Ext { return &IPv6Header{} },
}

func (m *IPv6Header) Info() *table.ExtInfo { return ipv6headerInfo }
func (m *IPv6Header) Name() string         { return "ipv6header" }

func (m *IPv6Header) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "header":
		var flags uint8
		for _, name := range strings.Split(a.Arg, ",") {
			if name == "" {
				continue
			}
			bit, err := ipv6HeaderBit(name, a.Names)
			if err != nil {
				return err
			}
			flags |= bit
		}
		if flags == 0 {
			return fmt.Errorf("no header names in %q", a.Arg)
		}
		m.MatchFlags = flags
		if a.Invert {
			m.InvFlags = 0xff
		}
	case "soft":
		m.ModeFlag = 0xff
	default:
		return unknownOption(a)
	}
	return nil
}

// ipv6HeaderBit resolves a header name as iptables does: /etc/protocols
// first (names only, numbers are not looked up there), then its own list.
func ipv6HeaderBit(name string, names table.Resolver) (uint8, error) {
	proto, ok := uint8(0), false
	if _, isNum := table.ParseUint(name, 0, 255); !isNum && name != "all" {
		// table.ParseProtocol also knows iptables' -p names; "all" is
		// the only one of them that is a header protocol and unknown to
		// /etc/protocols.
		proto, ok = table.ParseProtocol(name, names)
	}
	if !ok {
		proto, ok = ipv6HeaderNames[name]
	}
	if ok {
		for _, h := range ipv6HeaderBits {
			if h.proto == proto {
				return h.bit, nil
			}
		}
	}
	return 0, table.WithHint("headers are hop (hop-by-hop), dst, route, frag, auth, esp, none and prot, or their protocol names or numbers 0, 60, 43, 44, 51, 50, 59, 255",
		"unknown header %q", name)
}

func (m *IPv6Header) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("header") {
		return fmt.Errorf("--header is required")
	}
	return nil
}

func (m *IPv6Header) Print(w *table.Writer) {
	var names []string
	for _, h := range ipv6HeaderBits {
		if m.MatchFlags&h.bit == 0 {
			continue
		}
		name := h.name
		if h.proto != 0 {
			// iptables asks /etc/protocols first (except for 0).
			if n := table.ProtocolName(h.proto, w.Resolver()); n != strconv.Itoa(int(h.proto)) {
				name = n
			}
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		names = []string{"NONE"}
	}
	w.Opt(m.InvFlags != 0, "header", strings.Join(names, ","))
	if m.ModeFlag != 0 {
		w.Flag(false, "soft")
	}
}

// struct ip6t_ipv6header_info: matchflags u8@0 invflags u8@1 modeflag u8@2.
const ipv6headerSize = 3

func (m *IPv6Header) layout() []field {
	return []field{{0, &m.MatchFlags}, {1, &m.InvFlags}, {2, &m.ModeFlag}}
}

func (m *IPv6Header) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, m.layout()...)
}

func (m *IPv6Header) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
