package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Conntrack is the conntrack match (and, with the alias flag, -m state);
// it mirrors struct xt_conntrack_mtinfo3. Addresses use the 16-byte
// nf_inet_addr layout for both families; ports are in host order, as
// revision 3 stores them.
type Conntrack struct {
	OrigSrcAddr, OrigSrcMask [16]byte
	OrigDstAddr, OrigDstMask [16]byte
	ReplSrcAddr, ReplSrcMask [16]byte
	ReplDstAddr, ReplDstMask [16]byte
	ExpiresMin, ExpiresMax   uint32
	L4Proto                  uint16
	OrigSrcPort, OrigDstPort uint16
	ReplSrcPort, ReplDstPort uint16
	MatchFlags, InvertFlags  uint16
	StateMask, StatusMask    uint16
	OrigSrcPortHigh          uint16
	OrigDstPortHigh          uint16
	ReplSrcPortHigh          uint16
	ReplDstPortHigh          uint16

	// fam is not part of the payload: the kernel keeps it in the table,
	// and the addresses print differently per family.
	fam table.Family
}

// xt_conntrack match_flags / invert_flags bits.
const (
	ctFlagState       = 1 << 0
	ctFlagProto       = 1 << 1
	ctFlagOrigSrc     = 1 << 2
	ctFlagOrigDst     = 1 << 3
	ctFlagReplSrc     = 1 << 4
	ctFlagReplDst     = 1 << 5
	ctFlagStatus      = 1 << 6
	ctFlagExpires     = 1 << 7
	ctFlagOrigSrcPort = 1 << 8
	ctFlagOrigDstPort = 1 << 9
	ctFlagReplSrcPort = 1 << 10
	ctFlagReplDstPort = 1 << 11
	ctFlagDirection   = 1 << 12 // inverted means REPLY
	ctFlagStateAlias  = 1 << 13 // written by -m state; prints as "-m state --state"
)

// State bits: XT_CONNTRACK_STATE_BIT(ctinfo) is 1 << (ctinfo+1); INVALID is
// bit 0, and SNAT, DNAT and UNTRACKED sit above IP_CT_NUMBER.
const (
	ctStateInvalid     = 1 << 0
	ctStateEstablished = 1 << 1
	ctStateRelated     = 1 << 2
	ctStateNew         = 1 << 3
	ctStateSNAT        = 1 << 6
	ctStateDNAT        = 1 << 7
	ctStateUntracked   = 1 << 8
)

// ctStateParse is the parse order of the state names, which decides what
// an abbreviation means ("R" is RELATED). The first five are what -m state
// knows.
var ctStateParse = flagNames{
	{"INVALID", ctStateInvalid}, {"NEW", ctStateNew}, {"ESTABLISHED", ctStateEstablished},
	{"RELATED", ctStateRelated}, {"UNTRACKED", ctStateUntracked}, {"SNAT", ctStateSNAT}, {"DNAT", ctStateDNAT},
}

// ctStatePrint is the order iptables prints states in.
var ctStatePrint = flagNames{
	{"INVALID", ctStateInvalid}, {"NEW", ctStateNew}, {"RELATED", ctStateRelated},
	{"ESTABLISHED", ctStateEstablished}, {"UNTRACKED", ctStateUntracked}, {"SNAT", ctStateSNAT}, {"DNAT", ctStateDNAT},
}

// Connection status bits (IPS_*), in parse and print order; NONE is 0.
var ctStatusNames = flagNames{
	{"NONE", 0}, {"EXPECTED", 1 << 0}, {"SEEN_REPLY", 1 << 1}, {"ASSURED", 1 << 2}, {"CONFIRMED", 1 << 3},
}

var conntrackInfo = &table.ExtInfo{
	Name: "conntrack", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 3, Size: conntrackSize,
	Options: opts("!ctstate=", "!ctproto=", "!ctorigsrc=", "!ctorigdst=", "!ctreplsrc=", "!ctrepldst=",
		"!ctstatus=", "!ctexpire=", "!ctorigsrcport=", "!ctorigdstport=", "!ctreplsrcport=", "!ctrepldstport=",
		"ctdir="),
	New: func(f table.Family) table.Ext { return &Conntrack{fam: f} },
}

