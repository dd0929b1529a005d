package wire

import (
	"fmt"

	"github.com/fwkit/fw/ipset"
)

// Requests. Every request carries the protocol version, and every one
// but the dump goes with NLM_F_EXCL, as ipset sends them without -exist:
// without it the kernel keeps a set or element that exists instead of
// refusing it, and takes the destroy of a set that does not exist.

func (b *Builder) begin(cmd uint8, flags uint16, seq uint32) int {
	start := b.Begin(cmd, FlagRequest|flags, seq)
	b.U8(AttrProtocol, Protocol)
	return start
}

// ProtocolRequest asks for the kernel's protocol versions.
func (b *Builder) ProtocolRequest(seq uint32) {
	m := b.begin(CmdProtocol, FlagAck|FlagExcl, seq)
	b.End(m)
}

// TypeRequest asks which revisions of type name for family f the kernel
// has.
func (b *Builder) TypeRequest(seq uint32, name string, f ipset.Family) {
	m := b.begin(CmdType, FlagAck|FlagExcl, seq)
	b.Str(AttrTypeName, name)
	b.U8(AttrFamily, uint8(f))
	b.End(m)
}

// ListRequest dumps the sets (IPSET_CMD_SAVE): one set when name is
// given, else all; flags may ask for names only or headers only. A dump
// ends with NLMSG_DONE, which carries its error; it is not acknowledged.
func (b *Builder) ListRequest(seq uint32, name string, flags uint32) {
	m := b.begin(CmdSave, FlagDump, seq)
	if name != "" {
		b.Str(AttrSetName, name)
	}
	if flags != 0 {
		b.U32(AttrFlags, flags)
	}
	b.End(m)
}

// NameRequest appends a DESTROY or FLUSH of one set (cmd CmdDestroy or
// CmdFlush).
func (b *Builder) NameRequest(seq uint32, cmd uint8, name string) {
	m := b.begin(cmd, FlagAck|FlagExcl, seq)
	b.Str(AttrSetName, name)
	b.End(m)
}

// PairRequest appends a RENAME (name to name2) or a SWAP of two sets.
func (b *Builder) PairRequest(seq uint32, cmd uint8, name, name2 string) {
	m := b.begin(cmd, FlagAck|FlagExcl, seq)
	b.Str(AttrSetName, name)
	b.Str(AttrSetName2, name2)
	b.End(m)
}

// CreateRequest appends the CREATE of set s under name, with type
// revision rev.
func (b *Builder) CreateRequest(seq uint32, name string, s *ipset.Set, rev uint8) {
	m := b.begin(CmdCreate, FlagAck|FlagExcl, seq)
	b.Str(AttrSetName, name)
	b.Str(AttrTypeName, s.Type.Name)
	b.U8(AttrRevision, rev)
	b.U8(AttrFamily, uint8(s.Family))
	d := b.Nest(AttrData)
	b.createData(s)
	b.EndNest(d)
	b.End(m)
}

// createData writes the create options of s, as ipset sends them and
// the kernel lists them (its type's head function).
func (b *Builder) createData(s *ipset.Set) {
	o := &s.Opts
	t := s.Type
	switch t.Kind {
	case ipset.Hash:
		b.U32(AttrHashSize, o.HashSize)
		b.U32(AttrMaxElem, o.MaxElem)
		if o.HasBitMask {
			b.addr(AttrBitMask, s.Family, o.BitMask)
		}
		if o.NetMask != 0 {
			b.U8(AttrNetMask, o.NetMask)
		}
		if t.Has(ipset.OptMarkMask) {
			b.U32(AttrMarkMask, o.MarkMask)
		}
		if o.BucketSize != 0 {
			b.U8(AttrBucketSize, o.BucketSize)
		}
		if o.HasInitVal {
			b.U32(AttrInitVal, o.InitVal)
		}
	case ipset.Bitmap:
		if t.Name == "bitmap:port" {
			b.U16(AttrPort, uint16(o.RangeFrom))
			b.U16(AttrPortTo, uint16(o.RangeTo))
		} else {
			b.addr(AttrIP, ipset.FamilyInet, ipset.AddrV4(o.RangeFrom))
			b.addr(AttrIPTo, ipset.FamilyInet, ipset.AddrV4(o.RangeTo))
			if o.NetMask != 0 {
				b.U8(AttrNetMask, o.NetMask)
			}
		}
	case ipset.List:
		b.U32(AttrSize, o.Size)
	}
	if o.HasTimeout {
		b.U32(AttrTimeout, o.Timeout)
	}
	var flags uint32
	if o.Counters {
		flags |= CADTWithCounters
	}
	if o.Comment {
		flags |= CADTWithComment
	}
	if o.ForceAdd {
		flags |= CADTWithForceAdd
	}
	if o.SkbInfo {
		flags |= CADTWithSkbInfo
	}
	if flags != 0 {
		b.U32(AttrCADTFlags, flags)
	}
}

