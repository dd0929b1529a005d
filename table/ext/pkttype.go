package ext

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwkit/fw/table"
)

// PktType is the pkttype match; it mirrors struct xt_pkttype_info (two
// ints). PktType holds a PACKET_* value.
type PktType struct {
	PktType int32
	Invert  int32
}

// pkttypeNames lists the names iptables accepts; the first name of each
// value is the one it prints.
var pkttypeNames = []struct {
	name string
	typ  int32
}{
	{"unicast", 0}, {"broadcast", 1}, {"multicast", 2}, {"otherhost", 3},
	{"bcast", 1}, {"mcast", 2}, {"host", 0},
}

var pkttypeInfo = &table.ExtInfo{
	Name: "pkttype", Kind: table.MatchKind, Family: table.BothFamilies, Size: pkttypeSize,
	Options: opts("!pkt-type="),
	New:     func(table.Family) table.Ext { return &PktType{} },
}

func (m *PktType) Info() *table.ExtInfo { return pkttypeInfo }
func (m *PktType) Name() string         { return "pkttype" }

func (m *PktType) Parse(a *table.OptArgs) error {
	if a.Key() != "pkt-type" {
		return unknownOption(a)
	}
	for _, n := range pkttypeNames {
		if strings.EqualFold(a.Arg, n.name) {
			m.PktType = n.typ
			if a.Invert {
				m.Invert = 1
			}
			return nil
		}
	}
	return table.WithHint("types are unicast, broadcast, multicast and otherhost", "unknown packet type %q", a.Arg)
}

func (m *PktType) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("pkt-type") {
		return fmt.Errorf("--pkt-type is required")
	}
	return nil
}

func (m *PktType) Print(w *table.Writer) {
	text := strconv.Itoa(int(m.PktType))
	for _, n := range pkttypeNames {
		if n.typ == m.PktType {
			text = n.name
			break
		}
	}
	w.Opt(m.Invert != 0, "pkt-type", text)
}

// struct xt_pkttype_info: pkttype int@0 invert int@4 (host order).
const pkttypeSize = 8

func (m *PktType) layout() []field {
	return []field{{0, &m.PktType}, {4, &m.Invert}}
}

func (m *PktType) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *PktType) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