func (m *Conntrack) Info() *table.ExtInfo {
	if m.MatchFlags&ctFlagStateAlias != 0 {
		return stateInfo
	}
	return conntrackInfo
}

func (m *Conntrack) Name() string { return m.Info().Name }

// setFlag records that an option was given, and its negation.
func (m *Conntrack) setFlag(flag uint16, inv bool) {
	m.MatchFlags |= flag
	if inv {
		m.InvertFlags |= flag
	}
}

func (m *Conntrack) Parse(a *table.OptArgs) error {
	switch k := a.Key(); k {
	case "state":
		mask, err := ctParseStates(a.Arg, ctStateParse[:5])
		if err != nil {
			return err
		}
		m.MatchFlags = ctFlagState | ctFlagStateAlias
		m.StateMask = uint16(mask)
		if a.Invert {
			m.InvertFlags |= ctFlagState
		}
	case "ctstate":
		mask, err := ctParseStates(a.Arg, ctStateParse)
		if err != nil {
			return err
		}
		m.StateMask |= uint16(mask)
		m.setFlag(ctFlagState, a.Invert)
	case "ctproto":
		p, ok := table.ParseProtocol(a.Arg, a.Names)
		if !ok {
			return table.WithHint("use a name from /etc/protocols or a number 0-255", "unknown protocol %q", a.Arg)
		}
		m.L4Proto = uint16(p)
		m.setFlag(ctFlagProto, a.Invert)
	case "ctorigsrc", "ctorigdst", "ctreplsrc", "ctrepldst":
		h, err := parseHostMask(a.Arg, a.Family, a.Names)
		if err != nil {
			return err
		}
		addr, mask := h.Addr, h.Mask
		switch k {
		case "ctorigsrc":
			m.OrigSrcAddr, m.OrigSrcMask = addr, mask
			m.setFlag(ctFlagOrigSrc, a.Invert)
		case "ctorigdst":
			m.OrigDstAddr, m.OrigDstMask = addr, mask
			m.setFlag(ctFlagOrigDst, a.Invert)
		case "ctreplsrc":
			m.ReplSrcAddr, m.ReplSrcMask = addr, mask
			m.setFlag(ctFlagReplSrc, a.Invert)
		default:
			m.ReplDstAddr, m.ReplDstMask = addr, mask
			m.setFlag(ctFlagReplDst, a.Invert)
		}
	case "ctorigsrcport", "ctorigdstport", "ctreplsrcport", "ctrepldstport":
		r, err := parseServicePortRange(a.Arg, a.Names)
		if err != nil {
			return err
		}
		// iptables stores a reversed range, which matches no packet.
		lo, hi := r[0], r[1]
		if lo > hi {
			return errReversed(a.Arg)
		}
		switch k {
		case "ctorigsrcport":
			m.OrigSrcPort, m.OrigSrcPortHigh = lo, hi
			m.setFlag(ctFlagOrigSrcPort, a.Invert)
		case "ctorigdstport":
			m.OrigDstPort, m.OrigDstPortHigh = lo, hi
			m.setFlag(ctFlagOrigDstPort, a.Invert)
		case "ctreplsrcport":
			m.ReplSrcPort, m.ReplSrcPortHigh = lo, hi
			m.setFlag(ctFlagReplSrcPort, a.Invert)
		default:
			m.ReplDstPort, m.ReplDstPortHigh = lo, hi
			m.setFlag(ctFlagReplDstPort, a.Invert)
		}
	case "ctstatus":
		mask, err := ctParseList(a.Arg, ctStatusNames, "status", "NONE, EXPECTED, SEEN_REPLY, ASSURED and CONFIRMED")
		if err != nil {
			return err
		}
		m.StatusMask |= uint16(mask)
		m.setFlag(ctFlagStatus, a.Invert)
	case "ctexpire":
		lo, hi, _, err := parseUintRange(a.Arg, 0xffffffff)
		if err != nil {
			return err
		}
		// iptables stores a reversed range, which matches no connection.
		if lo > hi {
			return errReversed(a.Arg)
		}
		m.ExpiresMin, m.ExpiresMax = uint32(lo), uint32(hi)
		m.setFlag(ctFlagExpires, a.Invert)
	case "ctdir":
		switch {
		case strings.EqualFold(a.Arg, "ORIGINAL"):
			m.MatchFlags |= ctFlagDirection
			m.InvertFlags &^= ctFlagDirection
		case strings.EqualFold(a.Arg, "REPLY"):
			m.MatchFlags |= ctFlagDirection
			m.InvertFlags |= ctFlagDirection
		default:
			return table.WithHint("use ORIGINAL or REPLY", "invalid direction %q", a.Arg)
		}
	default:
		return unknownOption(a)
	}
	return nil
}