// addr writes an address attribute (AttrIP, AttrIP2, AttrIPTo,
// AttrBitMask) of family f.
func (b *Builder) addr(typ uint16, f ipset.Family, a ipset.Addr) {
	n := b.Nest(typ)
	if f == ipset.FamilyInet6 {
		b.attr(AttrIPAddrIPv6|nlaFNetByteorder, a[:])
	} else {
		b.attr(AttrIPAddrIPv4|nlaFNetByteorder, a[:4])
	}
	b.EndNest(n)
}

// AddRequest appends one ADD to set name of the members of s from index
// from on, as many as fit before the message reaches limit bytes (at
// least one), and returns the index after the last one it holds. Each
// element carries its index plus one as its line number, which the
// kernel returns when it refuses the element.
func (b *Builder) AddRequest(seq uint32, name string, s *ipset.Set, from, limit int) int {
	start := len(b.B)
	m := b.begin(CmdAdd, FlagAck|FlagExcl, seq)
	b.Str(AttrSetName, name)
	b.U32(AttrLineNo, 0)
	adt := b.Nest(AttrADT)
	i := from
	for i < len(s.Members) && (i == from || len(b.B)-start < limit) {
		d := b.Nest(AttrData)
		b.elem(s, &s.Members[i])
		b.U32(AttrCADTLineNo, uint32(i+1))
		b.EndNest(d)
		i++
	}
	b.EndNest(adt)
	b.End(m)
	return i
}

// elem writes member e of s: its parts as the type's uadt function
// reads them, its flags and its extensions.
func (b *Builder) elem(s *ipset.Set, e *ipset.Entry) {
	f := s.Family
	var cadt uint32
	for _, d := range s.Type.Dims {
		switch d {
		case ipset.DimIP:
			b.addr(AttrIP, f, e.IP)
		case ipset.DimNet:
			b.addr(AttrIP, f, e.IP)
			b.U8(AttrCIDR, e.CIDR)
		case ipset.DimIP2:
			b.addr(AttrIP2, f, e.IP2)
		case ipset.DimNet2:
			b.addr(AttrIP2, f, e.IP2)
			b.U8(AttrCIDR2, e.CIDR2)
		case ipset.DimPort:
			b.U16(AttrPort, e.Port)
			if s.Type.Kind != ipset.Bitmap {
				b.U8(AttrProto, e.Proto)
			}
		case ipset.DimMAC:
			if e.HasMAC || !s.Type.OptionalLast {
				b.Bytes(AttrEther, e.MAC[:])
			}
		case ipset.DimMark:
			b.U32(AttrMark, e.Mark)
		case ipset.DimIface:
			b.Str(AttrIface, e.Iface)
			if e.Physdev {
				cadt |= CADTPhysdev
			}
			if e.Wildcard {
				cadt |= CADTIfaceWildcard
			}
		case ipset.DimName:
			b.Str(AttrName, e.Name)
		}
	}
	if e.Nomatch {
		cadt |= CADTNomatch
	}
	if cadt != 0 {
		b.U32(AttrCADTFlags, cadt)
	}
	o := &s.Opts
	if o.HasTimeout {
		b.U32(AttrTimeout, e.Timeout)
	}
	if o.Counters {
		b.U64(AttrBytes, e.Bytes)
		b.U64(AttrPackets, e.Packets)
	}
	if e.Comment != "" {
		b.Str(AttrComment, e.Comment)
	}
	if e.SkbMark != 0 || e.SkbMask != 0 {
		b.U64(AttrSkbMark, uint64(e.SkbMark)<<32|uint64(e.SkbMask))
	}
	if e.SkbPrio != 0 {
		b.U32(AttrSkbPrio, e.SkbPrio)
	}
	if e.SkbQueue != 0 {
		b.U16(AttrSkbQueue, e.SkbQueue)
	}
}

