package ext

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFields(t *testing.T) {
	type s struct {
		A uint8
		B uint16
		C uint32
	}
	in := s{0x12, 0x3456, 0x789abcde}
	fs := func(v *s) []field { return []field{{0, &v.A}, {2, &v.B}, {4, &v.C}} }
	dst := make([]byte, 8)
	if err := putFields(dst, fs(&in)...); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]byte{0x12, 0, 0x56, 0x34, 0xde, 0xbc, 0x9a, 0x78}, dst); d != "" {
		t.Errorf("putFields (-want +got):\n%s", d)
	}
	var out s
	if err := getFields(dst, fs(&out)...); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(in, out); d != "" {
		t.Errorf("getFields (-want +got):\n%s", d)
	}
	if err := getFields(dst[:7], fs(&out)...); err == nil {
		t.Error("getFields read past the end of a short payload")
	}
}
