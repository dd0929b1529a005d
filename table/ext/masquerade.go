package ext

import "github.com/fwkit/fw/table"

// MASQUERADE is the IPv4 MASQUERADE target (revision 0); it mirrors
// struct nf_nat_ipv4_multi_range_compat, with rangesize 1 even when no
// option is given (the kernel refuses anything else).
type MASQUERADE struct {
	NATIPv4MultiRangeCompat
}

// MASQUERADE6 is the IPv6 MASQUERADE target (revision 0); it mirrors
// struct nf_nat_range, all zero when no option is given.
type MASQUERADE6 struct {
	NATRange
}

var masqOpts = opts("to-ports=", "random", "random-fully")

var masqueradeTargetInfo = &table.ExtInfo{
	Name: "MASQUERADE", Kind: table.TargetKind, Family: table.IPv4, Size: natCompatSize,
	Options: masqOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PostRouting.Mask(),
	New: func(table.Family) table.Ext {
		return &MASQUERADE{NATIPv4MultiRangeCompat{RangeSize: 1}}
	},
}

var masquerade6TargetInfo = &table.ExtInfo{
	Name: "MASQUERADE", Kind: table.TargetKind, Family: table.IPv6, Size: natRangeSize,
	Options: masqOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PostRouting.Mask(),
	New:     func(table.Family) table.Ext { return &MASQUERADE6{} },
}

func (t *MASQUERADE) Info() *table.ExtInfo  { return masqueradeTargetInfo }
func (t *MASQUERADE) Name() string          { return "MASQUERADE" }
func (t *MASQUERADE6) Info() *table.ExtInfo { return masquerade6TargetInfo }
func (t *MASQUERADE6) Name() string         { return "MASQUERADE" }

func (t *MASQUERADE) Parse(a *table.OptArgs) error {
	r := t.range2()
	if err := parseNATOption(a, &r); err != nil {
		return err
	}
	t.setRange2(r)
	return nil
}

func (t *MASQUERADE6) Parse(a *table.OptArgs) error {
	r := t.range2()
	if err := parseNATOption(a, &r); err != nil {
		return err
	}
	t.setRange2(r)
	return nil
}

func (t *MASQUERADE) Finish(*table.FinishContext) error {
	t.RangeSize = 1
	if t.Range[0].Flags&natProtoOffset != 0 {
		return errNoBasePort("to-ports")
	}
	return nil
}

func (t *MASQUERADE6) Finish(*table.FinishContext) error {
	if t.Flags&natProtoOffset != 0 {
		return errNoBasePort("to-ports")
	}
	return nil
}

func (t *MASQUERADE) Print(w *table.Writer) {
	printNATRange(w, t.range2(), table.IPv4, "to-ports", true)
}

func (t *MASQUERADE6) Print(w *table.Writer) {
	printNATRange(w, t.range2(), table.IPv6, "to-ports", true)
}

// PutPayload writes struct nf_nat_ipv4_multi_range_compat (layout at
// natCompatSize).
func (t *MASQUERADE) PutPayload(_ table.Family, dst []byte) error {
	t.NATIPv4MultiRangeCompat.put(dst)
	return nil
}

func (t *MASQUERADE) UnmarshalPayload(_ table.Family, data []byte) error {
	return t.NATIPv4MultiRangeCompat.unmarshal(data)
}

// PutPayload writes struct nf_nat_range (layout at natRangeSize).
func (t *MASQUERADE6) PutPayload(_ table.Family, dst []byte) error {
	t.NATRange.put(dst)
	return nil
}

func (t *MASQUERADE6) UnmarshalPayload(_ table.Family, data []byte) error {
	return t.NATRange.unmarshal(data)
}
