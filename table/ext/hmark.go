package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// HMark is the IPv4 HMARK target; it mirrors struct xt_hmark_info. The
// IPv6 flavour, HMark6, has the same payload but reads and prints the
// prefixes over 128 bits instead of 32.
type HMark struct {
	SrcMask, DstMask [16]byte // union nf_inet_addr, network order
	// PortMask and PortSet are union hmark_ports in network order: the
	// source port in bytes 0-1 and the destination port in bytes 2-3,
	// or one 32-bit SPI over all four.
	PortMask, PortSet [4]byte
	Flags             uint32
	ProtoMask         uint16
	HashRnd           uint32
	HModulus          uint32
	HOffset           uint32
}

// HMark6 is the IPv6 HMARK target.
type HMark6 struct{ HMark }

// Bits of xt_hmark_info.flags (1 << XT_HMARK_*).
const (
	hmarkSaddrMask = 1 << iota
	hmarkDaddrMask
	hmarkSPI
	hmarkSPIMask
	hmarkSport
	hmarkDport
	hmarkSportMask
	hmarkDportMask
	hmarkProtoMask
	hmarkRnd
	hmarkModulus
	hmarkOffset
	hmarkCT
)

// hmarkPacketFields are the flags that pick packet fields for the hash;
// without any of them (or ct) there is nothing to hash.
const hmarkPacketFields = hmarkSaddrMask | hmarkDaddrMask | hmarkSPIMask | hmarkSportMask |
	hmarkDportMask | hmarkProtoMask | hmarkSport | hmarkDport | hmarkSPI

var hmarkOptions = opts("hmark-tuple=", "hmark-src-prefix=", "hmark-dst-prefix=", "hmark-sport-mask=",
	"hmark-dport-mask=", "hmark-spi-mask=", "hmark-sport=", "hmark-dport=", "hmark-spi=",
	"hmark-proto-mask=", "hmark-rnd=", "hmark-mod=", "hmark-offset=")

var hmarkTargetInfo = &table.ExtInfo{
	Name: "HMARK", Kind: table.TargetKind, Family: table.IPv4, Size: hmarkSize,
	Options: hmarkOptions,
	New:     func(table.Family) table.Ext { return &HMark{} },
}

var hmark6TargetInfo = &table.ExtInfo{
	Name: "HMARK", Kind: table.TargetKind, Family: table.IPv6, Size: hmarkSize,
	Options: hmarkOptions,
	New:     func(table.Family) table.Ext { return &HMark6{} },
}

func (t *HMark) Info() *table.ExtInfo  { return hmarkTargetInfo }
func (t *HMark6) Info() *table.ExtInfo { return hmark6TargetInfo }
func (t *HMark) Name() string          { return "HMARK" }

func (t *HMark) Parse(a *table.OptArgs) error  { return t.parse(a, table.IPv4) }
func (t *HMark6) Parse(a *table.OptArgs) error { return t.parse(a, table.IPv6) }

// hmarkTupleFields are the --hmark-tuple words in the order iptables tries
// them; a word may be abbreviated to any prefix, the first field it
// abbreviates wins ("s" is src, "sp" is sport).
var hmarkTupleFields = []struct {
	name string
	flag uint32
}{
	{"ct", hmarkCT}, {"src", hmarkSaddrMask}, {"dst", hmarkDaddrMask}, {"sport", hmarkSportMask},
	{"dport", hmarkDportMask}, {"proto", hmarkProtoMask}, {"spi", hmarkSPIMask},
}

// hmarkOptFlag maps the options that --hmark-tuple can also set to their
// flag: once set, by either, the option may not be given again.
var hmarkOptFlag = map[string]uint32{
	"hmark-src-prefix": hmarkSaddrMask, "hmark-dst-prefix": hmarkDaddrMask,
	"hmark-sport-mask": hmarkSportMask, "hmark-dport-mask": hmarkDportMask,
	"hmark-spi-mask": hmarkSPIMask, "hmark-proto-mask": hmarkProtoMask,
}

