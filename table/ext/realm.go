package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// Realm is the IPv4 realm match; it mirrors struct xt_realm_info.
type Realm struct {
	ID, Mask uint32
	Invert   uint8
}

var realmInfo = &table.ExtInfo{
	Name: "realm", Kind: table.MatchKind, Family: table.IPv4, Size: realmSize,
	Options: opts("!realm="),
	// The realm comes from the routing decision, which PREROUTING has not
	// made yet; the kernel refuses the match there.
	Hooks: table.Input.Mask() | table.Forward.Mask() | table.Output.Mask() | table.PostRouting.Mask(),
	New:   func(table.Family) table.Ext { return &Realm{} },
}

func (m *Realm) Info() *table.ExtInfo { return realmInfo }
func (m *Realm) Name() string         { return "realm" }

// Parse takes "value[/mask]" or a realm name (iproute2's rt_realms).
func (m *Realm) Parse(a *table.OptArgs) error {
	if a.Key() != "realm" {
		return unknownOption(a)
	}
	v, mask, err := parseMarkMask(a.Arg, a.Names, realmMap)
	if err != nil {
		return err
	}
	m.ID, m.Mask = v, mask
	if a.Invert {
		m.Invert = 1
	}
	return nil
}

func (m *Realm) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("realm") {
		return fmt.Errorf("--realm is required")
	}
	return nil
}

// Print uses the realm's name when it has one and the mask
// is full, as iptables-save does.
func (m *Realm) Print(w *table.Writer) {
	w.Opt(m.Invert != 0, "realm", markMaskText(m.ID, m.Mask, w.Resolver(), realmMap))
}

// struct xt_realm_info: id u32@0 mask u32@4 (host order) invert u8@8, 3
// bytes of padding.
const realmSize = 12

func (m *Realm) layout() []field { return []field{{0, &m.ID}, {4, &m.Mask}, {8, &m.Invert}} }

func (m *Realm) PutPayload(_ table.Family, dst []byte) error { return putFields(dst, m.layout()...) }

func (m *Realm) UnmarshalPayload(_ table.Family, data []byte) error {
	return getFields(data, m.layout()...)
}
