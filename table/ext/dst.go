package ext

import "github.com/fwkit/fw/table"

// Dst is the IPv6 destination options header match; it mirrors struct
// ip6t_opts, shared with hbh.
type Dst struct{ ip6Opts }

var dstInfo = &table.ExtInfo{
	Name: "dst", Kind: table.MatchKind, Family: table.IPv6, Size: ip6OptsSize,
	Options: opts("!dst-len=", "dst-opts="),
	New:     func(table.Family) table.Ext { return &Dst{} },
}

func (m *Dst) Info() *table.ExtInfo              { return dstInfo }
func (m *Dst) Name() string                      { return "dst" }
func (m *Dst) Parse(a *table.OptArgs) error      { return m.parse("dst", a) }
func (m *Dst) Finish(*table.FinishContext) error { return nil }
func (m *Dst) Print(w *table.Writer)             { m.print("dst", w) }

func (m *Dst) PutPayload(_ table.Family, dst []byte) error {
	m.put(dst)
	return nil
}
func (m *Dst) UnmarshalPayload(_ table.Family, data []byte) error {
	return m.unmarshal(data)
}