func (t *HMark) parse(a *table.OptArgs, fam table.Family) error {
	if f, ok := hmarkOptFlag[a.Key()]; ok && t.Flags&f != 0 {
		return fmt.Errorf("--%s was already set by --hmark-tuple", a.Key())
	}
	u16 := func() (uint16, error) { v, err := parseUint(a.Arg, 0, 0xffff); return uint16(v), err }
	u32 := func(min uint64) (uint32, error) { v, err := parseUint(a.Arg, min, 0xffffffff); return uint32(v), err }
	var err error
	switch a.Key() {
	case "hmark-tuple":
		return t.parseTuple(a.Arg)
	case "hmark-src-prefix":
		t.SrcMask, err = parseHMarkPrefix(a.Arg, fam)
		t.Flags |= hmarkSaddrMask
	case "hmark-dst-prefix":
		t.DstMask, err = parseHMarkPrefix(a.Arg, fam)
		t.Flags |= hmarkDaddrMask
	case "hmark-sport-mask", "hmark-dport-mask", "hmark-sport", "hmark-dport":
		var v uint16
		v, err = u16()
		dst, off, flag := &t.PortMask, 0, uint32(hmarkSportMask)
		switch a.Key() {
		case "hmark-dport-mask":
			off, flag = 2, hmarkDportMask
		case "hmark-sport":
			dst, flag = &t.PortSet, hmarkSport
		case "hmark-dport":
			dst, off, flag = &t.PortSet, 2, hmarkDport
		}
		dst[off], dst[off+1] = byte(v>>8), byte(v)
		t.Flags |= flag
	case "hmark-spi-mask", "hmark-spi":
		var v uint32
		v, err = u32(0)
		dst, flag := &t.PortMask, uint32(hmarkSPIMask)
		if a.Key() == "hmark-spi" {
			dst, flag = &t.PortSet, hmarkSPI
		}
		*dst = [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		t.Flags |= flag
	case "hmark-proto-mask":
		t.ProtoMask, err = u16()
		t.Flags |= hmarkProtoMask
	case "hmark-rnd":
		t.HashRnd, err = u32(0)
		t.Flags |= hmarkRnd
	case "hmark-mod":
		t.HModulus, err = u32(1)
		t.Flags |= hmarkModulus
	case "hmark-offset":
		t.HOffset, err = u32(0)
		t.Flags |= hmarkOffset
	default:
		return unknownOption(a)
	}
	return err
}

// parseTuple sets the masks of the listed fields to all ones.
func (t *HMark) parseTuple(s string) error {
	for _, w := range strings.Split(s, ",") {
		if w == "" {
			return table.WithHint("write a comma-separated list without blanks, e.g. src,dst,sport,dport,proto", "bad --hmark-tuple %q", s)
		}
		found := false
		for _, f := range hmarkTupleFields {
			if len(w) <= len(f.name) && strings.EqualFold(w, f.name[:len(w)]) {
				t.Flags |= f.flag
				switch f.flag {
				case hmarkSaddrMask:
					t.SrcMask = [16]byte{0: 0xff, 1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff, 8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}
				case hmarkDaddrMask:
					t.DstMask = [16]byte{0: 0xff, 1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff, 8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}
				case hmarkSportMask:
					t.PortMask[0], t.PortMask[1] = 0xff, 0xff
				case hmarkDportMask:
					t.PortMask[2], t.PortMask[3] = 0xff, 0xff
				case hmarkProtoMask:
					t.ProtoMask = 0xffff
				case hmarkSPIMask:
					t.PortMask = [4]byte{0xff, 0xff, 0xff, 0xff}
				}
				found = true
				break
			}
		}
		if !found {
			return table.WithHint("the fields are ct, src, dst, sport, dport, proto and spi", "bad --hmark-tuple field %q", w)
		}
	}
	return nil
}

// parseHMarkPrefix reads an XTTYPE_PLENMASK prefix (parsePlen).
func parseHMarkPrefix(s string, fam table.Family) ([16]byte, error) {
	n, err := parsePlen(s, fam)
	return plenMask(int(n)), err
}

func (t *HMark) Finish(c *table.FinishContext) error {
	switch {
	case t.Flags&hmarkModulus == 0:
		return fmt.Errorf("--hmark-mod is required")
	case t.Flags&hmarkRnd == 0:
		return fmt.Errorf("--hmark-rnd is required")
	case t.Flags&hmarkSPIMask != 0 && t.Flags&(hmarkSportMask|hmarkDportMask) != 0:
		return fmt.Errorf("an SPI mask cannot be used together with port masks")
	case t.Flags&hmarkSPI != 0 && t.Flags&(hmarkSport|hmarkDport) != 0:
		// Userspace lets it through; the kernel refuses it.
		return fmt.Errorf("--hmark-spi cannot be used together with --hmark-sport or --hmark-dport")
	case t.Flags&(hmarkPacketFields|hmarkCT) == 0:
		return table.WithHint("e.g. --hmark-tuple src,dst,sport,dport,proto", "HMARK has nothing to hash: give --hmark-tuple or a field mask")
	}
	return nil
}

func (t *HMark) Print(w *table.Writer)  { t.print(w, 4) }
func (t *HMark6) Print(w *table.Writer) { t.print(w, 16) }

// print writes the options; addrLen is how many bytes of the masks the
// family uses.
func (t *HMark) print(w *table.Writer, addrLen int) {
	if t.Flags&hmarkSaddrMask != 0 {
		w.Opt(false, "hmark-src-prefix", fmt.Sprint(table.MaskPrefixLen(t.SrcMask[:addrLen])))
	}
	if t.Flags&hmarkDaddrMask != 0 {
		w.Opt(false, "hmark-dst-prefix", fmt.Sprint(table.MaskPrefixLen(t.DstMask[:addrLen])))
	}
	be16 := func(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
	be32 := func(b [4]byte) uint32 { return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) }
	if t.Flags&hmarkSportMask != 0 {
		w.Opt(false, "hmark-sport-mask", fmt.Sprintf("0x%04x", be16(t.PortMask[0:2])))
	}
	if t.Flags&hmarkDportMask != 0 {
		w.Opt(false, "hmark-dport-mask", fmt.Sprintf("0x%04x", be16(t.PortMask[2:4])))
	}
	if t.Flags&hmarkSPIMask != 0 {
		w.Opt(false, "hmark-spi-mask", fmt.Sprintf("0x%08x", be32(t.PortMask)))
	}
	if t.Flags&hmarkSport != 0 {
		w.Opt(false, "hmark-sport", fmt.Sprintf("0x%04x", be16(t.PortSet[0:2])))
	}
	if t.Flags&hmarkDport != 0 {
		w.Opt(false, "hmark-dport", fmt.Sprintf("0x%04x", be16(t.PortSet[2:4])))
	}
	if t.Flags&hmarkSPI != 0 {
		w.Opt(false, "hmark-spi", fmt.Sprintf("0x%08x", be32(t.PortSet)))
	}
	if t.Flags&hmarkProtoMask != 0 {
		w.Opt(false, "hmark-proto-mask", fmt.Sprintf("0x%02x", t.ProtoMask))
	}
	if t.Flags&hmarkRnd != 0 {
		w.Opt(false, "hmark-rnd", fmt.Sprintf("0x%08x", t.HashRnd))
	}
	if t.Flags&hmarkModulus != 0 {
		w.OptUint(false, "hmark-mod", uint64(t.HModulus))
	}
	if t.Flags&hmarkOffset != 0 {
		w.OptUint(false, "hmark-offset", uint64(t.HOffset))
	}
	if t.Flags&hmarkCT != 0 {
		w.Opt(false, "hmark-tuple", "ct")
	}
}

// struct xt_hmark_info: src_mask[16]@0 dst_mask[16]@16 (network order),
// port_mask@32 port_set@36 (union hmark_ports, network order: source port
// in bytes 0-1, destination port in 2-3, or a 32-bit SPI), flags u32@40
// proto_mask u16@44, 2 bytes padding, hashrnd u32@48 hmodulus u32@52
// hoffset u32@56 (host order). HMARK and HMARK6 share it.
const hmarkSize = 60

func (t *HMark) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.Bytes(0, t.SrcMask[:])
	w.Bytes(16, t.DstMask[:])
	w.Bytes(32, t.PortMask[:])
	w.Bytes(36, t.PortSet[:])
	w.U32(40, t.Flags)
	w.U16(44, t.ProtoMask)
	w.U32(48, t.HashRnd)
	w.U32(52, t.HModulus)
	w.U32(56, t.HOffset)
	return nil
}

func (t *HMark) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	r.Bytes(0, t.SrcMask[:])
	r.Bytes(16, t.DstMask[:])
	r.Bytes(32, t.PortMask[:])
	r.Bytes(36, t.PortSet[:])
	t.Flags = r.U32(40)
	t.ProtoMask = r.U16(44)
	t.HashRnd, t.HModulus, t.HOffset = r.U32(48), r.U32(52), r.U32(56)
	return r.Err()
}

// Normal clears the IPv6 part of the masks, which the IPv4 HMARK ignores
// (--hmark-src-prefix 32 read back from the kernel has it all ones).
func (t *HMark) Normal(table.Family) table.Ext {
	c := *t
	clear(c.SrcMask[4:])
	clear(c.DstMask[4:])
	return &c
}

// Normal is the identity: the IPv6 HMARK uses the whole masks.
func (t *HMark6) Normal(table.Family) table.Ext { return t }
