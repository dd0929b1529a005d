package ext

import (
	"github.com/fwkit/fw/table"
)

// Socket is the socket match, revision 3; it mirrors struct
// xt_socket_mtinfo3.
type Socket struct {
	Flags uint8
}

// xt_socket flags.
const (
	socketTransparent   = 0x1
	socketNoWildcard    = 0x2
	socketRestoreSkmark = 0x4
)

var socketInfo = &table.ExtInfo{
	Name: "socket", Kind: table.MatchKind, Family: table.BothFamilies, Revision: 3, Size: socketSize,
	Options: opts("transparent", "nowildcard", "restore-skmark"),
	// The match looks up the socket an incoming packet belongs to.
	Hooks: table.PreRouting.Mask() | table.Input.Mask(),
	New:   func(table.Family) table.Ext { return &Socket{} },
}

func (m *Socket) Info() *table.ExtInfo { return socketInfo }
func (m *Socket) Name() string         { return "socket" }

func (m *Socket) Parse(a *table.OptArgs) error {
	switch a.Key() {
	case "transparent":
		m.Flags |= socketTransparent
	case "nowildcard":
		m.Flags |= socketNoWildcard
	case "restore-skmark":
		m.Flags |= socketRestoreSkmark
	default:
		return unknownOption(a)
	}
	return nil
}

func (m *Socket) Finish(*table.FinishContext) error { return nil }

func (m *Socket) Print(w *table.Writer) {
	if m.Flags&socketTransparent != 0 {
		w.Flag(false, "transparent")
	}
	if m.Flags&socketNoWildcard != 0 {
		w.Flag(false, "nowildcard")
	}
	if m.Flags&socketRestoreSkmark != 0 {
		w.Flag(false, "restore-skmark")
	}
}

// struct xt_socket_mtinfo3: flags u8@0.
const socketSize = 1

func (m *Socket) layout() []field { return []field{{0, &m.Flags}} }

func (m *Socket) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *Socket) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
