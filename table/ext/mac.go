package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// Mac is the mac match; it mirrors struct xt_mac_info (the address, two
// bytes of padding, then an int).
type Mac struct {
	SrcAddr [6]byte
	Invert  int32
}

var macInfo = &table.ExtInfo{
	Name: "mac", Kind: table.MatchKind, Family: table.BothFamilies, Size: macSize,
	Options: opts("!mac-source="),
	// The source MAC is only known for packets that came in on an
	// interface; the kernel refuses the match in OUTPUT and POSTROUTING.
	Hooks: table.PreRouting.Mask() | table.Input.Mask() | table.Forward.Mask(),
	New:   func(table.Family) table.Ext { return &Mac{} },
}

func (m *Mac) Info() *table.ExtInfo { return macInfo }
func (m *Mac) Name() string         { return "mac" }

func (m *Mac) Parse(a *table.OptArgs) error {
	if a.Key() != "mac-source" {
		return unknownOption(a)
	}
	addr, ok := parseMAC(a.Arg)
	if !ok {
		return table.WithHint("write six hex bytes separated by colons, e.g. 42:01:02:03:04:05", "invalid MAC address %q", a.Arg)
	}
	m.SrcAddr = addr
	if a.Invert {
		m.Invert = 1
	}
	return nil
}

func (m *Mac) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("mac-source") {
		return fmt.Errorf("--mac-source is required")
	}
	return nil
}

func (m *Mac) Print(w *table.Writer) {
	a := m.SrcAddr
	w.Opt(m.Invert != 0, "mac-source", macText(a))
}

// struct xt_mac_info: srcaddr[6]@0, 2 bytes of padding, invert int@8 (host
// order).
const macSize = 12

func (m *Mac) layout() []field {
	return []field{{0, &m.SrcAddr}, {8, &m.Invert}}
}

func (m *Mac) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *Mac) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