// SetDecoder reads sets from the messages of a dump (IPSET_CMD_LIST
// replies): a set's first message has its header (type, family,
// revision, options), and its members come in AttrADT containers of that
// message and the next ones. It reads CREATE and ADD requests the same
// way, which have the same attributes, so what fw sends can be read
// back.
type SetDecoder struct {
	sets []*ipset.Set
	cur  *ipset.Set
}

// Sets returns the sets read so far, in the order of the messages.
func (d *SetDecoder) Sets() []*ipset.Set { return d.sets }

// Message reads one message.
func (d *SetDecoder) Message(m Message) error {
	switch m.Cmd() {
	case CmdList, CmdSave, CmdCreate, CmdAdd:
	default:
		return fmt.Errorf("ipset message of type %#x in a listing", m.Type)
	}
	a, err := m.attrs()
	if err != nil {
		return err
	}
	var name, typeName string
	var family, rev uint8
	var data, adt []byte
	var hasType, hasFamily, hasRev bool
	for a.next() {
		switch a.typ {
		case AttrSetName:
			name = a.str(MaxNameLen)
		case AttrTypeName:
			typeName, hasType = a.str(MaxNameLen), true
		case AttrFamily:
			family, hasFamily = a.u8(), true
		case AttrRevision:
			rev, hasRev = a.u8(), true
		case AttrData:
			n := a.nested()
			data = n.b
		case AttrADT:
			n := a.nested()
			adt = n.b
		}
	}
	if a.err != nil {
		return a.err
	}
	if name == "" {
		return fmt.Errorf("ipset message without a set name")
	}
	if hasType {
		if !hasFamily || !hasRev {
			return fmt.Errorf("set %q: header without family or revision", name)
		}
		t := ipset.Types[typeName]
		if t == nil {
			return fmt.Errorf("set %q is of type %q, which fw does not know", name, typeName)
		}
		s := &ipset.Set{Name: name, Type: t, Family: t.Family, Revision: rev}
		if t.Families {
			s.Family = ipset.Family(family)
			if s.Family != ipset.FamilyInet && s.Family != ipset.FamilyInet6 {
				return fmt.Errorf("set %q of type %s has family %d", name, t.Name, family)
			}
		}
		if err := decodeHeader(s, data); err != nil {
			return fmt.Errorf("set %q: %w", name, err)
		}
		d.sets = append(d.sets, s)
		d.cur = s
	} else if d.cur == nil || d.cur.Name != name {
		return fmt.Errorf("members of set %q before its header", name)
	}
	if adt == nil {
		return nil
	}
	s := d.cur
	x := newAttrs(adt)
	for x.next() {
		if x.typ != AttrData {
			return fmt.Errorf("set %q: attribute %d among the members", name, x.typ)
		}
		n := x.nested()
		if x.err != nil {
			break
		}
		e, err := decodeElem(s, n)
		if err != nil {
			return fmt.Errorf("set %q: member %d: %w", name, len(s.Members)+1, err)
		}
		s.Members = append(s.Members, e)
	}
	if x.err != nil {
		return fmt.Errorf("set %q: %w", name, x.err)
	}
	return nil
}

