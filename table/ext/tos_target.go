package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// TOSTarget is the TOS target, revision 1; it mirrors struct
// xt_tos_target_info. Like MARK, every spelling becomes "clear the bits of
// Mask, then XOR Value".
type TOSTarget struct {
	Value, Mask uint8
}

var tosTargetInfo = &table.ExtInfo{
	Name: "TOS", Kind: table.TargetKind, Family: table.BothFamilies, Revision: 1, Size: tosTgSize,
	Options: opts("set-tos=", "and-tos=", "or-tos=", "xor-tos="),
	Tables:  []string{"mangle"},
	New:     func(table.Family) table.Ext { return &TOSTarget{} },
}

var tosTgOptions = []string{"set-tos", "and-tos", "or-tos", "xor-tos"}

// tosTgSymbols are the RFC 1349 names iptables accepts for --set-tos. A
// name comes with the mask 0x3f, so that it leaves the three precedence
// bits alone.
var tosTgSymbols = []struct {
	name  string
	value uint8
}{
	{"Minimize-Delay", 0x10}, {"Maximize-Throughput", 0x08}, {"Maximize-Reliability", 0x04},
	{"Minimize-Cost", 0x02}, {"Normal-Service", 0x00},
}

const tosTgSymbolMask = 0x3f

func (t *TOSTarget) Info() *table.ExtInfo { return tosTargetInfo }
func (t *TOSTarget) Name() string         { return "TOS" }

func (t *TOSTarget) Parse(a *table.OptArgs) error {
	if a.Key() == "set-tos" {
		v, m, err := parseTOSTgValue(a.Arg)
		t.Value, t.Mask = v, m
		return err
	}
	v, err := parseUint(a.Arg, 0, 0xff)
	if err != nil {
		return err
	}
	b := uint8(v)
	switch a.Key() {
	case "and-tos":
		t.Value, t.Mask = 0, ^b
	case "or-tos":
		t.Value, t.Mask = b, b
	case "xor-tos":
		t.Value, t.Mask = b, 0
	default:
		return unknownOption(a)
	}
	return nil
}

// parseTOSTgValue reads "value[/mask]" or a symbolic name. As in
// libxtables, an argument is numeric when it starts with a number that
// fits a byte; anything after that number other than "/mask" is an error.
func parseTOSTgValue(s string) (v, m uint8, err error) {
	n, rest, ok := table.StrtoulPrefix(s, 0, 0xff)
	if ok {
		v, m = uint8(n), 0xff
		if strings.HasPrefix(rest, "/") {
			mk, r2, ok2 := table.StrtoulPrefix(rest[1:], 0, 0xff)
			if !ok2 {
				return 0, 0, fmt.Errorf("invalid TOS value %q (the mask is a number from 0 to 255)", s)
			}
			m, rest = uint8(mk), r2
		}
		if rest != "" {
			return 0, 0, fmt.Errorf("invalid TOS value %q", s)
		}
		return v, m, nil
	}
	for _, sym := range tosTgSymbols {
		if strings.EqualFold(s, sym.name) {
			return sym.value, tosTgSymbolMask, nil
		}
	}
	return 0, 0, table.WithHint("use a number 0-255 with an optional /mask, or Minimize-Delay, Maximize-Throughput, Maximize-Reliability, Minimize-Cost or Normal-Service", "unknown TOS value %q", s)
}

func (t *TOSTarget) Finish(c *table.FinishContext) error {
	if err := requireOne(c, tosTgOptions...); err != nil {
		return err
	}
	return onlyOne(c, tosTgOptions...)
}

func (t *TOSTarget) Print(w *table.Writer) {
	w.Opt(false, "set-tos", fmt.Sprintf("0x%02x/0x%02x", t.Value, t.Mask))
}

// struct xt_tos_target_info: tos_value u8@0 tos_mask u8@1.
const tosTgSize = 2

func (t *TOSTarget) layout() []field { return []field{{0, &t.Value}, {1, &t.Mask}} }

func (t *TOSTarget) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, t.layout()...)
}

func (t *TOSTarget) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, t.layout()...)
}
