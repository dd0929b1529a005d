package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// IPComp is the ipcomp match; it mirrors struct xt_ipcomp. libxt_ipcomp
// has no init function, so without --ipcompspi the range is 0:0 and the
// match only takes SPI 0.
type IPComp struct {
	Spis     [2]uint32
	Invflags uint8
	Hdrres   uint8
}

const ipcompInvSPI = 0x01

var ipcompInfo = &table.ExtInfo{
	Name: "ipcomp", Kind: table.MatchKind, Family: table.BothFamilies, Size: ipcompSize,
	Options: opts("!ipcompspi=", "compres"),
	New:     func(table.Family) table.Ext { return &IPComp{} },
}

func (m *IPComp) Info() *table.ExtInfo { return ipcompInfo }
func (m *IPComp) Name() string         { return "ipcomp" }

// Parse refuses two things iptables accepts: --compres, which the kernel
// ignores, and the full SPI range, which iptables-save drops, so that the
// reloaded rule would match SPI 0 only.
func (m *IPComp) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "ipcompspi":
		r, err := parseSPIRange(a)
		if err != nil {
			return err
		}
		if r == [2]uint32{0, 0xffffffff} {
			return table.WithHint("drop -m ipcomp: -p ipcomp alone matches every SPI", "--ipcompspi %s cannot be saved: iptables-save drops it and the reloaded rule matches SPI 0 only", a.Arg)
		}
		m.Spis = r
		m.Invflags |= invBit(a.Invert, ipcompInvSPI)
	case "compres":
		return fmt.Errorf("--compres is ignored by the kernel")
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *IPComp) Finish(*table.FinishContext) error { return nil }

func (m *IPComp) Check(c *table.CheckContext) error { return needProto(c, "ipcomp match", protoComp) }

// Print writes the range unless it is the full one, so a match without
// --ipcompspi prints "--ipcompspi 0".
func (m *IPComp) Print(w *table.Writer) {
	if m.Spis != [2]uint32{0, 0xffffffff} {
		w.Opt(m.Invflags&ipcompInvSPI != 0, "ipcompspi", spiText(m.Spis))
	}
	if m.Hdrres != 0 {
		w.Flag(false, "compres")
	}
}

// struct xt_ipcomp: spis[2] u32@0 (host order) invflags@8 hdrres@9; 12
// bytes.
const ipcompSize = 12

func (m *IPComp) layout() []field {
	return []field{{0, &m.Spis}, {8, &m.Invflags}, {9, &m.Hdrres}}
}

func (m *IPComp) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *IPComp) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
