package xtbin

import "testing"

func TestReaderBounds(t *testing.T) {
	r := NewReader([]byte{1, 2, 3})
	if r.U16(0) != 0x0201 || r.Err() != nil {
		t.Fatal("in-bounds read failed")
	}
	if r.U32(0) != 0 || r.Err() == nil {
		t.Fatal("out-of-bounds read did not fail")
	}
	if r.U8(0) != 0 {
		t.Fatal("error is not sticky")
	}
	if r := NewReader([]byte("ab\x00x")); r.String(0, 4) != "ab" || r.Err() != nil {
		t.Fatal("string")
	}
	if r := NewReader([]byte("abcd")); r.String(0, 4) != "" || r.Err() == nil {
		t.Fatal("string without NUL accepted")
	}
	if r := NewReader([]byte{1}); r.U8(-1) != 0 || r.Err() == nil {
		t.Fatal("negative offset accepted")
	}
}

func TestWriter(t *testing.T) {
	w := NewWriter(8)
	if err := w.String(0, 4, "abcd"); err == nil {
		t.Fatal("overlong string accepted")
	}
	if err := w.String(0, 4, "abc"); err != nil || string(w.B[:4]) != "abc\x00" {
		t.Fatal("string")
	}
	w.BE16(4, 0x0102)
	if w.B[4] != 1 || w.B[5] != 2 {
		t.Fatal("BE16")
	}
	if Align(1) != 8 || Align(8) != 8 || Align(0) != 0 || Align(33) != 40 {
		t.Fatal("Align")
	}
}
