package ext

import (
	"github.com/fwkit/fw/internal/xtbin"
	"github.com/fwkit/fw/table"
)

// EUI64 matches IPv6 source addresses whose interface identifier is the
// EUI-64 form of the source MAC address. It has no options; the kernel
// payload is a single unused int (four zero bytes, eight once aligned).
type EUI64 struct{}

// eui64Info: the kernel reads the MAC header, which only exists for
// packets that came in on an interface.
var eui64Info = &table.ExtInfo{
	Name: "eui64", Kind: table.MatchKind, Family: table.IPv6, Size: eui64Size,
	Hooks: table.PreRouting.Mask() | table.Input.Mask() | table.Forward.Mask(),
	New:   func(table.Family) table.Ext { return &EUI64{} },
}

func (m *EUI64) Info() *table.ExtInfo              { return eui64Info }
func (m *EUI64) Name() string                      { return "eui64" }
func (m *EUI64) Parse(a *table.OptArgs) error      { return unknownOption(a) }
func (m *EUI64) Finish(*table.FinishContext) error { return nil }
func (m *EUI64) Print(*table.Writer)               {}

// eui64Size is the kernel's matchsize, sizeof(int); the int is never read
// and iptables leaves it zero.
const eui64Size = 4

// PutPayload leaves the unused int zero, as dst comes.
func (m *EUI64) PutPayload(table.Family, []byte) error { return nil }

func (m *EUI64) UnmarshalPayload(_ table.Family, data []byte) error {
	r := xtbin.NewReader(data)
	r.U32(0)
	return r.Err()
}
