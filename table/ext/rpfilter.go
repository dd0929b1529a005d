package ext

import (
	"github.com/fwkit/fw/table"
)

// RPFilter is the rpfilter match; it mirrors struct xt_rpfilter_info.
type RPFilter struct {
	Flags uint8
}

// xt_rpfilter flags.
const (
	rpfilterLoose       = 0x1
	rpfilterValidMark   = 0x2
	rpfilterAcceptLocal = 0x4
	rpfilterInvert      = 0x8
)

var rpfilterInfo = &table.ExtInfo{
	Name: "rpfilter", Kind: table.MatchKind, Family: table.BothFamilies, Size: rpfilterSize,
	Options: opts("loose", "validmark", "accept-local", "invert"),
	// The reverse path check has to run before routing, and the kernel
	// allows it only in the raw and mangle tables.
	Tables: []string{"raw", "mangle"},
	Hooks:  table.PreRouting.Mask(),
	New:    func(table.Family) table.Ext { return &RPFilter{} },
}

func (m *RPFilter) Info() *table.ExtInfo { return rpfilterInfo }
func (m *RPFilter) Name() string         { return "rpfilter" }

func (m *RPFilter) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "loose":
		m.Flags |= rpfilterLoose
	case "validmark":
		m.Flags |= rpfilterValidMark
	case "accept-local":
		m.Flags |= rpfilterAcceptLocal
	case "invert":
		m.Flags |= rpfilterInvert
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *RPFilter) Finish(*table.FinishContext) error { return nil }

func (m *RPFilter) Print(w *table.Writer) {
	if m.Flags&rpfilterLoose != 0 {
		w.Flag(false, "loose")
	}
	if m.Flags&rpfilterValidMark != 0 {
		w.Flag(false, "validmark")
	}
	if m.Flags&rpfilterAcceptLocal != 0 {
		w.Flag(false, "accept-local")
	}
	if m.Flags&rpfilterInvert != 0 {
		w.Flag(false, "invert")
	}
}

// struct xt_rpfilter_info: flags u8@0.
const rpfilterSize = 1

func (m *RPFilter) layout() []field { return []field{{0, &m.Flags}} }

func (m *RPFilter) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *RPFilter) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
