package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// DSCP is the dscp match; it mirrors struct xt_dscp_info.
type DSCP struct {
	DSCP   uint8
	Invert uint8
}

const dscpMax = 0x3f

// dscpClasses are the DiffServ class names iptables knows, in its order.
var dscpClasses = []struct {
	name string
	dscp uint8
}{
	{"CS0", 0x00}, {"CS1", 0x08}, {"CS2", 0x10}, {"CS3", 0x18}, {"CS4", 0x20}, {"CS5", 0x28},
	{"CS6", 0x30}, {"CS7", 0x38}, {"BE", 0x00}, {"AF11", 0x0a}, {"AF12", 0x0c}, {"AF13", 0x0e},
	{"AF21", 0x12}, {"AF22", 0x14}, {"AF23", 0x16}, {"AF31", 0x1a}, {"AF32", 0x1c}, {"AF33", 0x1e},
	{"AF41", 0x22}, {"AF42", 0x24}, {"AF43", 0x26}, {"EF", 0x2e},
}

var dscpInfo = &table.ExtInfo{
	Name: "dscp", Kind: table.MatchKind, Family: table.BothFamilies, Size: dscpSize,
	Options: opts("!dscp=", "!dscp-class="),
	New:     func(table.Family) table.Ext { return &DSCP{} },
}

func (m *DSCP) Info() *table.ExtInfo { return dscpInfo }
func (m *DSCP) Name() string         { return "dscp" }

func (m *DSCP) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "dscp":
		v, err := parseUint(a.Arg, 0, dscpMax)
		if err != nil {
			return err
		}
		m.DSCP = uint8(v)
	case "dscp-class":
		v, err := parseDSCPClass(a.Arg)
		if err != nil {
			return err
		}
		m.DSCP = v
	default:
		return unknownOption(a)
	}
	if a.Invert {
		m.Invert = 1
	}
	return nil
}

// parseDSCPClass maps a class name to its code point. iptables compares
// only the length of each known name, so "EF" followed by anything is EF
// and "cs10" is CS1; fw keeps that, since both read the same rule.
func parseDSCPClass(s string) (uint8, error) {
	for _, c := range dscpClasses {
		if len(s) >= len(c.name) && strings.EqualFold(s[:len(c.name)], c.name) {
			return c.dscp, nil
		}
	}
	return 0, table.WithHint("classes are CS0-CS7, BE, AF11-AF43 and EF", "unknown DSCP class %q", s)
}

func (m *DSCP) Finish(c *table.FinishContext) error {
	switch {
	case c.Seen.Has("dscp") && c.Seen.Has("dscp-class"):
		return fmt.Errorf("--dscp and --dscp-class cannot be used together")
	case !c.Seen.Has("dscp") && !c.Seen.Has("dscp-class"):
		return fmt.Errorf("--dscp or --dscp-class is required")
	}
	return nil
}

func (m *DSCP) Print(w *table.Writer) {
	w.Opt(m.Invert != 0, "dscp", fmt.Sprintf("0x%02x", m.DSCP))
}

// struct xt_dscp_info: dscp u8@0 invert u8@1.
const dscpSize = 2

func (m *DSCP) layout() []field { return []field{{0, &m.DSCP}, {1, &m.Invert}} }

func (m *DSCP) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *DSCP) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
