package ext

import (
	"fmt"
	"strconv"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// SRH is the IPv6 segment routing header match, revision 1; it mirrors
// struct ip6t_srh1.
type SRH struct {
	NextHdr   uint8
	HdrLen    uint8
	SegsLeft  uint8
	LastEntry uint8
	Tag       uint16
	PSIDAddr  [16]byte
	NSIDAddr  [16]byte
	LSIDAddr  [16]byte
	PSIDMsk   [16]byte
	NSIDMsk   [16]byte
	LSIDMsk   [16]byte
	MtFlags   uint16
	// MtInvflags uses the same bits as MtFlags.
	MtInvflags uint16
}

// srhOpts lists the options in mt_flags bit order, which is also the
// order iptables prints them in.
var srhOpts = []struct {
	name  string
	field string // the struct field the option writes, for conflicts
}{
	{"srh-next-hdr", "next-hdr"},
	{"srh-hdr-len-eq", "hdr-len"},
	{"srh-hdr-len-gt", "hdr-len"},
	{"srh-hdr-len-lt", "hdr-len"},
	{"srh-segs-left-eq", "segs-left"},
	{"srh-segs-left-gt", "segs-left"},
	{"srh-segs-left-lt", "segs-left"},
	{"srh-last-entry-eq", "last-entry"},
	{"srh-last-entry-gt", "last-entry"},
	{"srh-last-entry-lt", "last-entry"},
	{"srh-tag", "tag"},
	{"srh-psid", "psid"},
	{"srh-nsid", "nsid"},
	{"srh-lsid", "lsid"},
}

var srhInfo = &table.ExtInfo{
	Name: "srh", Kind: table.MatchKind, Family: table.IPv6, Revision: 1, Size: srhSize,
	Options: opts("!srh-next-hdr=", "!srh-hdr-len-eq=", "!srh-hdr-len-gt=", "!srh-hdr-len-lt=",
		"!srh-segs-left-eq=", "!srh-segs-left-gt=", "!srh-segs-left-lt=",
		"!srh-last-entry-eq=", "!srh-last-entry-gt=", "!srh-last-entry-lt=",
		"!srh-tag=", "!srh-psid=", "!srh-nsid=", "!srh-lsid="),
	New: func(table.Family) table.Ext { return &SRH{} },
}

func (m *SRH) Info() *table.ExtInfo { return srhInfo }
func (m *SRH) Name() string         { return "srh" }

func (m *SRH) Parse(a *table.OptArgs) error {
	idx := -1
	for i, o := range srhOpts {
		if o.name == a.Key() {
			idx = i
		}
	}
	if idx < 0 {
		return unknownOption(a)
	}
	bit := uint16(1) << idx
	var err error
	switch f := srhOpts[idx].field; f {
	case "next-hdr":
		m.NextHdr, err = m.setByte(idx, m.NextHdr, a.Arg)
	case "hdr-len":
		m.HdrLen, err = m.setByte(idx, m.HdrLen, a.Arg)
	case "segs-left":
		m.SegsLeft, err = m.setByte(idx, m.SegsLeft, a.Arg)
	case "last-entry":
		m.LastEntry, err = m.setByte(idx, m.LastEntry, a.Arg)
	case "tag":
		var v uint64
		v, err = parseUint(a.Arg, 0, 0xffff)
		m.Tag = uint16(v)
	default:
		h, e := parseHostMask(a.Arg, table.IPv6, a.Names)
		if e != nil {
			return e
		}
		a16, m16 := h.Addr, h.Mask
		switch f {
		case "psid":
			m.PSIDAddr, m.PSIDMsk = a16, m16
		case "nsid":
			m.NSIDAddr, m.NSIDMsk = a16, m16
		default:
			m.LSIDAddr, m.LSIDMsk = a16, m16
		}
	}
	if err != nil {
		return err
	}
	m.MtFlags |= bit
	if a.Invert {
		m.MtInvflags |= bit
	}
	return nil
}

// setByte parses a u8 value for option idx. The -eq/-gt/-lt variants of a
// field share one byte in the kernel, so iptables lets the last one
// overwrite the others ("--srh-hdr-len-gt 2 --srh-hdr-len-lt 10" becomes
// gt 10 and lt 10, which never matches); fw refuses different values.
func (m *SRH) setByte(idx int, cur uint8, arg string) (uint8, error) {
	v, err := parseUint(arg, 0, 255)
	if err != nil {
		return 0, err
	}
	for i, o := range srhOpts {
		if i != idx && o.field == srhOpts[idx].field && m.MtFlags&(1<<i) != 0 && uint64(cur) != v {
			return 0, table.WithHint("the kernel keeps one value per field; use the same value or only one of them",
				"--%s %d conflicts with --%s %d", srhOpts[idx].name, v, o.name, cur)
		}
	}
	return uint8(v), nil
}

func (m *SRH) Finish(*table.FinishContext) error { return nil }

func (m *SRH) Print(w *table.Writer) {
	for i, o := range srhOpts {
		bit := uint16(1) << i
		if m.MtFlags&bit == 0 {
			continue
		}
		inv := m.MtInvflags&bit != 0
		var v string
		switch o.field {
		case "next-hdr":
			v = strconv.Itoa(int(m.NextHdr))
		case "hdr-len":
			v = strconv.Itoa(int(m.HdrLen))
		case "segs-left":
			v = strconv.Itoa(int(m.SegsLeft))
		case "last-entry":
			v = strconv.Itoa(int(m.LastEntry))
		case "tag":
			v = strconv.Itoa(int(m.Tag))
		case "psid":
			v = srhSID(m.PSIDAddr, m.PSIDMsk)
		case "nsid":
			v = srhSID(m.NSIDAddr, m.NSIDMsk)
		case "lsid":
			v = srhSID(m.LSIDAddr, m.LSIDMsk)
		}
		w.Opt(inv, o.name, v)
	}
}

// srhSID prints a SID as iptables does: the address as given and always
// a prefix length.
func srhSID(addr, mask [16]byte) string {
	return fmt.Sprintf("%s/%d", addr16Text(addr, table.IPv6), maskLen(mask, table.IPv6))
}

// struct ip6t_srh1: next_hdr u8@0 hdr_len u8@1 segs_left u8@2 last_entry
// u8@3 tag u16@4 psid_addr@8 nsid_addr@24 lsid_addr@40 psid_msk@56
// nsid_msk@72 lsid_msk@88 (in6_addr each) mt_flags u16@104
// mt_invflags u16@106.
const srhSize = 108

func (m *SRH) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U8(0, m.NextHdr)
	w.U8(1, m.HdrLen)
	w.U8(2, m.SegsLeft)
	w.U8(3, m.LastEntry)
	w.U16(4, m.Tag)
	for i, a := range [][16]byte{m.PSIDAddr, m.NSIDAddr, m.LSIDAddr, m.PSIDMsk, m.NSIDMsk, m.LSIDMsk} {
		w.Bytes(8+16*i, a[:])
	}
	w.U16(104, m.MtFlags)
	w.U16(106, m.MtInvflags)
	return nil
}

func (m *SRH) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.NextHdr, m.HdrLen, m.SegsLeft, m.LastEntry = r.U8(0), r.U8(1), r.U8(2), r.U8(3)
	m.Tag = r.U16(4)
	for i, a := range []*[16]byte{&m.PSIDAddr, &m.NSIDAddr, &m.LSIDAddr, &m.PSIDMsk, &m.NSIDMsk, &m.LSIDMsk} {
		r.Bytes(8+16*i, a[:])
	}
	m.MtFlags, m.MtInvflags = r.U16(104), r.U16(106)
	return r.Err()
}
