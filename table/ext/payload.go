package ext

import (
	"fmt"

	"github.com/fwkit/fw/internal/xtbin"
)

// field is one member of a kernel struct of fixed-width integers in
// native byte order: its offset and the value's field that mirrors it.
// An extension whose payload is only such members lists them once, and
// putFields and getFields write and read them, so that the layout is
// written down in one place.
type field struct {
	off int
	p   any // *uint8, *uint16 or *uint32
}

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
		default:
			panic(fmt.Sprintf("ext: field of type %T", p))
		}
	}
	return r.Err()
}
