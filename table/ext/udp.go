package ext

import "github.com/fwkit/fw/table"

// UDP is the udp match; it mirrors struct xt_udp.
type UDP struct {
	Spts, Dpts [2]uint16
	Invflags   uint8
}

const (
	udpInvSrcPt = 0x01
	udpInvDstPt = 0x02
)

var udpInfo = &table.ExtInfo{
	Name: "udp", Kind: table.MatchKind, Family: table.BothFamilies,
	Options: opts("!source-port=", "|sport", "!destination-port=", "|dport"),
	New: func(table.Family) table.Ext {
		return &UDP{Spts: [2]uint16{0, 0xffff}, Dpts: [2]uint16{0, 0xffff}}
	},
}

func (m *UDP) Info() *table.ExtInfo { return udpInfo }
func (m *UDP) Name() string         { return "udp" }

func (m *UDP) Parse(a *table.OptArgs) error {
	var err error
	switch a.Key() {
	case "source-port":
		m.Spts, err = parsePortRange(a.Arg, "udp")
		m.Invflags |= invBit(a.Invert, udpInvSrcPt)
	case "destination-port":
		m.Dpts, err = parsePortRange(a.Arg, "udp")
		m.Invflags |= invBit(a.Invert, udpInvDstPt)
	default:
		return unknownOption(a)
	}
	return err
}

func (m *UDP) Finish(*table.FinishContext) error { return nil }

func (m *UDP) Check(c *table.CheckContext) error { return needProto(c, "udp match", 17) }

func (m *UDP) Print(w *table.Writer) {
	if m.Spts != [2]uint16{0, 0xffff} || m.Invflags&udpInvSrcPt != 0 {
		w.Opt(m.Invflags&udpInvSrcPt != 0, "sport", portRangeText(m.Spts))
	}
	if m.Dpts != [2]uint16{0, 0xffff} || m.Invflags&udpInvDstPt != 0 {
		w.Opt(m.Invflags&udpInvDstPt != 0, "dport", portRangeText(m.Dpts))
	}
}