// ctParseStates parses a comma-separated state list; every element is an
// abbreviation of a name in names.
func ctParseStates(s string, names flagNames) (uint32, error) {
	var list []string
	for _, n := range names {
		list = append(list, n.name)
	}
	return ctParseList(s, names, "state", strings.Join(list, ", "))
}

// ctParseList parses a comma-separated list of abbreviated names (empty
// elements are errors) and ORs their bits.
func ctParseList(s string, names flagNames, what, known string) (uint32, error) {
	var mask uint32
	for _, word := range strings.Split(s, ",") {
		found := false
		for _, n := range names {
			if prefixFold(word, n.name) {
				mask |= n.bit
				found = true
				break
			}
		}
		if !found {
			if word == "" {
				return 0, table.WithHint("write the list with commas and no spaces or empty elements, e.g. ESTABLISHED,RELATED", "invalid %s list %q", what, s)
			}
			return 0, table.WithHint("known names are "+known, "unknown %s %q", what, word)
		}
	}
	return mask, nil
}

func (m *Conntrack) Finish(c *table.FinishContext) error {
	if m.MatchFlags&ctFlagStateAlias != 0 {
		if !c.Seen.Has("state") {
			return fmt.Errorf("--state is required")
		}
		return nil
	}
	if len(c.Seen) == 0 {
		return table.WithHint("e.g. --ctstate ESTABLISHED,RELATED", "at least one option is required")
	}
	return nil
}

// Unaliased drops the -m state alias flag, which only the printer reads.
func (m *Conntrack) Unaliased() table.Ext {
	c := *m
	c.MatchFlags &^= ctFlagStateAlias
	return &c
}

func (m *Conntrack) inv(flag uint16) bool { return m.InvertFlags&flag != 0 }

func (m *Conntrack) Print(w *table.Writer) {
	f := m.MatchFlags
	if f&ctFlagState != 0 {
		name := "ctstate"
		if f&ctFlagStateAlias != 0 {
			name = "state"
		}
		w.Opt(m.inv(ctFlagState), name, ctStatePrint.text(uint32(m.StateMask)))
	}
	if f&ctFlagProto != 0 {
		w.OptUint(m.inv(ctFlagProto), "ctproto", uint64(m.L4Proto))
	}
	addrs := []struct {
		flag       uint16
		name       string
		addr, mask *[16]byte
	}{
		{ctFlagOrigSrc, "ctorigsrc", &m.OrigSrcAddr, &m.OrigSrcMask},
		{ctFlagOrigDst, "ctorigdst", &m.OrigDstAddr, &m.OrigDstMask},
		{ctFlagReplSrc, "ctreplsrc", &m.ReplSrcAddr, &m.ReplSrcMask},
		{ctFlagReplDst, "ctrepldst", &m.ReplDstAddr, &m.ReplDstMask},
	}
	for _, a := range addrs {
		if f&a.flag != 0 {
			w.Opt(m.inv(a.flag), a.name, hostMaskText(*a.addr, *a.mask, m.fam))
		}
	}
	ports := []struct {
		flag   uint16
		name   string
		lo, hi uint16
	}{
		{ctFlagOrigSrcPort, "ctorigsrcport", m.OrigSrcPort, m.OrigSrcPortHigh},
		{ctFlagOrigDstPort, "ctorigdstport", m.OrigDstPort, m.OrigDstPortHigh},
		{ctFlagReplSrcPort, "ctreplsrcport", m.ReplSrcPort, m.ReplSrcPortHigh},
		{ctFlagReplDstPort, "ctrepldstport", m.ReplDstPort, m.ReplDstPortHigh},
	}
	for _, p := range ports {
		if f&p.flag == 0 {
			continue
		}
		// iptables prints a zero high port as a single port.
		if p.hi == 0 {
			w.OptUint(m.inv(p.flag), p.name, uint64(p.lo))
		} else {
			w.Opt(m.inv(p.flag), p.name, rangeText(uint64(p.lo), uint64(p.hi)))
		}
	}
	if f&ctFlagStatus != 0 {
		s := ctStatusNames.text(uint32(m.StatusMask))
		if m.StatusMask == 0 {
			s = "NONE"
		}
		w.Opt(m.inv(ctFlagStatus), "ctstatus", s)
	}
	if f&ctFlagExpires != 0 {
		w.Opt(m.inv(ctFlagExpires), "ctexpire", rangeText(uint64(m.ExpiresMin), uint64(m.ExpiresMax)))
	}
	if f&ctFlagDirection != 0 {
		dir := "ORIGINAL"
		if m.inv(ctFlagDirection) {
			dir = "REPLY"
		}
		w.Opt(false, "ctdir", dir)
	}
}

