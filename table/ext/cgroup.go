package ext

import (
	"fmt"
	"math"

	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// Cgroup is the cgroup match at revision 2; it mirrors struct
// xt_cgroup_info_v2. In C, path and classid share a union; only one may be
// set, so they are kept apart here.
type Cgroup struct {
	HasPath       uint8
	HasClassid    uint8
	InvertPath    uint8
	InvertClassid uint8
	Path          string // path[XT_CGROUP_PATH_MAX = 512], cgroup2 path
	Classid       uint32 // net_cls class id
	Priv          uint64 // kernel-private pointer
}

const cgroupPathSize = 512

var cgroupInfo = &table.ExtInfo{
	Name: "cgroup", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 2, Size: cgroupSize,
	Options: opts("!path=", "!cgroup="),
	// The kernel only knows a packet's socket on these hooks.
	Hooks: table.Input.Mask() | table.Output.Mask() | table.PostRouting.Mask(),
	New:   func(table.Family) table.Ext { return &Cgroup{} },
}

func (m *Cgroup) Info() *table.ExtInfo { return cgroupInfo }
func (m *Cgroup) Name() string         { return "cgroup" }

func (m *Cgroup) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "path":
		m.Path, m.HasPath = a.Keep(truncate(a.Arg, cgroupPathSize-1)), 1
		if a.Invert {
			m.InvertPath = 1
		}
	case "cgroup":
		v, err := parseUint(a.Arg, 0, math.MaxUint32)
		if err != nil {
			return err
		}
		m.Classid, m.HasClassid = uint32(v), 1
		if a.Invert {
			m.InvertClassid = 1
		}
	default:
		return unknownOption(a)
	}
	return nil
}

// Finish applies the kernel's checks; whether a path exists in the cgroup2
// hierarchy is only known where the rule is loaded.
func (m *Cgroup) Finish(*table.FinishContext) error {
	switch {
	case m.HasPath != 0 && m.HasClassid != 0:
		return fmt.Errorf("--path and --cgroup cannot be used together")
	case m.HasPath == 0 && m.HasClassid == 0:
		return table.WithHint("add --path PATH or --cgroup CLASSID", "--path or --cgroup is required")
	}
	return nil
}

func (m *Cgroup) Print(w *table.Writer) {
	if m.HasPath != 0 {
		w.OptQuoted(m.InvertPath != 0, "path", m.Path)
	}
	if m.HasClassid != 0 {
		w.OptUint(m.InvertClassid != 0, "cgroup", uint64(m.Classid))
	}
}

// struct xt_cgroup_info_v2: has_path u8@0 has_classid@1 invert_path@2
// invert_classid@3, then a union @4 of path[XT_CGROUP_PATH_MAX = 512] and
// classid u32, padding, the kernel's priv pointer @520 (written zero, not
// handed back).
const cgroupSize = 528

func (m *Cgroup) PutPayload(_ table.Family, dst []byte) error {
	w := xtbin.Writer{B: dst}
	w.U8(0, m.HasPath)
	w.U8(1, m.HasClassid)
	w.U8(2, m.InvertPath)
	w.U8(3, m.InvertClassid)
	if m.HasPath != 0 {
		if err := w.String(4, cgroupPathSize, m.Path); err != nil {
			return fmt.Errorf("cgroup --path: %w", err)
		}
	}
	if m.HasClassid != 0 {
		w.U32(4, m.Classid)
	}
	return nil
}

// UnmarshalPayload reads the union as what the flags say it holds; with
// both flags, which no iptables command writes, it keeps both views of the
// same bytes.
func (m *Cgroup) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	m.HasPath, m.HasClassid, m.InvertPath, m.InvertClassid = r.U8(0), r.U8(1), r.U8(2), r.U8(3)
	m.Path, m.Classid, m.Priv = "", 0, 0
	if m.HasPath != 0 {
		m.Path = r.String(4, cgroupPathSize)
	}
	if m.HasClassid != 0 {
		m.Classid = r.U32(4)
	}
	needWhole(r, cgroupSize)
	return r.Err()
}