// decodeHeader reads the options of s from its AttrData. Options its
// type does not have are skipped, as in decodeElem.
func decodeHeader(s *ipset.Set, data []byte) error {
	o := &s.Opts
	t := s.Type
	a := newAttrs(data)
	var hasFrom, hasTo bool
	for a.next() {
		switch {
		case a.typ == AttrHashSize && t.Has(ipset.OptHashSize):
			o.HashSize = a.u32()
		case a.typ == AttrMaxElem && t.Has(ipset.OptMaxElem):
			o.MaxElem = a.u32()
		case a.typ == AttrNetMask && t.Has(ipset.OptNetMask):
			o.NetMask = a.u8()
		case a.typ == AttrBitMask && t.Has(ipset.OptBitMask):
			n := a.nested()
			v, err := decodeAddr(n, s.Family)
			if err != nil {
				return fmt.Errorf("bitmask: %w", err)
			}
			o.BitMask, o.HasBitMask = v, true
		case a.typ == AttrMarkMask && t.Has(ipset.OptMarkMask):
			o.MarkMask = a.u32()
		case a.typ == AttrBucketSize && t.Has(ipset.OptBucketSize):
			o.BucketSize = a.u8()
		case a.typ == AttrInitVal && t.Has(ipset.OptInitVal):
			o.InitVal, o.HasInitVal = a.u32(), true
		case a.typ == AttrSize && t.Has(ipset.OptSize):
			o.Size = a.u32()
		case a.typ == AttrTimeout:
			o.Timeout, o.HasTimeout = a.u32(), true
		case a.typ == AttrCADTFlags:
			f := a.u32()
			o.Counters = f&CADTWithCounters != 0
			o.Comment = f&CADTWithComment != 0
			o.ForceAdd = f&CADTWithForceAdd != 0 && t.Has(ipset.OptForceAdd)
			o.SkbInfo = f&CADTWithSkbInfo != 0
		case a.typ == AttrReferences:
			s.References = a.u32()
		case (a.typ == AttrIP || a.typ == AttrIPTo) && t.Kind == ipset.Bitmap && t.Name != "bitmap:port":
			typ := a.typ
			n := a.nested()
			v, err := decodeAddr(n, ipset.FamilyInet)
			if err != nil {
				return fmt.Errorf("range: %w", err)
			}
			if typ == AttrIP {
				o.RangeFrom, hasFrom = v.V4(), true
			} else {
				o.RangeTo, hasTo = v.V4(), true
			}
		case a.typ == AttrPort && t.Name == "bitmap:port":
			o.RangeFrom, hasFrom = uint32(a.u16()), true
		case a.typ == AttrPortTo && t.Name == "bitmap:port":
			o.RangeTo, hasTo = uint32(a.u16()), true
		}
	}
	if a.err != nil {
		return a.err
	}
	if t.Kind == ipset.Bitmap && !(hasFrom && hasTo) {
		return fmt.Errorf("%s header without its range", t.Name)
	}
	return nil
}

// decodeAddr reads an address of family f from the attributes of an
// address nest.
func decodeAddr(a attrs, f ipset.Family) (ipset.Addr, error) {
	var v ipset.Addr
	found := false
	for a.next() {
		switch {
		case a.typ == AttrIPAddrIPv4 && f != ipset.FamilyInet6:
			if len(a.data) != 4 {
				return v, fmt.Errorf("IPv4 address of %d bytes", len(a.data))
			}
			copy(v[:4], a.data)
			found = true
		case a.typ == AttrIPAddrIPv6 && f == ipset.FamilyInet6:
			if len(a.data) != 16 {
				return v, fmt.Errorf("IPv6 address of %d bytes", len(a.data))
			}
			copy(v[:], a.data)
			found = true
		}
	}
	if a.err != nil {
		return v, a.err
	}
	if !found {
		return v, fmt.Errorf("no %s address", f)
	}
	return v, nil
}

