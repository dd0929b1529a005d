package format_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/fwkit/fw/format"
	"github.com/fwkit/fw/internal/genrules"
	"github.com/fwkit/fw/table"
	"github.com/fwkit/fw/table/ext"
)

// kubeRules is the make-bench ruleset at 10,000 services (about 120k
// lines).
func kubeRules(b *testing.B) []byte {
	var buf bytes.Buffer
	if err := genrules.Write(&buf, genrules.Options{Services: 10000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkLoad(b *testing.B) {
	src := kubeRules(b)
	opt := format.LoadOptions{Family: table.IPv4, Registry: ext.Registry()}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := format.Load("bench", src, opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	src := kubeRules(b)
	rs, err := format.Load("bench", src, format.LoadOptions{Family: table.IPv4, Registry: ext.Registry()})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if err := format.Encode(io.Discard, rs, format.EncodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
