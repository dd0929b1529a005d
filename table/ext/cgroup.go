package ext

import (
	"fmt"
	"math"

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
	Name: "cgroup", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 2,
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
		m.Path, m.HasPath = rtTruncate(a.Arg, cgroupPathSize-1), 1
		if a.Invert {
			m.InvertPath = 1
		}
	case "cgroup":
		v, err := rtUint("cgroup", a.Arg, 0, math.MaxUint32)
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