// decodeElem reads one member of s from the attributes of its AttrData.
// Attributes that are not of the set's type or extensions are skipped:
// the kernel sends none, and keeping them would make a member that fw
// cannot send back.
func decodeElem(s *ipset.Set, a attrs) (ipset.Entry, error) {
	var e ipset.Entry
	f := s.Family
	host := uint8(32)
	if f == ipset.FamilyInet6 {
		host = 128
	}
	var dims [ipset.DimName + 1]bool
	for _, d := range s.Type.Dims {
		dims[d] = true
	}
	o := &s.Opts
	var has [AttrPad + 1]bool
	for a.next() {
		has[min(a.typ, AttrPad)] = true
		var err error
		switch {
		case a.typ == AttrIP && (dims[ipset.DimIP] || dims[ipset.DimNet]):
			n := a.nested()
			e.IP, err = decodeAddr(n, f)
		case a.typ == AttrIP2 && (dims[ipset.DimIP2] || dims[ipset.DimNet2]):
			n := a.nested()
			e.IP2, err = decodeAddr(n, f)
		case a.typ == AttrCIDR && dims[ipset.DimNet]:
			e.CIDR = a.u8()
		case a.typ == AttrCIDR2 && dims[ipset.DimNet2]:
			e.CIDR2 = a.u8()
		case a.typ == AttrPort && dims[ipset.DimPort]:
			e.Port = a.u16()
		case a.typ == AttrProto && dims[ipset.DimPort] && s.Type.Kind != ipset.Bitmap:
			e.Proto = a.u8()
		case a.typ == AttrEther && dims[ipset.DimMAC]:
			if len(a.data) != 6 {
				return e, fmt.Errorf("Ethernet address of %d bytes", len(a.data))
			}
			copy(e.MAC[:], a.data)
			e.HasMAC = true
		case a.typ == AttrMark && dims[ipset.DimMark]:
			e.Mark = a.u32()
		case a.typ == AttrIface && dims[ipset.DimIface]:
			e.Iface = a.str(15)
		case a.typ == AttrName && dims[ipset.DimName]:
			e.Name = a.str(MaxNameLen)
		case a.typ == AttrCADTFlags:
			fl := a.u32()
			e.Nomatch = fl&CADTNomatch != 0
			if dims[ipset.DimIface] {
				e.Physdev = fl&CADTPhysdev != 0
				e.Wildcard = fl&CADTIfaceWildcard != 0
			}
		case a.typ == AttrTimeout && o.HasTimeout:
			e.Timeout = a.u32()
		case a.typ == AttrBytes && o.Counters:
			e.Bytes = a.u64()
		case a.typ == AttrPackets && o.Counters:
			e.Packets = a.u64()
		case a.typ == AttrComment && o.Comment:
			e.Comment = a.str(ipset.MaxCommentLen)
		case a.typ == AttrSkbMark && o.SkbInfo:
			v := a.u64()
			e.SkbMark, e.SkbMask = uint32(v>>32), uint32(v)
		case a.typ == AttrSkbPrio && o.SkbInfo:
			e.SkbPrio = a.u32()
		case a.typ == AttrSkbQueue && o.SkbInfo:
			e.SkbQueue = a.u16()
		}
		if err != nil {
			return e, err
		}
	}
	if a.err != nil {
		return e, a.err
	}
	// Every part of the type must be there, but a bitmap:ip,mac's MAC.
	for _, d := range s.Type.Dims {
		var need []uint16
		switch d {
		case ipset.DimIP:
			need = []uint16{AttrIP}
		case ipset.DimNet:
			need = []uint16{AttrIP}
			if !has[AttrCIDR] {
				e.CIDR = host
			}
		case ipset.DimIP2:
			need = []uint16{AttrIP2}
		case ipset.DimNet2:
			need = []uint16{AttrIP2}
			if !has[AttrCIDR2] {
				e.CIDR2 = host
			}
		case ipset.DimPort:
			need = []uint16{AttrPort}
			if s.Type.Kind != ipset.Bitmap {
				need = append(need, AttrProto)
			}
		case ipset.DimMAC:
			if !s.Type.OptionalLast {
				need = []uint16{AttrEther}
			}
		case ipset.DimMark:
			need = []uint16{AttrMark}
		case ipset.DimIface:
			need = []uint16{AttrIface}
		case ipset.DimName:
			need = []uint16{AttrName}
		}
		for _, n := range need {
			if !has[n] {
				return e, fmt.Errorf("%s member without attribute %d", s.Type.Name, n)
			}
		}
	}
	if e.CIDR > host || e.CIDR2 > host {
		return e, fmt.Errorf("prefix length beyond %d", host)
	}
	return e, nil
}
