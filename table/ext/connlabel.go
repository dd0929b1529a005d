package ext

import (
	"fmt"
	"math"

	"github.com/fwkit/fw/table"
)

// Connlabel is the connlabel match; it mirrors struct xt_connlabel_mtinfo.
type Connlabel struct {
	Bit     uint16
	Options uint16
}

// xt_connlabel options.
const (
	connlabelInvert = 1 << 0
	connlabelSet    = 1 << 1

	connlabelMaxBit = 127 // XT_CONNLABEL_MAXBIT
)

var connlabelInfo = &table.ExtInfo{
	Name: "connlabel", Kind: table.MatchKind, Family: table.BothFamilies, Size: connlabelSize,
	Options: opts("!label=", "set"),
	New:     func(table.Family) table.Ext { return &Connlabel{} },
}

func (m *Connlabel) Info() *table.ExtInfo { return connlabelInfo }
func (m *Connlabel) Name() string         { return "connlabel" }

func (m *Connlabel) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "label":
		bit, err := connlabelParse(a.Arg, a.Names)
		if err != nil {
			return err
		}
		m.Bit = bit
		if a.Invert {
			m.Options |= connlabelInvert
		}
	case "set":
		m.Options |= connlabelSet
	default:
		return unknownOption(a)
	}
	return nil
}

// connlabelParse turns a label into its bit: a C number, else a name from
// connlabel.conf. iptables truncates a large number to an int and then to
// 16 bits (so 4294967296 is bit 0); fw refuses any number above 127, the
// kernel's limit.
func connlabelParse(s string, names table.Resolver) (uint16, error) {
	if v, rest, ok := table.StrtoulPrefix(s, 0, math.MaxUint64); ok && rest == "" {
		if v > connlabelMaxBit {
			return 0, fmt.Errorf("label bit %q is out of range (0-%d)", s, connlabelMaxBit)
		}
		return uint16(v), nil
	}
	bit, ok := names.ID(table.ConnLabels, s)
	switch {
	case !ok:
		return 0, table.WithHint("define it in /"+table.ConnLabels.Path()+" or give the bit number", "label %q not found", s)
	case bit > connlabelMaxBit:
		return 0, fmt.Errorf("label %q is bit %d, above the kernel's limit of %d", s, bit, connlabelMaxBit)
	}
	return uint16(bit), nil
}

func (m *Connlabel) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("label") {
		return table.WithHint("e.g. --label 3", "--label is required")
	}
	return nil
}

func (m *Connlabel) Print(w *table.Writer) {
	label, ok := w.Resolver().IDName(table.ConnLabels, uint32(m.Bit))
	if !ok {
		label = fmt.Sprint(m.Bit)
	}
	// iptables always quotes the label, and never escapes it (names
	// cannot hold quotes).
	w.Opt(m.Options&connlabelInvert != 0, "label", `"`+label+`"`)
	if m.Options&connlabelSet != 0 {
		w.Flag(false, "set")
	}
}

// struct xt_connlabel_mtinfo: bit@0 options@2 (u16 host order).
const connlabelSize = 4

func (m *Connlabel) layout() []field { return []field{{0, &m.Bit}, {2, &m.Options}} }

func (m *Connlabel) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, m.layout()...)
}

func (m *Connlabel) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
