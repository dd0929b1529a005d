package ipset

import (
	"io"
	"strconv"
)

// The printer writes what ipset's save writes for the same sets, byte
// for byte, with one exception: ipset never writes forceadd (libipset
// does not map the kernel's IPSET_FLAG_WITH_FORCEADD back to the
// option), so a set saved by ipset loses it on restore. fw writes it,
// where ipset's create order has it.

// Print writes sets in ipset's save format.
func Print(w io.Writer, sets []*Set) error {
	var b []byte
	for _, s := range sets {
		b = AppendSet(b[:0], s)
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// AppendSet appends the create line and the add lines of s.
func AppendSet(b []byte, s *Set) []byte {
	b = AppendCreate(b, s)
	for i := range s.Members {
		b = AppendAdd(b, s, &s.Members[i])
	}
	return b
}

// AppendCreate appends s's create line.
func AppendCreate(b []byte, s *Set) []byte {
	b = append(b, "create "...)
	b = append(b, s.Name...)
	b = append(b, ' ')
	b = append(b, s.Type.Name...)
	for _, opt := range s.Type.Opts {
		b = appendOpt(b, s, opt)
	}
	return append(b, '\n')
}

// appendOpt appends " option [value]" for create option opt of s, or
// nothing when the option is off or not printed.
func appendOpt(b []byte, s *Set, opt Opt) []byte {
	o := &s.Opts
	num := func(v uint64) []byte {
		b = append(b, ' ')
		b = append(b, opt.String()...)
		b = append(b, ' ')
		return strconv.AppendUint(b, v, 10)
	}
	word := func(on bool) []byte {
		if on {
			b = append(b, ' ')
			b = append(b, opt.String()...)
		}
		return b
	}
	switch opt {
	case OptFamily:
		b = word(true)
		b = append(b, ' ')
		return append(b, s.Family.String()...)
	case OptHashSize:
		return num(uint64(o.HashSize))
	case OptMaxElem:
		return num(uint64(o.MaxElem))
	case OptNetMask:
		if o.NetMask != 0 {
			return num(uint64(o.NetMask))
		}
	case OptBitMask:
		if o.HasBitMask {
			b = append(word(true), ' ')
			return AppendAddr(b, s.Family, o.BitMask)
		}
	case OptMarkMask:
		b = append(word(true), ' ')
		return appendHex32(b, o.MarkMask)
	case OptRange:
		b = append(word(true), ' ')
		if s.Type.Name == "bitmap:port" {
			b = strconv.AppendUint(b, uint64(o.RangeFrom), 10)
			b = append(b, '-')
			return strconv.AppendUint(b, uint64(o.RangeTo), 10)
		}
		b = AppendAddr(b, FamilyInet, AddrV4(o.RangeFrom))
		b = append(b, '-')
		return AppendAddr(b, FamilyInet, AddrV4(o.RangeTo))
	case OptSize:
		return num(uint64(o.Size))
	case OptTimeout:
		if o.HasTimeout {
			return num(uint64(o.Timeout))
		}
	case OptCounters:
		return word(o.Counters)
	case OptComment:
		return word(o.Comment)
	case OptForceAdd:
		return word(o.ForceAdd)
	case OptSkbInfo:
		return word(o.SkbInfo)
	case OptBucketSize:
		if o.BucketSize != 0 {
			return num(uint64(o.BucketSize))
		}
	case OptInitVal:
		if o.HasInitVal {
			b = append(word(true), ' ')
			return appendHex32(b, o.InitVal)
		}
	}
	return b
}

// appendHex32 writes v as "0x%08x".
func appendHex32(b []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	b = append(b, '0', 'x')
	for i := 28; i >= 0; i -= 4 {
		b = append(b, digits[v>>uint(i)&0xf])
	}
	return b
}

// AppendAdd appends the add line of member e of s.
func AppendAdd(b []byte, s *Set, e *Entry) []byte {
	b = append(b, "add "...)
	b = append(b, s.Name...)
	b = append(b, ' ')
	b = AppendElem(b, s, &e.Elem)
	o := &s.Opts
	for _, f := range s.Type.Flags {
		switch f {
		case FlagTimeout:
			if o.HasTimeout {
				b = append(b, " timeout "...)
				b = strconv.AppendUint(b, uint64(e.Timeout), 10)
			}
		case FlagNomatch:
			if e.Nomatch {
				b = append(b, " nomatch"...)
			}
		case FlagWildcard:
			if e.Wildcard {
				b = append(b, " wildcard"...)
			}
		case FlagPackets:
			if o.Counters {
				b = append(b, " packets "...)
				b = strconv.AppendUint(b, e.Packets, 10)
			}
		case FlagBytes:
			if o.Counters {
				b = append(b, " bytes "...)
				b = strconv.AppendUint(b, e.Bytes, 10)
			}
		case FlagComment:
			if e.Comment != "" {
				b = append(b, " comment \""...)
				b = append(b, e.Comment...)
				b = append(b, '"')
			}
		case FlagSkbMark:
			if e.SkbMark != 0 || e.SkbMask != 0 {
				b = append(b, " skbmark 0x"...)
				b = strconv.AppendUint(b, uint64(e.SkbMark), 16)
				if e.SkbMask != 0xffffffff {
					b = append(b, "/0x"...)
					b = strconv.AppendUint(b, uint64(e.SkbMask), 16)
				}
			}
		case FlagSkbPrio:
			if e.SkbPrio != 0 {
				b = append(b, " skbprio "...)
				b = strconv.AppendUint(b, uint64(e.SkbPrio>>16), 16)
				b = append(b, ':')
				b = strconv.AppendUint(b, uint64(e.SkbPrio&0xffff), 16)
			}
		case FlagSkbQueue:
			if e.SkbQueue != 0 {
				b = append(b, " skbqueue "...)
				b = strconv.AppendUint(b, uint64(e.SkbQueue), 10)
			}
		}
	}
	return append(b, '\n')
}

// AppendElem appends element e of set s as ipset writes it.
func AppendElem(b []byte, s *Set, e *Elem) []byte {
	f := s.Family
	t := s.Type
	for i, d := range t.Dims {
		if i == len(t.Dims)-1 && t.OptionalLast && !e.HasMAC {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		switch d {
		case DimIP:
			b = AppendAddr(b, f, e.IP)
		case DimIP2:
			b = AppendAddr(b, f, e.IP2)
		case DimNet:
			b = appendNet(b, f, e.IP, e.CIDR)
		case DimNet2:
			b = appendNet(b, f, e.IP2, e.CIDR2)
		case DimPort:
			b = appendPort(b, t, e)
		case DimMAC:
			const hex = "0123456789ABCDEF"
			for j, x := range e.MAC {
				if j > 0 {
					b = append(b, ':')
				}
				b = append(b, hex[x>>4], hex[x&15])
			}
		case DimMark:
			b = appendHex32(b, e.Mark)
		case DimIface:
			if e.Physdev {
				b = append(b, "physdev:"...)
			}
			b = append(b, e.Iface...)
		case DimName:
			b = append(b, e.Name...)
		}
	}
	return b
}

func appendNet(b []byte, f Family, a Addr, cidr uint8) []byte {
	b = AppendAddr(b, f, a)
	if cidr != f.hostBits() {
		b = append(b, '/')
		b = strconv.AppendUint(b, uint64(cidr), 10)
	}
	return b
}

func appendPort(b []byte, t *Type, e *Elem) []byte {
	if t.Kind == Bitmap {
		return strconv.AppendUint(b, uint64(e.Port), 10)
	}
	b = append(b, protoName(e.Proto)...)
	b = append(b, ':')
	switch e.Proto {
	case protoICMP, protoICMPv6:
		typ, code := uint8(e.Port>>8), uint8(e.Port)
		if n := icmpTypeName(e.Proto == protoICMPv6, typ, code); n != "" {
			return append(b, n...)
		}
		b = strconv.AppendUint(b, uint64(typ), 10)
		b = append(b, '/')
		return strconv.AppendUint(b, uint64(code), 10)
	}
	return strconv.AppendUint(b, uint64(e.Port), 10)
}

// formatElem is AppendElem to a string.
func formatElem(s *Set, e *Elem) string { return string(AppendElem(nil, s, e)) }
