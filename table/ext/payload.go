package ext

import (
	"fmt"

	"github.com/fwkit/fw/internal/xtbin"
)

// field is one member of a kernel struct: its offset and the value's
// field that mirrors it. An extension whose payload is only such members
// lists them once (its layout method), and putFields and getFields write
// and read them, so that the layout is written down in one place.
// Integers are in native byte order unless they are a *bigEndian16;
// arrays of integers are consecutive members; byte arrays are copied as
// they are.
type field struct {
	off int
	p   any
}

// bigEndian16 marks a member the kernel holds in network byte order (a
// port): field{off, (*bigEndian16)(&v.Port)}.
type bigEndian16 uint16

// putFields writes fs into dst (zeroed, the payload's size).
func putFields(dst []byte, fs ...field) error {
	w := xtbin.Writer{B: dst}
	for _, f := range fs {
		switch p := f.p.(type) {
		case *uint8:
			w.U8(f.off, *p)
		case *uint16:
			w.U16(f.off, *p)
		case *uint32:
			w.U32(f.off, *p)
		case *int32:
			w.U32(f.off, uint32(*p))
		case *uint64:
			w.U64(f.off, *p)
		case *bigEndian16:
			w.BE16(f.off, uint16(*p))
		case *[2]uint8:
			w.Bytes(f.off, p[:])
		case *[2]uint16:
			w.U16(f.off, p[0])
			w.U16(f.off+2, p[1])
		case *[2]uint32:
			w.U32(f.off, p[0])
			w.U32(f.off+4, p[1])
		case *[6]byte:
			w.Bytes(f.off, p[:])
		case *[16]byte:
			w.Bytes(f.off, p[:])
		default:
			panic(fmt.Sprintf("ext: field of type %T", p))
		}
	}
	return nil
}

// getFields reads fs from data, failing when data is too short.
func getFields(data []byte, fs ...field) error {
	r := xtbin.NewReader(data)
	for _, f := range fs {
		switch p := f.p.(type) {
		case *uint8:
			*p = r.U8(f.off)
		case *uint16:
			*p = r.U16(f.off)
		case *uint32:
			*p = r.U32(f.off)
		case *int32:
			*p = int32(r.U32(f.off))
		case *uint64:
			*p = r.U64(f.off)
		case *bigEndian16:
			*p = bigEndian16(r.BE16(f.off))
		case *[2]uint8:
			r.Bytes(f.off, p[:])
		case *[2]uint16:
			*p = [2]uint16{r.U16(f.off), r.U16(f.off + 2)}
		case *[2]uint32:
			*p = [2]uint32{r.U32(f.off), r.U32(f.off + 4)}
		case *[6]byte:
			r.Bytes(f.off, p[:])
		case *[16]byte:
			r.Bytes(f.off, p[:])
		default:
			panic(fmt.Sprintf("ext: field of type %T", p))
		}
	}
	return r.Err()
}

// getWhole is getFields for a struct whose tail the fields do not reach
// (kernel-private state): data must still hold all size bytes of it.
func getWhole(data []byte, size int, fs ...field) error {
	if len(data) < size {
		return fmt.Errorf("a %d-byte payload of a %d-byte struct", len(data), size)
	}
	return getFields(data, fs...)
}
