package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// TCP is the tcp match; it mirrors struct xt_tcp.
type TCP struct {
	Spts, Dpts [2]uint16
	Option     uint8
	FlgMask    uint8
	FlgCmp     uint8
	Invflags   uint8
}

// xt_tcp invflags.
const (
	tcpInvSrcPt  = 0x01
	tcpInvDstPt  = 0x02
	tcpInvFlags  = 0x04
	tcpInvOption = 0x08
)

var tcpInfo = &table.ExtInfo{
	Name: "tcp", Kind: table.MatchKind, Family: table.BothFamilies, Size: tcpSize,
	Options: opts("!source-port=", "|sport", "!destination-port=", "|dport", "!syn", "!tcp-flags=", "!tcp-option="),
	New: func(table.Family) table.Ext {
		return &TCP{Spts: [2]uint16{0, 0xffff}, Dpts: [2]uint16{0, 0xffff}}
	},
}

func (m *TCP) Info() *table.ExtInfo { return tcpInfo }
func (m *TCP) Name() string         { return "tcp" }

func (m *TCP) Parse(a *table.OptArgs) error {
	var err error
	switch a.Key() {
	case "source-port":
		m.Spts, err = parsePortRange(a.Arg, "tcp", a.Names)
		m.Invflags |= invBit(a.Invert, tcpInvSrcPt)
	case "destination-port":
		m.Dpts, err = parsePortRange(a.Arg, "tcp", a.Names)
		m.Invflags |= invBit(a.Invert, tcpInvDstPt)
	case "syn", "tcp-flags":
		if a.Key() == "syn" && (a.Opt.Name == "syn") {
			if m.FlgMask != 0 {
				return fmt.Errorf("only one of --syn and --tcp-flags may be given")
			}
			m.FlgMask, m.FlgCmp = tcpFIN|tcpSYN|tcpRST|tcpACK, tcpSYN
		} else {
			if m.FlgMask != 0 {
				return fmt.Errorf("only one of --syn and --tcp-flags may be given")
			}
			cmp, ok := a.Next()
			if !ok {
				return table.WithHint("write --tcp-flags MASK COMP, e.g. --tcp-flags SYN,ACK SYN", "--tcp-flags needs two arguments")
			}
			if m.FlgMask, err = parseTCPFlags(a.Arg); err != nil {
				return err
			}
			if m.FlgCmp, err = parseTCPFlags(cmp); err != nil {
				return err
			}
		}
		m.Invflags |= invBit(a.Invert, tcpInvFlags)
	case "tcp-option":
		var v uint64
		v, err = parseUint(a.Arg, 1, 255)
		m.Option = uint8(v)
		m.Invflags |= invBit(a.Invert, tcpInvOption)
	default:
		return unknownOption(a)
	}
	return err
}

func (m *TCP) Finish(*table.FinishContext) error {
	// A negated full range never matches, and iptables-save prints the
	// range not at all, so the saved rule would match everything.
	if m.Invflags&tcpInvSrcPt != 0 && m.Spts == [2]uint16{0, 0xffff} {
		return table.WithHint("drop the option", "'! --sport 0:65535' never matches (and iptables-save would print it without the '!')")
	}
	if m.Invflags&tcpInvDstPt != 0 && m.Dpts == [2]uint16{0, 0xffff} {
		return table.WithHint("drop the option", "'! --dport 0:65535' never matches (and iptables-save would print it without the '!')")
	}
	return nil
}

func (m *TCP) Check(c *table.CheckContext) error { return needProto(c, "tcp match", 6) }

func (m *TCP) Print(w *table.Writer) {
	if m.Spts != [2]uint16{0, 0xffff} {
		printPorts(w, m.Invflags&tcpInvSrcPt != 0, "sport", m.Spts)
	}
	if m.Dpts != [2]uint16{0, 0xffff} {
		printPorts(w, m.Invflags&tcpInvDstPt != 0, "dport", m.Dpts)
	}
	if m.Option != 0 || m.Invflags&tcpInvOption != 0 {
		w.OptUint(m.Invflags&tcpInvOption != 0, "tcp-option", uint64(m.Option))
	}
	if m.FlgMask != 0 || m.Invflags&tcpInvFlags != 0 {
		w.Opt(m.Invflags&tcpInvFlags != 0, "tcp-flags", tcpFlagsText(m.FlgMask)+" "+tcpFlagsText(m.FlgCmp))
	}
}

const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpACK = 0x10
	tcpURG = 0x20
)

var tcpFlagNames = []struct {
	name string
	bit  uint8
}{{"FIN", tcpFIN}, {"SYN", tcpSYN}, {"RST", tcpRST}, {"PSH", tcpPSH}, {"ACK", tcpACK}, {"URG", tcpURG}, {"ALL", 0x3f}, {"NONE", 0}}

func parseTCPFlags(s string) (uint8, error) {
	var v uint8
	for _, f := range strings.Split(s, ",") {
		found := false
		for _, n := range tcpFlagNames {
			if strings.EqualFold(f, n.name) {
				v |= n.bit
				found = true
				break
			}
		}
		if !found {
			return 0, table.WithHint("flags are FIN, SYN, RST, PSH, ACK, URG, ALL and NONE", "unknown TCP flag %q", f)
		}
	}
	return v, nil
}

func tcpFlagsText(f uint8) string {
	if f == 0 {
		return "NONE"
	}
	var names []string
	for _, n := range tcpFlagNames[:6] {
		if f&n.bit != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ",")
}

func invBit(inv bool, bit uint8) uint8 {
	if inv {
		return bit
	}
	return 0
}

// struct xt_tcp: spts[2]@0 dpts[2]@4 (host order) option@8 flg_mask@9
// flg_cmp@10 invflags@11.
const tcpSize = 12

func (m *TCP) layout() []field {
	return []field{{0, &m.Spts}, {4, &m.Dpts}, {8, &m.Option}, {9, &m.FlgMask}, {10, &m.FlgCmp}, {11, &m.Invflags}}
}

func (m *TCP) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *TCP) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
