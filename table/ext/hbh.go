package ext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// ip6Opts mirrors struct ip6t_opts, the payload of both the hbh and the
// dst match (one kernel module serves the two headers).
type ip6Opts struct {
	HdrLen   uint32
	Flags    uint8
	Invflags uint8
	// Opts holds type<<8 | length; length 0xff means "any length".
	Opts   [ip6OptsMax]uint16
	OptsNr uint8
}

const (
	ip6OptsMax = 16 // IP6T_OPTS_OPTSNR

	ip6OptsLen    = 0x01
	ip6OptsOpts   = 0x02
	ip6OptsInvLen = 0x01
)

func (m *ip6Opts) parse(prefix string, a *table.OptArgs) error {
	switch a.Key() {
	case prefix + "-len":
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		m.HdrLen = uint32(v)
		m.Flags |= ip6OptsLen
		m.Invflags |= invBit(a.Invert, ip6OptsInvLen)
	case prefix + "-opts":
		return m.parseOpts(a.Arg)
	default:
		return unknownOption(a)
	}
	return nil
}

// parseOpts reads "TYPE[:LEN],...". iptables stores only the low byte of
// each number, so it turns 256 into 0 and -1 into 255; fw refuses what
// does not fit instead of matching a different option than the one
// written.
func (m *ip6Opts) parseOpts(s string) error {
	items := strings.Split(s, ",")
	if len(items) > ip6OptsMax {
		return fmt.Errorf("too many options in %q (at most %d)", s, ip6OptsMax)
	}
	for i, it := range items {
		typ, length, hasLen := strings.Cut(it, ":")
		// iptables has no room for a length in the last slot (a quirk of
		// its parser, kept because the reference refuses it).
		if hasLen && i == ip6OptsMax-1 {
			return fmt.Errorf("option %q: the %dth option cannot have a length", it, ip6OptsMax)
		}
		t, err := parseUint(typ, 0, 255)
		if err != nil {
			return fmt.Errorf("option type: %w", err)
		}
		v := uint16(t) << 8
		if hasLen {
			if t == 0 {
				return table.WithHint("option type 0 is Pad1, which has no length field", "option %q: type 0 cannot have a length", it)
			}
			l, err := parseUint(length, 0, 255)
			if err != nil {
				return fmt.Errorf("option length: %w", err)
			}
			v |= uint16(l)
		} else {
			v |= 0xff
		}
		m.Opts[i] = v
	}
	m.OptsNr = uint8(len(items))
	m.Flags |= ip6OptsOpts
	return nil
}

func (m *ip6Opts) print(prefix string, w *table.Writer) {
	if m.Flags&ip6OptsLen != 0 {
		w.OptUint(m.Invflags&ip6OptsInvLen != 0, prefix+"-len", uint64(m.HdrLen))
	}
	if m.Flags&ip6OptsOpts != 0 {
		w.Flag(false, prefix+"-opts")
	}
	for i := 0; i < int(m.OptsNr) && i < ip6OptsMax; i++ {
		if i == 0 {
			w.Raw(" ")
		} else {
			w.Raw(",")
		}
		o := m.Opts[i]
		w.Raw(strconv.Itoa(int(o >> 8)))
		if o&0xff != 0xff {
			w.Raw(":" + strconv.Itoa(int(o&0xff)))
		}
	}
}

// HBH is the IPv6 hop-by-hop options header match; it mirrors struct
// ip6t_opts.
type HBH struct{ ip6Opts }

var hbhInfo = &table.ExtInfo{
	Name: "hbh", Kind: table.MatchKind, Family: table.IPv6, Size: ip6OptsSize,
	Options: opts("!hbh-len=", "hbh-opts="),
	New:     func(table.Family) table.Ext { return &HBH{} },
}

func (m *HBH) Info() *table.ExtInfo              { return hbhInfo }
func (m *HBH) Name() string                      { return "hbh" }
func (m *HBH) Parse(a *table.OptArgs) error      { return m.parse("hbh", a) }
func (m *HBH) Finish(*table.FinishContext) error { return nil }
func (m *HBH) Print(w *table.Writer)             { m.print("hbh", w) }

// struct ip6t_opts: hdrlen u32@0 flags u8@4 invflags u8@5 opts[16] u16@6
// optsnr u8@38.
const ip6OptsSize = 40

// put writes the struct into dst (zeroed, XT_ALIGN(ip6OptsSize) bytes).
func (m *ip6Opts) put(dst []byte) {
	w := xtbin.Writer{B: dst}
	w.U32(0, m.HdrLen)
	w.U8(4, m.Flags)
	w.U8(5, m.Invflags)
	for i, o := range m.Opts {
		w.U16(6+2*i, o)
	}
	w.U8(38, m.OptsNr)
}

func (m *ip6Opts) unmarshal(data []byte) error {
	r := xtbin.NewReader(data)
	m.HdrLen = r.U32(0)
	m.Flags, m.Invflags = r.U8(4), r.U8(5)
	for i := range m.Opts {
		m.Opts[i] = r.U16(6 + 2*i)
	}
	m.OptsNr = r.U8(38)
	return r.Err()
}

func (m *HBH) PutPayload(_ table.Family, dst []byte) error {
	m.put(dst)
	return nil
}
func (m *HBH) UnmarshalPayload(_ table.Family, data []byte) error {
	return m.unmarshal(data)
}
