package ext

import "github.com/fwkit/fw/table"

// DNAT is the DNAT target at revision 2, the same for IPv4 and IPv6; it
// mirrors struct nf_nat_range2, whose address unions hold an IPv4 address
// in their first four bytes. Revision 2 is the only one that can store
// the base port of a shifted port map.
type DNAT struct {
	NATRange2
	fam table.Family // which member of the address unions is in use
}

var dnatTargetInfo = &table.ExtInfo{
	Name: "DNAT", Kind: table.TargetKind, Family: table.BothFamilies, Revision: 2, Size: natRange2Size,
	Options: opts("to-destination=", "random", "persistent"),
	Tables:  []string{"nat"},
	Hooks:   table.PreRouting.Mask() | table.Output.Mask(),
	New:     func(f table.Family) table.Ext { return &DNAT{fam: f} },
}

func (t *DNAT) Info() *table.ExtInfo { return dnatTargetInfo }
func (t *DNAT) Name() string         { return "DNAT" }

// Parse reads the options as iptables does, one at a time: whether ports
// are allowed depends on the -p given before the target.
func (t *DNAT) Parse(a *table.OptArgs) error { return parseNATOption(a, &t.NATRange2) }

func (t *DNAT) Finish(c *table.FinishContext) error {
	if !c.Seen.Has("to-destination") {
		return table.WithHint("add --to-destination ADDR[:PORT]", "--to-destination is required")
	}
	return nil
}

func (t *DNAT) Print(w *table.Writer) {
	printNATRange(w, t.NATRange2, t.fam, "to-destination", false)
}

// PutPayload writes struct nf_nat_range2 (layout at natRange2Size)
// for either family.
func (t *DNAT) PutPayload(_ table.Family, dst []byte) error {
	t.NATRange2.put(dst)
	return nil
}

func (t *DNAT) UnmarshalPayload(f table.Family, data []byte) error {
	t.fam = f
	return t.NATRange2.unmarshal(data)
}
