package conformance

import (
	"fmt"
	"testing"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

// TestPayloadContract: every registered extension has a kernel codec and
// a struct size, and PutPayload writes inside the XT_ALIGN(size) bytes it
// is given (a multiple of 8), without allocating.
func TestPayloadContract(t *testing.T) {
	for _, info := range ext.Registry().All() {
		for _, f := range []table.Family{table.IPv4, table.IPv6} {
			if !info.Family.Has(f) {
				continue
			}
			v := info.New(f)
			p, ok := v.(table.Payload)
			if !ok {
				t.Errorf("%s %s (%s): no kernel codec", info.Kind, info.Name, f)
				continue
			}
			if info.Size <= 0 && info.Name != "TRACE" && info.Name != "NOTRACK" && info.Name != "AUDIT" {
				t.Errorf("%s %s: Size %d", info.Kind, info.Name, info.Size)
			}
			// A zero value may be refused (required options missing);
			// either way nothing is written outside dst.
			bad, err := putGuarded(p, f, xtbin.Align(info.Size))
			if bad != "" {
				t.Errorf("%s %s (%s): %s", info.Kind, info.Name, f, bad)
				continue
			}
			if err != nil {
				continue
			}
			dst := make([]byte, xtbin.Align(info.Size))
			if n := testing.AllocsPerRun(10, func() {
				clear(dst)
				p.PutPayload(f, dst)
			}); n != 0 {
				t.Errorf("%s %s (%s): PutPayload allocates %.0f times", info.Kind, info.Name, f, n)
			}
		}
	}
}

// putGuarded runs p.PutPayload on n zero bytes between guard bytes and
// says what went wrong with the buffer, if anything.
func putGuarded(p table.Payload, f table.Family, n int) (bad string, err error) {
	const guard = 16
	buf := make([]byte, guard+n+guard)
	for i := range guard {
		buf[i], buf[guard+n+i] = 0xa5, 0xa5
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				bad = fmt.Sprintf("PutPayload panics on a %d-byte dst: %v", n, r)
			}
		}()
		err = p.PutPayload(f, buf[guard:guard+n:guard+n])
	}()
	if bad != "" {
		return bad, err
	}
	for i := range guard {
		if buf[i] != 0xa5 || buf[guard+n+i] != 0xa5 {
			return fmt.Sprintf("PutPayload writes outside its %d-byte dst", n), err
		}
	}
	return "", err
}

// TestPayloadRoundTrip: for every accepted corpus case, each extension
// value survives marshal and unmarshal and prints the same. This covers
// extensions the kernel here cannot load (the kernel tests skip those).
func TestPayloadRoundTrip(t *testing.T) {
	reg := ext.Registry()
	for cs, fam := range acceptedCases(t) {
		rs, err := loadCase(cs, fam, reg)
		if err != nil {
			continue
		}
		for _, r := range rs {
			exts := append([]table.Ext{}, r.Matches...)
			if e, ok := r.Target.(table.Ext); ok {
				exts = append(exts, e)
			}
			for _, e := range exts {
				checkRoundTrip(t, cs, fam, e)
			}
		}
	}
}

func checkRoundTrip(t *testing.T, cs *Case, fam table.Family, e table.Ext) {
	t.Helper()
	p, ok := e.(table.Payload)
	if !ok {
		return // TestPayloadContract reports it
	}
	info := e.Info()
	data, err := table.MarshalPayload(p, info, fam)
	if err != nil {
		if cs.Kernel {
			return // e.g. a set that exists only in a kernel
		}
		t.Errorf("%s (%s): %s: marshal %s: %v", cs.Pos(), fam, cs.Rule, e.Name(), err)
		return
	}
	// Encoding a whole table costs no allocation per extension (ipset
	// lookups aside, which ask the kernel).
	if !info.NamespaceObjects {
		dst := make([]byte, len(data))
		if n := testing.AllocsPerRun(1, func() {
			clear(dst)
			p.PutPayload(fam, dst)
		}); n != 0 {
			t.Errorf("%s (%s): %s: PutPayload of %s allocates %.0f times", cs.Pos(), fam, cs.Rule, e.Name(), n)
		}
	}
	kinfo := info
	if info.TextOnly {
		kinfo = ext.Registry().ByKernel(info.Kind, info.KernelName(), info.Revision, fam)
	}
	v := kinfo.New(fam)
	if err := v.(table.Payload).UnmarshalPayload(fam, data); err != nil {
		t.Errorf("%s (%s): %s: unmarshal %s: %v", cs.Pos(), fam, cs.Rule, e.Name(), err)
		return
	}
	// The decoders hand over slices of a kernel reply that is reused
	// right after: what the value prints must not change with them.
	for i := range data {
		data[i] ^= 0xa5
	}
	var a, b table.Writer
	a.Raw(e.Name())
	e.Print(&a)
	b.Raw(v.Name())
	v.Print(&b)
	if a.String() != b.String() {
		t.Errorf("%s (%s): %s: payload round trip prints %q, want %q", cs.Pos(), fam, cs.Rule, b.String(), a.String())
	}
}
