// Package xtbin reads and writes the binary structs of x_tables: native
// byte order (the kernel's), XT_ALIGN padding, fixed-width NUL-padded name
// fields. Reader errors are sticky: after the first out-of-bounds read
// every read returns zero and Err reports the first failure, so decoders
// read a whole struct and check once.
package xtbin

import (
	"encoding/binary"
	"fmt"
)

// Native is the kernel's byte order on the machines fw supports (amd64,
// arm64 and other little-endian Linux targets).
var Native = binary.LittleEndian

// AlignTo is the alignment XT_ALIGN uses: that of a struct holding u64 on
// amd64.
const AlignTo = 8

// Align rounds n up to XT_ALIGN.
func Align(n int) int { return (n + AlignTo - 1) &^ (AlignTo - 1) }

// Writer builds a struct into a fixed-size, zeroed buffer: Writer{B: dst}
// writes in place into a buffer the caller owns (as the extension
// payload encoders do), NewWriter allocates a new one.
type Writer struct {
	B []byte
}

// NewWriter returns a writer of n zero bytes.
func NewWriter(n int) *Writer { return &Writer{B: make([]byte, n)} }

func (w *Writer) U8(off int, v uint8)     { w.B[off] = v }
func (w *Writer) U16(off int, v uint16)   { Native.PutUint16(w.B[off:], v) }
func (w *Writer) U32(off int, v uint32)   { Native.PutUint32(w.B[off:], v) }
func (w *Writer) U64(off int, v uint64)   { Native.PutUint64(w.B[off:], v) }
func (w *Writer) BE16(off int, v uint16)  { binary.BigEndian.PutUint16(w.B[off:], v) }
func (w *Writer) BE32(off int, v uint32)  { binary.BigEndian.PutUint32(w.B[off:], v) }
func (w *Writer) Bytes(off int, b []byte) { copy(w.B[off:], b) }

// String writes s NUL-padded into a field of n bytes. It fails when s does
// not fit with its NUL.
func (w *Writer) String(off, n int, s string) error {
	if len(s) >= n {
		return fmt.Errorf("%q is longer than %d bytes", s, n-1)
	}
	copy(w.B[off:off+n], s)
	return nil
}

// Reader reads a struct from a byte slice with bounds checks.
type Reader struct {
	B   []byte
	err error
}

// NewReader returns a reader over b.
func NewReader(b []byte) *Reader { return &Reader{B: b} }

// Err is the first out-of-bounds access, if any.
func (r *Reader) Err() error { return r.err }

func (r *Reader) ok(off, n int) bool {
	if r.err != nil {
		return false
	}
	if off < 0 || n < 0 || off+n > len(r.B) {
		r.err = fmt.Errorf("read of %d bytes at offset %d past the end of a %d-byte struct", n, off, len(r.B))
		return false
	}
	return true
}

func (r *Reader) U8(off int) uint8 {
	if !r.ok(off, 1) {
		return 0
	}
	return r.B[off]
}

func (r *Reader) U16(off int) uint16 {
	if !r.ok(off, 2) {
		return 0
	}
	return Native.Uint16(r.B[off:])
}

func (r *Reader) U32(off int) uint32 {
	if !r.ok(off, 4) {
		return 0
	}
	return Native.Uint32(r.B[off:])
}

func (r *Reader) U64(off int) uint64 {
	if !r.ok(off, 8) {
		return 0
	}
	return Native.Uint64(r.B[off:])
}

func (r *Reader) BE16(off int) uint16 {
	if !r.ok(off, 2) {
		return 0
	}
	return binary.BigEndian.Uint16(r.B[off:])
}

func (r *Reader) BE32(off int) uint32 {
	if !r.ok(off, 4) {
		return 0
	}
	return binary.BigEndian.Uint32(r.B[off:])
}

// Bytes copies n bytes at off into dst (len(dst) == n).
func (r *Reader) Bytes(off int, dst []byte) {
	if !r.ok(off, len(dst)) {
		return
	}
	copy(dst, r.B[off:])
}

// String reads a NUL-terminated string from a field of n bytes. A field
// without a NUL is an error: the kernel never writes one.
func (r *Reader) String(off, n int) string {
	if !r.ok(off, n) {
		return ""
	}
	f := r.B[off : off+n]
	for i, c := range f {
		if c == 0 {
			return string(f[:i])
		}
	}
	r.err = fmt.Errorf("name field at offset %d has no NUL", off)
	return ""
}
