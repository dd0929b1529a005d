package nft

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// Hand-built netlink encoding and decoding for the hot paths. A 100k-rule
// restore writes about a million attributes and a save reads as many:
// mdlayher/netlink's encoder allocates a slice per attribute and per
// nesting level and its decoder an Attribute per field, which was most
// of fw's user time and garbage. Here messages are written straight into
// the batch's buffer and read in place from the receive buffer.
//
// Attribute headers (length, type) are in host order; nf_tables' integer
// values are big-endian.

var ne = binary.NativeEndian

const (
	nlaHdrLen  = 4
	nlaTypeMsk = 0x3fff // NLA_TYPE_MASK: without NLA_F_NESTED / NLA_F_NET_BYTEORDER
)

var errMalformed = errors.New("malformed netlink attribute")

// attrs iterates over the attributes in b without copying: data aliases
// b and is valid as long as b is.
type attrs struct {
	b    []byte
	typ  uint16
	data []byte
	err  error
}

func newAttrs(b []byte) attrs { return attrs{b: b} }

func (a *attrs) next() bool {
	if len(a.b) < nlaHdrLen {
		return false
	}
	l := int(ne.Uint16(a.b))
	if l < nlaHdrLen || l > len(a.b) {
		a.err = errMalformed
		return false
	}
	a.typ = ne.Uint16(a.b[2:]) & nlaTypeMsk
	a.data = a.b[nlaHdrLen:l]
	a.b = a.b[min(len(a.b), (l+3)&^3):]
	return true
}

func (a *attrs) u32() uint32 {
	if len(a.data) < 4 {
		a.err = errMalformed
		return 0
	}
	return binary.BigEndian.Uint32(a.data)
}

func (a *attrs) u64() uint64 {
	if len(a.data) < 8 {
		a.err = errMalformed
		return 0
	}
	return binary.BigEndian.Uint64(a.data)
}

func (a *attrs) u16() uint16 {
	if len(a.data) < 2 {
		a.err = errMalformed
		return 0
	}
	return binary.BigEndian.Uint16(a.data)
}

// str is a NUL-terminated string attribute, without its NUL.
func (a *attrs) str() string { return string(cstr(a.data)) }

// cstr is b up to its first NUL.
func cstr(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// nested returns an iterator over the attributes inside the current one.
func (a *attrs) nested() attrs { return attrs{b: a.data} }

// dataValue reads a nested NFTA_DATA_VALUE (cmp and range operands,
// bitwise masks, immediate data).
func dataValue(b []byte) []byte {
	n := newAttrs(b)
	for n.next() {
		if n.typ == unix.NFTA_DATA_VALUE {
			return n.data
		}
	}
	return nil
}

// nlbuf appends attributes to a byte slice.
type nlbuf struct {
	b []byte
	// dumpForm leaves NLA_F_NESTED off nested attributes, as the kernel
	// dumps them (libmnl, like fw, sets it when sending): the bytes then
	// compare equal to a rule read back.
	dumpForm bool
	// scratch is where the lowerer writes xt payloads before reading
	// them or copying them into b; it lives here, not in the lowerer,
	// so that it is reused across the rules written to one buffer.
	scratch []byte
}

func (w *nlbuf) hdr(typ uint16, n int) {
	w.b = ne.AppendUint16(w.b, uint16(nlaHdrLen+n))
	w.b = ne.AppendUint16(w.b, typ)
}

func (w *nlbuf) pad() {
	for len(w.b)&3 != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *nlbuf) bytes(typ uint16, v []byte) {
	w.hdr(typ, len(v))
	w.b = append(w.b, v...)
	w.pad()
}

func (w *nlbuf) str(typ uint16, s string) {
	w.hdr(typ, len(s)+1)
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
	w.pad()
}

func (w *nlbuf) u32(typ uint16, v uint32) {
	w.hdr(typ, 4)
	w.b = binary.BigEndian.AppendUint32(w.b, v)
}

func (w *nlbuf) u64(typ uint16, v uint64) {
	w.hdr(typ, 8)
	w.b = binary.BigEndian.AppendUint64(w.b, v)
}

// begin opens a nested attribute; end closes it with its length.
func (w *nlbuf) begin(typ uint16) int {
	off := len(w.b)
	if !w.dumpForm {
		typ |= unix.NLA_F_NESTED
	}
	w.hdr(typ, 0)
	return off
}

func (w *nlbuf) end(off int) {
	ne.PutUint16(w.b[off:], uint16(len(w.b)-off))
}

// value writes a nested {NFTA_DATA_VALUE: v}.
func (w *nlbuf) value(typ uint16, v []byte) {
	o := w.begin(typ)
	w.bytes(unix.NFTA_DATA_VALUE, v)
	w.end(o)
}

// msgBegin starts a netlink message with an nfgenmsg header; msgEnd
// fills in its length.
func (w *nlbuf) msgBegin(typ, flags uint16, seq uint32, family uint8, resID uint16) int {
	off := len(w.b)
	w.b = ne.AppendUint32(w.b, 0)
	w.b = ne.AppendUint16(w.b, typ)
	w.b = ne.AppendUint16(w.b, flags)
	w.b = ne.AppendUint32(w.b, seq)
	w.b = ne.AppendUint32(w.b, 0)
	w.b = append(w.b, family, unix.NFNETLINK_V0, byte(resID>>8), byte(resID))
	return off
}

func (w *nlbuf) msgEnd(off int) {
	w.pad()
	ne.PutUint32(w.b[off:], uint32(len(w.b)-off))
}

// chunkSize is the size of one buffer of a batch. A batch is a list of
// such buffers handed to one sendmsg, so it never has to be copied into
// one contiguous slice (a 100k-rule batch is tens of MiB) and growing it
// never copies what was written.
const chunkSize = 1 << 20

// chunked is a batch being written: full chunks and the current one.
// Each message sits in one chunk, so its length can be patched.
type chunked struct {
	full [][]byte
	nlbuf
}

// room makes sure a message can start in the current chunk.
func (c *chunked) room() {
	if c.b == nil {
		c.b = make([]byte, 0, chunkSize)
		return
	}
	if cap(c.b)-len(c.b) < 16<<10 {
		c.full = append(c.full, c.b)
		c.b = make([]byte, 0, chunkSize)
	}
}

// buffers returns every chunk written so far.
func (c *chunked) buffers() [][]byte {
	out := append([][]byte(nil), c.full...)
	if len(c.b) > 0 {
		out = append(out, c.b)
	}
	return out
}
