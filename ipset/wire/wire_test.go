package wire

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/fwkit/fw/ipset"
)

// TestSizes holds the framing sizes to the kernel's structs as x/sys/unix
// has them.
func TestSizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"struct nlmsghdr", SizeofNlMsghdr, unix.SizeofNlMsghdr},
		{"struct nfgenmsg", SizeofNfgenmsg, int(unsafe.Sizeof(unix.Nfgenmsg{}))},
		{"struct nlattr", SizeofNlattr, unix.SizeofNlAttr},
		{"struct nlmsgerr", SizeofNlMsgerr, unix.SizeofNlMsgerr},
		{"NLA_F_NESTED", nlaFNested, unix.NLA_F_NESTED},
		{"NLA_F_NET_BYTEORDER", nlaFNetByteorder, unix.NLA_F_NET_BYTEORDER},
		{"NLMSG_ERROR", nlmsgError, unix.NLMSG_ERROR},
		{"NLMSG_DONE", nlmsgDone, unix.NLMSG_DONE},
		{"NLM_F_DUMP", FlagDump, unix.NLM_F_DUMP},
		{"NLM_F_EXCL", FlagExcl, unix.NLM_F_EXCL},
		{"NFNL_SUBSYS_IPSET", SubsysIPSet, unix.NFNL_SUBSYS_IPSET},
		{"NFPROTO_IPV4", familyIPv4, unix.NFPROTO_IPV4},
		{"NFPROTO_IPV6", int(ipset.FamilyInet6), unix.NFPROTO_IPV6},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
}

// goldenSets are the sets of the text package's golden inputs: every
// type, with options and flagged members.
func goldenSets(t testing.TB) map[string][]*ipset.Set {
	t.Helper()
	paths, _ := filepath.Glob("../testdata/text/*.in")
	if len(paths) == 0 {
		t.Fatal("no golden inputs")
	}
	out := map[string][]*ipset.Set{}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sets, err := ipset.Parse(p, src)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = sets
	}
	return out
}

// listReply appends what the kernel's dump sends for s (ip_set_dump_start
// with the type's head and list functions): a message with the header
// and as many members as fit in limit bytes, then messages with the set
// name and more members.
func listReply(b *Builder, seq uint32, s *ipset.Set, index uint16, limit int) {
	i := 0
	for first := true; first || i < len(s.Members); first = false {
		start := b.Begin(CmdList, FlagMulti, seq)
		b.U8(AttrProtocol, Protocol)
		b.Str(AttrSetName, s.Name)
		if first {
			b.Str(AttrTypeName, s.Type.Name)
			b.U8(AttrFamily, uint8(s.Family))
			b.U8(AttrRevision, s.Revision)
			b.U16(AttrIndex, index)
			d := b.Nest(AttrData)
			b.createData(s)
			b.U32(AttrReferences, s.References)
			b.U32(AttrMemSize, 1234)
			b.U32(AttrElements, uint32(len(s.Members)))
			b.EndNest(d)
		}
		if len(s.Members) > 0 {
			adt := b.Nest(AttrADT)
			for from := i; i < len(s.Members) && (i == from || len(b.B)-start < limit); i++ {
				d := b.Nest(AttrData)
				b.elem(s, &s.Members[i])
				b.EndNest(d)
			}
			b.EndNest(adt)
		}
		b.End(start)
	}
}

func decodeAll(t testing.TB, b []byte) []*ipset.Set {
	t.Helper()
	var d SetDecoder
	err := SplitMessages(b, func(m Message) error { return d.Message(m) })
	if err != nil {
		t.Fatal(err)
	}
	return d.Sets()
}

// forCompare drops what a decoded set cannot have: where a parsed member
// is written.
func forCompare(sets []*ipset.Set) []*ipset.Set {
	out := make([]*ipset.Set, len(sets))
	for i, s := range sets {
		c := *s
		c.Pos = ipset.Set{}.Pos
		c.Members = append([]ipset.Entry(nil), s.Members...)
		for j := range c.Members {
			c.Members[j].Line, c.Members[j].Col = 0, 0
		}
		out[i] = &c
	}
	return out
}

