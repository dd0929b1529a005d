package ext

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/fwkit/fw/table"
)

// Connlimit is the connlimit match; it mirrors struct xt_connlimit_info
// (the kernel's private data pointer that follows it is not part of the
// value). The mask is the v4/v6 union; iptables starts from all ones, which
// is also the right default for IPv4.
type Connlimit struct {
	Mask  [16]byte
	Limit uint32
	Flags uint32

	fam table.Family // not in the payload; decides how the mask prints
}

// xt_connlimit flags.
const (
	connlimitInvert = 1 << 0 // --connlimit-upto
	connlimitDaddr  = 1 << 1
)

var connlimitInfo = &table.ExtInfo{
	Name: "connlimit", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 1, Size: connlimitSize,
	Options: opts("!connlimit-upto=", "!connlimit-above=", "connlimit-mask=", "connlimit-saddr", "connlimit-daddr"),
	New: func(f table.Family) table.Ext {
		m := &Connlimit{fam: f}
		for i := range m.Mask {
			m.Mask[i] = 0xff
		}
		return m
	},
}

func (m *Connlimit) Info() *table.ExtInfo { return connlimitInfo }
func (m *Connlimit) Name() string         { return "connlimit" }

func (m *Connlimit) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "connlimit-upto", "connlimit-above":
		v, err := parseUint(a.Arg, 0, 0xffffffff)
		if err != nil {
			return err
		}
		m.Limit = uint32(v)
		// "! --connlimit-upto" is --connlimit-above and the reverse.
		if (a.Key() == "connlimit-upto") != a.Invert {
			m.Flags |= connlimitInvert
		}
	case "connlimit-mask":
		n, err := parsePlen(a.Arg, a.Family)
		if err != nil {
			return err
		}
		m.Mask = plenMask(int(n))
	case "connlimit-saddr":
		m.Flags &^= connlimitDaddr
	case "connlimit-daddr":
		m.Flags |= connlimitDaddr
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *Connlimit) Finish(c *table.FinishContext) error {
	if c.Seen.Has("connlimit-upto") && c.Seen.Has("connlimit-above") {
		return fmt.Errorf("--connlimit-upto and --connlimit-above cannot be used together")
	}
	if c.Seen.Has("connlimit-saddr") && c.Seen.Has("connlimit-daddr") {
		return fmt.Errorf("--connlimit-saddr and --connlimit-daddr cannot be used together")
	}
	if !c.Seen.Has("connlimit-upto") && !c.Seen.Has("connlimit-above") {
		return table.WithHint("e.g. --connlimit-above 10", "--connlimit-above or --connlimit-upto is required")
	}
	return nil
}

// prefixLen counts the mask as iptables does: the length minus the bits
// after the highest zero of each 32-bit word. For a contiguous mask that is
// its prefix length.
func (m *Connlimit) prefixLen() int {
	words, total := 1, 32
	if m.fam == table.IPv6 {
		words, total = 4, 128
	}
	for i := 0; i < words; i++ {
		total -= bits.Len32(^binary.BigEndian.Uint32(m.Mask[4*i:]))
	}
	return total
}

func (m *Connlimit) Print(w *table.Writer) {
	if m.Flags&connlimitInvert != 0 {
		w.OptUint(false, "connlimit-upto", uint64(m.Limit))
	} else {
		w.OptUint(false, "connlimit-above", uint64(m.Limit))
	}
	w.OptUint(false, "connlimit-mask", uint64(m.prefixLen()))
	if m.Flags&connlimitDaddr != 0 {
		w.Flag(false, "connlimit-daddr")
	} else {
		w.Flag(false, "connlimit-saddr")
	}
}

// struct xt_connlimit_info: mask@0 (nf_inet_addr, network order; IPv4 in
// the first word, the other twelve bytes as userspace left them), limit@16
// flags@20 (u32), data@24 (kernel pointer, written as zero).
const connlimitSize = 32

func (m *Connlimit) layout() []field {
	return []field{{0, &m.Mask}, {16, &m.Limit}, {20, &m.Flags}}
}

func (m *Connlimit) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, m.layout()...)
}

func (m *Connlimit) UnmarshalPayload(f table.Family, data []byte) error {
	m.fam = f
	return getFields(data, m.layout()...)
}

// Normal clears the IPv6 part of an IPv4 rule's mask, which xt_connlimit
// ignores.
func (m *Connlimit) Normal(f table.Family) table.Ext {
	if f != table.IPv4 {
		return m
	}
	c := *m
	clear(c.Mask[4:])
	return &c
}
