package ext

import (
	"fmt"

	"github.com/fwkit/fw/table"
)

// NETMAP is the IPv4 NETMAP target (revision 0); it mirrors struct
// nf_nat_ipv4_multi_range_compat: flag MAP_IPS, min_ip the network and
// max_ip the network with every host bit set. The mask is therefore
// always contiguous when written by iptables.
type NETMAP struct {
	NATIPv4MultiRangeCompat
}

// NETMAP6 is the IPv6 NETMAP target (revision 0); it mirrors struct
// nf_nat_range, filled the same way.
type NETMAP6 struct {
	NATRange
}

var netmapHooks = table.PreRouting.Mask() | table.Input.Mask() | table.Output.Mask() | table.PostRouting.Mask()

var netmapTargetInfo = &table.ExtInfo{
	Name: "NETMAP", Kind: table.TargetKind, Family: table.IPv4, Size: natCompatSize,
	Options: opts("to="),
	Tables:  []string{"nat"},
	Hooks:   netmapHooks,
	New: func(table.Family) table.Ext {
		return &NETMAP{NATIPv4MultiRangeCompat{RangeSize: 1}}
	},
}

var netmap6TargetInfo = &table.ExtInfo{
	Name: "NETMAP", Kind: table.TargetKind, Family: table.IPv6, Size: natRangeSize,
	Options: opts("to="),
	Tables:  []string{"nat"},
	Hooks:   netmapHooks,
	New:     func(table.Family) table.Ext { return &NETMAP6{} },
}

func (t *NETMAP) Info() *table.ExtInfo  { return netmapTargetInfo }
func (t *NETMAP) Name() string          { return "NETMAP" }
func (t *NETMAP6) Info() *table.ExtInfo { return netmap6TargetInfo }
func (t *NETMAP6) Name() string         { return "NETMAP" }

// parseNetmapTo parses "host[/mask]" into the first and last address of
// the network.
func parseNetmapTo(a *table.OptArgs) (min, max [16]byte, err error) {
	if a.Key() != "to" {
		return min, max, unknownOption(a)
	}
	h, err := parseHostMask(a.Arg, a.Family, a.Names)
	if err != nil {
		return min, max, err
	}
	m := plenMask(int(h.Len))
	for i := range h.Addr {
		min[i] = h.Addr[i] & m[i]
		max[i] = min[i] | ^m[i]
	}
	return min, max, nil
}

func (t *NETMAP) Parse(a *table.OptArgs) error {
	min, max, err := parseNetmapTo(a)
	if err != nil {
		return err
	}
	r := &t.Range[0]
	r.Flags |= natMapIPs
	r.MinIP, r.MaxIP = [4]byte(min[:4]), [4]byte(max[:4])
	return nil
}

func (t *NETMAP6) Parse(a *table.OptArgs) error {
	min, max, err := parseNetmapTo(a)
	if err != nil {
		return err
	}
	t.Flags |= natMapIPs
	t.MinAddr, t.MaxAddr = min, max
	return nil
}

func finishNetmap(c *table.FinishContext) error {
	if !c.Seen.Has("to") {
		return table.WithHint("add --to NETWORK/LEN", "--to is required")
	}
	return nil
}

func (t *NETMAP) Finish(c *table.FinishContext) error {
	t.RangeSize = 1
	return finishNetmap(c)
}

func (t *NETMAP6) Finish(c *table.FinishContext) error { return finishNetmap(c) }

// printNetmap prints the network as iptables does: the first address,
// then the length of the mask that min and max agree on, or that mask in
// address form when it has holes (only a kernel-side payload could).
func printNetmap(w *table.Writer, fam table.Family, min, max [16]byte) {
	width := 4
	if fam == table.IPv6 {
		width = 16
	}
	var m [16]byte
	for i := 0; i < width; i++ {
		m[i] = ^(min[i] ^ max[i])
	}
	s := addr16Text(min, fam) + "/"
	if n := table.MaskPrefixLen(m[:width]); n >= 0 {
		s += fmt.Sprint(n)
	} else {
		s += addr16Text(m, fam)
	}
	w.Opt(false, "to", s)
}

func (t *NETMAP) Print(w *table.Writer) {
	var min, max [16]byte
	copy(min[:], t.Range[0].MinIP[:])
	copy(max[:], t.Range[0].MaxIP[:])
	printNetmap(w, table.IPv4, min, max)
}

func (t *NETMAP6) Print(w *table.Writer) { printNetmap(w, table.IPv6, t.MinAddr, t.MaxAddr) }

// PutPayload writes struct nf_nat_ipv4_multi_range_compat (layout at
// natCompatSize).
func (t *NETMAP) PutPayload(_ table.Family, dst []byte) error {
	t.NATIPv4MultiRangeCompat.put(dst)
	return nil
}

func (t *NETMAP) UnmarshalPayload(_ table.Family, data []byte) error {
	return t.NATIPv4MultiRangeCompat.unmarshal(data)
}

// PutPayload writes struct nf_nat_range (layout at natRangeSize).
func (t *NETMAP6) PutPayload(_ table.Family, dst []byte) error {
	t.NATRange.put(dst)
	return nil
}

func (t *NETMAP6) UnmarshalPayload(_ table.Family, data []byte) error {
	return t.NATRange.unmarshal(data)
}
