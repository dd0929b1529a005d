package ext

import (
	"strings"

	"github.com/fwkit/fw/table"
)

// DCCP is the dccp match; it mirrors struct xt_dccp_info (destination
// ports first, as in the kernel header).
type DCCP struct {
	Dpts, Spts [2]uint16
	Flags      uint16
	Invflags   uint16
	Typemask   uint16
	Option     uint8
}

// xt_dccp_info flags and invflags.
const (
	dccpSrcPorts  = 0x01
	dccpDestPorts = 0x02
	dccpType      = 0x04
	dccpOption    = 0x08
)

var dccpInfo = &table.ExtInfo{
	Name: "dccp", Kind: table.MatchKind, Family: table.BothFamilies, Size: dccpSize,
	Options: opts("!source-port=", "|sport", "!destination-port=", "|dport", "!dccp-types=", "!dccp-option="),
	New:     func(table.Family) table.Ext { return &DCCP{} },
}

// dccpTypes are the packet type names by type number; INVALID also stands
// for the unassigned types 11-15.
var dccpTypes = []string{"REQUEST", "RESPONSE", "DATA", "ACK", "DATAACK", "CLOSEREQ", "CLOSE", "RESET", "SYNC", "SYNCACK", "INVALID"}

const (
	dccpInvalid      = 10
	dccpInvalidOther = 0xf800 // types 11-15
)

func (m *DCCP) Info() *table.ExtInfo { return dccpInfo }
func (m *DCCP) Name() string         { return "dccp" }

// Parse reads ports as XTTYPE_PORTRC (decimal or a tcp/udp service name).
// An empty type list is refused: iptables accepts it but the rule would
// never match and iptables-save writes --dccp-types without an argument.
func (m *DCCP) Parse(a *table.OptArgs) error {
	var bit uint16
	switch a.Key() {
	case "source-port", "destination-port":
		r, err := parseServicePortRange(a.Arg, a.Names)
		if err != nil {
			return err
		}
		if err := checkLiveRange(a.Opt.Name, uint64(r[0]), uint64(r[1]), 0xffff, a.Invert); err != nil {
			return err
		}
		if a.Key() == "source-port" {
			m.Spts, bit = r, dccpSrcPorts
		} else {
			m.Dpts, bit = r, dccpDestPorts
		}
	case "dccp-types":
		var mask uint16
		for _, t := range strings.Split(a.Arg, ",") {
			if t == "" {
				continue
			}
			i := 0
			for i < len(dccpTypes) && !strings.EqualFold(dccpTypes[i], t) {
				i++
			}
			if i == len(dccpTypes) {
				return table.WithHint("types are "+strings.Join(dccpTypes, ", "), "unknown DCCP type %q", t)
			}
			mask |= 1 << i
		}
		if mask == 0 {
			return table.WithHint("name at least one type, e.g. --dccp-types REQUEST", "empty --dccp-types %q would never match", a.Arg)
		}
		if mask&(1<<dccpInvalid) != 0 {
			mask |= dccpInvalidOther
		}
		m.Typemask, bit = mask, dccpType
	case "dccp-option":
		v, err := parseUint(a.Arg, 1, 255)
		if err != nil {
			return err
		}
		m.Option, bit = uint8(v), dccpOption
	default:
		return unknownOption(a)
	}
	m.Flags |= bit
	if a.Invert {
		m.Invflags |= bit
	}
	return nil
}

func (m *DCCP) Finish(*table.FinishContext) error { return nil }

func (m *DCCP) Check(c *table.CheckContext) error { return needProto(c, "dccp match", protoDCCP) }

// Print writes every option that was given, ports even as the full range.
func (m *DCCP) Print(w *table.Writer) {
	if m.Flags&dccpSrcPorts != 0 {
		w.Opt(m.Invflags&dccpSrcPorts != 0, "sport", portRangeText(m.Spts))
	}
	if m.Flags&dccpDestPorts != 0 {
		w.Opt(m.Invflags&dccpDestPorts != 0, "dport", portRangeText(m.Dpts))
	}
	if m.Flags&dccpType != 0 {
		w.Opt(m.Invflags&dccpType != 0, "dccp-types", dccpTypesText(m.Typemask))
	}
	if m.Flags&dccpOption != 0 {
		w.OptUint(m.Invflags&dccpOption != 0, "dccp-option", uint64(m.Option))
	}
}

// dccpTypesText lists the types from the lowest bit up, stopping after
// INVALID (which covers the higher bits).
func dccpTypesText(mask uint16) string {
	var names []string
	for i := 0; i < 16 && mask>>i != 0; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		if i >= len(dccpTypes) {
			// Types 11-15 without INVALID cannot come from iptables;
			// its printer would index past its table here.
			break
		}
		names = append(names, dccpTypes[i])
		if i == dccpInvalid {
			break
		}
	}
	return strings.Join(names, ",")
}

// struct xt_dccp_info: dpts[2]@0 spts[2]@4 (host order, destination
// first) flags u16@8 invflags u16@10 typemask u16@12 option u8@14; 16
// bytes with its tail padding.
const dccpSize = 16

func (m *DCCP) layout() []field {
	return []field{{0, &m.Dpts}, {4, &m.Spts}, {8, &m.Flags}, {10, &m.Invflags}, {12, &m.Typemask}, {14, &m.Option}}
}

func (m *DCCP) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *DCCP) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
