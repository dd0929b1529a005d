package ext

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/fwkit/fw/table"
)

// IPRange is the iprange match, revision 1; it mirrors struct
// xt_iprange_mtinfo: four 16-byte nf_inet_addr (an IPv4 address in the
// first four bytes) and the flags.
type IPRange struct {
	SrcMin, SrcMax [16]byte
	DstMin, DstMax [16]byte
	Flags          uint8
	// fam is not in the payload: like iptables, fw knows from the table
	// whether the addresses are IPv4 or IPv6.
	fam table.Family
}

// xt_iprange flags.
const (
	iprangeSrc    = 0x01
	iprangeDst    = 0x02
	iprangeSrcInv = 0x10
	iprangeDstInv = 0x20
)

var iprangeInfo = &table.ExtInfo{
	Name: "iprange", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: iprangeSize,
	Options: opts("!src-range=", "!dst-range="),
	New:     func(f table.Family) table.Ext { return &IPRange{fam: f} },
}

func (m *IPRange) Info() *table.ExtInfo { return iprangeInfo }
func (m *IPRange) Name() string         { return "iprange" }

func (m *IPRange) Parse(a *table.OptArgs) error {
	lo, hi, err := parseIPRange(a.Arg, a.Family)
	if err != nil {
		return err
	}
	switch a.Key() {
	case "src-range":
		m.SrcMin, m.SrcMax = lo, hi
		m.Flags |= iprangeSrc | invBit(a.Invert, iprangeSrcInv)
	case "dst-range":
		m.DstMin, m.DstMax = lo, hi
		m.Flags |= iprangeDst | invBit(a.Invert, iprangeDstInv)
	default:
		return unknownOption(a)
	}
	return nil
}

// parseIPRange parses "addr[-addr]"; a single address is the range of
// itself. Only numeric addresses count, as in iptables. A reversed range is
// accepted by iptables with a warning but never matches anything, so fw
// refuses it.
func parseIPRange(s string, f table.Family) (lo, hi [16]byte, err error) {
	from, to, isRange := strings.Cut(s, "-")
	if !isRange {
		to = from
	}
	for i, part := range []string{from, to} {
		b, err := parseAddr16(part, f, viaXtablesNumeric, nil)
		if err != nil {
			return lo, hi, fmt.Errorf("in range %q: %w", s, err)
		}
		if i == 0 {
			lo = b
		} else {
			hi = b
		}
	}
	if bytes.Compare(lo[:], hi[:]) > 0 {
		return lo, hi, table.WithHint("write the lower address first", "range %q is reversed and would never match", s)
	}
	return lo, hi, nil
}

func (m *IPRange) Finish(c *table.FinishContext) error {
	if m.Flags&(iprangeSrc|iprangeDst) == 0 {
		return fmt.Errorf("--src-range or --dst-range is required")
	}
	return nil
}

func (m *IPRange) Print(w *table.Writer) {
	if m.Flags&iprangeSrc != 0 {
		w.Opt(m.Flags&iprangeSrcInv != 0, "src-range", m.rangeText(m.SrcMin, m.SrcMax))
	}
	if m.Flags&iprangeDst != 0 {
		w.Opt(m.Flags&iprangeDstInv != 0, "dst-range", m.rangeText(m.DstMin, m.DstMax))
	}
}

// rangeText prints both ends; an IPv4 range uses the first four bytes.
func (m *IPRange) rangeText(lo, hi [16]byte) string {
	return addr16Text(lo, m.fam) + "-" + addr16Text(hi, m.fam)
}

// struct xt_iprange_mtinfo: src_min@0 src_max@16 dst_min@32 dst_max@48
// (union nf_inet_addr, network order; an IPv4 address in the first four
// bytes, the rest zero), flags u8@64, 3 bytes of padding.
const iprangeSize = 68

func (m *IPRange) layout() []field {
	return []field{{0, &m.SrcMin}, {16, &m.SrcMax}, {32, &m.DstMin}, {48, &m.DstMax}, {64, &m.Flags}}
}

func (m *IPRange) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *IPRange) UnmarshalPayload(f table.Family, data []byte) error {
	m.fam = f
	return getFields(data, m.layout()...)
}
