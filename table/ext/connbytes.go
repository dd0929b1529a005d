package ext

import (
	"fmt"
	"math"

	"github.com/fwkit/fw/table"
)

// Connbytes is the connbytes match; it mirrors struct xt_connbytes_info.
// A negated range is stored with its bounds swapped (From > To), which is
// how the kernel and iptables-save recognise the negation.
type Connbytes struct {
	From, To  uint64
	What      uint8
	Direction uint8
}

// xt_connbytes_what and xt_connbytes_direction.
const (
	connbytesPkts   = 0
	connbytesBytes  = 1
	connbytesAvgPkt = 2

	connbytesDirOriginal = 0
	connbytesDirReply    = 1
	connbytesDirBoth     = 2
)

var connbytesModes = []string{connbytesPkts: "packets", connbytesBytes: "bytes", connbytesAvgPkt: "avgpkt"}
var connbytesDirs = []string{connbytesDirOriginal: "original", connbytesDirReply: "reply", connbytesDirBoth: "both"}

var connbytesInfo = &table.ExtInfo{
	Name: "connbytes", Kind: table.MatchKind, Family: table.BothFamilies, Size: connbytesSize,
	Options: opts("!connbytes=", "connbytes-dir=", "connbytes-mode="),
	New:     func(table.Family) table.Ext { return &Connbytes{} },
}

func (m *Connbytes) Info() *table.ExtInfo { return connbytesInfo }
func (m *Connbytes) Name() string         { return "connbytes" }

func (m *Connbytes) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "connbytes":
		lo, hi, n, err := parseUintRange(a.Arg, math.MaxUint64)
		if err != nil {
			return err
		}
		m.From, m.To = lo, math.MaxUint64
		if n == 2 {
			m.To = hi
		}
		if m.To < m.From {
			return fmt.Errorf("invalid range %q (%d is more than %d)", a.Arg, m.From, m.To)
		}
		if a.Invert {
			m.From, m.To = m.To, m.From
		}
	case "connbytes-dir":
		d, ok := connbytesIndex(connbytesDirs, a.Arg)
		if !ok {
			return table.WithHint("use original, reply or both", "unknown direction %q", a.Arg)
		}
		m.Direction = d
	case "connbytes-mode":
		w, ok := connbytesIndex(connbytesModes, a.Arg)
		if !ok {
			return table.WithHint("use packets, bytes or avgpkt", "unknown mode %q", a.Arg)
		}
		m.What = w
	default:
		return unknownOption(a)
	}
	return nil
}

// connbytesIndex looks a word up exactly (iptables compares case
// sensitively here).
func connbytesIndex(names []string, s string) (uint8, bool) {
	for i, n := range names {
		if n == s {
			return uint8(i), true
		}
	}
	return 0, false
}

func (m *Connbytes) Finish(c *table.FinishContext) error {
	for _, o := range []string{"connbytes", "connbytes-dir", "connbytes-mode"} {
		if !c.Seen.Has(o) {
			return table.WithHint("write --connbytes FROM[:TO] --connbytes-mode packets|bytes|avgpkt --connbytes-dir original|reply|both", "--%s is required", o)
		}
	}
	return nil
}

func (m *Connbytes) Print(w *table.Writer) {
	from, to, inv := m.From, m.To, false
	if from > to {
		from, to, inv = to, from, true
	}
	// iptables leaves out an upper bound of 0 or "infinity"; for 0 that
	// loses information, but it is what the reference prints.
	v := fmt.Sprint(from)
	if to != 0 && to < math.MaxUint64 {
		v += ":" + fmt.Sprint(to)
	}
	w.Opt(inv, "connbytes", v)
	w.Opt(false, "connbytes-mode", connbytesName(connbytesModes, m.What))
	w.Opt(false, "connbytes-dir", connbytesName(connbytesDirs, m.Direction))
}

func connbytesName(names []string, i uint8) string {
	if int(i) < len(names) {
		return names[i]
	}
	return "unknown"
}

// struct xt_connbytes_info: count.from@0 count.to@8 (u64 host order),
// what@16 direction@17 (u8), 6 bytes of tail padding.
const connbytesSize = 24

func (m *Connbytes) layout() []field {
	return []field{{0, &m.From}, {8, &m.To}, {16, &m.What}, {17, &m.Direction}}
}

func (m *Connbytes) PutPayload(_ table.Family, dst []byte) error {
	return putFields(dst, m.layout()...)
}

func (m *Connbytes) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
