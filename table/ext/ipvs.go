package ext

import (
	"strings"

	"github.com/fwkit/fw/table"
)

// IPVS is the ipvs match; it mirrors struct xt_ipvs_mtinfo. VPort and
// VPortCtl hold the port numbers; the kernel stores them big-endian.
type IPVS struct {
	VAddr, VMask [16]byte
	VPort        uint16
	L4Proto      uint8
	FwdMethod    uint8
	VPortCtl     uint16
	Invert       uint8
	Bitmask      uint8

	fam table.Family // not in the payload; decides how the address prints
}

// xt_ipvs bitmask/invert bits, one per option in option order.
const (
	ipvsProperty = 1 << 0
	ipvsProto    = 1 << 1
	ipvsVAddr    = 1 << 2
	ipvsVPort    = 1 << 3
	ipvsDir      = 1 << 4
	ipvsMethod   = 1 << 5
	ipvsVPortCtl = 1 << 6
	ipvsOnceMask = 0x7f &^ ipvsProperty
)

// IP_VS_CONN_F_* forwarding methods.
const (
	ipvsMasq   = 0
	ipvsTunnel = 2
	ipvsDRoute = 3
)

var ipvsInfo = &table.ExtInfo{
	Name: "ipvs", Kind: table.MatchKind, Family: table.BothFamilies, Size: ipvsSize,
	Options: opts("!ipvs", "!vproto=", "!vaddr=", "!vport=", "vdir=", "!vmethod=", "!vportctl="),
	New:     func(f table.Family) table.Ext { return &IPVS{fam: f} },
}

func (m *IPVS) Info() *table.ExtInfo { return ipvsInfo }
func (m *IPVS) Name() string         { return "ipvs" }

func (m *IPVS) Parse(a *table.OptArgs) error {
	var bit uint8
	switch a.Key() {
	case "ipvs":
		bit = ipvsProperty
	case "vproto":
		p, ok := table.ParseProtocol(a.Arg, a.Names)
		if !ok {
			return table.WithHint("use a name from /etc/protocols or a number 0-255", "unknown protocol %q", a.Arg)
		}
		m.L4Proto, bit = p, ipvsProto
	case "vaddr":
		h, err := parseHostMask(a.Arg, a.Family, a.Names)
		if err != nil {
			return err
		}
		m.VAddr, m.VMask, bit = h.Addr, h.Mask, ipvsVAddr
	case "vport", "vportctl":
		p, err := parseServicePort(a.Arg, a.Names)
		if err != nil {
			return err
		}
		if a.Key() == "vport" {
			m.VPort, bit = p, ipvsVPort
		} else {
			m.VPortCtl, bit = p, ipvsVPortCtl
		}
	case "vdir":
		switch {
		case strings.EqualFold(a.Arg, "ORIGINAL"):
			m.Invert &^= ipvsDir
		case strings.EqualFold(a.Arg, "REPLY"):
			m.Invert |= ipvsDir
		default:
			return table.WithHint("use ORIGINAL or REPLY", "invalid direction %q", a.Arg)
		}
		bit = ipvsDir
	case "vmethod":
		switch {
		case strings.EqualFold(a.Arg, "GATE"):
			m.FwdMethod = ipvsDRoute
		case strings.EqualFold(a.Arg, "IPIP"):
			m.FwdMethod = ipvsTunnel
		case strings.EqualFold(a.Arg, "MASQ"):
			m.FwdMethod = ipvsMasq
		default:
			return table.WithHint("use GATE, IPIP or MASQ", "invalid forwarding method %q", a.Arg)
		}
		bit = ipvsMethod
	default:
		return unknownOption(a)
	}
	m.Bitmask |= bit
	if a.Invert {
		m.Invert |= bit
	}
	return nil
}

// Finish applies iptables' rule that every other option implies --ipvs,
// which is why a lone --ipvs is the only way it prints.
func (m *IPVS) Finish(c *table.FinishContext) error {
	if len(c.Seen) == 0 {
		return table.WithHint("e.g. --ipvs or --vaddr ADDRESS", "at least one option is required")
	}
	if m.Bitmask&ipvsOnceMask != 0 {
		if m.Invert&ipvsProperty != 0 {
			return table.WithHint("drop '! --ipvs': the other options already imply --ipvs", "! --ipvs cannot be used together with other options")
		}
		m.Bitmask |= ipvsProperty
	}
	return nil
}

func (m *IPVS) inv(bit uint8) bool { return m.Invert&bit != 0 }

func (m *IPVS) Print(w *table.Writer) {
	if m.Bitmask == ipvsProperty {
		w.Flag(m.inv(ipvsProperty), "ipvs")
	}
	if m.Bitmask&ipvsProto != 0 {
		w.OptUint(m.inv(ipvsProto), "vproto", uint64(m.L4Proto))
	}
	if m.Bitmask&ipvsVAddr != 0 {
		w.Opt(m.inv(ipvsVAddr), "vaddr", hostMaskText(m.VAddr, m.VMask, m.fam))
	}
	if m.Bitmask&ipvsVPort != 0 {
		w.OptUint(m.inv(ipvsVPort), "vport", uint64(m.VPort))
	}
	if m.Bitmask&ipvsDir != 0 {
		dir := "ORIGINAL"
		if m.inv(ipvsDir) {
			dir = "REPLY"
		}
		w.Opt(false, "vdir", dir)
	}
	if m.Bitmask&ipvsMethod != 0 {
		method := "UNKNOWN"
		switch m.FwdMethod {
		case ipvsDRoute:
			method = "GATE"
		case ipvsTunnel:
			method = "IPIP"
		case ipvsMasq:
			method = "MASQ"
		}
		w.Opt(m.inv(ipvsMethod), "vmethod", method)
	}
	if m.Bitmask&ipvsVPortCtl != 0 {
		w.OptUint(m.inv(ipvsVPortCtl), "vportctl", uint64(m.VPortCtl))
	}
}

// struct xt_ipvs_mtinfo: vaddr@0 vmask@16 (nf_inet_addr, network order),
// vport@32 (be16), l4proto@34 fwd_method@35 (u8), vportctl@36 (be16),
// invert@38 bitmask@39 (u8).
const ipvsSize = 40

func (m *IPVS) layout() []field {
	return []field{{0, &m.VAddr}, {16, &m.VMask}, {32, (*bigEndian16)(&m.VPort)}, {34, &m.L4Proto}, {35, &m.FwdMethod}, {36, (*bigEndian16)(&m.VPortCtl)}, {38, &m.Invert}, {39, &m.Bitmask}}
}

func (m *IPVS) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *IPVS) UnmarshalPayload(f table.Family, data []byte) error {
	m.fam = f
	return getFields(data, m.layout()...)
}
