package ext

import (
	"fmt"
	"strings"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Set matches packets against an ipset, revision 4; it mirrors struct
// xt_set_info_match_v4.
type Set struct {
	MatchSet SetMatchSpec
	Packets  SetMatchCounter
	Bytes    SetMatchCounter
	// Flags holds IPSET_FLAG_RETURN_NOMATCH, _SKIP_COUNTER_UPDATE and
	// _SKIP_SUBCOUNTER_UPDATE.
	Flags uint32
}

// SetMatchSpec mirrors struct xt_set_info. The kernel stores the set's
// index (ip_set_id_t), which only exists once the set is created in the
// kernel; the model keeps the name, and the kernel backend resolves it.
type SetMatchSpec struct {
	Name string
	Dim  uint8
	// Flags: bit 0 is IPSET_INV_MATCH, bit i (1..Dim) says that dimension
	// i is taken from the source address/port.
	Flags uint8
}

// SetMatchCounter mirrors struct ip_set_counter_match.
type SetMatchCounter struct {
	Value uint64
	Op    uint8
}

const (
	setMaxName = 31 // IPSET_MAXNAMELEN - 1
	setDimMax  = 6  // IPSET_DIM_MAX

	setInvMatch = 0x01

	setFlagSkipCounter    = 1 << 3
	setFlagSkipSubcounter = 1 << 4
	setFlagReturnNomatch  = 1 << 7

	setCounterEQ = 1
	setCounterNE = 2
	setCounterLT = 3
	setCounterGT = 4
)

// setInfo: --set is the deprecated spelling of --match-set. The flag
// options may be repeated (iptables' old-style parser does not count
// them); the counter options check for themselves.
var setInfo = &table.ExtInfo{
	Name: "set", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 4, Size: setSize, NamespaceObjects: true,
	Options: opts("!match-set=", "|set", "*return-nomatch", "!*update-counters", "!*update-subcounters",
		"!packets-eq=", "packets-lt=", "packets-gt=", "!bytes-eq=", "bytes-lt=", "bytes-gt="),
	New: func(table.Family) table.Ext { return &Set{} },
}

func (m *Set) Info() *table.ExtInfo { return setInfo }
func (m *Set) Name() string         { return "set" }

func (m *Set) Parse(a *table.OptArgs) error {
	switch k := a.Key(); k {
	case "match-set":
		dirs, ok := a.Next()
		if !ok {
			return table.WithHint("write --match-set NAME src[,dst...]", "--match-set needs two arguments, the set name and the directions")
		}
		if a.Arg == "" {
			return fmt.Errorf("empty set name")
		}
		if len(a.Arg) > setMaxName {
			return fmt.Errorf("set name %q is too long (%d bytes, at most %d)", a.Arg, len(a.Arg), setMaxName)
		}
		m.MatchSet.Name = a.Keep(a.Arg)
		if a.Invert {
			m.MatchSet.Flags |= setInvMatch
		}
		list := strings.Split(dirs, ",")
		if len(list) > setDimMax {
			return fmt.Errorf("too many directions in %q (at most %d)", dirs, setDimMax)
		}
		for i, d := range list {
			// iptables compares only the first three letters.
			switch {
			case strings.HasPrefix(d, "src"):
				m.MatchSet.Flags |= 1 << (i + 1)
			case strings.HasPrefix(d, "dst"):
			default:
				return table.WithHint("directions are a comma-separated list of src and dst", "invalid direction %q", d)
			}
		}
		m.MatchSet.Dim = uint8(len(list))
	case "return-nomatch":
		m.Flags |= setFlagReturnNomatch
	case "update-counters":
		// Counters are updated by default; only the negation says
		// something.
		if a.Invert {
			m.Flags |= setFlagSkipCounter
		}
	case "update-subcounters":
		if a.Invert {
			m.Flags |= setFlagSkipSubcounter
		}
	case "packets-eq", "packets-lt", "packets-gt", "bytes-eq", "bytes-lt", "bytes-gt":
		what, op, _ := strings.Cut(k, "-")
		c := &m.Packets
		if what == "bytes" {
			c = &m.Bytes
		}
		if c.Op != 0 {
			return fmt.Errorf("only one of --%s-eq, --%s-lt and --%s-gt may be given", what, what, what)
		}
		v, err := parseUint(a.Arg, 0, 1<<64-1)
		if err != nil {
			return err
		}
		c.Value = v
		switch {
		case op == "lt":
			c.Op = setCounterLT
		case op == "gt":
			c.Op = setCounterGT
		case a.Invert:
			c.Op = setCounterNE
		default:
			c.Op = setCounterEQ
		}
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *Set) Finish(c *table.FinishContext) error {
	if m.MatchSet.Dim == 0 {
		return table.WithHint("write --match-set NAME src[,dst...]", "--match-set is required")
	}
	return nil
}

func (m *Set) Print(w *table.Writer) {
	dirs := make([]string, m.MatchSet.Dim)
	for i := range dirs {
		dirs[i] = "dst"
		if m.MatchSet.Flags&(1<<(i+1)) != 0 {
			dirs[i] = "src"
		}
	}
	w.Opt(m.MatchSet.Flags&setInvMatch != 0, "match-set", m.MatchSet.Name+" "+strings.Join(dirs, ","))
	if m.Flags&setFlagReturnNomatch != 0 {
		w.Flag(false, "return-nomatch")
	}
	if m.Flags&setFlagSkipCounter != 0 {
		w.Flag(true, "update-counters")
	}
	if m.Flags&setFlagSkipSubcounter != 0 {
		w.Flag(true, "update-subcounters")
	}
	setPrintCounter(w, "packets", m.Packets)
	setPrintCounter(w, "bytes", m.Bytes)
}

func setPrintCounter(w *table.Writer, what string, c SetMatchCounter) {
	switch c.Op {
	case setCounterEQ:
		w.OptUint(false, what+"-eq", c.Value)
	case setCounterNE:
		w.OptUint(true, what+"-eq", c.Value)
	case setCounterLT:
		w.OptUint(false, what+"-lt", c.Value)
	case setCounterGT:
		w.OptUint(false, what+"-gt", c.Value)
	}
}

// struct xt_set_info_match_v4: match_set (struct xt_set_info: index u16@0
// dim u8@2 flags u8@3) packets (struct ip_set_counter_match: value u64@8
// op u8@16) bytes (value u64@24 op u8@32) flags u32@40.
const setSize = 48

// The set index lookups, variables so that tests can check the layout
// without a kernel.
var (
	setIndexOf = ipsetIndex
	setNameOf  = ipsetName
)

// PutPayload asks the kernel (ipset, in the calling thread's network
// namespace) for the set's index: the payload has no room for the name.
func (m *Set) PutPayload(f table.Family, dst []byte) error {
	idx, err := setIndexOf(m.MatchSet.Name, f)
	if err != nil {
		return err
	}
	w := xtbin.Writer{B: dst}
	w.U16(0, idx)
	w.U8(2, m.MatchSet.Dim)
	w.U8(3, m.MatchSet.Flags)
	w.U64(8, m.Packets.Value)
	w.U8(16, m.Packets.Op)
	w.U64(24, m.Bytes.Value)
	w.U8(32, m.Bytes.Op)
	w.U32(40, m.Flags)
	return nil
}

// UnmarshalPayload turns the stored index back into the set's name, which
// it asks ipset for.
func (m *Set) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	idx := r.U16(0)
	m.MatchSet.Dim, m.MatchSet.Flags = r.U8(2), r.U8(3)
	m.Packets = SetMatchCounter{Value: r.U64(8), Op: r.U8(16)}
	m.Bytes = SetMatchCounter{Value: r.U64(24), Op: r.U8(32)}
	m.Flags = r.U32(40)
	if err := r.Err(); err != nil {
		return err
	}
	name, err := setNameOf(idx)
	if err != nil {
		return err
	}
	m.MatchSet.Name = name
	return nil
}
