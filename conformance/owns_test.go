package conformance

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/genrules"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

// TestRulesetOwnsItsText: no string of a loaded ruleset points into the
// text it was loaded from, so that fw-restore can release the input file
// before the kernel call (an extension that keeps an argument without
// OptArgs.Keep would make that a use after free). Every extension's
// options are in the corpus, so every extension is checked.
func TestRulesetOwnsItsText(t *testing.T) {
	t.Parallel()
	reg := ext.Registry()
	check := func(what string, src []byte, opt format.LoadOptions) {
		t.Helper()
		rs, err := format.Load("x", src, opt)
		if err != nil {
			return // TestCorpus and TestBadInputs see to those
		}
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(src)))
		w := &textWalk{lo: lo, hi: lo + uintptr(len(src)), seen: map[uintptr]bool{}}
		w.walk(reflect.ValueOf(rs), "ruleset")
		for _, p := range w.inside {
			t.Errorf("%s: %s points into the input", what, p)
		}
	}
	n := 0
	for cs, fam := range acceptedCases(t) {
		check(cs.Pos(), []byte(cs.Input()), format.LoadOptions{Family: fam, Registry: reg})
		n++
	}
	paths, _ := filepath.Glob("../testdata/rulesets/*.golden")
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fam := table.IPv4
		if strings.HasSuffix(p, ".v6.golden") {
			fam = table.IPv6
		}
		check(p, src, format.LoadOptions{Family: fam, Registry: reg, Apply: table.ApplyOptions{Counters: true}})
		n++
	}
	// Big enough to be decoded in several chunks on several workers.
	var big bytes.Buffer
	if err := genrules.Write(&big, genrules.Options{Services: 2000, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	check("genrules", big.Bytes(), format.LoadOptions{Family: table.IPv4, Registry: reg})
	if n < 1000 {
		t.Fatalf("only %d inputs checked", n)
	}
}

// textWalk visits every string reachable from a value and notes those
// whose bytes lie in [lo, hi).
type textWalk struct {
	lo, hi uintptr
	seen   map[uintptr]bool
	inside []string
}

func (w *textWalk) walk(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if p := uintptr(unsafe.Pointer(unsafe.StringData(s))); len(s) > 0 && p >= w.lo && p < w.hi {
			w.inside = append(w.inside, path+" "+strings.TrimSpace(s))
		}
	case reflect.Pointer:
		if v.IsNil() || w.seen[v.Pointer()] {
			return
		}
		w.seen[v.Pointer()] = true
		w.walk(v.Elem(), path)
	case reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem(), path+"."+v.Elem().Type().String())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			w.walk(v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			w.walk(v.Index(i), path)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			w.walk(it.Key(), path+"[key]")
			w.walk(it.Value(), path+"[value]")
		}
	}
}
