package ext

import "github.com/fwkit/fw/table"

// SNAT is the IPv4 SNAT target. iptables 1.8.9 has only revision 0 of it
// in userspace (the kernel would take 2), so it mirrors struct
// nf_nat_ipv4_multi_range_compat.
type SNAT struct {
	NATIPv4MultiRangeCompat
}

// SNAT6 is the IPv6 SNAT target, revision 1; it mirrors struct
// nf_nat_range.
type SNAT6 struct {
	NATRange
}

var snatOpts = opts("to-source=", "random", "random-fully", "persistent")

var snatTargetInfo = &table.ExtInfo{
	Name: "SNAT", Kind: table.TargetKind, Family: table.IPv4, Revision: 0, Size: natCompatSize,
	Options: snatOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PostRouting.Mask() | table.Input.Mask(),
	New: func(table.Family) table.Ext {
		return &SNAT{NATIPv4MultiRangeCompat{RangeSize: 1}}
	},
}

var snat6TargetInfo = &table.ExtInfo{
	Name: "SNAT", Kind: table.TargetKind, Family: table.IPv6, Revision: 1, Size: natRangeSize,
	Options: snatOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PostRouting.Mask() | table.Input.Mask(),
	New:     func(table.Family) table.Ext { return &SNAT6{} },
}

func (t *SNAT) Info() *table.ExtInfo  { return snatTargetInfo }
func (t *SNAT) Name() string          { return "SNAT" }
func (t *SNAT6) Info() *table.ExtInfo { return snat6TargetInfo }
func (t *SNAT6) Name() string         { return "SNAT" }

func (t *SNAT) Parse(a *table.OptArgs) error {
	r := t.range2()
	if err := parseNATOption(a, &r); err != nil {
		return err
	}
	t.setRange2(r)
	return nil
}

func (t *SNAT6) Parse(a *table.OptArgs) error {
	r := t.range2()
	if err := parseNATOption(a, &r); err != nil {
		return err
	}
	t.setRange2(r)
	return nil
}

func (t *SNAT) Finish(c *table.FinishContext) error {
	t.RangeSize = 1
	return finishSNAT(c, t.Range[0].Flags)
}

func (t *SNAT6) Finish(c *table.FinishContext) error { return finishSNAT(c, t.Flags) }

func finishSNAT(c *table.FinishContext, flags uint32) error {
	if !c.Seen.Has("to-source") {
		return table.WithHint("add --to-source ADDR[:PORT]", "--to-source is required")
	}
	if flags&natProtoOffset != 0 {
		return errNoBasePort("to-source")
	}
	return nil
}

func (t *SNAT) Print(w *table.Writer) {
	printNATRange(w, t.range2(), table.IPv4, "to-source", false)
}

func (t *SNAT6) Print(w *table.Writer) {
	printNATRange(w, t.range2(), table.IPv6, "to-source", false)
}

// PutPayload writes struct nf_nat_ipv4_multi_range_compat (layout at
// natCompatSize).
func (t *SNAT) PutPayload(_ table.Family, dst []byte) error {
	t.NATIPv4MultiRangeCompat.put(dst)
	return nil
}

func (t *SNAT) UnmarshalPayload(_ table.Family, data []byte) error {
	return t.NATIPv4MultiRangeCompat.unmarshal(data)
}

// PutPayload writes struct nf_nat_range (layout at natRangeSize).
func (t *SNAT6) PutPayload(_ table.Family, dst []byte) error {
	t.NATRange.put(dst)
	return nil
}

func (t *SNAT6) UnmarshalPayload(_ table.Family, data []byte) error {
	return t.NATRange.unmarshal(data)
}
