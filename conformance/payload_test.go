package conformance

import (
	"testing"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

// TestPayloadContract: every registered extension has a kernel codec, a
// struct size, and a payload of XT_ALIGN(size) bytes (a multiple of 8).
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
			// when it is accepted, its length must be right.
			if b, err := p.MarshalPayload(f); err == nil && (len(b) != xtbin.Align(info.Size) || len(b)%8 != 0) {
				t.Errorf("%s %s (%s): payload %d bytes, Size %d", info.Kind, info.Name, f, len(b), info.Size)
			}
		}
	}
}

// TestPayloadRoundTrip: for every accepted corpus case, each extension
// value survives marshal and unmarshal and prints the same. This covers
// extensions the kernel here cannot load (the kernel tests skip those).
func TestPayloadRoundTrip(t *testing.T) {
	corpora, err := Load(*corpusDir, *only)
	if err != nil {
		t.Fatal(err)
	}
	reg := ext.Registry()
	for _, c := range corpora {
		for _, cs := range c.Cases {
			if cs.Expect != Accept {
				continue
			}
			for _, fam := range cs.Families() {
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
	}
}

func checkRoundTrip(t *testing.T, cs *Case, fam table.Family, e table.Ext) {
	t.Helper()
	p, ok := e.(table.Payload)
	if !ok {
		return // TestPayloadContract reports it
	}
	data, err := p.MarshalPayload(fam)
	if err != nil {
		if cs.Kernel {
			return // e.g. a set that exists only in a kernel
		}
		t.Errorf("%s (%s): %s: marshal %s: %v", cs.Pos(), fam, cs.Rule, e.Name(), err)
		return
	}
	info := e.Info()
	kinfo := info
	if info.TextOnly {
		kinfo = ext.Registry().ByKernel(info.Kind, info.KernelName(), info.Revision, fam)
	}
	v := kinfo.New(fam)
	if err := v.(table.Payload).UnmarshalPayload(fam, data); err != nil {
		t.Errorf("%s (%s): %s: unmarshal %s: %v", cs.Pos(), fam, cs.Rule, e.Name(), err)
		return
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
