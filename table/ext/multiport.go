package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Multiport is the multiport match, revision 1; it mirrors struct
// xt_multiport_v1. A range takes two slots of Ports: Pflags is 1 on its
// first slot.
type Multiport struct {
	Flags  uint8
	Count  uint8
	Ports  [15]uint16
	Pflags [15]uint8
	Invert uint8
}

// xt_multiport_flags.
const (
	multiportSource = 0
	multiportDest   = 1
	multiportEither = 2
)

var multiportInfo = &table.ExtInfo{
	Name: "multiport", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: multiportSize,
	Options: opts("!source-ports=", "|sports", "!destination-ports=", "|dports", "!ports="),
	New:     func(table.Family) table.Ext { return &Multiport{} },
}

// multiportProtos are the protocols whose ports multiport understands,
// with the name services are looked up under.
var multiportProtos = map[uint8]string{protoTCP: "tcp", protoUDP: "udp", protoUDPLite: "udplite", protoSCTP: "sctp", protoDCCP: "dccp"}

func (m *Multiport) Info() *table.ExtInfo { return multiportInfo }
func (m *Multiport) Name() string         { return "multiport" }

// Parse needs the rule's protocol already given (iptables resolves service
// names with it while parsing), so "-m multiport --dports 1 -p tcp" is an
// error as in iptables.
func (m *Multiport) Parse(a *table.OptArgs) error {
	var flags uint8
	switch a.Key() {
	case "source-ports":
		flags = multiportSource
	case "destination-ports":
		flags = multiportDest
	case "ports":
		flags = multiportEither
	default:
		return unknownOption(a)
	}
	if m.Count != 0 {
		return fmt.Errorf("only one of --sports, --dports and --ports may be given")
	}
	proto, ok := multiportProtos[a.IP.Proto]
	switch {
	case a.IP.Proto == 0:
		return table.WithHint("put -p tcp, -p udp, -p udplite, -p sctp or -p dccp before it", "multiport needs a protocol")
	case !ok || a.IP.InvProto:
		return fmt.Errorf("multiport only works with tcp, udp, udplite, sctp and dccp")
	}
	if err := m.parsePorts(a.Arg, proto, a.Names); err != nil {
		return err
	}
	m.Flags = flags
	if a.Invert {
		m.Invert = 1
	}
	return nil
}

// parsePorts reads up to 15 slots of "port" or "lo:hi" items (a range
// takes two slots and needs lo < hi).
func (m *Multiport) parsePorts(s, proto string, names table.Resolver) error {
	items := strings.Split(s, ",")
	n := 0
	for _, item := range items {
		if n == len(m.Ports) {
			return table.WithHint("use another multiport match for the rest", "too many ports in %q (at most 15, a range counts as 2)", s)
		}
		lo, hi, isRange := strings.Cut(item, ":")
		if isRange && n == len(m.Ports)-1 {
			return table.WithHint("use another multiport match for the rest", "too many ports in %q (at most 15, a range counts as 2)", s)
		}
		p, err := parsePort(lo, proto, names)
		if err != nil {
			return err
		}
		m.Ports[n] = p
		if isRange {
			q, err := parsePort(hi, proto, names)
			if err != nil {
				return err
			}
			if p >= q {
				return fmt.Errorf("invalid port range %q (the first port must be lower)", item)
			}
			m.Pflags[n] = 1
			n++
			m.Ports[n] = q
		}
		n++
	}
	m.Count = uint8(n)
	return nil
}

func (m *Multiport) Finish(*table.FinishContext) error {
	if m.Count == 0 {
		return table.WithHint("add --sports, --dports or --ports", "multiport needs an option")
	}
	return nil
}

func (m *Multiport) Check(c *table.CheckContext) error {
	return needProto(c, "multiport match", protoTCP, protoUDP, protoUDPLite, protoSCTP, protoDCCP)
}

func (m *Multiport) Print(w *table.Writer) {
	name := map[uint8]string{multiportSource: "sports", multiportDest: "dports", multiportEither: "ports"}[m.Flags]
	var b strings.Builder
	for i := 0; i < int(m.Count) && i < len(m.Ports); i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, m.Ports[i])
		if m.Pflags[i] != 0 && i+1 < len(m.Ports) {
			i++
			fmt.Fprintf(&b, ":%d", m.Ports[i])
		}
	}
	w.Opt(m.Invert != 0, name, b.String())
}

// struct xt_multiport_v1: flags@0 count@1 ports[15] u16@2 (host order)
// pflags[15]@32 invert@47; 48 bytes.
const multiportSize = 48

func (m *Multiport) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U8(0, m.Flags)
	w.U8(1, m.Count)
	for i, p := range m.Ports {
		w.U16(2+2*i, p)
	}
	w.Bytes(32, m.Pflags[:])
	w.U8(47, m.Invert)
	return nil
}

// UnmarshalPayload refuses a direction other than source, destination and
// either (there is no option to print for it) and more than 15 ports.
func (m *Multiport) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.Flags, m.Count = r.U8(0), r.U8(1)
	for i := range m.Ports {
		m.Ports[i] = r.U16(2 + 2*i)
	}
	r.Bytes(32, m.Pflags[:])
	m.Invert = r.U8(47)
	if err := r.Err(); err != nil {
		return err
	}
	if m.Flags > multiportEither {
		return fmt.Errorf("multiport: unknown direction %d", m.Flags)
	}
	if m.Count == 0 || int(m.Count) > len(m.Ports) {
		return fmt.Errorf("multiport: port count %d out of range 1-%d", m.Count, len(m.Ports))
	}
	return nil
}
