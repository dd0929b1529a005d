package ext

import (
	"strings"

	"github.com/fwkit/fw/table"
)

// MH is the IPv6 mobility header match; it mirrors struct ip6t_mh.
type MH struct {
	Types    [2]uint8
	Invflags uint8
}

const mhInvType = 0x01

var mhInfo = &table.ExtInfo{
	Name: "mh", Kind: table.MatchKind, Family: table.IPv6, Size: mhSize,
	Options: opts("!mh-type="),
	New:     func(table.Family) table.Ext { return &MH{Types: [2]uint8{0, 0xff}} },
}

// mhNames is libip6t_mh's table in its order (which decides what a
// prefix means).
var mhNames = []struct {
	name string
	typ  uint8
}{
	{"binding-refresh-request", 0}, {"brr", 0},
	{"home-test-init", 1}, {"hoti", 1},
	{"careof-test-init", 2}, {"coti", 2},
	{"home-test", 3}, {"hot", 3},
	{"careof-test", 4}, {"cot", 4},
	{"binding-update", 5}, {"bu", 5},
	{"binding-acknowledgement", 6}, {"ba", 6},
	{"binding-error", 7}, {"be", 7},
}

func (m *MH) Info() *table.ExtInfo { return mhInfo }
func (m *MH) Name() string         { return "mh" }

// Parse reads "type", "a:b", ":b", "a:" or ":". A negated full range is
// refused: it never matches, and iptables-save drops it altogether.
func (m *MH) Parse(a *table.OptArgs) error {
	var err error
	lo, hi, isRange := strings.Cut(a.Arg, ":")
	if !isRange {
		if m.Types[0], err = mhType(lo); err != nil {
			return err
		}
		m.Types[1] = m.Types[0]
	} else {
		m.Types = [2]uint8{0, 0xff}
		if lo != "" {
			if m.Types[0], err = mhType(lo); err != nil {
				return err
			}
		}
		if hi != "" {
			if m.Types[1], err = mhType(hi); err != nil {
				return err
			}
		}
		if m.Types[0] > m.Types[1] {
			return table.WithHint("write the lower type first", "invalid type range %q (min > max)", a.Arg)
		}
	}
	if err := checkLiveRange(a.Opt.Name, uint64(m.Types[0]), uint64(m.Types[1]), 0xff, a.Invert); err != nil {
		return err
	}
	m.Invflags |= invBit(a.Invert, mhInvType)
	return nil
}

// mhType resolves a type name or a C number. A name may be abbreviated:
// the first entry it is a prefix of wins, unless a later one is exactly
// it ("home-test" is 3, "home-t" is 1).
func mhType(s string) (uint8, error) {
	match := -1
	for i, n := range mhNames {
		if len(n.name) >= len(s) && strings.EqualFold(n.name[:len(s)], s) {
			if match < 0 || len(n.name) == len(s) {
				match = i
			}
		}
	}
	if match >= 0 {
		return mhNames[match].typ, nil
	}
	v, ok := table.ParseUint(s, 0, 255)
	if !ok {
		return 0, table.WithHint("use a number from 0 to 255 or a name such as binding-update", "invalid MH type %q", s)
	}
	return uint8(v), nil
}

func (m *MH) Finish(*table.FinishContext) error { return nil }

func (m *MH) Check(c *table.CheckContext) error { return needProto(c, "mh match", protoMH) }

// Print skips the full range even when negated, as 1.8.9 does.
func (m *MH) Print(w *table.Writer) {
	if m.Types != [2]uint8{0, 0xff} {
		w.Opt(m.Invflags&mhInvType != 0, "mh-type", rangeText(uint64(m.Types[0]), uint64(m.Types[1])))
	}
}

// struct ip6t_mh: types[2]@0 invflags@2; 3 bytes.
const mhSize = 3

func (m *MH) layout() []field {
	return []field{{0, &m.Types}, {2, &m.Invflags}}
}

func (m *MH) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *MH) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