// TestRoundTrip sends every golden set through the requests fw makes
// (CREATE, then ADD in messages of a few members each) and through the
// listing the kernel makes, and reads it back.
func TestRoundTrip(t *testing.T) {
	for file, sets := range goldenSets(t) {
		want := forCompare(sets)
		for i := range want {
			want[i].Revision = want[i].Type.Revision
		}
		for _, limit := range []int{1, 200, 1 << 16} {
			var req, list Builder
			for i, s := range sets {
				req.CreateRequest(1, s.Name, s, s.Type.Revision)
				for j := 0; j < len(s.Members); {
					j = req.AddRequest(2, s.Name, s, j, limit)
				}
				listReply(&list, 3, want[i], uint16(i), limit)
			}
			if d := cmp.Diff(want, decodeAll(t, req.B)); d != "" {
				t.Errorf("%s, limit %d: requests read back (-want +got):\n%s", file, limit, d)
			}
			if d := cmp.Diff(want, decodeAll(t, list.B)); d != "" {
				t.Errorf("%s, limit %d: listing read back (-want +got):\n%s", file, limit, d)
			}
		}
	}
}

// TestAddSplits checks that the members of a set are split over ADD
// messages without loss, each message but the last filled to its limit.
func TestAddSplits(t *testing.T) {
	s := goldenSets(t)["hash_ip.in"][0]
	var b Builder
	var n []int
	for j := 0; j < len(s.Members); {
		start := len(b.B)
		k := b.AddRequest(1, s.Name, s, j, 150)
		if k <= j {
			t.Fatalf("AddRequest from %d returned %d", j, k)
		}
		n = append(n, k-j)
		if k < len(s.Members) && len(b.B)-start < 150 {
			t.Errorf("message %d of %d bytes, below the limit", len(n), len(b.B)-start)
		}
		j = k
	}
	if len(n) < 2 {
		t.Errorf("members in %v messages; want a split", n)
	}
}

// TestAck reads an error reply the way the kernel writes one for an
// element of a multi-element ADD (call_ad): the request echoed, its
// AttrLineNo set to the failing element's line.
func TestAck(t *testing.T) {
	s := goldenSets(t)["hash_net.in"][0]
	var req Builder
	req.AddRequest(7, "n1", s, 0, 1<<16)
	// The kernel copies the request and writes the line into its
	// command-level AttrLineNo.
	echo := bytes.Clone(req.B)
	a := newAttrs(echo[headerLen:])
	for a.next() {
		if a.typ == AttrLineNo {
			copy(a.data, []byte{0, 0, 0, 3})
		}
	}
	var reply Builder
	reply.B = ne.AppendUint32(reply.B, uint32(SizeofNlMsghdr+4+len(echo)))
	reply.B = ne.AppendUint16(reply.B, nlmsgError)
	reply.B = ne.AppendUint16(reply.B, 0)
	reply.B = ne.AppendUint32(reply.B, 7)
	reply.B = ne.AppendUint32(reply.B, 0)
	errno := int32(-errExist)
	reply.B = ne.AppendUint32(reply.B, uint32(errno))
	reply.B = append(reply.B, echo...)
	var got []int64
	err := SplitMessages(reply.B, func(m Message) error {
		if !m.IsError() || m.Seq != 7 {
			t.Errorf("message %+v", m)
		}
		errno, line, err := m.Ack()
		got = append(got, int64(errno), int64(line))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int64{-errExist, 3}, got); d != "" {
		t.Errorf("errno, line (-want +got):\n%s", d)
	}
	if e := (&Errno{N: errExist}); e.Error() != "it already exists" || !e.IsExist() {
		t.Errorf("IPSET_ERR_EXIST reads %q", e.Error())
	}
	if e := (&Errno{N: errTypeSpecific, Kind: ipset.Hash}); e.Error() != "the set is full (maxelem reached)" {
		t.Errorf("IPSET_ERR_HASH_FULL reads %q", e.Error())
	}
}

// TestMalformed feeds truncated and inconsistent replies to the
// decoder: each is an error, never a panic or a set.
func TestMalformed(t *testing.T) {
	s := goldenSets(t)["hash_ipport.in"][0]
	var b Builder
	listReply(&b, 1, s, 0, 1<<16)
	good := b.B
	for n := 0; n < len(good); n += 7 {
		var d SetDecoder
		cut := bytes.Clone(good[:n])
		if n >= 4 {
			// Keep the message length consistent with the cut, so that
			// the attribute parser meets the truncation.
			ne.PutUint32(cut, uint32(n))
		}
		err := SplitMessages(cut, func(m Message) error { return d.Message(m) })
		if err == nil && n > 0 && len(d.Sets()) == 1 && len(d.Sets()[0].Members) == len(s.Members) {
			t.Errorf("cut at %d: read the whole set", n)
		}
	}
}
