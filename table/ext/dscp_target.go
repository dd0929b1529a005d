package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// DSCPTarget is the DSCP target; it mirrors struct xt_DSCP_info.
type DSCPTarget struct {
	DSCP uint8
}

// dscpTgMax is XT_DSCP_MAX: the six bits above the two ECN bits.
const dscpTgMax = 0x3f

var dscpTargetInfo = &table.ExtInfo{
	Name: "DSCP", Kind: table.TargetKind, Family: table.BothFamilies, Size: dscpTgSize,
	Options: opts("set-dscp=", "set-dscp-class="),
	Tables:  []string{"mangle"},
	New:     func(table.Family) table.Ext { return &DSCPTarget{} },
}

// dscpTgClasses is the DiffServ class table iptables knows (dscp_helper.c).
var dscpTgClasses = []struct {
	name string
	dscp uint8
}{
	{"CS0", 0x00}, {"CS1", 0x08}, {"CS2", 0x10}, {"CS3", 0x18}, {"CS4", 0x20},
	{"CS5", 0x28}, {"CS6", 0x30}, {"CS7", 0x38}, {"BE", 0x00},
	{"AF11", 0x0a}, {"AF12", 0x0c}, {"AF13", 0x0e}, {"AF21", 0x12}, {"AF22", 0x14},
	{"AF23", 0x16}, {"AF31", 0x1a}, {"AF32", 0x1c}, {"AF33", 0x1e}, {"AF41", 0x22},
	{"AF42", 0x24}, {"AF43", 0x26}, {"EF", 0x2e},
}

func (t *DSCPTarget) Info() *table.ExtInfo { return dscpTargetInfo }
func (t *DSCPTarget) Name() string         { return "DSCP" }

func (t *DSCPTarget) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "set-dscp":
		v, err := parseUint(a.Arg, 0, dscpTgMax)
		t.DSCP = uint8(v)
		return err
	case "set-dscp-class":
		v, err := parseDSCPTgClass(a.Arg)
		t.DSCP = v
		return err
	}
	return unknownOption(a)
}

// parseDSCPTgClass looks a class name up without regard to case. iptables
// compares only the length of each known name, so "CS10" silently means
// CS1 and "EFX" means EF; fw wants the exact name, since such a typo would
// mark packets with a class nobody asked for.
func parseDSCPTgClass(s string) (uint8, error) {
	for _, c := range dscpTgClasses {
		if strings.EqualFold(s, c.name) {
			return c.dscp, nil
		}
	}
	for _, c := range dscpTgClasses {
		if len(s) > len(c.name) && strings.EqualFold(s[:len(c.name)], c.name) {
			return 0, table.WithHint("iptables would read it as "+c.name+"; write that", "invalid DSCP class %q", s)
		}
	}
	return 0, table.WithHint("classes are CS0-CS7, BE, AF11-AF43 and EF", "invalid DSCP class %q", s)
}

func (t *DSCPTarget) Finish(c *table.FinishContext) error {
	if err := requireOne(c, "set-dscp", "set-dscp-class"); err != nil {
		return err
	}
	return onlyOne(c, "set-dscp", "set-dscp-class")
}

func (t *DSCPTarget) Print(w *table.Writer) {
	w.Opt(false, "set-dscp", fmt.Sprintf("0x%02x", t.DSCP))
}

// struct xt_DSCP_info: dscp u8@0.
const dscpTgSize = 1

func (t *DSCPTarget) layout() []field { return []field{{0, &t.DSCP}} }

func (t *DSCPTarget) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, t.layout()...)
}

func (t *DSCPTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}
