package ext

import "github.com/fwkit/fw/table"

// REDIRECT is the IPv4 REDIRECT target (revision 0); it mirrors struct
// nf_nat_ipv4_multi_range_compat with rangesize 1.
type REDIRECT struct {
	NATIPv4MultiRangeCompat
}

// REDIRECT6 is the IPv6 REDIRECT target (revision 0); it mirrors struct
// nf_nat_range.
type REDIRECT6 struct {
	NATRange
}

var redirectOpts = opts("to-ports=", "random")

var redirectTargetInfo = &table.ExtInfo{
	Name: "REDIRECT", Kind: table.TargetKind, Family: table.IPv4, Size: natCompatSize,
	Options: redirectOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PreRouting.Mask() | table.Output.Mask(),
	New: func(table.Family) table.Ext {
		return &REDIRECT{NATIPv4MultiRangeCompat{RangeSize: 1}}
	},
}

var redirect6TargetInfo = &table.ExtInfo{
	Name: "REDIRECT", Kind: table.TargetKind, Family: table.IPv6, Size: natRangeSize,
	Options: redirectOpts,
	Tables:  []string{"nat"},
	Hooks:   table.PreRouting.Mask() | table.Output.Mask(),
	New:     func(table.Family) table.Ext { return &REDIRECT6{} },
}

func (t *REDIRECT) Info() *table.ExtInfo  { return redirectTargetInfo }
func (t *REDIRECT) Name() string          { return "REDIRECT" }
func (t *REDIRECT6) Info() *table.ExtInfo { return redirect6TargetInfo }
func (t *REDIRECT6) Name() string         { return "REDIRECT" }

func (t *REDIRECT) Parse(a *table.OptArgs) error {
	r := t.range2()
	if err := parseNATOption(a, &r); err != nil {
		return err
	}
	t.setRange2(r)
	return nil
}

func (t *REDIRECT6) Parse(a *table.OptArgs) error {
	r := t.range2()
	if err := parseNATOption(a, &r); err != nil {
		return err
	}
	t.setRange2(r)
	return nil
}

// Finish refuses a shifted port map as iptables does: the revision 0
// struct cannot hold the base port.
func (t *REDIRECT) Finish(*table.FinishContext) error {
	t.RangeSize = 1
	return finishRedirect(t.Range[0].Flags)
}

func (t *REDIRECT6) Finish(*table.FinishContext) error { return finishRedirect(t.Flags) }

func finishRedirect(flags uint32) error {
	if flags&natProtoOffset != 0 {
		return table.WithHint("use DNAT for a shifted port map", "--to-ports cannot shift a port range (/BASE) with REDIRECT")
	}
	return nil
}

func (t *REDIRECT) Print(w *table.Writer) {
	printNATRange(w, t.range2(), table.IPv4, "to-ports", true)
}

func (t *REDIRECT6) Print(w *table.Writer) {
	printNATRange(w, t.range2(), table.IPv6, "to-ports", true)
}

// PutPayload writes struct nf_nat_ipv4_multi_range_compat (layout at
// natCompatSize).
func (t *REDIRECT) PutPayload(_ table.Family, dst []byte) error {
	t.NATIPv4MultiRangeCompat.put(dst)
	return nil
}

func (t *REDIRECT) UnmarshalPayload(_ table.Family, data []byte) error {
	return t.NATIPv4MultiRangeCompat.unmarshal(data)
}

// PutPayload writes struct nf_nat_range (layout at natRangeSize).
func (t *REDIRECT6) PutPayload(_ table.Family, dst []byte) error {
	t.NATRange.put(dst)
	return nil
}

func (t *REDIRECT6) UnmarshalPayload(_ table.Family, data []byte) error {
	return t.NATRange.unmarshal(data)
}
