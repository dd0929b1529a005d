package ipset

import (
	"bytes"
	"fmt"
	"testing"
)

// bigText is a hash:ip,port set of n members with every extension, as
// ipset save writes it.
func bigText(n int) []byte {
	var b bytes.Buffer
	b.WriteString("create big hash:ip,port family inet hashsize 65536 maxelem 262144 timeout 3600 counters comment skbinfo bucketsize 12 initval 0x01020304\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "add big 10.%d.%d.%d,tcp:%d timeout 1800 packets %d bytes %d comment \"member %d\" skbmark 0x%x\n",
			i>>16&0xff, i>>8&0xff, i&0xff, 1+i%1000, i, 60*i, i, i)
	}
	return b.Bytes()
}

// BenchmarkParse reads a save of 100,000 members.
func BenchmarkParse(b *testing.B) {
	src := bigText(100000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("big", src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrint writes a set of 100,000 members.
func BenchmarkPrint(b *testing.B) {
	sets, err := Parse("big", bigText(100000))
	if err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if err := Print(&out, sets); err != nil {
			b.Fatal(err)
		}
	}
}