// struct xt_conntrack_mtinfo3: origsrc_addr@0 origsrc_mask@16
// origdst_addr@32 origdst_mask@48 replsrc_addr@64 replsrc_mask@80
// repldst_addr@96 repldst_mask@112 (nf_inet_addr, network order),
// expires_min@128 expires_max@132 (u32), l4proto@136, origsrc_port@138
// origdst_port@140 replsrc_port@142 repldst_port@144 (u16 host order),
// match_flags@146 invert_flags@148 state_mask@150 status_mask@152,
// origsrc_port_high@154 origdst_port_high@156 replsrc_port_high@158
// repldst_port_high@160 (u16 host order).
const conntrackSize = 164

// conntrackAddrs lists the address fields in payload order.
func (m *Conntrack) conntrackAddrs() []*[16]byte {
	return []*[16]byte{
		&m.OrigSrcAddr, &m.OrigSrcMask, &m.OrigDstAddr, &m.OrigDstMask,
		&m.ReplSrcAddr, &m.ReplSrcMask, &m.ReplDstAddr, &m.ReplDstMask,
	}
}

// conntrackU16s lists the u16 fields from l4proto on, in payload order.
func (m *Conntrack) conntrackU16s() []*uint16 {
	return []*uint16{
		&m.L4Proto, &m.OrigSrcPort, &m.OrigDstPort, &m.ReplSrcPort, &m.ReplDstPort,
		&m.MatchFlags, &m.InvertFlags, &m.StateMask, &m.StatusMask,
		&m.OrigSrcPortHigh, &m.OrigDstPortHigh, &m.ReplSrcPortHigh, &m.ReplDstPortHigh,
	}
}

// PutPayload writes revision 3, also for -m state (whose alias flag is
// part of MatchFlags).
func (m *Conntrack) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	for i, a := range m.conntrackAddrs() {
		w.Bytes(16*i, a[:])
	}
	w.U32(128, m.ExpiresMin)
	w.U32(132, m.ExpiresMax)
	for i, v := range m.conntrackU16s() {
		w.U16(136+2*i, *v)
	}
	return nil
}

// UnmarshalPayload reads revision 3; a payload with STATE_ALIAS becomes a
// value that prints as -m state.
func (m *Conntrack) UnmarshalPayload(f table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	for i, a := range m.conntrackAddrs() {
		r.Bytes(16*i, a[:])
	}
	m.ExpiresMin, m.ExpiresMax = r.U32(128), r.U32(132)
	for i, v := range m.conntrackU16s() {
		*v = r.U16(136 + 2*i)
	}
	m.fam = f
	return r.Err()
}

// Normal clears the IPv6 part of an IPv4 rule's addresses and masks,
// which xt_conntrack ignores.
func (m *Conntrack) Normal(f table.Family) table.Ext {
	if f != table.IPv4 {
		return m
	}
	c := *m
	for _, a := range c.conntrackAddrs() {
		clear(a[4:])
	}
	return &c
}
