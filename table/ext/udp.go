package ext

import (
	"github.com/fwkit/fw/table"
)

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
	Name: "udp", Kind: table.MatchKind, Family: table.BothFamilies, Size: udpSize,
	Options: opts("!source-port=", "|sport", "!destination-port=", "|dport"),
	New: func(table.Family) table.Ext {
		return &UDP{Spts: [2]uint16{0, 0xffff}, Dpts: [2]uint16{0, 0xffff}}
	},
}

func (m *UDP) Info() *table.ExtInfo { return udpInfo }
func (m *UDP) Name() string         { return "udp" }

// Parse reads ports as libxt_udp does (XTTYPE_PORTRC, so "010" is port 10
// and any tcp or udp service name is accepted). Reversed ranges and a
// negated full range are accepted by iptables but never match; the latter
// is even saved without its '!', so a reload would match everything.
func (m *UDP) Parse(a *table.OptArgs) error {
	r, err := parseServicePortRange(a.Arg, a.Names)
	if err != nil {
		return err
	}
	if err := checkLiveRange(a.Opt.Name, uint64(r[0]), uint64(r[1]), 0xffff, a.Invert); err != nil {
		return err
	}
	switch a.Key() {
	case "source-port":
		m.Spts = r
		m.Invflags |= invBit(a.Invert, udpInvSrcPt)
	case "destination-port":
		m.Dpts = r
		m.Invflags |= invBit(a.Invert, udpInvDstPt)
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *UDP) Finish(*table.FinishContext) error { return nil }

func (m *UDP) Check(c *table.CheckContext) error { return needProto(c, "udp match", protoUDP) }

// Print skips a full range even when it is negated, as 1.8.9 does.
func (m *UDP) Print(w *table.Writer) {
	if m.Spts != [2]uint16{0, 0xffff} {
		printPorts(w, m.Invflags&udpInvSrcPt != 0, "sport", m.Spts)
	}
	if m.Dpts != [2]uint16{0, 0xffff} {
		printPorts(w, m.Invflags&udpInvDstPt != 0, "dport", m.Dpts)
	}
}

// struct xt_udp: spts[2]@0 dpts[2]@4 (host order) invflags@8; 10 bytes.
const udpSize = 10

func (m *UDP) layout() []field {
	return []field{{0, &m.Spts}, {4, &m.Dpts}, {8, &m.Invflags}}
}

func (m *UDP) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *UDP) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
