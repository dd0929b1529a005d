package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Netlink headers (message and attribute lengths and types) are in host
// order; ipset's integer values are big-endian, marked with
// NLA_F_NET_BYTEORDER, which the kernel checks for.
var ne = binary.NativeEndian

// Builder appends netlink messages to B. Messages and nests are closed
// by the offset their Begin returned.
type Builder struct {
	B []byte
}

// Begin starts a message of ipset command cmd.
func (b *Builder) Begin(cmd uint8, flags uint16, seq uint32) int {
	start := len(b.B)
	b.B = append(b.B, make([]byte, headerLen)...)
	h := b.B[start:]
	ne.PutUint16(h[4:], SubsysIPSet<<8|uint16(cmd))
	ne.PutUint16(h[6:], flags)
	ne.PutUint32(h[8:], seq)
	h[16] = familyIPv4
	h[17] = nfnetlinkV0
	return start
}

// End closes the message that starts at start.
func (b *Builder) End(start int) {
	ne.PutUint32(b.B[start:], uint32(len(b.B)-start))
}

func (b *Builder) attr(typ uint16, data []byte) {
	n := SizeofNlattr + len(data)
	b.B = ne.AppendUint16(b.B, uint16(n))
	b.B = ne.AppendUint16(b.B, typ)
	b.B = append(b.B, data...)
	b.pad()
}

func (b *Builder) pad() {
	for len(b.B)%4 != 0 {
		b.B = append(b.B, 0)
	}
}

// U8 appends a one-byte attribute.
func (b *Builder) U8(typ uint16, v uint8) { b.attr(typ, []byte{v}) }

// U16 appends a big-endian 16-bit attribute.
func (b *Builder) U16(typ uint16, v uint16) {
	b.attr(typ|nlaFNetByteorder, binary.BigEndian.AppendUint16(nil, v))
}

// U32 appends a big-endian 32-bit attribute.
func (b *Builder) U32(typ uint16, v uint32) {
	var x [4]byte
	binary.BigEndian.PutUint32(x[:], v)
	b.attr(typ|nlaFNetByteorder, x[:])
}

// U64 appends a big-endian 64-bit attribute.
func (b *Builder) U64(typ uint16, v uint64) {
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], v)
	b.attr(typ|nlaFNetByteorder, x[:])
}

// Str appends a NUL-terminated string.
func (b *Builder) Str(typ uint16, s string) {
	n := SizeofNlattr + len(s) + 1
	b.B = ne.AppendUint16(b.B, uint16(n))
	b.B = ne.AppendUint16(b.B, typ)
	b.B = append(b.B, s...)
	b.B = append(b.B, 0)
	b.pad()
}

// Bytes appends an attribute of raw bytes.
func (b *Builder) Bytes(typ uint16, v []byte) { b.attr(typ, v) }

// Nest starts a nested attribute.
func (b *Builder) Nest(typ uint16) int {
	start := len(b.B)
	b.B = ne.AppendUint16(b.B, 0)
	b.B = ne.AppendUint16(b.B, typ|nlaFNested)
	return start
}

// EndNest closes the nested attribute that starts at start.
func (b *Builder) EndNest(start int) {
	ne.PutUint16(b.B[start:], uint16(len(b.B)-start))
}

// errMalformed is a netlink message or attribute whose lengths do not
// fit.
var errMalformed = errors.New("malformed netlink attribute")

// attrs iterates over the attributes in b without copying: data aliases
// b. Every read checks the length it needs and records errMalformed
// when it is not there.
type attrs struct {
	b    []byte
	typ  uint16
	flag uint16 // NLA_F_NESTED and NLA_F_NET_BYTEORDER of the current attribute
	data []byte
	err  error
}

func newAttrs(b []byte) attrs { return attrs{b: b} }

func (a *attrs) next() bool {
	if a.err != nil || len(a.b) == 0 {
		return false
	}
	if len(a.b) < SizeofNlattr {
		a.err = errMalformed
		return false
	}
	l := int(ne.Uint16(a.b))
	if l < SizeofNlattr || l > len(a.b) {
		a.err = errMalformed
		return false
	}
	t := ne.Uint16(a.b[2:])
	a.typ, a.flag = t&nlaTypeMask, t&^nlaTypeMask
	a.data = a.b[SizeofNlattr:l]
	a.b = a.b[min(len(a.b), (l+3)&^3):]
	return true
}

func (a *attrs) fail(what string) {
	if a.err == nil {
		a.err = fmt.Errorf("attribute %d: %s", a.typ, what)
	}
}

func (a *attrs) u8() uint8 {
	if len(a.data) < 1 {
		a.fail("too short for u8")
		return 0
	}
	return a.data[0]
}

func (a *attrs) u16() uint16 {
	if len(a.data) < 2 {
		a.fail("too short for u16")
		return 0
	}
	return binary.BigEndian.Uint16(a.data)
}

func (a *attrs) u32() uint32 {
	if len(a.data) < 4 {
		a.fail("too short for u32")
		return 0
	}
	return binary.BigEndian.Uint32(a.data)
}

func (a *attrs) u64() uint64 {
	if len(a.data) < 8 {
		a.fail("too short for u64")
		return 0
	}
	return binary.BigEndian.Uint64(a.data)
}

// str is a NUL-terminated string of at most max bytes, without its NUL.
func (a *attrs) str(max int) string {
	d := a.data
	for i, c := range d {
		if c == 0 {
			d = d[:i]
			break
		}
	}
	if len(d) == len(a.data) && len(d) > 0 {
		a.fail("string without NUL")
		return ""
	}
	if len(d) > max {
		a.fail(fmt.Sprintf("string longer than %d bytes", max))
		return ""
	}
	return string(d)
}

// nested returns the attributes inside the current one.
func (a *attrs) nested() attrs {
	if a.flag&nlaFNested == 0 {
		a.fail("not nested")
		return attrs{}
	}
	return newAttrs(a.data)
}
