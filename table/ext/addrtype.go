package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// AddrType is the addrtype match, revision 1; it mirrors struct
// xt_addrtype_info_v1. Source and Dest are sets of route types, bit
// 1<<RTN_x.
type AddrType struct {
	Source, Dest uint16
	Flags        uint32
}

// xt_addrtype_info_v1 flags.
const (
	addrtypeInvSrc   = 0x1
	addrtypeInvDst   = 0x2
	addrtypeLimitIn  = 0x4
	addrtypeLimitOut = 0x8
)

// addrtypeNames are the route types in RTN_* order.
var addrtypeNames = []string{"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
	"BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"}

const (
	addrtypeBroadcast = 1 << 3
	addrtypeBlackhole = 1 << 6
	addrtypeProhibit  = 1 << 8
)

var addrtypeInfo = &table.ExtInfo{
	Name: "addrtype", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: addrtypeSize,
	Options: opts("!src-type=", "!dst-type=", "limit-iface-in", "limit-iface-out"),
	New:     func(table.Family) table.Ext { return &AddrType{} },
}

func (m *AddrType) Info() *table.ExtInfo { return addrtypeInfo }
func (m *AddrType) Name() string         { return "addrtype" }

func (m *AddrType) Parse(a *table.OptArgs) error {
	var err error
	switch a.Key() {
	case "src-type":
		m.Source, err = parseAddrTypes(a.Arg)
		m.Flags |= uint32(invBit(a.Invert, addrtypeInvSrc))
	case "dst-type":
		m.Dest, err = parseAddrTypes(a.Arg)
		m.Flags |= uint32(invBit(a.Invert, addrtypeInvDst))
	case "limit-iface-in":
		m.Flags |= addrtypeLimitIn
	case "limit-iface-out":
		m.Flags |= addrtypeLimitOut
	default:
		return unknownOption(a)
	}
	return err
}

// parseAddrTypes parses a comma-separated list of route types. Like
// iptables, a type may be abbreviated to any prefix (the first type in
// RTN order that starts with it wins) and case does not matter.
func parseAddrTypes(s string) (uint16, error) {
	var mask uint16
	for _, name := range strings.Split(s, ",") {
		found := false
		for i, t := range addrtypeNames {
			if name != "" && len(name) <= len(t) && strings.EqualFold(name, t[:len(name)]) {
				mask |= 1 << i
				found = true
				break
			}
		}
		if !found {
			return 0, table.WithHint("types are "+strings.Join(addrtypeNames, ", "), "unknown address type %q", name)
		}
	}
	return mask, nil
}

func addrTypesText(mask uint16) string {
	var names []string
	for i, t := range addrtypeNames {
		if mask&(1<<i) != 0 {
			names = append(names, t)
		}
	}
	return strings.Join(names, ",")
}

func (m *AddrType) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("src-type") && !c.Seen.Has("dst-type") {
		return fmt.Errorf("--src-type or --dst-type is required")
	}
	if m.Flags&addrtypeLimitIn != 0 && m.Flags&addrtypeLimitOut != 0 {
		return fmt.Errorf("--limit-iface-in and --limit-iface-out cannot be used together")
	}
	return nil
}

// Check applies the kernel's rules: an interface limit needs that
// interface to exist at the hook, and IPv6 routes have no broadcast,
// blackhole, prohibit or later types.
func (m *AddrType) Check(c *table.CheckContext) error {
	if m.Flags&addrtypeLimitOut != 0 && c.Hooks&(table.PreRouting.Mask()|table.Input.Mask()) != 0 {
		return fmt.Errorf("addrtype --limit-iface-out is not valid in PREROUTING and INPUT")
	}
	if m.Flags&addrtypeLimitIn != 0 && c.Hooks&(table.PostRouting.Mask()|table.Output.Mask()) != 0 {
		return fmt.Errorf("addrtype --limit-iface-in is not valid in POSTROUTING and OUTPUT")
	}
	if c.Family == table.IPv6 {
		types := m.Source | m.Dest
		switch {
		case types&addrtypeBlackhole != 0:
			return fmt.Errorf("addrtype BLACKHOLE is not supported for IPv6")
		case types >= addrtypeProhibit:
			return fmt.Errorf("addrtype PROHIBIT, THROW, NAT and XRESOLVE are not supported for IPv6")
		case types&addrtypeBroadcast != 0:
			return fmt.Errorf("addrtype BROADCAST is not supported for IPv6")
		}
	}
	return nil
}

func (m *AddrType) Print(w *table.Writer) {
	if m.Source != 0 {
		w.Opt(m.Flags&addrtypeInvSrc != 0, "src-type", addrTypesText(m.Source))
	}
	if m.Dest != 0 {
		w.Opt(m.Flags&addrtypeInvDst != 0, "dst-type", addrTypesText(m.Dest))
	}
	if m.Flags&addrtypeLimitIn != 0 {
		w.Flag(false, "limit-iface-in")
	}
	if m.Flags&addrtypeLimitOut != 0 {
		w.Flag(false, "limit-iface-out")
	}
}

// struct xt_addrtype_info_v1: source u16@0 dest u16@2 flags u32@4 (host
// order).
const addrtypeSize = 8

func (m *AddrType) layout() []field { return []field{{0, &m.Source}, {2, &m.Dest}, {4, &m.Flags}} }

func (m *AddrType) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *AddrType) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
