package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// TOS is the tos match, revision 1; it mirrors struct xt_tos_match_info.
type TOS struct {
	TOSMask  uint8
	TOSValue uint8
	Invert   uint8
}

// tosSymbols are the RFC 1349 names iptables accepts for a TOS value.
var tosSymbols = []struct {
	name  string
	value uint8
}{
	{"Minimize-Delay", 0x10}, {"Maximize-Throughput", 0x08}, {"Maximize-Reliability", 0x04},
	{"Minimize-Cost", 0x02}, {"Normal-Service", 0x00},
}

var tosInfo = &table.ExtInfo{
	Name: "tos", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: tosSize,
	Options: opts("!tos="),
	New:     func(table.Family) table.Ext { return &TOS{} },
}

func (m *TOS) Info() *table.ExtInfo { return tosInfo }
func (m *TOS) Name() string         { return "tos" }

func (m *TOS) Parse(a *table.OptArgs) error {
	if a.Key() != "tos" {
		return unknownOption(a)
	}
	v, mask, err := parseTOSMask(a.Arg, 0x3f)
	if err != nil {
		return err
	}
	m.TOSValue, m.TOSMask = v, mask
	if a.Invert {
		m.Invert = 1
	}
	return nil
}

// parseTOSMask parses "value[/mask]" (numbers of 0..255, the mask 0xff by
// default) or a symbolic name, which gets symMask: the names only speak of
// the bits under it.
func parseTOSMask(s string, symMask uint8) (v, mask uint8, err error) {
	n, rest, ok := table.StrtoulPrefix(s, 0, 255)
	if !ok {
		for _, sym := range tosSymbols {
			if strings.EqualFold(s, sym.name) {
				return sym.value, symMask, nil
			}
		}
		return 0, 0, table.WithHint("write a number of 0 to 255 with an optional /mask, or one of Minimize-Delay, Maximize-Throughput, Maximize-Reliability, Minimize-Cost, Normal-Service", "invalid TOS value %q", s)
	}
	v, mask = uint8(n), 0xff
	if strings.HasPrefix(rest, "/") {
		var mk uint64
		mk, rest, ok = table.StrtoulPrefix(rest[1:], 0, 255)
		if !ok {
			return 0, 0, fmt.Errorf("invalid TOS mask in %q (expected a number from 0 to 255)", s)
		}
		mask = uint8(mk)
	}
	if rest != "" {
		return 0, 0, fmt.Errorf("invalid TOS value %q (trailing garbage)", s)
	}
	return v, mask, nil
}

func (m *TOS) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("tos") {
		return fmt.Errorf("--tos is required")
	}
	return nil
}

func (m *TOS) Print(w *table.Writer) {
	w.Opt(m.Invert != 0, "tos", fmt.Sprintf("0x%02x/0x%02x", m.TOSValue, m.TOSMask))
}

// struct xt_tos_match_info: tos_mask u8@0 tos_value u8@1 invert u8@2.
const tosSize = 3

func (m *TOS) layout() []field { return []field{{0, &m.TOSMask}, {1, &m.TOSValue}, {2, &m.Invert}} }

func (m *TOS) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *TOS) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
